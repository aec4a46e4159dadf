#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "task.h"

#define ENCODE_BATCH 256

/* Calls fn(ctx, codes, labels, row, B) for each chunk of ix's codes. */
typedef void (*CodeFn)(void *ctx, const float *codes, const uint8_t *labels, int row, int B, int d);

static int for_each_code(const Model *m, const Images *data, const Index *ix, CodeFn fn,
                         void *ctx, Err *e) {
    Work w;
    uint8_t labels[ENCODE_BATCH];
    if (work_init(&w, m, ENCODE_BATCH, e)) return AE_ERUN;
    int d = model_code_dim(m);
    for (int i = 0; i < ix->n; i += ENCODE_BATCH) {
        int B = ix->n - i < ENCODE_BATCH ? ix->n - i : ENCODE_BATCH;
        images_batch(data, ix->idx + i, B, w.input);
        images_labels(data, ix->idx + i, B, labels);
        model_encode(m, &w, B);
        fn(ctx, model_code(m, &w), labels, i, B, d);
    }
    work_free(&w);
    return AE_OK;
}

static void copy_codes(void *ctx, const float *codes, const uint8_t *labels, int row, int B,
                       int d) {
    Features *f = ctx;
    memcpy(f->x + (size_t)row * d, codes, sizeof(float) * (size_t)B * d);
    memcpy(f->y + row, labels, (size_t)B);
}

int encode_split(const Model *m, const Images *data, const Index *ix, Features *out, Err *e) {
    memset(out, 0, sizeof *out);
    int d = model_code_dim(m);
    out->x = xmalloc(sizeof(float) * (size_t)(ix->n ? ix->n : 1) * d, e);
    out->y = xmalloc((size_t)(ix->n ? ix->n : 1), e);
    if (!out->x || !out->y) {
        features_free(out);
        return AE_ERUN;
    }
    out->n = ix->n;
    out->d = d;
    if (for_each_code(m, data, ix, copy_codes, out, e)) {
        features_free(out);
        return AE_ERUN;
    }
    return AE_OK;
}

static void count_argmax(void *ctx, const float *codes, const uint8_t *labels, int row, int B,
                         int d) {
    (void)row;
    long *right = ctx;
    for (int i = 0; i < B; i++) *right += argmax(codes + (size_t)i * d, d) == labels[i];
}

int latent_accuracy(const Model *m, const Images *data, const Index *ix, int n_classes,
                    double *accuracy, Err *e) {
    *accuracy = NAN;
    if (model_code_dim(m) != n_classes || ix->n == 0) return AE_OK;
    long right = 0;
    if (for_each_code(m, data, ix, count_argmax, &right, e)) return AE_ERUN;
    *accuracy = (double)right / ix->n;
    return AE_OK;
}

/* RMSE over the range of the split's data (seed 001's NRMSE), from its MSE. */
static double nrmse(const Images *data, const Index *ix, double mse) {
    int lo = 255, hi = 0;
    for (int i = 0; i < ix->n && (lo > 0 || hi < 255); i++) {
        const uint8_t *p = data->pixels + (size_t)ix->idx[i] * data->dim;
        for (int j = 0; j < data->dim; j++) {
            lo = p[j] < lo ? p[j] : lo;
            hi = p[j] > hi ? p[j] : hi;
        }
    }
    double span = (hi - lo) / 255.0 * (data->signed_range ? 2.0 : 1.0); /* in batch units */
    return hi > lo ? sqrt(mse) / span : NAN;
}

void task_report(const TaskResult *r, int trial, int fold, TaskReport *out) {
    const TrainResult *f = &r->fit;
    *out = (TaskReport){.trial = trial, .fold = fold, .status = f->status, .epochs = f->epochs,
                        .best_epoch = f->best_epoch, .train_mse = f->train_mse,
                        .val_mse = f->val_mse, .val_accuracy = r->val_accuracy,
                        .latent_accuracy = r->val_latent_accuracy, .objective = NAN,
                        .seconds = f->seconds, .test_mse = r->test_mse,
                        .test_accuracy = r->test_accuracy,
                        .test_latent_accuracy = r->test_latent_accuracy,
                        .test_nrmse = r->test_nrmse, .val_knn_accuracy = r->val_knn_accuracy,
                        .val_linear_accuracy = r->val_linear_accuracy,
                        .test_knn_accuracy = r->test_knn_accuracy,
                        .test_linear_accuracy = r->test_linear_accuracy};
}

void task_result_free(TaskResult *r) {
    train_result_free(&r->fit);
    classifier_result_free(&r->cls);
    free(r->confusion);
    model_free(&r->model);
    model_free(&r->classifier);
    memset(r, 0, sizeof *r);
}

/* The classifier on the codes as they are, or fine-tuning the encoder from the
 * images (when the job has one; else a guided penalty's classifier), then the
 * codes standardised for k-NN and the linear probe. */
static int measure_codes(const TaskConfig *cfg, const Dataset *d, const Index *train,
                         const Index *val, const Index *test, TaskResult *r, Err *e) {
    Features ftr = {0}, fva = {0}, fte = {0};
    int rc = encode_split(&r->model, &d->train, train, &ftr, e);
    if (!rc) rc = encode_split(&r->model, &d->train, val, &fva, e);
    if (!rc) rc = test ? encode_split(&r->model, &d->test, test, &fte, e) : AE_OK;
    int tune = cfg->classifier.finetune;
    Rows rtr = tune ? rows_of_images(&d->train, train) : rows_of_codes(&ftr);
    Rows rva = tune ? rows_of_images(&d->train, val) : rows_of_codes(&fva);
    Rows rte = tune && test ? rows_of_images(&d->test, test) : rows_of_codes(&fte);
    if (!rc && cfg->use_classifier)
        rc = classifier_fit(&cfg->classifier, &rtr, &rva, d->n_classes, tune ? &r->model : NULL,
                            &r->classifier, &r->cls, e);
    r->classifier_on_images = cfg->use_classifier && tune;
    if (!rc && cfg->use_classifier && r->cls.status == TRAIN_INTERRUPTED)
        r->fit.status = TRAIN_INTERRUPTED;
    int trained = cfg->use_classifier && r->cls.status == TRAIN_OK;
    if (!rc && !cfg->use_classifier && r->fit.head.n_layers > 0) {
        /* guided: the classifier trained with the encoder is the task's classifier */
        r->classifier = r->fit.head;
        memset(&r->fit.head, 0, sizeof r->fit.head);
        rva = rows_of_codes(&fva);
        rte = rows_of_codes(&fte);
        rc = classifier_accuracy(&r->classifier, &rva, d->n_classes, &r->val_accuracy, NULL, e);
        trained = 1;
    } else if (trained) {
        r->val_accuracy = r->cls.val_accuracy;
    }
    if (!rc && trained && test && test->n > 0) {
        r->confusion = xcalloc((size_t)d->n_classes * d->n_classes, sizeof(int), e);
        rc = r->confusion ? classifier_accuracy(&r->classifier, &rte, d->n_classes,
                                                &r->test_accuracy, r->confusion, e)
                          : AE_ERUN;
    }
    if (!rc && r->fit.status == TRAIN_OK) {
        features_standardise(&ftr, &fva, &fte);
        rc = knn_accuracy(&ftr, &fva, d->n_classes, &r->val_knn_accuracy, e);
        if (!rc) rc = knn_accuracy(&ftr, &fte, d->n_classes, &r->test_knn_accuracy, e);
        const Features *evals[2] = {&fva, &fte};
        double acc[2] = {NAN, NAN};
        if (!rc) rc = linear_probe(&ftr, evals, 2, d->n_classes, cfg->train.seed, acc, e);
        r->val_linear_accuracy = acc[0];
        r->test_linear_accuracy = acc[1];
    }
    features_free(&ftr);
    features_free(&fva);
    features_free(&fte);
    return rc;
}

/* The last checkpoint, when the store has one that fits this training. */
static int resume_from_checkpoint(const CheckpointStore *c, Trainer *t, TaskResult *r, Err *e) {
    void *buf = NULL;
    size_t n = 0;
    Err why = {0};
    int rc = c->load(c->ctx, &buf, &n, &why);
    if (rc == AE_ERUN) {
        free(buf);
        *e = why;
        return rc;
    }
    if (!rc && buf) rc = trainer_checkpoint_load(t, buf, n, &why);
    free(buf);
    if (rc) { /* another task's, damaged, or of another build: train from 0 */
        r->resumed_epoch = -1;
        snprintf(r->checkpoint_note, sizeof r->checkpoint_note, "%.250s", why.msg);
    } else if (n) {
        r->resumed_epoch = r->fit.epochs;
    }
    return AE_OK;
}

/* The autoencoder's training, from the last checkpoint when there is one, with
 * a checkpoint every c->every epochs and at its last epoch (so that a task
 * stopped while measuring does not retrain), and always where it stops short
 * of train.epochs (a rung: the next task goes on from there). A checkpoint
 * that cannot be made durable stops the task: going on would lose what the
 * run promised to keep. */
static int fit(const CheckpointStore *c, int until, const TrainConfig *tc, const Images *data,
               const Index *train, const Index *val, TaskResult *r, Err *e) {
    Trainer *t = trainer_begin(tc, data, train, val, &r->model, &r->fit, e);
    if (!t) return e->code ? e->code : AE_ERUN;
    int rc = c->load ? resume_from_checkpoint(c, t, r, e) : AE_OK;
    if (until <= 0 || until > tc->epochs) until = tc->epochs;
    int every = c->save && c->every > 0 ? c->every : 0;
    int at_stop = c->save && until < tc->epochs;
    size_t size = every || at_stop ? trainer_checkpoint_size(t) : 0;
    void *buf = size ? xmalloc(size, e) : NULL;
    if (size && !buf) rc = AE_ERUN;
    while (!rc && trainer_running(t) && r->fit.epochs < until) {
        int next = every && r->fit.epochs + every < until ? r->fit.epochs + every : until;
        int done = trainer_run(t, next);
        if (r->fit.status == TRAIN_INTERRUPTED) continue;
        if (every || (at_stop && (done == until || !trainer_running(t)))) {
            trainer_checkpoint_save(t, buf);
            rc = c->save(c->ctx, buf, size, done, e);
        }
    }
    free(buf);
    if (rc) trainer_abandon(t);
    else trainer_end(t);
    return rc;
}

int task_run(const TaskConfig *cfg, const Dataset *d, const Index *train, const Index *val,
             const Index *test, TaskResult *r, Err *e) {
    memset(r, 0, sizeof *r);
    r->test_mse = r->val_nrmse = r->test_nrmse = NAN;
    r->val_latent_accuracy = r->test_latent_accuracy = NAN;
    r->val_accuracy = r->test_accuracy = NAN;
    r->val_kl = r->val_elbo = r->test_kl = r->test_elbo = NAN;
    r->val_knn_accuracy = r->val_linear_accuracy = NAN;
    r->test_knn_accuracy = r->test_linear_accuracy = NAN;
    r->n_classes = d->n_classes;
    TrainConfig tc = cfg->train;
    tc.penalty.n_classes = d->n_classes;
    int rc = fit(&cfg->checkpoints, cfg->until, &tc, &d->train, train, val, r, e);
    if (rc || r->fit.status != TRAIN_OK) return rc;
    r->val_nrmse = nrmse(&d->train, val, r->fit.val_mse);
    rc = latent_accuracy(&r->model, &d->train, val, d->n_classes, &r->val_latent_accuracy, e);
    if (!rc) rc = trainer_eval_elbo(&tc, &r->model, &d->train, val, &r->val_kl, &r->val_elbo, e);
    if (!rc && test)
        rc = trainer_eval_elbo(&tc, &r->model, &d->test, test, &r->test_kl, &r->test_elbo, e);
    if (!rc && test && test->n > 0) {
        rc = model_eval_mse(&r->model, &d->test, test, &r->test_mse, e);
        if (!rc) r->test_nrmse = nrmse(&d->test, test, r->test_mse);
        if (!rc)
            rc = latent_accuracy(&r->model, &d->test, test, d->n_classes,
                                 &r->test_latent_accuracy, e);
    }
    if (!rc) rc = measure_codes(cfg, d, train, val, test, r, e);
    return rc;
}
