#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "trainer.h"

void early_stop_init(EarlyStop *s, int patience, double min_delta, int maximize) {
    *s = (EarlyStop){.patience = patience, .min_delta = min_delta, .maximize = maximize,
                     .best = maximize ? -INFINITY : INFINITY};
}

int early_stop_update(EarlyStop *s, int epoch, double value, int *stop) {
    int better = s->maximize ? value > s->best + s->min_delta : value < s->best - s->min_delta;
    if (better) {
        s->best = value;
        s->best_epoch = epoch;
        s->since_best = 0;
        return 1;
    }
    if (s->patience > 0 && ++s->since_best >= s->patience) *stop = 1;
    return 0;
}

/* Everything one run allocates besides the model, freed together. */
typedef struct {
    Work w;
    int *order;
    float *clean;    /* the uncorrupted batch: the target when input noise is on */
    float *aug_tmp;  /* one image: augmentation's scratch */
    int views;       /* rows per image in a batch: 2 for supcon's two views, else 1 */
    float *best;     /* the best epoch's parameters */
    uint8_t *labels; /* the batch's labels, for the penalty */
    Penalty pen;
    int has_pen;
    int own_step;      /* the penalty's encoder step (penalty.h: adversarial) */
    Optim enc_opt;     /* ... with its own optimizer */
    float *enc_state;  /* [2, encoder params] */
} Scratch;

static void scratch_free(Scratch *s) {
    work_free(&s->w);
    free(s->order);
    free(s->clean);
    free(s->aug_tmp);
    free(s->best);
    free(s->labels);
    free(s->enc_state);
    penalty_free(&s->pen);
}

static int scratch_init(Scratch *s, const TrainConfig *cfg, const Model *m, int n_train, Err *e) {
    memset(s, 0, sizeof *s);
    s->views = cfg->penalty.kind == PENALTY_SUPCON ? 2 : 1;
    int B = s->views * cfg->batch_size; /* rows of a training batch */
    if (work_init(&s->w, m, B, e)) return e->code;
    if (cfg->penalty.kind != PENALTY_NONE) {
        PenaltyConfig pc = cfg->penalty;
        pc.optim = cfg->optim; /* a head trained jointly learns as the autoencoder does */
        if (penalty_init(&s->pen, &pc, B, model_code_dim(m), seed_mix(cfg->seed, RNG_PRIOR), e)) {
            scratch_free(s);
            return e->code;
        }
        s->has_pen = 1;
        s->own_step = penalty_kinds[pc.kind].own_step;
    }
    if (s->own_step) {
        s->enc_opt = cfg->optim;
        s->enc_opt.t = 0;
        s->enc_state = xcalloc(2 * model_encoder_params(m), sizeof(float), e);
        if (!s->enc_state) {
            scratch_free(s);
            return AE_ERUN;
        }
    }
    s->order = xmalloc(sizeof(int) * (size_t)(n_train ? n_train : 1), e);
    s->best = xmalloc(sizeof(float) * (model_state_size(m) + penalty_state_size(&s->pen)), e);
    s->labels = xmalloc((size_t)B, e);
    if (cfg->input_noise > 0) s->clean = xmalloc(sizeof(float) * (size_t)B * m->input_dim, e);
    if (augment_on(&cfg->augment)) s->aug_tmp = xmalloc(sizeof(float) * m->input_dim, e);
    if (!s->order || !s->best || !s->labels || (cfg->input_noise > 0 && !s->clean) ||
        (augment_on(&cfg->augment) && !s->aug_tmp)) {
        scratch_free(s);
        return AE_ERUN;
    }
    return AE_OK;
}

/* The reconstruction term's weight: recon_weight, times for a variational model
 * the factor that turns the mean loss per value into the sum over an image's
 * values divided by 2c. */
static double recon_scale(const TrainConfig *cfg, const Model *m) {
    if (!cfg->shape.variational) return cfg->recon_weight;
    return (double)m->input_dim / (2.0 * cfg->likelihood_variance) * cfg->recon_weight;
}

/* An encoder alone (no decoder built) has its code as its output. */
static int reconstructs(const Model *m) { return m->bottleneck_layer < m->n_layers - 1; }

/* What an evaluation pass gives, as means: per image the loss (cfg's
 * reconstruction term, the layers' own terms and the penalty when one is given)
 * and the KL divergence and the layers' terms alone; per value the MSE. */
typedef struct {
    double loss, kl, aux, mse;
} Eval;

/* One pass over ix in chunks of w->max_batch, without dropout or noise; cfg NULL:
 * the MSE alone. Sums run in a fixed order and the prior stream restarts, so
 * results are exact functions of the weights; the training's own prior stream
 * is put back after, so that each epoch draws new prior samples (restarting it
 * at every validation made every epoch after the first draw the same ones). */
static Eval eval_split(const TrainConfig *cfg, const Model *m, Work *w, const Images *data,
                       const Index *ix, Penalty *pen, uint8_t *labels) {
    double lsum = 0, ssum = 0, ksum = 0, asum = 0;
    int D = m->input_dim;
    double scale = cfg ? recon_scale(cfg, m) : 1.0;
    Rng training_prior = pen ? pen->rng : (Rng){0};
    if (pen) penalty_reseed(pen, seed_mix(cfg->seed, RNG_PRIOR_EVAL));
    for (int i = 0; i < ix->n; i += w->max_batch) {
        int B = ix->n - i < w->max_batch ? ix->n - i : w->max_batch;
        images_batch(data, ix->idx + i, B, w->input);
        model_forward(m, w, B);
        const float *y = model_output(m, w);
        int recon = reconstructs(m);
        if (cfg) {
            double v = w->aux;
            if (recon)
                v += scale * loss_weighted(cfg->loss, cfg->mae_weight, y, w->input, NULL, B, D);
            if (pen) {
                images_labels(data, ix->idx + i, B, labels);
                v += penalty_forward_backward(pen, model_code(m, w), labels, B, 0);
            }
            lsum += v * B;
            ksum += w->kl * B;
            asum += w->aux * B;
        }
        ssum += recon ? sq_error_sum(y, w->input, (size_t)B * D) : NAN;
    }
    if (pen) pen->rng = training_prior;
    double n = ix->n > 0 ? (double)ix->n : NAN;
    return (Eval){.loss = lsum / n, .kl = ksum / n, .aux = asum / n, .mse = ssum / (n * D)};
}

int model_eval_mse(const Model *m, const Images *data, const Index *ix, double *mse, Err *e) {
    Work w;
    int rc = work_init(&w, m, 256, e);
    if (rc) return rc;
    *mse = eval_split(NULL, m, &w, data, ix, NULL, NULL).mse;
    work_free(&w);
    return AE_OK;
}


int trainer_eval_elbo(const TrainConfig *cfg, const Model *m, const Images *data, const Index *ix,
                      double *kl, double *elbo, Err *e) {
    *kl = *elbo = NAN;
    if (!cfg->shape.variational || ix->n == 0 || !reconstructs(m)) return AE_OK;
    Work w;
    int rc = work_init(&w, m, 256, e);
    if (rc) return rc;
    /* the likelihood itself, whatever weight the training gave it */
    TrainConfig unweighted = *cfg;
    unweighted.recon_weight = 1;
    Eval v = eval_split(&unweighted, m, &w, data, ix, NULL, NULL);
    work_free(&w);
    *kl = v.kl;
    *elbo = -(v.loss - v.aux + v.kl); /* the KL itself, not beta times it */
    return AE_OK;
}

const char *train_status_name(TrainStatus s) {
    switch (s) {
    case TRAIN_OK: return "ok";
    case TRAIN_DIVERGED: return "diverged";
    case TRAIN_INTERRUPTED: return "interrupted";
    default: return "failed";
    }
}

void train_result_free(TrainResult *r) {
    free(r->curve);
    r->curve = NULL;
    model_free(&r->head);
}

static void add_noise(float *x, size_t n, float std, Rng *r) {
    for (size_t i = 0; i < n; i++) x[i] += std * (float)rng_normal(r);
}

double train_step(const TrainConfig *cfg, Model *m, Work *w, Optim *opt, const float *target,
                  int B, Rng *drop, Penalty *pen, const uint8_t *labels) {
    model_forward_train(m, w, B, drop);
    double loss = 0;
    if (reconstructs(m)) {
        loss = loss_weighted(cfg->loss, cfg->mae_weight, model_output(m, w), target, w->grad[0],
                             B, m->input_dim);
        double scale = recon_scale(cfg, m);
        if (scale != 1.0) {
            float f = (float)scale;
            for (size_t i = 0; i < (size_t)B * m->input_dim; i++) w->grad[0][i] *= f;
            loss *= scale;
        }
    } else { /* the code is the output: only the penalty's gradient reaches it */
        memset(w->grad[0], 0, sizeof(float) * (size_t)B * model_code_dim(m));
    }
    loss += w->aux;
    const float *dcode = NULL;
    if (pen) {
        loss += penalty_forward_backward(pen, model_code(m, w), labels, B, 1);
        dcode = pen->dcode;
    }
    if (!isfinite(loss)) return loss;
    model_backward(m, w, B, w->grad[0], dcode);
    optim_begin_step(opt);
    optim_update(opt, m->params, m->grads, m->state[0], m->state[1], m->n_params);
    return loss;
}

/* A penalty with a step of its own: the encoder, after the reconstruction step,
 * runs again on the batch and moves on the penalty alone, with its own optimizer
 * state (report 003's separate optimizers). Returns the penalty. */
static double penalty_step(Model *m, Scratch *s, Rng *drop, int B) {
    model_encode_train(m, &s->w, B, drop);
    double v = penalty_forward_backward(&s->pen, model_code(m, &s->w), s->labels, B, 1);
    if (!isfinite(v)) return v;
    model_backward_encoder(m, &s->w, B, s->pen.dcode);
    size_t n = model_encoder_params(m);
    optim_begin_step(&s->enc_opt);
    optim_update(&s->enc_opt, m->params, m->grads, s->enc_state, s->enc_state + n, n);
    return v;
}

/* One pass over the shuffled training split. Returns the mean training loss, NaN
 * or Inf as soon as a batch's loss is not finite, or sets *stopped. */
/* Rows [0, B) of the batch, and with two views their copy in [B, 2B), each row
 * augmented on its own. */
static void load_batch(const TrainConfig *cfg, Scratch *s, const Images *data, const int *idx,
                       int B, Rng *aug) {
    Work *w = &s->w;
    size_t D = (size_t)data->dim;
    images_batch(data, idx, B, w->input);
    if (s->has_pen) images_labels(data, idx, B, s->labels);
    for (int v = 1; v < s->views; v++) {
        memcpy(w->input + v * B * D, w->input, sizeof(float) * B * D);
        memcpy(s->labels + v * B, s->labels, (size_t)B);
    }
    if (augment_on(&cfg->augment))
        augment_batch(&cfg->augment, images_shape(data), data->signed_range ? -1.0f : 0.0f,
                      w->input, s->views * B, s->aug_tmp, aug);
}

static double train_epoch(const TrainConfig *cfg, Model *m, Scratch *s, Optim *opt,
                          const Images *data, int n, Rng *shuffle, Rng *drop, Rng *noise,
                          Rng *aug, int *stopped) {
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
        load_batch(cfg, s, data, s->order + i, B, aug);
        int rows = s->views * B;
        const float *target = w->input;
        if (s->clean) {
            memcpy(s->clean, w->input, sizeof(float) * rows * D);
            add_noise(w->input, rows * D, cfg->input_noise, noise);
            target = s->clean;
        }
        Penalty *joint = s->has_pen && !s->own_step ? &s->pen : NULL;
        double loss = train_step(cfg, m, w, opt, target, rows, drop, joint, s->labels);
        if (isfinite(loss) && s->own_step) loss += penalty_step(m, s, drop, rows);
        if (!isfinite(loss)) return loss;
        sum += loss * B;
    }
    return sum / n;
}

/* Weights initialised at O(0.1) that reach this size mean the training blew up: the
 * pre-activations are then far past where sigmoid or tanh have any slope, and float
 * sums over them have lost their low digits. The loss can stay finite all the same
 * (saturated outputs), as with Adam at lr 1e6, so the weights are watched too. */
#define PARAM_LIMIT 1e3f

static int params_blew_up(const Model *m) {
    for (size_t i = 0; i < m->n_params; i++)
        if (!(fabsf(m->params[i]) <= PARAM_LIMIT)) return 1; /* NaN fails it too */
    return 0;
}

int trainer_build_model(const TrainConfig *cfg, const Images *data, Model *m, Err *e) {
    ModelShape shape = cfg->shape;
    shape.input = images_shape(data);
    shape.dropout = cfg->dropout;
    shape.no_decoder = cfg->recon_weight == 0 && penalty_kinds[cfg->penalty.kind].follows_lr;
    int rc = model_init_autoencoder(m, &shape, e);
    if (!rc) m->signed_range = data->signed_range;
    return rc;
}

/* A training in progress: what trainer_begin sets up, each epoch moves on, a
 * checkpoint holds and trainer_end turns into the result. */
struct Trainer {
    const TrainConfig *cfg;
    const Images *data;
    const Index *train, *val;
    Model *model;
    TrainResult *res;
    Scratch s;
    Optim opt;
    Rng shuffle, drop, noise, aug;
    EarlyStop es;
    int stop;          /* early stopping has ended the training */
    double t0, spent;  /* this process's start; seconds of earlier processes (resumed) */
};

Trainer *trainer_begin(const TrainConfig *cfg, const Images *data, const Index *train,
                       const Index *val, Model *model, TrainResult *res, Err *e) {
    memset(res, 0, sizeof *res);
    res->train_mse = res->val_mse = NAN;
    if (train->n < 1) return err_set(e, AE_EINPUT, "the training split is empty"), NULL;
    /* A config built by hand that forgot the weight would train nothing silently. */
    if (!(cfg->recon_weight > 0) && !penalty_kinds[cfg->penalty.kind].follows_lr)
        return err_set(e, AE_EINPUT, "recon_weight %g: only a guided or supcon penalty trains "
                       "an encoder without reconstruction", cfg->recon_weight), NULL;
    Trainer *t = xcalloc(1, sizeof *t, e);
    if (!t) return NULL;
    *t = (Trainer){.cfg = cfg, .data = data, .train = train, .val = val, .model = model,
                   .res = res, .t0 = clock_seconds()};
    if (trainer_build_model(cfg, data, model, e)) {
        free(t);
        return NULL;
    }
    model_init_weights(model, cfg->seed);
    res->curve = xcalloc((size_t)(cfg->epochs > 0 ? cfg->epochs : 1) * CURVE_COLS,
                         sizeof(double), e);
    if (!res->curve || scratch_init(&t->s, cfg, model, train->n, e)) {
        if (!e->code) e->code = AE_ERUN;
        train_result_free(res);
        model_free(model);
        free(t);
        return NULL;
    }
    memcpy(t->s.order, train->idx, sizeof(int) * (size_t)train->n);
    t->opt = cfg->optim;
    t->opt.t = 0;
    rng_seed(&t->aug, seed_mix(cfg->seed, RNG_AUGMENT));
    rng_seed(&t->shuffle, seed_mix(cfg->seed, RNG_SHUFFLE));
    rng_seed(&t->drop, seed_mix(cfg->seed, RNG_DROPOUT));
    rng_seed(&t->noise, seed_mix(cfg->seed, RNG_NOISE));
    /* Early stopping watches the validation loss, or the training loss when
     * there is no validation split. */
    early_stop_init(&t->es, cfg->patience, cfg->min_delta, 0);
    res->status = TRAIN_OK;
    return t;
}

int trainer_running(const Trainer *t) {
    return t->res->status == TRAIN_OK && !t->stop && t->res->epochs < t->cfg->epochs;
}

/* One epoch: the scheduled rate, a pass over the training split, the
 * validation, the curve's row, early stopping and the best state. */
static void run_epoch(Trainer *t) {
    const TrainConfig *cfg = t->cfg;
    TrainResult *res = t->res;
    Model *model = t->model;
    Scratch *s = &t->s;
    Penalty *pen = s->has_pen ? &s->pen : NULL;
    int ep = res->epochs + 1, stopped = 0;
    double t_ep = clock_seconds();
    t->opt.lr = (float)schedule_lr(&cfg->schedule, cfg->optim.lr, ep - 1, cfg->epochs);
    if (pen) penalty_set_lr(pen, t->opt.lr);
    s->enc_opt.lr = t->opt.lr;
    double tl = train_epoch(cfg, model, s, &t->opt, t->data, t->train->n, &t->shuffle, &t->drop,
                            &t->noise, &t->aug, &stopped);
    if (stopped) {
        res->status = TRAIN_INTERRUPTED;
        return;
    }
    double vl = NAN, vmse = NAN;
    if (isfinite(tl) && t->val->n > 0) {
        Eval v = eval_split(cfg, model, &s->w, t->data, t->val, pen, s->labels);
        vl = v.loss, vmse = v.mse;
    }
    double watched = t->val->n > 0 ? vl : tl;
    if (!isfinite(watched) || params_blew_up(model)) {
        res->status = TRAIN_DIVERGED;
        return;
    }
    double *row = res->curve + (size_t)(ep - 1) * CURVE_COLS;
    row[0] = tl;
    row[1] = vl;
    row[2] = vmse;
    res->epochs = ep;
    if (cfg->on_epoch) {
        EpochReport r = {ep, cfg->epochs, tl, vl, vmse, clock_seconds() - t_ep};
        cfg->on_epoch(cfg->ctx, &r);
    }
    if (early_stop_update(&t->es, ep, watched, &t->stop)) {
        model_state_save(model, s->best);
        if (pen) penalty_state_save(pen, s->best + model_state_size(model));
    }
}

int trainer_run(Trainer *t, int until) {
    while (trainer_running(t) && t->res->epochs < until) run_epoch(t);
    return t->res->epochs;
}

void trainer_end(Trainer *t) {
    if (!t) return;
    const TrainConfig *cfg = t->cfg;
    TrainResult *res = t->res;
    Model *model = t->model;
    Scratch *s = &t->s;
    Penalty *pen = s->has_pen ? &s->pen : NULL;
    res->best_epoch = t->es.best_epoch;
    if (res->best_epoch > 0) {
        model_state_load(model, s->best);
        if (pen) penalty_state_load(pen, s->best + model_state_size(model));
    }
    if (cfg->penalty.kind == PENALTY_GUIDED) { /* the classifier on the code is a result */
        res->head = s->pen.head.m;
        memset(&s->pen.head.m, 0, sizeof s->pen.head.m);
    }
    if (res->status == TRAIN_OK) {
        res->train_mse = eval_split(NULL, model, &s->w, t->data, t->train, NULL, NULL).mse;
        if (t->val->n > 0)
            res->val_mse = eval_split(NULL, model, &s->w, t->data, t->val, NULL, NULL).mse;
    }
    scratch_free(s);
    res->seconds = t->spent + clock_seconds() - t->t0;
    free(t);
}

void trainer_abandon(Trainer *t) {
    if (!t) return;
    scratch_free(&t->s);
    train_result_free(t->res);
    model_free(t->model);
    free(t);
}

int trainer_fit(const TrainConfig *cfg, const Images *data, const Index *train, const Index *val,
                Model *model, TrainResult *res, Err *e) {
    Trainer *t = trainer_begin(cfg, data, train, val, model, res, e);
    if (!t) return e->code ? e->code : AE_ERUN;
    trainer_run(t, cfg->epochs);
    trainer_end(t);
    return AE_OK;
}

/* ---- checkpoints ---- */

/* The pieces of a training's state, in the order a checkpoint holds them;
 * n: bytes. What is rebuilt from the config (the layers, the scratch) is not
 * in it. A NULL-sized piece is skipped. */
typedef struct {
    void *at;
    size_t n;
} Piece;

static int pieces(Trainer *t, Piece *p) {
    Model *m = t->model;
    Scratch *s = &t->s;
    TrainResult *r = t->res;
    int n = 0;
    /* parameters, then both optimizer states and the buffers (contiguous); the
     * gradients are rewritten by every step before they are read */
    p[n++] = (Piece){m->params, sizeof(float) * m->n_params};
    p[n++] = (Piece){m->state[0], sizeof(float) * (2 * m->n_params + m->n_buffers)};
    p[n++] = (Piece){&t->opt, sizeof t->opt};
    p[n++] = (Piece){&t->shuffle, sizeof(Rng)};
    p[n++] = (Piece){&t->drop, sizeof(Rng)};
    p[n++] = (Piece){&t->noise, sizeof(Rng)};
    p[n++] = (Piece){&t->aug, sizeof(Rng)};
    p[n++] = (Piece){&t->es, sizeof t->es};
    p[n++] = (Piece){&t->stop, sizeof t->stop};
    p[n++] = (Piece){s->order, sizeof(int) * (size_t)t->train->n};
    p[n++] = (Piece){s->best, sizeof(float) * (model_state_size(m) + penalty_state_size(&s->pen))};
    p[n++] = (Piece){&s->enc_opt, sizeof s->enc_opt};
    p[n++] = (Piece){s->enc_state, s->enc_state ? sizeof(float) * 2 * model_encoder_params(m) : 0};
    if (s->has_pen) {
        p[n++] = (Piece){&s->pen.rng, sizeof(Rng)};
        if (s->pen.has_head) {
            Model *h = &s->pen.head.m;
            p[n++] = (Piece){h->params, sizeof(float) * h->n_params};
            p[n++] = (Piece){h->state[0], sizeof(float) * (2 * h->n_params + h->n_buffers)};
            p[n++] = (Piece){&s->pen.head.opt, sizeof s->pen.head.opt};
        }
    }
    p[n++] = (Piece){&r->status, sizeof r->status};
    p[n++] = (Piece){&r->epochs, sizeof r->epochs};
    p[n++] = (Piece){r->curve, sizeof(double) * CURVE_COLS * (size_t)t->cfg->epochs};
    p[n++] = (Piece){&t->spent, sizeof t->spent};
    return n;
}

#define CHECKPOINT_MAGIC 0x3174706b63736561ull /* "aesckpt1": the layout of pieces(), version 1 */

size_t trainer_checkpoint_size(Trainer *t) {
    Piece p[32];
    int n = pieces(t, p);
    size_t size = 2 * sizeof(uint64_t);
    for (int i = 0; i < n; i++) size += p[i].n;
    return size;
}

void trainer_checkpoint_save(Trainer *t, void *buf) {
    Piece p[32];
    int n = pieces(t, p);
    /* the seconds so far, this process's included */
    double spent = t->spent;
    t->spent += clock_seconds() - t->t0;
    char *at = buf;
    uint64_t head[2] = {CHECKPOINT_MAGIC, trainer_checkpoint_size(t)};
    memcpy(at, head, sizeof head);
    at += sizeof head;
    for (int i = 0; i < n; i++) {
        if (p[i].n) memcpy(at, p[i].at, p[i].n);
        at += p[i].n;
    }
    t->spent = spent;
}

/* What a loaded state must be whatever its bytes: the counts in range, and the
 * shuffled order a permutation of this training split (an order from another
 * split would train on other images, validation ones included). */
static const char *implausible(const Trainer *t) {
    const TrainResult *r = t->res;
    if (r->epochs < 0 || r->epochs > t->cfg->epochs) return "its epoch count is out of range";
    if (r->status < TRAIN_OK || r->status > TRAIN_INTERRUPTED) return "its status is unknown";
    if (t->es.best_epoch < 0 || t->es.best_epoch > r->epochs) return "its best epoch is out of range";
    return index_is_permutation(t->train, t->s.order)
               ? NULL
               : "its shuffled order is not of this training split";
}

static void copy_in(Trainer *t, const void *buf) {
    Piece p[32];
    int n = pieces(t, p);
    const char *at = (const char *)buf + 2 * sizeof(uint64_t);
    for (int i = 0; i < n; i++) {
        if (p[i].n) memcpy(p[i].at, at, p[i].n);
        at += p[i].n;
    }
}

int trainer_checkpoint_load(Trainer *t, const void *buf, size_t size, Err *e) {
    uint64_t head[2];
    if (size < sizeof head)
        return err_set(e, AE_EINPUT, "checkpoint: %zu bytes, too short for its header", size);
    memcpy(head, buf, sizeof head);
    if (head[0] != CHECKPOINT_MAGIC || head[1] != size || size != trainer_checkpoint_size(t))
        return err_set(e, AE_EINPUT, "checkpoint: %zu bytes that do not fit this training (it "
                       "needs %zu: another job, model or split?)", size,
                       trainer_checkpoint_size(t));
    /* Checked once in place; the state before it comes back if the check fails. */
    void *before = xmalloc(size, e);
    if (!before) return AE_ERUN;
    trainer_checkpoint_save(t, before);
    copy_in(t, buf);
    const char *why = implausible(t);
    if (why) copy_in(t, before);
    free(before);
    if (why) return err_set(e, AE_EINPUT, "checkpoint: %s", why);
    t->t0 = clock_seconds();
    return AE_OK;
}
