/* One-thread cblas_sgemm throughput, the ceiling for aesweep's training step.
 * usage: bench_sgemm [N]   square N x N x N (default 1024), plus the shapes of
 * the 784-800 layer at batch 164 as the trainer calls them. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *filled(size_t n) {
    float *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) a[i] = (float)(i % 97) * 1e-3f;
    return a;
}

/* C[M,N] = op(A) op(B), row-major; reports GFLOP/s over ~1 s. */
static void run(const char *name, int ta, int tb, int M, int N, int K) {
    float *A = filled((size_t)M * K), *B = filled((size_t)K * N), *C = filled((size_t)M * N);
    int lda = ta ? M : K, ldb = tb ? K : N;
    enum CBLAS_TRANSPOSE a = ta ? CblasTrans : CblasNoTrans, b = tb ? CblasTrans : CblasNoTrans;
    for (int i = 0; i < 5; i++) cblas_sgemm(CblasRowMajor, a, b, M, N, K, 1, A, lda, B, ldb, 0, C, N);
    long it = 0;
    double t0 = now(), t;
    do {
        cblas_sgemm(CblasRowMajor, a, b, M, N, K, 1, A, lda, B, ldb, 0, C, N);
        it++;
    } while ((t = now() - t0) < 1.0);
    printf("%-34s %7.1f GFLOP/s\n", name, 2.0 * M * N * K * it / t / 1e9);
    free(A), free(B), free(C);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1024;
    openblas_set_num_threads(1);
    char name[64];
    snprintf(name, sizeof name, "square %d", n);
    run(name, 0, 0, n, n, n);
    run("forward  y = x W^T  (164x800x784)", 0, 1, 164, 800, 784);
    run("backward dW = dz^T x (800x784x164)", 1, 0, 800, 784, 164);
    run("backward dx = dz W  (164x784x800)", 0, 0, 164, 784, 800);
    return 0;
}
