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

/* Rows pos[0..B) of rows into the batch buffers (pick: B ints of scratch). */
static void gather(const Rows *rows, const int *pos, int B, float *x, uint8_t *y, int *pick) {
    const Features *f = rows->codes;
    if (f) {
        for (int i = 0; i < B; i++) {
            memcpy(x + (size_t)i * f->d, f->x + (size_t)pos[i] * f->d, sizeof(float) * f->d);
            y[i] = f->y[pos[i]];
        }
        return;
    }
    for (int i = 0; i < B; i++) pick[i] = rows->ix->idx[pos[i]];
    images_batch(rows->images, pick, B, x);
    images_labels(rows->images, pick, B, y);
}

/* Mean loss and accuracy over rows, in order, in chunks of w->max_batch; with
 * confusion non-NULL also the counts. pos, pick: w->max_batch ints of scratch. */
static void evaluate(const Model *net, Work *w, const Rows *rows, int C, uint8_t *y, int *pos,
                     int *pick, double *loss, double *accuracy, int *confusion) {
    double lsum = 0;
    long right = 0;
    int n = rows_count(rows);
    if (confusion) memset(confusion, 0, sizeof(int) * (size_t)C * C);
    for (int i = 0; i < n; i += w->max_batch) {
        int B = n - i < w->max_batch ? n - i : w->max_batch;
        for (int k = 0; k < B; k++) pos[k] = i + k;
        gather(rows, pos, B, w->input, y, pick);
        model_forward(net, w, B);
        const float *logits = model_output(net, w);
        int ok;
        lsum += softmax_xent_forward_backward(logits, y, NULL, B, C, &ok) * B;
        right += ok;
        if (confusion)
            for (int r = 0; r < B; r++) confusion[y[r] * C + argmax(logits + (size_t)r * C, C)]++;
    }
    double count = n > 0 ? (double)n : NAN;
    if (loss) *loss = lsum / count;
    if (accuracy) *accuracy = (double)right / count;
}

/* The MLP on d inputs, or on the layers of `pretrained` before its code (their
 * trained state copied in after the MLP's own initialisation). */
static int build(Model *net, const ClassifierConfig *cfg, const Model *pretrained, int d, int C,
                 Err *e) {
    int widths[AE_MAX_HIDDEN + 2];
    Act acts[AE_MAX_HIDDEN + 1];
    widths[0] = d;
    for (int i = 0; i < cfg->n_hidden; i++) {
        widths[i + 1] = cfg->hidden[i];
        acts[i] = ACT_RELU;
    }
    widths[cfg->n_hidden + 1] = C;
    acts[cfg->n_hidden] = ACT_LINEAR; /* softmax lives in the loss */
    int keep = pretrained ? model_before_code(pretrained) : 0;
    int rc = pretrained ? model_init_mlp_on(net, pretrained, keep, cfg->n_hidden + 1, widths,
                                            acts, 0.0f, cfg->dropout, cfg->batchnorm, e)
                        : model_init_mlp(net, cfg->n_hidden + 1, widths, acts, 0.0f,
                                         cfg->dropout, cfg->batchnorm, e);
    if (rc) return rc;
    model_init_weights(net, seed_mix(cfg->seed, RNG_CLASSIFIER));
    if (pretrained) model_copy_layers(net, pretrained, keep);
    return AE_OK;
}

int classifier_accuracy(const Model *net, const Rows *rows, int n_classes, double *accuracy,
                        int *confusion, Err *e) {
    enum { CHUNK = 256 };
    Work w;
    uint8_t y[CHUNK];
    int *scratch = xmalloc(sizeof(int) * 2 * CHUNK, e);
    if (!scratch || work_init(&w, net, CHUNK, e)) {
        free(scratch);
        return AE_ERUN;
    }
    evaluate(net, &w, rows, n_classes, y, scratch, scratch + CHUNK, NULL, accuracy, confusion);
    work_free(&w);
    free(scratch);
    return AE_OK;
}

int classifier_fit(const ClassifierConfig *cfg, const Rows *train, const Rows *val,
                   int n_classes, const Model *pretrained, Model *net, ClassifierResult *r,
                   Err *e) {
    memset(r, 0, sizeof *r);
    r->val_accuracy = NAN;
    int n = rows_count(train), n_val = rows_count(val);
    if (n < 1) return err_set(e, AE_EINPUT, "classifier: the training split is empty");
    int rc = build(net, cfg, pretrained, train->codes ? train->codes->d : 0, n_classes, e);
    if (rc) return rc;
    int B = cfg->batch_size, C = n_classes;
    Work w = {0};
    int *order = xmalloc(sizeof(int) * (size_t)n, e);
    int *scratch = xmalloc(sizeof(int) * 2 * (size_t)B, e); /* evaluate's pos, then pick */
    uint8_t *y = xmalloc((size_t)B, e);
    float *best = xmalloc(sizeof(float) * model_state_size(net), e);
    r->curve = xcalloc((size_t)(cfg->epochs > 0 ? cfg->epochs : 1) * 3, sizeof(double), e);
    if (!order || !scratch || !y || !best || !r->curve || work_init(&w, net, B, e)) {
        free(order), free(scratch), free(y), free(best);
        classifier_result_free(r);
        model_free(net);
        return AE_ERUN;
    }
    int *pick = scratch + B;
    for (int i = 0; i < n; i++) order[i] = i;
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
        rng_shuffle(&shuffle, order, n);
        double sum = 0;
        for (int i = 0; i < n; i += B) {
            int b = n - i < B ? n - i : B;
            gather(train, order + i, b, w.input, y, pick);
            model_forward_train(net, &w, b, &drop);
            sum += softmax_xent_forward_backward(model_output(net, &w), y, w.grad[0], b, C, NULL) * b;
            model_backward(net, &w, b, w.grad[0], NULL);
            optim_begin_step(&opt);
            optim_update(&opt, net->params, net->grads, net->state[0], net->state[1],
                         net->n_params);
        }
        double *row = r->curve + (size_t)(ep - 1) * 3;
        row[0] = sum / n;
        if (!isfinite(row[0])) {
            r->status = TRAIN_DIVERGED;
            break;
        }
        row[1] = row[2] = NAN;
        if (n_val > 0) evaluate(net, &w, val, C, y, scratch, pick, &row[1], &row[2], NULL);
        r->epochs = ep;
        /* Without a validation split every epoch counts as the best so far. */
        double watched = n_val > 0 ? row[2] : (double)ep;
        if (early_stop_update(&es, ep, watched, &stop))
            model_state_save(net, best);
    }
    r->best_epoch = es.best_epoch;
    if (r->best_epoch > 0) {
        model_state_load(net, best);
        if (n_val > 0) r->val_accuracy = r->curve[(size_t)(r->best_epoch - 1) * 3 + 2];
    }
    work_free(&w);
    free(order), free(scratch), free(y), free(best);
    return AE_OK;
}
