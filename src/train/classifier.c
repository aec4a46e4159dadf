#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "optim.h"
#include "trainer.h"

void features_free(Features *f) {
    free(f->x);
    free(f->y);
    memset(f, 0, sizeof *f);
}

void classifier_result_free(ClassifierResult *r) {
    free(r->curve);
    r->curve = NULL;
}

/* Copies rows idx[0..B) of f into the batch buffers. */
static void gather(const Features *f, const int *idx, int B, float *x, uint8_t *y) {
    for (int i = 0; i < B; i++) {
        memcpy(x + (size_t)i * f->d, f->x + (size_t)idx[i] * f->d, sizeof(float) * f->d);
        y[i] = f->y[idx[i]];
    }
}

/* Mean loss and accuracy over f, in order, in chunks of w->max_batch; with
 * confusion non-NULL also the counts. */
static void evaluate(const Model *mlp, Work *w, const Features *f, int C, uint8_t *y,
                     double *loss, double *accuracy, int *confusion) {
    double lsum = 0;
    long right = 0;
    if (confusion) memset(confusion, 0, sizeof(int) * (size_t)C * C);
    for (int i = 0; i < f->n; i += w->max_batch) {
        int B = f->n - i < w->max_batch ? f->n - i : w->max_batch;
        memcpy(w->input, f->x + (size_t)i * f->d, sizeof(float) * (size_t)B * f->d);
        memcpy(y, f->y + i, (size_t)B);
        model_forward(mlp, w, B);
        const float *logits = model_output(mlp, w);
        int ok;
        lsum += softmax_xent_forward_backward(logits, y, NULL, B, C, &ok) * B;
        right += ok;
        if (confusion)
            for (int r = 0; r < B; r++) confusion[y[r] * C + argmax(logits + (size_t)r * C, C)]++;
    }
    double n = f->n > 0 ? (double)f->n : NAN;
    if (loss) *loss = lsum / n;
    if (accuracy) *accuracy = (double)right / n;
}

static int build(Model *mlp, const ClassifierConfig *cfg, int d, int C, Err *e) {
    int widths[AE_MAX_HIDDEN + 2];
    Act acts[AE_MAX_HIDDEN + 1];
    widths[0] = d;
    for (int i = 0; i < cfg->n_hidden; i++) {
        widths[i + 1] = cfg->hidden[i];
        acts[i] = ACT_RELU;
    }
    widths[cfg->n_hidden + 1] = C;
    acts[cfg->n_hidden] = ACT_LINEAR; /* softmax lives in the loss */
    int rc = model_init_mlp(mlp, cfg->n_hidden + 1, widths, acts, 0.0f, cfg->dropout,
                            cfg->batchnorm, e);
    if (rc == AE_OK) model_init_weights(mlp, seed_mix(cfg->seed, RNG_CLASSIFIER));
    return rc;
}

int classifier_accuracy(const Model *mlp, const Features *f, int n_classes, double *accuracy,
                        int *confusion, Err *e) {
    Work w;
    uint8_t *y = xmalloc(256, e);
    if (!y || work_init(&w, mlp, 256, e)) {
        free(y);
        return AE_ERUN;
    }
    evaluate(mlp, &w, f, n_classes, y, NULL, accuracy, confusion);
    work_free(&w);
    free(y);
    return AE_OK;
}

int classifier_fit(const ClassifierConfig *cfg, const Features *train, const Features *val,
                   int n_classes, Model *mlp, ClassifierResult *r, Err *e) {
    memset(r, 0, sizeof *r);
    r->val_accuracy = NAN;
    if (train->n < 1) return err_set(e, AE_EINPUT, "classifier: the training split is empty");
    int rc = build(mlp, cfg, train->d, n_classes, e);
    if (rc) return rc;
    int B = cfg->batch_size, C = n_classes;
    Work w = {0};
    int *order = xmalloc(sizeof(int) * (size_t)train->n, e);
    uint8_t *y = xmalloc((size_t)B, e);
    float *best = xmalloc(sizeof(float) * model_state_size(mlp), e);
    r->curve = xcalloc((size_t)(cfg->epochs > 0 ? cfg->epochs : 1) * 3, sizeof(double), e);
    if (!order || !y || !best || !r->curve || work_init(&w, mlp, B, e)) {
        free(order), free(y), free(best);
        classifier_result_free(r);
        model_free(mlp);
        return AE_ERUN;
    }
    for (int i = 0; i < train->n; i++) order[i] = i;
    Rng shuffle, drop;
    rng_seed(&shuffle, seed_mix(seed_mix(cfg->seed, RNG_CLASSIFIER), RNG_SHUFFLE));
    rng_seed(&drop, seed_mix(seed_mix(cfg->seed, RNG_CLASSIFIER), RNG_DROPOUT));
    Optim opt;
    optim_init(&opt, OPT_ADAM, cfg->lr);
    EarlyStop es;
    early_stop_init(&es, cfg->patience, 0.0, 1);
    int stop = 0;
    for (int ep = 1; ep <= cfg->epochs && !stop; ep++) {
        opt.lr = (float)schedule_lr(&cfg->schedule, cfg->lr, ep - 1, cfg->epochs);
        if (cfg->stop && *cfg->stop) {
            r->status = TRAIN_INTERRUPTED;
            break;
        }
        rng_shuffle(&shuffle, order, train->n);
        double sum = 0;
        for (int i = 0; i < train->n; i += B) {
            int b = train->n - i < B ? train->n - i : B;
            gather(train, order + i, b, w.input, y);
            model_forward_train(mlp, &w, b, &drop);
            sum += softmax_xent_forward_backward(model_output(mlp, &w), y, w.grad[0], b, C, NULL) * b;
            model_backward(mlp, &w, b, w.grad[0], NULL);
            optim_begin_step(&opt);
            optim_update(&opt, mlp->params, mlp->grads, mlp->state[0], mlp->state[1],
                         mlp->n_params);
        }
        double *row = r->curve + (size_t)(ep - 1) * 3;
        row[0] = sum / train->n;
        if (!isfinite(row[0])) {
            r->status = TRAIN_DIVERGED;
            break;
        }
        row[1] = row[2] = NAN;
        if (val->n > 0) evaluate(mlp, &w, val, C, y, &row[1], &row[2], NULL);
        r->epochs = ep;
        /* Without a validation split every epoch counts as the best so far. */
        double watched = val->n > 0 ? row[2] : (double)ep;
        if (early_stop_update(&es, ep, watched, &stop))
            model_state_save(mlp, best);
    }
    r->best_epoch = es.best_epoch;
    if (r->best_epoch > 0) {
        model_state_load(mlp, best);
        if (val->n > 0) r->val_accuracy = r->curve[(size_t)(r->best_epoch - 1) * 3 + 2];
    }
    work_free(&w);
    free(order), free(y), free(best);
    return AE_OK;
}
