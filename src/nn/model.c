#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

int model_init_stack(Model *m, int n_layers, const int *widths, const Act *acts, float slope,
                     Err *e) {
    memset(m, 0, sizeof *m);
    m->bottleneck_layer = -1;
    if (n_layers < 1 || n_layers > AE_MAX_LAYERS)
        return err_set(e, AE_EINPUT, "a model needs 1 to %d layers, got %d", AE_MAX_LAYERS,
                       n_layers);
    size_t off = 0;
    int maxw = widths[0];
    for (int l = 0; l < n_layers; l++) {
        if (widths[l] < 1 || widths[l + 1] < 1)
            return err_set(e, AE_EINPUT, "layer %d has a width below 1", l);
        Layer *L = &m->layer[l];
        *L = (Layer){.in = widths[l], .out = widths[l + 1], .act = acts[l], .slope = slope};
        L->w = off;
        off += (size_t)L->in * L->out;
        L->b = off;
        off += (size_t)L->out;
        if (L->out > maxw) maxw = L->out;
    }
    m->n_layers = n_layers;
    m->input_dim = widths[0];
    m->max_width = maxw;
    m->n_params = off;
    /* params, grads and two optimizer states: one block, so an update is one loop. */
    m->mem = xcalloc(4 * off, sizeof(float), e);
    if (!m->mem) return AE_ERUN;
    m->params = m->mem;
    m->grads = m->mem + off;
    m->state[0] = m->mem + 2 * off;
    m->state[1] = m->mem + 3 * off;
    return AE_OK;
}

int model_init_autoencoder(Model *m, const ModelShape *s, Err *e) {
    int widths[AE_MAX_LAYERS + 1];
    Act acts[AE_MAX_LAYERS];
    int nh = s->n_hidden, n = 2 * (nh + 1);
    if (nh < 0 || nh > AE_MAX_HIDDEN)
        return err_set(e, AE_EINPUT, "model.hidden: at most %d layers", AE_MAX_HIDDEN);
    widths[0] = s->input_dim;
    for (int i = 0; i < nh; i++) widths[1 + i] = s->hidden[i];
    widths[nh + 1] = s->bottleneck;
    for (int i = 0; i < nh; i++) widths[nh + 2 + i] = s->hidden[nh - 1 - i];
    widths[n] = s->input_dim;
    for (int l = 0; l < n; l++) acts[l] = s->activation;
    acts[nh] = s->latent_activation;
    acts[n - 1] = s->output_activation;
    int rc = model_init_stack(m, n, widths, acts, s->leaky_slope, e);
    if (rc == AE_OK) m->bottleneck_layer = nh;
    return rc;
}

void model_init_weights(Model *m, uint64_t seed) {
    Rng r;
    rng_seed(&r, seed_mix(seed, RNG_INIT));
    for (int l = 0; l < m->n_layers; l++) {
        Layer *L = &m->layer[l];
        float bound = 1.0f / sqrtf((float)L->in);
        size_t nw = (size_t)L->in * L->out;
        float *p = m->params + L->w;
        for (size_t i = 0; i < nw + (size_t)L->out; i++) /* W then b, contiguous */
            p[i] = (2.0f * rng_uniformf(&r) - 1.0f) * bound;
    }
    /* Fresh start for the optimizer too. */
    memset(m->state[0], 0, 2 * m->n_params * sizeof(float));
}

void model_free(Model *m) {
    free(m->mem);
    memset(m, 0, sizeof *m);
}

int work_init(Work *w, const Model *m, int max_batch, float dropout, Err *e) {
    memset(w, 0, sizeof *w);
    w->max_batch = max_batch;
    size_t B = (size_t)max_batch;
    w->input = xmalloc(sizeof(float) * B * m->input_dim, e);
    if (!w->input) goto fail;
    for (int l = 0; l < m->n_layers; l++) {
        size_t n = B * m->layer[l].out;
        w->out[l] = xmalloc(sizeof(float) * n, e);
        if (!w->out[l]) goto fail;
        if (dropout > 0 && l != m->bottleneck_layer && l != m->n_layers - 1) {
            w->drop[l] = xmalloc(sizeof(float) * n, e);
            w->mask[l] = xmalloc(sizeof(float) * n, e);
            if (!w->drop[l] || !w->mask[l]) goto fail;
        }
    }
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
        free(w->drop[l]);
        free(w->mask[l]);
    }
    free(w->grad[0]);
    free(w->grad[1]);
    memset(w, 0, sizeof *w);
}

/* What layer l reads: the input, or the previous layer's output after dropout. */
static const float *layer_input(const Work *w, int l) {
    if (l == 0) return w->input;
    return w->drop[l - 1] ? w->drop[l - 1] : w->out[l - 1];
}

static void dropout_forward(const float *y, float *mask, float *out, size_t n, float p, Rng *rng) {
    float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        mask[i] = rng_uniformf(rng) < p ? 0.0f : keep;
        out[i] = y[i] * mask[i];
    }
}

static void forward_layers(const Model *m, Work *w, int B, float dropout, Rng *rng, int n_layers) {
    w->dropped = dropout > 0 && rng;
    for (int l = 0; l < n_layers; l++) {
        const Layer *L = &m->layer[l];
        dense_forward(layer_input(w, l), m->params + L->w, m->params + L->b, L->act, L->slope,
                      w->out[l], B, L->in, L->out);
        if (w->drop[l]) {
            size_t n = (size_t)B * L->out;
            if (w->dropped)
                dropout_forward(w->out[l], w->mask[l], w->drop[l], n, dropout, rng);
            else
                memcpy(w->drop[l], w->out[l], n * sizeof(float));
        }
    }
}

void model_forward(const Model *m, Work *w, int B, float dropout, Rng *rng) {
    forward_layers(m, w, B, dropout, rng, m->n_layers);
}

void model_encode(const Model *m, Work *w, int B) {
    forward_layers(m, w, B, 0.0f, NULL, m->bottleneck_layer + 1);
}

const float *model_output(const Model *m, const Work *w) { return w->out[m->n_layers - 1]; }

void model_backward(Model *m, Work *w, int B, float *dy, const float *dcode) {
    float *cur = dy;
    for (int l = m->n_layers - 1; l >= 0; l--) {
        const Layer *L = &m->layer[l];
        size_t n = (size_t)B * L->out;
        if (l == m->bottleneck_layer && dcode)
            for (size_t i = 0; i < n; i++) cur[i] += dcode[i];
        float *next = l > 0 ? (cur == w->grad[0] ? w->grad[1] : w->grad[0]) : NULL;
        dense_backward(layer_input(w, l), m->params + L->w, w->out[l], L->act, L->slope, cur,
                       m->grads + L->w, m->grads + L->b, next, B, L->in, L->out);
        if (next && w->dropped && w->mask[l - 1]) {
            size_t np = (size_t)B * L->in;
            for (size_t i = 0; i < np; i++) next[i] *= w->mask[l - 1][i];
        }
        cur = next;
    }
}
