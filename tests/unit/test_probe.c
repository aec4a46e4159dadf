/* The measures of codes (probe.h): k-NN accuracy against a brute-force count in
 * double precision and on hand-made ties, standardisation, and the linear probe
 * on separable and on label-shuffled data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "rng.h"
#include "test.h"

static Features make(int n, int d) {
    Features f = {.x = calloc((size_t)n * d + 1, sizeof(float)), .y = calloc((size_t)n + 1, 1),
                  .n = n, .d = d};
    return f;
}

/* Labelled rows of a and then b: class c in [0, C) centred at `sep` on
 * dimension c, with unit Gaussian noise. */
static void blobs(Features *a, Features *b, int C, float sep, Rng *r) {
    for (int i = 0; i < a->n + b->n; i++) {
        Features *f = i < a->n ? a : b;
        int row = i < a->n ? i : i - a->n, c = (int)rng_below(r, (uint64_t)C);
        f->y[row] = (uint8_t)c;
        for (int k = 0; k < f->d; k++)
            f->x[(size_t)row * f->d + k] = (k == c ? sep : 0.0f) + (float)rng_normal(r);
    }
}

/* The brute force: every distance in double, the K nearest by (distance, row),
 * majority vote with ties to the label met first from the nearest. */
static double knn_brute(const Features *ref, const Features *q) {
    long right = 0;
    double *dist = malloc(sizeof(double) * ref->n);
    int *used = malloc(sizeof(int) * ref->n);
    for (int i = 0; i < q->n; i++) {
        for (int j = 0; j < ref->n; j++) {
            double s = 0;
            for (int k = 0; k < ref->d; k++) {
                double t = (double)q->x[(size_t)i * q->d + k] - ref->x[(size_t)j * ref->d + k];
                s += t * t;
            }
            dist[j] = s;
            used[j] = 0;
        }
        int nearest[KNN_K], count[256] = {0};
        for (int t = 0; t < KNN_K && t < ref->n; t++) {
            int best = -1;
            for (int j = 0; j < ref->n; j++)
                if (!used[j] && (best < 0 || dist[j] < dist[best])) best = j;
            used[best] = 1;
            nearest[t] = best;
            count[ref->y[best]]++;
        }
        int label = -1, most = 0;
        for (int t = 0; t < KNN_K && t < ref->n; t++)
            if (count[ref->y[nearest[t]]] > most) label = ref->y[nearest[t]], most = count[label];
        right += label == q->y[i];
    }
    free(dist), free(used);
    return (double)right / q->n;
}

static void test_knn_brute(void) {
    Rng r;
    rng_seed(&r, 3);
    enum { NR = 500, NQ = 130, D = 5, C = 4 };
    Features ref = make(NR, D), q = make(NQ, D);
    /* Noisy blobs (unit noise around 1), so that accuracy is neither 0 nor 1 and
     * votes are mixed. */
    blobs(&ref, &q, C, 1.25f, &r);
    double got, want = knn_brute(&ref, &q);
    CHECK(knn_accuracy(&ref, &q, C, &got, &(Err){0}) == AE_OK, "knn");
    CHECK(got == want, "knn %.6f, brute force %.6f", got, want);
    CHECK(want > 0.3 && want < 0.95, "the blobs should be neither trivial nor hopeless: %.3f", want);
    free(ref.x), free(ref.y), free(q.x), free(q.y);
}

/* 1-d: the query at 0; class 0 at 1..5, class 1 at 1.5..5.5: five votes each,
 * and the nearest (class 0) breaks the tie. Moving one class-1 point nearer than
 * the fifth class-0 point gives class 1 six of the ten. */
static void test_knn_ties(void) {
    Features ref = make(10, 1), q = make(1, 1);
    for (int i = 0; i < 5; i++) {
        ref.x[i] = (float)(i + 1), ref.y[i] = 0;
        ref.x[5 + i] = (float)(i + 1) + 0.5f, ref.y[5 + i] = 1;
    }
    q.x[0] = 0, q.y[0] = 0;
    double acc;
    knn_accuracy(&ref, &q, 2, &acc, &(Err){0});
    CHECK(acc == 1.0, "a 5-5 tie goes to the nearest neighbour's class: %g", acc);
    Features ref11 = make(11, 1);
    memcpy(ref11.x, ref.x, sizeof(float) * 10), memcpy(ref11.y, ref.y, 10);
    ref11.x[10] = 0.25f, ref11.y[10] = 1; /* the new nearest, class 1: six to four */
    knn_accuracy(&ref11, &q, 2, &acc, &(Err){0});
    CHECK(acc == 0.0, "six of ten nearest are class 1: %g", acc);
    Features empty = make(0, 1);
    knn_accuracy(&ref, &empty, 2, &acc, &(Err){0});
    CHECK(isnan(acc), "an empty query split is NaN");
    free(ref.x), free(ref.y), free(q.x), free(q.y), free(ref11.x), free(ref11.y);
    free(empty.x), free(empty.y);
}

static void test_standardise(void) {
    Features tr = make(4, 2), va = make(2, 2);
    float xs[] = {1, 5, 3, 5, 5, 5, 7, 5}, vs[] = {4, 5, 10, 9};
    memcpy(tr.x, xs, sizeof xs), memcpy(va.x, vs, sizeof vs);
    features_standardise(&tr, &va, NULL);
    /* column 0: mean 4, sd sqrt(5); column 1: constant 5, centred only */
    CHECK_CLOSE(tr.x[0], -3 / sqrt(5.0), 1e-6, "train x00");
    CHECK_CLOSE(tr.x[6], 3 / sqrt(5.0), 1e-6, "train x30");
    CHECK(tr.x[1] == 0 && tr.x[7] == 0, "a constant column is centred");
    CHECK_CLOSE(va.x[0], 0, 1e-6, "val by train's mean");
    CHECK_CLOSE(va.x[2], 6 / sqrt(5.0), 1e-6, "val by train's sd");
    CHECK_CLOSE(va.x[3], 4, 1e-6, "val's constant column");
    free(tr.x), free(tr.y), free(va.x), free(va.y);
}

/* Linearly separable blobs: the probe learns them; codes of noise leave it near
 * chance on held-out rows. */
static void test_linear_probe(void) {
    Rng r;
    rng_seed(&r, 9);
    enum { N = 2000, NV = 500, D = 6, C = 3 };
    Features tr = make(N, D), va = make(NV, D);
    blobs(&tr, &va, C, 4.0f, &r);
    const Features *evals[1] = {&va};
    double acc, again;
    CHECK(linear_probe(&tr, evals, 1, C, 5, &acc, &(Err){0}) == AE_OK, "probe");
    CHECK(acc > 0.95, "separable blobs: %.3f", acc);
    linear_probe(&tr, evals, 1, C, 5, &again, &(Err){0});
    CHECK(acc == again, "the same seed, the same accuracy");
    /* Codes that carry nothing of the class (pure noise): near chance, 1/3. */
    for (int i = 0; i < N * D; i++) tr.x[i] = (float)rng_normal(&r);
    for (int i = 0; i < NV * D; i++) va.x[i] = (float)rng_normal(&r);
    linear_probe(&tr, evals, 1, C, 5, &acc, &(Err){0});
    CHECK(acc > 0.25 && acc < 0.42, "noise codes: near chance (1/3), got %.3f", acc);
    free(tr.x), free(tr.y), free(va.x), free(va.y);
}

int main(void) {
    test_knn_brute();
    test_knn_ties();
    test_standardise();
    test_linear_probe();
    return test_summary("probe");
}
