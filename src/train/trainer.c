#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trainer.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Loss (of kind l) and MSE of the reconstruction of ix, in chunks of w->max_batch,
 * without dropout or noise. Sums run in a fixed order, so results are exact
 * functions of the weights. */
static void eval_split(const Model *m, Work *w, const Images *data, const Index *ix, Loss l,
                       double *loss, double *mse) {
    double lsum = 0, ssum = 0;
    int D = m->input_dim;
    for (int i = 0; i < ix->n; i += w->max_batch) {
        int B = ix->n - i < w->max_batch ? ix->n - i : w->max_batch;
        images_batch(data, ix->idx + i, B, w->input);
        model_forward(m, w, B, 0.0f, NULL);
        const float *y = model_output(m, w);
        if (loss) lsum += loss_forward_backward(l, y, w->input, NULL, B, D) * B;
        ssum += sq_error_sum(y, w->input, (size_t)B * D);
    }
    double n = ix->n > 0 ? (double)ix->n : NAN;
    if (loss) *loss = lsum / n;
    if (mse) *mse = ssum / (n * D);
}

int model_eval_mse(const Model *m, const Images *data, const Index *ix, double *mse, Err *e) {
    Work w;
    int rc = work_init(&w, m, 256, 0.0f, e);
    if (rc) return rc;
    eval_split(m, &w, data, ix, LOSS_MSE, NULL, mse);
    work_free(&w);
    return AE_OK;
}

void train_result_free(TrainResult *r) {
    free(r->curve);
    r->curve = NULL;
}

static void add_noise(float *x, size_t n, float std, Rng *r) {
    for (size_t i = 0; i < n; i++) x[i] += std * (float)rng_normal(r);
}

/* Everything one run allocates besides the model, freed together. */
typedef struct {
    Work w;
    int *order;
    float *clean; /* the uncorrupted batch: the target when input noise is on */
    float *best;  /* the best epoch's parameters */
} Scratch;

static void scratch_free(Scratch *s) {
    work_free(&s->w);
    free(s->order);
    free(s->clean);
    free(s->best);
}

static int scratch_init(Scratch *s, const TrainConfig *cfg, const Model *m, int n_train, Err *e) {
    memset(s, 0, sizeof *s);
    if (work_init(&s->w, m, cfg->batch_size, cfg->dropout, e)) return AE_ERUN;
    s->order = xmalloc(sizeof(int) * (size_t)(n_train ? n_train : 1), e);
    s->best = xmalloc(sizeof(float) * m->n_params, e);
    if (cfg->input_noise > 0)
        s->clean = xmalloc(sizeof(float) * (size_t)cfg->batch_size * m->input_dim, e);
    if (!s->order || !s->best || (cfg->input_noise > 0 && !s->clean)) {
        scratch_free(s);
        return AE_ERUN;
    }
    return AE_OK;
}

double train_step(const TrainConfig *cfg, Model *m, Work *w, Optim *opt, const float *target,
                  int B, Rng *drop) {
    model_forward(m, w, B, cfg->dropout, drop);
    double loss = loss_forward_backward(cfg->loss, model_output(m, w), target, w->grad[0], B,
                                        m->input_dim);
    if (!isfinite(loss)) return loss;
    model_backward(m, w, B, w->grad[0], NULL);
    optim_begin_step(opt);
    optim_update(opt, m->params, m->grads, m->state[0], m->state[1], m->n_params);
    return loss;
}

/* One pass over the shuffled training split. Returns the mean training loss, NaN
 * or Inf as soon as a batch's loss is not finite, or sets *stopped. */
static double train_epoch(const TrainConfig *cfg, Model *m, Scratch *s, Optim *opt,
                          const Images *data, int n, Rng *shuffle, Rng *drop, Rng *noise,
                          int *stopped) {
    Work *w = &s->w;
    size_t D = (size_t)m->input_dim;
    double sum = 0;
    rng_shuffle(shuffle, s->order, n);
    for (int i = 0; i < n; i += cfg->batch_size) {
        if (cfg->stop && *cfg->stop) {
            *stopped = 1;
            return NAN;
        }
        int B = n - i < cfg->batch_size ? n - i : cfg->batch_size;
        images_batch(data, s->order + i, B, w->input);
        const float *target = w->input;
        if (s->clean) {
            memcpy(s->clean, w->input, sizeof(float) * B * D);
            add_noise(w->input, B * D, cfg->input_noise, noise);
            target = s->clean;
        }
        double loss = train_step(cfg, m, w, opt, target, B, drop);
        if (!isfinite(loss)) return loss;
        sum += loss * B;
    }
    return sum / n;
}

int trainer_fit(const TrainConfig *cfg, const Images *data, const Index *train, const Index *val,
                Model *model, TrainResult *res, Err *e) {
    memset(res, 0, sizeof *res);
    res->train_mse = res->val_mse = NAN;
    double t0 = now_seconds();
    if (train->n < 1) return err_set(e, AE_EINPUT, "the training split is empty");
    ModelShape shape = cfg->shape;
    shape.input_dim = data->dim;
    int rc = model_init_autoencoder(model, &shape, e);
    if (rc) return rc;
    model_init_weights(model, cfg->seed);

    Scratch s;
    res->curve = xcalloc((size_t)(cfg->epochs > 0 ? cfg->epochs : 1) * CURVE_COLS,
                         sizeof(double), e);
    if (!res->curve || scratch_init(&s, cfg, model, train->n, e)) {
        train_result_free(res);
        model_free(model);
        return AE_ERUN;
    }
    memcpy(s.order, train->idx, sizeof(int) * (size_t)train->n);

    Optim opt = cfg->optim;
    opt.t = 0;
    Rng shuffle, drop, noise;
    rng_seed(&shuffle, seed_mix(cfg->seed, RNG_SHUFFLE));
    rng_seed(&drop, seed_mix(cfg->seed, RNG_DROPOUT));
    rng_seed(&noise, seed_mix(cfg->seed, RNG_NOISE));

    /* Early stopping watches the validation loss, or the training loss when
     * there is no validation split. */
    double best = INFINITY;
    int since_best = 0, stopped = 0;
    res->status = TRAIN_OK;
    for (int ep = 1; ep <= cfg->epochs; ep++) {
        double tl = train_epoch(cfg, model, &s, &opt, data, train->n, &shuffle, &drop, &noise,
                                &stopped);
        if (stopped) {
            res->status = TRAIN_INTERRUPTED;
            break;
        }
        if (!isfinite(tl)) {
            res->status = TRAIN_DIVERGED;
            break;
        }
        double vl = NAN, vmse = NAN;
        if (val->n > 0) eval_split(model, &s.w, data, val, cfg->loss, &vl, &vmse);
        double *row = res->curve + (size_t)(ep - 1) * CURVE_COLS;
        row[0] = tl;
        row[1] = vl;
        row[2] = vmse;
        res->epochs = ep;
        if (cfg->on_epoch) cfg->on_epoch(cfg->ctx, ep, cfg->epochs, tl, vl);
        double watched = val->n > 0 ? vl : tl;
        if (!isfinite(watched)) {
            res->status = TRAIN_DIVERGED;
            break;
        }
        if (watched < best - cfg->min_delta) {
            best = watched;
            res->best_epoch = ep;
            since_best = 0;
            memcpy(s.best, model->params, sizeof(float) * model->n_params);
        } else if (cfg->patience > 0 && ++since_best >= cfg->patience) {
            break;
        }
    }
    if (res->best_epoch > 0)
        memcpy(model->params, s.best, sizeof(float) * model->n_params);
    if (res->status == TRAIN_OK) {
        eval_split(model, &s.w, data, train, cfg->loss, NULL, &res->train_mse);
        if (val->n > 0) eval_split(model, &s.w, data, val, cfg->loss, NULL, &res->val_mse);
    }
    scratch_free(&s);
    res->seconds = now_seconds() - t0;
    return AE_OK;
}
