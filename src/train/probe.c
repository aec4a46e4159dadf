#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "rng.h"

void features_standardise(Features *train, Features *val, Features *test) {
    int d = train->d;
    if (train->n == 0) return;
    for (int j = 0; j < d; j++) {
        double sum = 0, ssq = 0;
        for (int i = 0; i < train->n; i++) sum += train->x[(size_t)i * d + j];
        double mean = sum / train->n;
        for (int i = 0; i < train->n; i++) {
            double v = train->x[(size_t)i * d + j] - mean;
            ssq += v * v;
        }
        double sd = sqrt(ssq / train->n);
        float m = (float)mean, inv = sd > 0 ? (float)(1.0 / sd) : 1.0f;
        Features *all[3] = {train, val, test};
        for (int k = 0; k < 3; k++)
            for (int i = 0; i < (all[k] ? all[k]->n : 0); i++) {
                float *x = all[k]->x + (size_t)i * d + j;
                *x = (*x - m) * inv;
            }
    }
}

#define KNN_QUERIES 64 /* query rows per distance GEMM */

/* The KNN_K smallest of dist[0..n) as (distance, row), sorted: an insertion list. */
typedef struct {
    float d[KNN_K];
    int row[KNN_K];
    int n;
} Nearest;

static void nearest_add(Nearest *nb, float d, int row) {
    if (nb->n == KNN_K && !(d < nb->d[KNN_K - 1])) return; /* equal: the lower row stays */
    int i = nb->n < KNN_K ? nb->n++ : KNN_K - 1;
    while (i > 0 && d < nb->d[i - 1]) {
        nb->d[i] = nb->d[i - 1];
        nb->row[i] = nb->row[i - 1];
        i--;
    }
    nb->d[i] = d;
    nb->row[i] = row;
}

/* The majority label; a tie goes to the label met first, nearest first. */
static int vote(const Nearest *nb, const uint8_t *labels, int n_classes) {
    int count[256] = {0}, best = -1, best_count = 0;
    for (int i = 0; i < nb->n; i++) count[labels[nb->row[i]]]++;
    for (int i = 0; i < nb->n; i++) {
        int c = labels[nb->row[i]];
        if (count[c] > best_count) best = c, best_count = count[c];
    }
    (void)n_classes;
    return best;
}

int knn_accuracy(const Features *ref, const Features *query, int n_classes, double *accuracy,
                 Err *e) {
    *accuracy = NAN;
    if (query->n == 0 || ref->n == 0) return AE_OK;
    int d = ref->d;
    float *norm = xmalloc(sizeof(float) * (size_t)ref->n, e);
    float *dot = xmalloc(sizeof(float) * (size_t)KNN_QUERIES * ref->n, e);
    if (!norm || !dot) {
        free(norm), free(dot);
        return AE_ERUN;
    }
    for (int i = 0; i < ref->n; i++) {
        const float *r = ref->x + (size_t)i * d;
        float s = 0;
        for (int j = 0; j < d; j++) s += r[j] * r[j];
        norm[i] = s;
    }
    long right = 0;
    for (int q0 = 0; q0 < query->n; q0 += KNN_QUERIES) {
        int nq = query->n - q0 < KNN_QUERIES ? query->n - q0 : KNN_QUERIES;
        /* |q - r|^2 ranks as |r|^2 - 2 q.r: |q|^2 is the same for every r. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, ref->n, d, -2.0f,
                    query->x + (size_t)q0 * d, d, ref->x, d, 0.0f, dot, ref->n);
        for (int q = 0; q < nq; q++) {
            const float *row = dot + (size_t)q * ref->n;
            Nearest nb = {.n = 0};
            for (int i = 0; i < ref->n; i++) nearest_add(&nb, norm[i] + row[i], i);
            right += vote(&nb, ref->y, n_classes) == query->y[q0 + q];
        }
    }
    free(norm), free(dot);
    *accuracy = (double)right / query->n;
    return AE_OK;
}

int linear_probe(const Features *train, const Features *const *evals, int n_evals, int n_classes,
                 uint64_t seed, double *accuracy, Err *e) {
    for (int k = 0; k < n_evals; k++) accuracy[k] = NAN;
    if (train->n == 0) return AE_OK;
    int per_epoch = (train->n + PROBE_BATCH - 1) / PROBE_BATCH;
    ClassifierConfig cfg = {.n_hidden = 0, .lr = PROBE_LR, .batch_size = PROBE_BATCH,
                            .epochs = (PROBE_STEPS + per_epoch - 1) / per_epoch,
                            .seed = seed_mix(seed, RNG_PROBE)};
    Features none = {.d = train->d};
    Rows tr = rows_of_codes(train), va = rows_of_codes(&none);
    Model m = {0};
    ClassifierResult r = {0};
    int rc = classifier_fit(&cfg, &tr, &va, n_classes, NULL, &m, &r, e);
    for (int k = 0; k < n_evals && !rc && r.status == 0; k++) {
        Rows ev = rows_of_codes(evals[k]);
        rc = classifier_accuracy(&m, &ev, n_classes, &accuracy[k], NULL, e);
    }
    classifier_result_free(&r);
    model_free(&m);
    return rc;
}
