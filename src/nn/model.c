#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "model.h"

static const LayerKindOps *ops(const Layer *L) { return layer_kinds[L->kind]; }

/* s with `where` as its name in messages. */
static LayerSpec named(LayerSpec s, const char *where) {
    snprintf(s.where, sizeof s.where, "%s", where);
    return s;
}

static LayerSpec reshape_to(Shape to, const char *where) {
    return named((LayerSpec){.kind = LAYER_RESHAPE, .act = ACT_LINEAR, .to = to}, where);
}

/* Appends one layer reading *cur; *cur becomes its output. */
static int append(Model *m, const LayerSpec *s, Shape *cur, Err *e) {
    if (m->n_layers == AE_MAX_LAYERS)
        return err_set(e, AE_EINPUT, "%s: a model holds at most %d layers", s->where,
                       AE_MAX_LAYERS);
    Layer *L = &m->layer[m->n_layers];
    *L = (Layer){.kind = s->kind, .in = *cur, .act = s->act, .slope = s->slope};
    int rc = layer_kinds[s->kind]->setup(L, s, e);
    if (rc) return rc;
    m->n_layers++;
    *cur = L->out;
    return AE_OK;
}

static int wants_vector(LayerKind k) { return k == LAYER_DENSE || k == LAYER_VARIATIONAL; }
static int wants_image(LayerKind k) { return k == LAYER_CONV || k == LAYER_CONV_T; }

/* Where each layer's parameters and buffers go, and the widest tensor. */
static void lay_out(Model *m) {
    size_t off = 0, boff = 0;
    int maxw = m->input_dim;
    for (int l = 0; l < m->n_layers; l++) {
        Layer *L = &m->layer[l];
        L->w = off;
        off += L->n_w;
        L->b = off;
        off += L->n_b;
        L->buf = boff;
        boff += L->n_buf;
        if (shape_size(L->out) > maxw) maxw = shape_size(L->out);
    }
    m->n_params = off;
    m->n_buffers = boff;
    m->max_width = maxw;
}

/* Appends specs to m, whose last layer's output is *cur: the input arrives as
 * rows, so a reshape goes in where a vector meets an image layer or an image a
 * dense one; at the end an image is made a vector. layer_of (when non-NULL)
 * receives the index of each spec's layer. */
static int plan_specs(Model *m, const LayerSpec *specs, int n, int code_layer, int *layer_of,
                      Shape cur, Err *e) {
    for (int i = 0; i < n; i++) {
        const LayerSpec *s = &specs[i];
        int rc = AE_OK;
        if (m->n_layers == 0 && !m->input.flat &&
            (wants_image(s->kind) || s->kind == LAYER_BATCHNORM)) {
            LayerSpec r = reshape_to(m->input, s->where);
            rc = append(m, &r, &cur, e);
        } else if (wants_vector(s->kind) && !cur.flat) {
            LayerSpec r = reshape_to((Shape){0, 0, 0, 1}, s->where);
            rc = append(m, &r, &cur, e);
        }
        if (!rc) rc = append(m, s, &cur, e);
        if (rc) return rc;
        if (layer_of) layer_of[i] = m->n_layers - 1;
        if (i == code_layer) {
            if (!cur.flat)
                return err_set(e, AE_EINPUT, "%s: the code must be a vector", s->where);
            m->bottleneck_layer = m->n_layers - 1;
        }
    }
    if (!cur.flat) {
        LayerSpec r = reshape_to((Shape){0, 0, 0, 1}, "model output");
        int rc = append(m, &r, &cur, e);
        if (rc) return rc;
    }
    return AE_OK;
}

/* The layers and their shapes, without memory. */
static int model_plan(Model *m, Shape input, const LayerSpec *specs, int n, int code_layer,
                      int *layer_of, Err *e) {
    memset(m, 0, sizeof *m);
    m->bottleneck_layer = -1;
    m->input = input;
    m->input_dim = shape_size(input);
    if (n < 1) return err_set(e, AE_EINPUT, "a model needs at least 1 layer");
    return plan_specs(m, specs, n, code_layer, layer_of, (Shape){m->input_dim, 1, 1, 1}, e);
}

/* Memory for a planned model: params, grads and two optimizer states in one
 * block, so an update is one loop; the buffers after them. */
static int model_alloc(Model *m, Err *e) {
    lay_out(m);
    m->mem = xcalloc(4 * m->n_params + m->n_buffers + 1, sizeof(float), e);
    if (!m->mem) return AE_ERUN;
    m->params = m->mem;
    m->grads = m->mem + m->n_params;
    m->state[0] = m->mem + 2 * m->n_params;
    m->state[1] = m->mem + 3 * m->n_params;
    m->buffers = m->mem + 4 * m->n_params;
    return AE_OK;
}

int model_build(Model *m, Shape input, const LayerSpec *specs, int n, int code_layer, Err *e) {
    int rc = model_plan(m, input, specs, n, code_layer, NULL, e);
    return rc ? rc : model_alloc(m, e);
}

static LayerSpec dense_spec(int units, Act a, float slope, const char *where) {
    return named((LayerSpec){.kind = LAYER_DENSE, .units = units, .act = a, .slope = slope},
                 where);
}

static LayerSpec dropout_spec(float rate, const char *where) {
    return named((LayerSpec){.kind = LAYER_DROPOUT, .act = ACT_LINEAR, .rate = rate}, where);
}

/* An entry as layers: the layer itself (linear when batch norm follows), batch
 * norm with the entry's activation, dropout. Returns how many. */
static int expand(const LayerSpec *entry, float dropout, LayerSpec *out) {
    int n = 0;
    out[n] = *entry;
    out[n].batchnorm = 0;
    if (entry->batchnorm) {
        out[n++].act = ACT_LINEAR;
        out[n] = *entry;
        out[n].kind = LAYER_BATCHNORM;
        out[n].batchnorm = 0;
    }
    n++;
    float rate = entry->rate < 0 ? dropout : entry->rate;
    if (rate > 0 && entry->kind != LAYER_RESHAPE) out[n++] = dropout_spec(rate, entry->where);
    return n;
}

int model_init_stack(Model *m, int n_layers, const int *widths, const Act *acts, float slope,
                     float dropout, Err *e) {
    return model_init_mlp(m, n_layers, widths, acts, slope, dropout, 0, e);
}

/* An MLP's layers as specs; widths[0] is its input. Returns how many. */
static int mlp_specs(int n_layers, const int *widths, const Act *acts, float slope, float dropout,
                     int batchnorm, LayerSpec *specs) {
    int n = 0;
    for (int l = 0; l < n_layers; l++) {
        char where[48];
        snprintf(where, sizeof where, "layer %d", l);
        LayerSpec d = dense_spec(widths[l + 1], acts[l], slope, where);
        d.batchnorm = batchnorm && l < n_layers - 1;
        d.rate = l < n_layers - 1 ? dropout : 0;
        n += expand(&d, 0, specs + n);
    }
    return n;
}

static int check_mlp_layers(Model *m, int n_layers, Err *e) {
    if (n_layers >= 1 && n_layers <= AE_MAX_LAYERS) return AE_OK;
    memset(m, 0, sizeof *m);
    return err_set(e, AE_EINPUT, "a model needs 1 to %d layers, got %d", AE_MAX_LAYERS, n_layers);
}

int model_init_mlp(Model *m, int n_layers, const int *widths, const Act *acts, float slope,
                   float dropout, int batchnorm, Err *e) {
    LayerSpec specs[3 * AE_MAX_LAYERS];
    int rc = check_mlp_layers(m, n_layers, e);
    if (rc) return rc;
    int n = mlp_specs(n_layers, widths, acts, slope, dropout, batchnorm, specs);
    return model_build(m, (Shape){widths[0], 1, 1, 1}, specs, n, -1, e);
}

int model_before_code(const Model *ae) {
    int first = -1;
    for (int l = 0; l <= ae->bottleneck_layer; l++)
        if (ae->layer[l].kind == LAYER_DENSE) first = l;
    return first < 0 ? 0 : first;
}

int model_init_mlp_on(Model *m, const Model *base, int keep, int n_layers, const int *widths,
                      const Act *acts, float slope, float dropout, int batchnorm, Err *e) {
    LayerSpec specs[3 * AE_MAX_LAYERS];
    int rc = check_mlp_layers(m, n_layers, e);
    if (rc) return rc;
    memset(m, 0, sizeof *m);
    m->bottleneck_layer = -1;
    m->input = base->input;
    m->input_dim = base->input_dim;
    m->signed_range = base->signed_range;
    memcpy(m->layer, base->layer, sizeof *m->layer * (size_t)keep);
    m->n_layers = keep;
    Shape cur = keep ? base->layer[keep - 1].out : (Shape){base->input_dim, 1, 1, 1};
    int in[AE_MAX_LAYERS + 1];
    memcpy(in, widths, sizeof *in * (size_t)(n_layers + 1));
    in[0] = shape_size(cur);
    int n = mlp_specs(n_layers, in, acts, slope, dropout, batchnorm, specs);
    rc = plan_specs(m, specs, n, -1, NULL, cur, e);
    return rc ? rc : model_alloc(m, e);
}

void model_copy_layers(Model *m, const Model *from, int n) {
    for (int l = 0; l < n; l++) {
        const Layer *S = &from->layer[l], *D = &m->layer[l];
        memcpy(m->params + D->w, from->params + S->w, sizeof(float) * S->n_w);
        memcpy(m->params + D->b, from->params + S->b, sizeof(float) * S->n_b);
        memcpy(m->buffers + D->buf, from->buffers + S->buf, sizeof(float) * S->n_buf);
    }
}

#define MAX_SPECS (4 * AE_MAX_ENTRIES + 8)

/* The entries of the encoder (the model.hidden shorthand made entries). */
static int encoder_entries(const ModelShape *s, LayerSpec *enc, Err *e) {
    if (s->n_encoder > 0) {
        memcpy(enc, s->encoder, sizeof *enc * (size_t)s->n_encoder);
        return s->n_encoder;
    }
    if (s->n_hidden < 0 || s->n_hidden > AE_MAX_HIDDEN) {
        err_set(e, AE_EINPUT, "model.hidden: at most %d layers", AE_MAX_HIDDEN);
        return -1;
    }
    for (int i = 0; i < s->n_hidden; i++) {
        char where[48];
        snprintf(where, sizeof where, "model.hidden[%d]", i);
        enc[i] = dense_spec(s->hidden[i], s->activation, s->leaky_slope, where);
        enc[i].rate = -1;
    }
    return s->n_hidden;
}

/* The code entry: dense to the bottleneck, or to (mu, log sigma^2) then the
 * variational head. Returns the number of specs; *code is the code's index. */
static int code_specs(const ModelShape *s, LayerSpec *out, int at, int *code) {
    if (!s->variational) {
        out[0] = dense_spec(s->bottleneck, s->latent_activation, s->leaky_slope, "model.bottleneck");
        *code = at;
        return 1;
    }
    out[0] = dense_spec(2 * s->bottleneck, ACT_LINEAR, s->leaky_slope, "model.bottleneck");
    out[1] = (LayerSpec){.kind = LAYER_VARIATIONAL, .act = ACT_LINEAR, .beta = s->beta,
                         .where = "model.variational"};
    *code = at + 1;
    return 2;
}

/* The layer that undoes entry `e` (whose input was `in` and output `out`): it
 * ends in `in`, with the activation, batch norm and dropout of `like`. */
static int undo(const LayerSpec *ent, Shape in, Shape out, const LayerSpec *like, LayerSpec *u,
                Err *e) {
    *u = *like;
    u->kernel = ent->kernel, u->stride = ent->stride, u->padding = ent->padding;
    u->output_padding = 0;
    *u = named(*u, ent->where);
    if (ent->kind == LAYER_DENSE) {
        u->kind = LAYER_DENSE;
        u->units = shape_size(in);
        return AE_OK;
    }
    if (ent->kind == LAYER_CONV) {
        u->kind = LAYER_CONV_T;
        u->units = in.c;
        int oph = in.h - ((out.h - 1) * ent->stride - 2 * ent->padding + ent->kernel);
        int opw = in.w - ((out.w - 1) * ent->stride - 2 * ent->padding + ent->kernel);
        if (oph != opw || oph < 0 || oph >= ent->stride)
            return err_set(e, AE_EINPUT,
                           "%s.stride: the mirror cannot give back %dx%d from %dx%d with kernel "
                           "%d, stride %d, padding %d",
                           ent->where, in.h, in.w, out.h, out.w, ent->kernel, ent->stride,
                           ent->padding);
        u->output_padding = oph;
        return AE_OK;
    }
    if (ent->kind == LAYER_CONV_T) {
        u->kind = LAYER_CONV;
        u->units = in.c;
        int h = (out.h + 2 * ent->padding - ent->kernel) / ent->stride + 1;
        int w = (out.w + 2 * ent->padding - ent->kernel) / ent->stride + 1;
        if (h != in.h || w != in.w)
            return err_set(e, AE_EINPUT, "%s: the mirror cannot give back %dx%d from %dx%d",
                           ent->where, in.h, in.w, out.h, out.w);
        return AE_OK;
    }
    return err_set(e, AE_EINPUT, "%s: a mirror undoes dense, conv and conv_transpose entries only",
                   ent->where);
}

/* The mirror of the encoder: specs[0..n) are its layers and the code's, entry i
 * starting at specs[first[i]] (the code is entry ne); the undoing layers are
 * appended to specs, the code's first. */
static int mirror(const ModelShape *s, const LayerSpec *enc, int ne, LayerSpec *specs, int *n,
                  const int *first, int code, Err *e) {
    Model plan;
    int layer_of[MAX_SPECS];
    int rc = model_plan(&plan, s->input, specs, *n, code, layer_of, e);
    if (rc) return rc;
    LayerSpec code_entry = dense_spec(s->bottleneck, s->latent_activation, s->leaky_slope,
                                      "model.bottleneck");
    for (int i = ne; i >= 0; i--) {
        const LayerSpec *ent = i == ne ? &code_entry : &enc[i];
        int l = layer_of[first[i]];
        /* Where the entry began: an image, when a reshape made it a vector for it. */
        Shape in = plan.layer[l].in, out = plan.layer[l].out;
        if (l > 0 && plan.layer[l - 1].kind == LAYER_RESHAPE && !plan.layer[l - 1].in.flat)
            in = plan.layer[l - 1].in;
        LayerSpec like = i > 0 ? enc[i - 1]
                               : dense_spec(0, s->output_activation, s->leaky_slope, "");
        LayerSpec u;
        if ((rc = undo(ent, in, out, &like, &u, e))) return rc;
        if (*n + 4 > MAX_SPECS) return err_set(e, AE_EINPUT, "the model has too many layers");
        *n += expand(&u, s->dropout, specs + *n);
        if (u.kind == LAYER_DENSE && !in.flat) specs[(*n)++] = reshape_to(in, ent->where);
    }
    return AE_OK;
}

int model_init_autoencoder(Model *m, const ModelShape *s, Err *e) {
    LayerSpec enc[AE_MAX_ENTRIES > AE_MAX_HIDDEN ? AE_MAX_ENTRIES : AE_MAX_HIDDEN];
    LayerSpec specs[MAX_SPECS];
    int first[AE_MAX_ENTRIES + 1], n = 0, code;
    memset(m, 0, sizeof *m);
    int ne = encoder_entries(s, enc, e);
    if (ne < 0) return e->code;
    for (int i = 0; i < ne; i++) {
        first[i] = n;
        n += expand(&enc[i], s->dropout, specs + n);
    }
    first[ne] = n;
    n += code_specs(s, specs + n, n, &code);
    if (s->no_decoder) {
        /* nothing after the code */
    } else if (s->n_decoder == 0) {
        int rc = mirror(s, enc, ne, specs, &n, first, code, e);
        if (rc) return rc;
    } else {
        for (int i = 0; i < s->n_decoder; i++) {
            if (n + 3 > MAX_SPECS) return err_set(e, AE_EINPUT, "the model has too many layers");
            LayerSpec d = s->decoder[i];
            if (i == s->n_decoder - 1) d.rate = 0; /* nothing drops the output */
            n += expand(&d, s->dropout, specs + n);
        }
    }
    int rc = model_build(m, s->input, specs, n, code, e);
    int out = rc ? 0 : shape_size(m->layer[m->n_layers - 1].out);
    if (!rc && !s->no_decoder && out != m->input_dim) {
        rc = err_set(e, AE_EINPUT, "model.decoder: its output has %d values, the input %d",
                     out, m->input_dim);
        model_free(m);
    }
    return rc;
}

void model_init_weights(Model *m, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed_mix(seed, RNG_INIT));
    for (int l = 0; l < m->n_layers; l++)
        ops(&m->layer[l])->init(&m->layer[l], m->params, m->buffers, &r);
    /* Fresh start for the optimizer too. */
    memset(m->state[0], 0, 2 * m->n_params * sizeof(float));
}

void model_free(Model *m) {
    free(m->mem);
    memset(m, 0, sizeof *m);
}

int model_code_dim(const Model *m) {
    return m->bottleneck_layer < 0 ? 0 : shape_size(m->layer[m->bottleneck_layer].out);
}

size_t model_state_size(const Model *m) { return m->n_params + m->n_buffers; }

void model_state_save(const Model *m, float *to) {
    memcpy(to, m->params, sizeof(float) * m->n_params);
    memcpy(to + m->n_params, m->buffers, sizeof(float) * m->n_buffers);
}

void model_state_load(Model *m, const float *from) {
    memcpy(m->params, from, sizeof(float) * m->n_params);
    memcpy(m->buffers, from + m->n_params, sizeof(float) * m->n_buffers);
}

double model_macs(const Model *m) {
    double sum = 0;
    for (int l = 0; l < m->n_layers; l++) sum += ops(&m->layer[l])->macs(&m->layer[l]);
    return sum;
}

int work_init(Work *w, const Model *m, int max_batch, Err *e) {
    memset(w, 0, sizeof *w);
    w->max_batch = max_batch;
    size_t B = (size_t)max_batch, temp = 0;
    w->input = xmalloc(sizeof(float) * B * m->input_dim, e);
    if (!w->input) goto fail;
    for (int l = 0; l < m->n_layers; l++) {
        const Layer *L = &m->layer[l];
        w->out[l] = xmalloc(sizeof(float) * B * shape_size(L->out), e);
        size_t saved = ops(L)->saved(L, max_batch), t = ops(L)->temp(L, max_batch);
        if (saved) w->saved[l] = xmalloc(sizeof(float) * saved, e);
        if (!w->out[l] || (saved && !w->saved[l])) goto fail;
        if (t > temp) temp = t;
    }
    if (temp && !(w->temp = xmalloc(sizeof(float) * temp, e))) goto fail;
    for (int i = 0; i < 2; i++) {
        w->grad[i] = xmalloc(sizeof(float) * B * m->max_width, e);
        if (!w->grad[i]) goto fail;
    }
    return AE_OK;
fail:
    work_free(w);
    return AE_ERUN;
}

void work_free(Work *w) {
    free(w->input);
    for (int l = 0; l < AE_MAX_LAYERS; l++) {
        free(w->out[l]);
        free(w->saved[l]);
    }
    free(w->temp);
    free(w->grad[0]);
    free(w->grad[1]);
    memset(w, 0, sizeof *w);
}

static const float *layer_input(const Work *w, int l) { return l == 0 ? w->input : w->out[l - 1]; }

/* The layers [0, upto) in order. Only training writes the buffers. */
static void forward(const Model *m, float *buffers, Work *w, int B, int train, Rng *rng,
                    int upto) {
    LayerCall c = {.B = B, .train = train, .p = m->params, .g = m->grads, .buf = buffers,
                   .temp = w->temp, .rng = rng};
    for (int l = 0; l < upto; l++) {
        c.x = layer_input(w, l);
        c.y = w->out[l];
        c.saved = w->saved[l];
        double t0 = w->seconds ? clock_seconds() : 0;
        ops(&m->layer[l])->forward(&m->layer[l], &c);
        if (w->seconds) w->seconds[l] += clock_seconds() - t0;
    }
    w->train = train;
    w->aux = c.aux;
    w->kl = c.kl;
}

void model_forward(const Model *m, Work *w, int B) {
    forward(m, m->buffers, w, B, 0, NULL, m->n_layers);
}

void model_forward_train(Model *m, Work *w, int B, Rng *rng) {
    forward(m, m->buffers, w, B, 1, rng, m->n_layers);
}

void model_encode(const Model *m, Work *w, int B) {
    forward(m, m->buffers, w, B, 0, NULL, m->bottleneck_layer + 1);
}

const float *model_output(const Model *m, const Work *w) { return w->out[m->n_layers - 1]; }

const float *model_code(const Model *m, const Work *w) { return w->out[m->bottleneck_layer]; }

static void backward(Model *m, Work *w, int B, int top, float *dy, const float *dcode, float *dx) {
    LayerCall c = {.B = B, .train = w->train, .p = m->params, .g = m->grads, .buf = m->buffers,
                   .temp = w->temp};
    /* No layer below the first with parameters needs its input's gradient
     * (an image model's first conv sits behind a reshape). */
    int first = 0;
    while (!dx && first < m->n_layers && m->layer[first].n_w + m->layer[first].n_b == 0) first++;
    float *cur = dy;
    for (int l = top; l >= 0; l--) {
        const Layer *L = &m->layer[l];
        if (l == m->bottleneck_layer && dcode) {
            size_t n = (size_t)B * shape_size(L->out);
            for (size_t i = 0; i < n; i++) cur[i] += dcode[i];
        }
        c.x = layer_input(w, l);
        c.y = w->out[l];
        c.saved = w->saved[l];
        c.dy = cur;
        c.dx = l > first ? (cur == w->grad[0] ? w->grad[1] : w->grad[0]) : l == 0 ? dx : NULL;
        double t0 = w->seconds ? clock_seconds() : 0;
        ops(L)->backward(L, &c);
        if (w->seconds) w->seconds[m->n_layers + l] += clock_seconds() - t0;
        cur = c.dx;
    }
}

void model_backward(Model *m, Work *w, int B, float *dy, const float *dcode) {
    backward(m, w, B, m->n_layers - 1, dy, dcode, NULL);
}

void model_backward_input(Model *m, Work *w, int B, float *dy, float *dx) {
    backward(m, w, B, m->n_layers - 1, dy, NULL, dx);
}

void model_encode_train(Model *m, Work *w, int B, Rng *rng) {
    forward(m, m->buffers, w, B, 1, rng, m->bottleneck_layer + 1);
}

void model_backward_encoder(Model *m, Work *w, int B, const float *dcode) {
    size_t n = (size_t)B * model_code_dim(m);
    memcpy(w->grad[0], dcode, sizeof(float) * n);
    backward(m, w, B, m->bottleneck_layer, w->grad[0], NULL, NULL);
}

size_t model_encoder_params(const Model *m) {
    size_t end = 0;
    for (int l = 0; l <= m->bottleneck_layer; l++) {
        const Layer *L = &m->layer[l];
        if (L->n_w && L->w + L->n_w > end) end = L->w + L->n_w;
        if (L->n_b && L->b + L->n_b > end) end = L->b + L->n_b;
    }
    return end;
}
