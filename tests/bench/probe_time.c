/* How long the measures of codes (probe.h) take on Fashion-MNIST's sizes: 54 000
 * training codes and 6000 validation codes of width D (default 48; report 000's
 * dense stack has 225), 10 classes as noisy blobs. A benchmark, not a test.
 * Usage: build/bench_probe [D]   (one BLAS thread: OPENBLAS_NUM_THREADS=1) */
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "probe.h"
#include "rng.h"

int main(int argc, char **argv) {
    int n = 54000, nv = 6000, d = argc > 1 ? atoi(argv[1]) : 48, C = 10;
    if (d < 1 || d > 100000) {
        fprintf(stderr, "usage: bench_probe [D]\n");
        return 2;
    }
    Features tr = {calloc((size_t)n * d, sizeof(float)), calloc((size_t)n, 1), n, d};
    Features va = {calloc((size_t)nv * d, sizeof(float)), calloc((size_t)nv, 1), nv, d};
    if (!tr.x || !tr.y || !va.x || !va.y) return 1;
    Rng r;
    rng_seed(&r, 1);
    for (int i = 0; i < n + nv; i++) {
        Features *f = i < n ? &tr : &va;
        int row = i < n ? i : i - n, c = (int)rng_below(&r, (uint64_t)C);
        f->y[row] = (uint8_t)c;
        for (int k = 0; k < d; k++)
            f->x[(size_t)row * d + k] = (float)(k % C == c) + (float)rng_normal(&r);
    }
    Err e = {0};
    double knn, lin, t0 = clock_seconds();
    features_standardise(&tr, &va, NULL);
    double t1 = clock_seconds();
    int rc = knn_accuracy(&tr, &va, C, &knn, &e);
    double t2 = clock_seconds();
    const Features *evals[1] = {&va};
    if (!rc) rc = linear_probe(&tr, evals, 1, C, 1, &lin, &e);
    double t3 = clock_seconds();
    if (rc) {
        fprintf(stderr, "bench_probe: %s\n", e.msg);
        return 1;
    }
    printf("{\"codes\":%d,\"queries\":%d,\"width\":%d,\"standardise_s\":%.3f,\"knn_s\":%.3f,"
           "\"knn_accuracy\":%.4f,\"linear_s\":%.3f,\"linear_accuracy\":%.4f}\n",
           n, nv, d, t1 - t0, t2 - t1, knn, t3 - t2, lin);
    free(tr.x), free(tr.y), free(va.x), free(va.y);
    return 0;
}
