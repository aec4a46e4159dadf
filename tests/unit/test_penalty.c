/* The penalties and the classifier beyond their gradients (test_grad): the
 * Cauchy-Schwarz divergence against a direct double-precision evaluation, its
 * zero and its symmetry under reordering, the priors, and on real Fashion-MNIST
 * the class-target penalty shaping the code and the classifier on the codes. Then
 * the numerical hazards: csd at the ends of sigma's range, bce at outputs of 0 and 1. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "penalty.h"
#include "task.h"
#include "test.h"

/* D_CS straight from its definition, in double: the independent reference. */
static double csd_reference(const float *z, const float *p, int N, int d, double sigma) {
    const float *set[2] = {z, p};
    double logv[2][2];
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            double v = 0;
            for (int i = 0; i < N; i++)
                for (int j = 0; j < N; j++) {
                    double d2 = 0;
                    for (int k = 0; k < d; k++) {
                        double u = (double)set[a][i * d + k] - set[b][j * d + k];
                        d2 += u * u;
                    }
                    v += exp(-d2 / (4 * sigma * sigma)); /* G of width sigma*sqrt(2) */
                }
            logv[a][b] = log(v / ((double)N * N));
        }
    return logv[0][0] + logv[1][1] - 2 * logv[0][1];
}

typedef struct {
    float *kernel, *sq_z, *sq_p;
} CsdScratch;

/* The buffers csd_forward_backward needs for a batch of N codes. */
static CsdScratch csd_scratch(int N) {
    return (CsdScratch){malloc(sizeof(float) * N * N), malloc(sizeof(float) * N),
                        malloc(sizeof(float) * N)};
}

static void csd_scratch_free(CsdScratch *s) { free(s->kernel), free(s->sq_z), free(s->sq_p); }

static double csd(const float *z, const float *p, int N, int d, float sigma, CsdScratch *s) {
    return csd_forward_backward(z, p, N, d, sigma, s->kernel, s->sq_z, s->sq_p, NULL);
}

static void test_csd_values(void) {
    enum { N = 64, D = 5 };
    Rng r;
    rng_seed(&r, 3);
    float z[N * D], p[N * D], zr[N * D], pr[N * D];
    CsdScratch s = csd_scratch(N);
    for (int i = 0; i < N * D; i++) z[i] = (float)rng_normal(&r);

    for (float sigma = 0.5f; sigma < 10; sigma *= 3) {
        double self = csd(z, z, N, D, sigma, &s);
        CHECK(fabs(self) < 1e-6, "D_CS(z, z) = %g at sigma %g", self, sigma);
        for (int i = 0; i < N * D; i++) p[i] = z[i] + (i % D == 0 ? 1.5f : 0.0f);
        double shifted = csd(z, p, N, D, sigma, &s), ref = csd_reference(z, p, N, D, sigma);
        CHECK(shifted > 1e-3, "D_CS of a shifted copy %g at sigma %g", shifted, sigma);
        CHECK_CLOSE(shifted / ref, 1.0, 1e-4, "D_CS(z, z + 1.5 e1) against the direct sum");
        /* Another sample of another distribution. */
        for (int i = 0; i < N * D; i++) p[i] = 2.0f * (float)rng_uniform(&r);
        double other = csd(z, p, N, D, sigma, &s);
        CHECK_CLOSE(other / csd_reference(z, p, N, D, sigma), 1.0, 1e-4,
                    "D_CS(normal, uniform) against the direct sum");
        /* The order of the samples does not matter. */
        int perm[N];
        for (int i = 0; i < N; i++) perm[i] = i;
        rng_shuffle(&r, perm, N);
        for (int i = 0; i < N; i++) {
            memcpy(zr + i * D, z + perm[i] * D, sizeof(float) * D);
            memcpy(pr + i * D, p + perm[(i + 7) % N] * D, sizeof(float) * D);
        }
        CHECK_CLOSE(csd(zr, pr, N, D, sigma, &s) / other, 1.0, 1e-5, "reordered samples");
    }
    /* Far apart and a narrow kernel: every cross term underflows in float, yet
     * log-sum-exp keeps the value finite. */
    for (int i = 0; i < N * D; i++) p[i] = z[i] + 40.0f;
    double far = csd(z, p, N, D, 0.5f, &s);
    CHECK(isfinite(far) && far > 100, "far apart: %g", far);
    csd_scratch_free(&s);
}

static void test_priors(void) {
    enum { N = 5000, D = 12 };
    float *x = malloc(sizeof(float) * N * D);
    Rng r;
    rng_seed(&r, 4);
    prior_sample(PRIOR_ONEHOT, 10, 0.0f, &r, N, D, x);
    int count[D] = {0}, ok = 1;
    for (int i = 0; i < N; i++) {
        int ones = 0;
        for (int j = 0; j < D; j++) {
            ones += x[i * D + j] == 1.0f;
            ok &= x[i * D + j] == 1.0f || x[i * D + j] == 0.0f;
            if (x[i * D + j] == 1.0f) count[j]++;
        }
        ok &= ones == 1;
    }
    CHECK(ok, "onehot rows are one-hot");
    CHECK(count[10] == 0 && count[11] == 0, "onehot pads beyond the class count");
    for (int j = 0; j < 10; j++) CHECK(count[j] > 400 && count[j] < 600, "class %d drawn %d times", j, count[j]);
    prior_sample(PRIOR_SWISS_ROLL, 10, 0.0f, &r, N, D, x);
    double tmin = 1e9, tmax = 0;
    for (int i = 0; i < N; i++) {
        double t = hypot(x[i * D], x[i * D + 1]);
        tmin = fmin(tmin, t), tmax = fmax(tmax, t);
        CHECK(x[i * D + 2] == 0.0f, "swiss roll is 2-D");
    }
    CHECK(tmin >= 1.5 * 3.14159 && tmax <= 4.5 * 3.1416 && tmax > 13, "radius in [1.5pi, 4.5pi]: %g..%g", tmin, tmax);
    prior_sample(PRIOR_GAUSSIAN, 10, 0.0f, &r, N, D, x);
    double m = 0, v = 0;
    for (int i = 0; i < N * D; i++) m += x[i], v += (double)x[i] * x[i];
    m /= N * D, v = v / (N * D) - m * m;
    CHECK(fabs(m) < 0.03 && fabs(v - 1) < 0.05, "gaussian mean %g variance %g", m, v);
    Penalty p;
    Err e = {0};
    PenaltyConfig c = {.kind = PENALTY_CSD, .lambda = 1, .sigma = 1, .prior = PRIOR_SWISS_ROLL};
    CHECK(penalty_init(&p, &c, 8, 1, 1, &e) == AE_EINPUT && strstr(e.msg, "swiss_roll"),
          "swiss_roll with a 1-unit code: %s", e.msg);
    free(x);
}

/* ---- on Fashion-MNIST ---- */

static Dataset data;

static TaskConfig small_task(int bottleneck, float lambda) {
    TaskConfig t;
    memset(&t, 0, sizeof t);
    TrainConfig *c = &t.train;
    c->shape = (ModelShape){.n_hidden = 1, .hidden = {256}, .bottleneck = bottleneck,
                            .activation = ACT_RELU, .latent_activation = ACT_LINEAR,
                            .output_activation = ACT_SIGMOID};
    optim_init(&c->optim, OPT_ADAM, 1e-3f);
    c->loss = LOSS_MSE;
    c->recon_weight = 1;
    c->batch_size = 128;
    c->epochs = 3;
    c->seed = 5;
    c->penalty = (PenaltyConfig){.kind = PENALTY_CLASS_TARGET, .lambda = lambda};
    return t;
}

static void test_class_target(const Index *train, const Index *val) {
    double acc[2];
    const float lambdas[2] = {1.0f, 0.0f};
    for (int k = 0; k < 2; k++) {
        TaskConfig t = small_task(10, lambdas[k]);
        TaskResult r;
        Err e = {0};
        CHECK(task_run(&t, &data, train, val, NULL, &r, &e) == AE_OK, "%s", e.msg);
        acc[k] = r.val_latent_accuracy;
        fprintf(stderr, "class_target lambda %g: latent accuracy %.4f, val_mse %.5f\n", lambdas[k],
                acc[k], r.fit.val_mse);
        task_result_free(&r);
    }
    /* Measured here: 0.8250 with lambda 1, 0.0650 with lambda 0 (chance: 0.1). */
    CHECK(acc[0] > 0.75, "lambda 1: latent accuracy %g", acc[0]);
    CHECK(acc[1] < 0.25, "lambda 0: latent accuracy %g should be near chance", acc[1]);
}

/* D_CS between the codes of ix and as many swiss-roll samples, at width sigma. */
static double codes_to_swiss_roll(const Model *m, const Index *ix, float sigma) {
    Features f;
    Err e = {0};
    CHECK(encode_split(m, &data.train, ix, &f, &e) == AE_OK, "%s", e.msg);
    int N = f.n;
    float *p = malloc(sizeof(float) * N * 2), *K = malloc(sizeof(float) * N * N);
    float *sz = malloc(sizeof(float) * N), *sp = malloc(sizeof(float) * N);
    Rng r;
    rng_seed(&r, 77);
    prior_sample(PRIOR_SWISS_ROLL, 0, 0, &r, N, 2, p);
    double v = csd_forward_backward(f.x, p, N, 2, sigma, K, sz, sp, NULL);
    free(p), free(K), free(sz), free(sp);
    features_free(&f);
    return v;
}

/* Report 003 version 2: a discriminator between the 2-d codes and the swiss roll,
 * the encoder trained to fool it. Its codes must end up far closer to the prior
 * (in D_CS) than with lambda 0, where the discriminator trains but the encoder
 * never hears of it. */
static void test_adversarial(const Index *train, const Index *val) {
    double dcs[2];
    const float lambdas[2] = {1.0f, 0.0f};
    for (int k = 0; k < 2; k++) {
        TaskConfig t = small_task(2, lambdas[k]);
        t.train.epochs = 10;
        t.train.penalty = (PenaltyConfig){.kind = PENALTY_ADVERSARIAL, .lambda = lambdas[k],
                                          .prior = PRIOR_SWISS_ROLL, .n_head = 2,
                                          .head = {64, 64}, .head_act = ACT_RELU,
                                          .disc_lr = 1e-3f};
        TaskResult r, again;
        Err e = {0};
        CHECK(task_run(&t, &data, train, val, NULL, &r, &e) == AE_OK, "%s", e.msg);
        dcs[k] = codes_to_swiss_roll(&r.model, val, 2.0f);
        double vmse = r.fit.val_mse;
        if (k == 0) { /* the discriminator's stream and steps are the task's: same bits */
            t.train.epochs = 2;
            task_result_free(&r);
            CHECK(task_run(&t, &data, train, val, NULL, &r, &e) == AE_OK, "%s", e.msg);
            CHECK(task_run(&t, &data, train, val, NULL, &again, &e) == AE_OK, "%s", e.msg);
            CHECK(!memcmp(r.model.params, again.model.params,
                          sizeof(float) * r.model.n_params), "adversarial: two runs differ");
            task_result_free(&again);
        }
        fprintf(stderr, "adversarial lambda %g: D_CS(codes, swiss roll) %.4f, val_mse %.5f\n",
                lambdas[k], dcs[k], vmse);
        task_result_free(&r);
    }
    /* Measured here: 0.253 with lambda 1, 1.045 with lambda 0 (10 epochs). */
    CHECK(dcs[0] < 0.5 * dcs[1], "D_CS with lambda 1 (%g) is not clearly below lambda 0's (%g)",
          dcs[0], dcs[1]);
}

/* Report 004's ways of training an encoder for classes: a guided penalty (a
 * linear classifier on the code trained with it) and SupCon (two augmented views
 * of every image), both with train.recon_weight 0 (no decoder built), against a
 * plain autoencoder of the same encoder and budget, by the codes' k-NN accuracy. */
static void test_class_shaped_codes(const Index *train, const Index *val, const Index *test) {
    const char *names[3] = {"plain", "guided", "supcon"};
    double knn[3], acc[3];
    for (int k = 0; k < 3; k++) {
        TaskConfig t = small_task(16, 1.0f);
        t.train.penalty = (PenaltyConfig){.kind = k == 0 ? PENALTY_NONE
                                                 : k == 1 ? PENALTY_GUIDED : PENALTY_SUPCON,
                                          .lambda = 1, .alpha = 1, .temperature = 0.1f,
                                          .n_head = 2, .head = {16, 64}};
        t.train.recon_weight = k == 0 ? 1.0f : 0.0f;
        if (k == 2) t.train.augment = (Augment){.crop = 2, .noise = 0.05f};
        TaskResult r;
        Err e = {0};
        CHECK(task_run(&t, &data, train, val, test, &r, &e) == AE_OK, "%s", e.msg);
        knn[k] = r.val_knn_accuracy;
        acc[k] = r.val_accuracy;
        fprintf(stderr, "%s: val k-NN %.4f, linear %.4f, val accuracy %.4f, test %.4f, val_mse %g\n",
                names[k], knn[k], r.val_linear_accuracy, acc[k], r.test_accuracy, r.fit.val_mse);
        int alone = r.model.bottleneck_layer == r.model.n_layers - 1;
        CHECK(alone == (k > 0), "%s: the decoder is %s", names[k], alone ? "missing" : "built");
        CHECK(k == 0 ? isfinite(r.fit.val_mse) : isnan(r.fit.val_mse), "%s: val_mse %g",
              names[k], r.fit.val_mse);
        if (k == 1) { /* its classifier is the task's: accuracy and confusion without an MLP */
            CHECK(r.classifier.n_layers == 1 && r.confusion, "guided: no classifier kept");
            long diag = 0, total = 0;
            for (int i = 0; i < 100 && r.confusion; i++) {
                total += r.confusion[i];
                diag += i % 11 == 0 ? r.confusion[i] : 0;
            }
            CHECK(total == test->n && fabs((double)diag / total - r.test_accuracy) < 1e-12,
                  "guided: confusion %ld of %ld against test accuracy %g", diag, total,
                  r.test_accuracy);
        } else {
            CHECK(isnan(acc[k]), "%s: a val accuracy without a classifier", names[k]);
        }
        task_result_free(&r);
    }
    CHECK(acc[1] > 0.75, "guided: val accuracy %g", acc[1]);
    CHECK(knn[1] > knn[0] && knn[2] > knn[0], "k-NN: guided %g and supcon %g against plain %g",
          knn[1], knn[2], knn[0]);
}

/* The reports' pipeline in small: 784-800-400-225, then a 225-200-10 MLP on the
 * frozen codes. */
static void test_classifier(const Index *train, const Index *val, const Index *test) {
    TaskConfig t;
    memset(&t, 0, sizeof t);
    TrainConfig *c = &t.train;
    c->shape = (ModelShape){.n_hidden = 2, .hidden = {800, 400}, .bottleneck = 225,
                            .activation = ACT_RELU, .latent_activation = ACT_LINEAR,
                            .output_activation = ACT_SIGMOID};
    optim_init(&c->optim, OPT_ADAM, 1e-3f);
    c->loss = LOSS_MSE;
    c->recon_weight = 1;
    c->batch_size = 128;
    c->epochs = 3;
    c->seed = 6;
    t.use_classifier = 1;
    t.classifier = (ClassifierConfig){.n_hidden = 1, .hidden = {200}, .lr = 1e-3f,
                                      .batch_size = 128, .epochs = 10, .patience = 5, .seed = 6};
    TaskResult r;
    Err e = {0};
    CHECK(task_run(&t, &data, train, val, test, &r, &e) == AE_OK, "%s", e.msg);
    fprintf(stderr, "classifier on 225-d codes: val %.4f test %.4f (ae test_mse %.5f)\n",
            r.val_accuracy, r.test_accuracy, r.test_mse);
    /* Measured here: val 0.7790, test 0.7585 on this subset (3 autoencoder epochs on
     * 9000 images; the full set gives 0.856, see the README). */
    CHECK(r.test_accuracy > 0.72, "test accuracy %g", r.test_accuracy);
    CHECK(r.val_accuracy > 0.72, "val accuracy %g", r.val_accuracy);
    long total = 0, diag = 0;
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 10; j++) {
            total += r.confusion[i * 10 + j];
            if (i == j) diag += r.confusion[i * 10 + j];
        }
    CHECK(total == test->n && fabs((double)diag / total - r.test_accuracy) < 1e-12,
          "confusion: %ld of %ld on the diagonal", diag, total);
    CHECK(isnan(r.val_latent_accuracy), "latent accuracy needs a 10-unit code");
    task_result_free(&r);
}

/* classifier.dropout on separable synthetic codes (10 Gaussian clusters in 10-d):
 * with and without dropout the MLP learns them; dropout changes the weights; the
 * same seed gives the same weights bit for bit. */
static int fit_clusters(float dropout, Model *mlp, double *acc) {
    enum { N = 2000, D = 10, C = 10 };
    Features tr = {malloc(sizeof(float) * N * D), malloc(N), N, D};
    Features va = {malloc(sizeof(float) * N * D), malloc(N), N, D};
    Rng r;
    rng_seed(&r, 77);
    for (int i = 0; i < 2 * N; i++) {
        Features *f = i < N ? &tr : &va;
        int k = i % N, y = k % C;
        f->y[k] = (uint8_t)y;
        for (int j = 0; j < D; j++)
            f->x[(size_t)k * D + j] = (j == y ? 3.0f : 0.0f) + 0.5f * (float)rng_normal(&r);
    }
    ClassifierConfig cfg = {.n_hidden = 3, .hidden = {100, 200, 100}, .lr = 1e-3f,
                            .batch_size = 64, .epochs = 5, .patience = 0, .seed = 9,
                            .dropout = dropout};
    ClassifierResult res;
    Err e = {0};
    Rows rtr = rows_of_codes(&tr), rva = rows_of_codes(&va);
    int rc = classifier_fit(&cfg, &rtr, &rva, C, NULL, mlp, &res, &e);
    CHECK(rc == AE_OK, "classifier_fit: %s", e.msg);
    *acc = res.val_accuracy;
    classifier_result_free(&res);
    features_free(&tr);
    features_free(&va);
    return rc;
}

static void test_classifier_dropout(void) {
    Model a, b, c;
    double acc_a, acc_b, acc_c;
    if (fit_clusters(0.0f, &a, &acc_a) || fit_clusters(0.1f, &b, &acc_b) ||
        fit_clusters(0.1f, &c, &acc_c))
        return;
    fprintf(stderr, "classifier on clusters: val accuracy %.4f without dropout, %.4f with 0.1\n",
            acc_a, acc_b);
    CHECK(acc_a > 0.95 && acc_b > 0.95, "val accuracy %g / %g", acc_a, acc_b);
    CHECK(memcmp(a.params, b.params, sizeof(float) * a.n_params) != 0,
          "dropout 0.1 left the weights as without it");
    CHECK(acc_b == acc_c && memcmp(b.params, c.params, sizeof(float) * b.n_params) == 0,
          "dropout: the same seed gave different weights");
    model_free(&a), model_free(&b), model_free(&c);
}

/* ---- numerical hazards ---------------------------------------------------------- */

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

/* D_CS and its gradient stay finite over the whole range the spec allows for sigma
 * ([1e-6, 1e6]), for codes far apart, close together, or equal to the prior: the
 * kernel then ranges from a point mass to flat at float precision. */
static void test_csd_extreme_sigma(void) {
    enum { N = 48, D = 3 };
    Rng r;
    rng_seed(&r, 5);
    float z[N * D], p[N * D], zs[N * D], dz[N * D];
    CsdScratch s = csd_scratch(N);
    for (int i = 0; i < N * D; i++) z[i] = (float)rng_normal(&r), p[i] = (float)rng_normal(&r);
    const float sigmas[] = {1e-6f, 1e-4f, 1e-2f, 1.0f, 1e2f, 1e4f, 1e6f};
    const float scales[] = {1e-3f, 1.0f, 100.0f};
    for (size_t k = 0; k < sizeof sigmas / sizeof sigmas[0]; k++)
        for (size_t m = 0; m < sizeof scales / sizeof scales[0]; m++) {
            for (int i = 0; i < N * D; i++) zs[i] = z[i] * scales[m];
            double v = csd_forward_backward(zs, p, N, D, sigmas[k], s.kernel, s.sq_z, s.sq_p, dz);
            CHECK(isfinite(v) && v > -1e-6, "sigma %g, codes x%g: D_CS %g", sigmas[k], scales[m], v);
            CHECK(all_finite(dz, N * D), "sigma %g, codes x%g: a gradient is not finite",
                  sigmas[k], scales[m]);
            v = csd_forward_backward(zs, zs, N, D, sigmas[k], s.kernel, s.sq_z, s.sq_p, dz);
            CHECK(isfinite(v) && fabs(v) < 1e-3, "sigma %g, codes x%g: D_CS(z, z) = %g", sigmas[k],
                  scales[m], v);
            CHECK(all_finite(dz, N * D), "sigma %g, codes x%g: gradient at z = p", sigmas[k],
                  scales[m]);
        }
    csd_scratch_free(&s);
}

/* bce at outputs of exactly 0 and 1 (a saturated sigmoid), and beyond them (a linear
 * output layer): the loss and its gradient stay finite, and a right answer costs
 * less than a wrong one. */
static void test_bce_at_the_ends(void) {
    enum { B = 2, D = 4 };
    const float ends[] = {0.0f, 1.0f, -1e30f, 1e30f, 1e-45f, 0.99999994f};
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
        for (float t = 0; t <= 1; t += 0.5f) {
            float y[B * D], tt[B * D], dy[B * D];
            for (int j = 0; j < B * D; j++) y[j] = ends[i], tt[j] = t;
            double l = loss_forward_backward(LOSS_BCE, y, tt, dy, B, D);
            CHECK(isfinite(l) && l >= 0, "bce(y = %g, t = %g) = %g", ends[i], t, l);
            CHECK(all_finite(dy, B * D), "bce'(y = %g, t = %g) is not finite", ends[i], t);
        }
    float zero[D] = {0}, one[D] = {1, 1, 1, 1}, dy[D];
    double right = loss_forward_backward(LOSS_BCE, one, one, dy, 1, D);
    double wrong = loss_forward_backward(LOSS_BCE, zero, one, dy, 1, D);
    CHECK(right < 1e-5 && wrong > 10, "bce: right answer %g, wrong answer %g", right, wrong);
    CHECK(dy[0] < 0, "bce: the gradient at a wrong 0 pushes up (%g)", dy[0]);
}

int main(void) {
    test_classifier_dropout();
    test_csd_values();
    test_csd_extreme_sigma();
    test_bce_at_the_ends();
    test_priors();
    Err e = {0};
    if (dataset_load(test_env("FASHION_DIR", "/usr/share/datasets/fashion-mnist"), &data, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    Index all, sub, train, val, all_test, test;
    CHECK(index_all(data.train.n, &all, &e) == AE_OK, "%s", e.msg);
    CHECK(index_subset(data.train.labels, &all, 10000, 21, &sub, &e) == AE_OK, "%s", e.msg);
    CHECK(index_holdout(data.train.labels, &sub, 0.1, 22, &train, &val, &e) == AE_OK, "%s", e.msg);
    CHECK(index_all(data.test.n, &all_test, &e) == AE_OK, "%s", e.msg);
    CHECK(index_subset(data.test.labels, &all_test, 2000, 23, &test, &e) == AE_OK, "%s", e.msg);
    test_class_target(&train, &val);
    test_adversarial(&train, &val);
    test_class_shaped_codes(&train, &val, &test);
    test_classifier(&train, &val, &test);
    index_free(&all), index_free(&sub), index_free(&train), index_free(&val);
    index_free(&all_test), index_free(&test);
    dataset_free(&data);
    return test_summary("penalty");
}
