/* Inverted dropout: while training each element is zeroed with probability
 * `rate` and the rest scaled by 1/(1-rate); in evaluation it passes through. */
#include <string.h>

#include "layer.h"

static int dropout_setup(Layer *L, const LayerSpec *s, Err *e) {
    if (!(s->rate >= 0.0f && s->rate < 1.0f))
        return err_set(e, AE_EINPUT, "%s.dropout: must be in [0, 1), got %g", s->where, s->rate);
    L->out = L->in;
    L->rate = s->rate;
    return AE_OK;
}

static size_t dropout_saved(const Layer *L, int B) { return (size_t)B * shape_size(L->in); }

static void dropout_fwd(const Layer *L, LayerCall *c) {
    size_t n = (size_t)c->B * shape_size(L->in);
    if (!c->train) {
        memcpy(c->y, c->x, n * sizeof(float));
        return;
    }
    float keep = 1.0f / (1.0f - L->rate), *mask = c->saved;
    for (size_t i = 0; i < n; i++) {
        mask[i] = rng_uniformf(c->rng) < L->rate ? 0.0f : keep;
        c->y[i] = c->x[i] * mask[i];
    }
}

static void dropout_bwd(const Layer *L, LayerCall *c) {
    if (!c->dx) return;
    size_t n = (size_t)c->B * shape_size(L->in);
    for (size_t i = 0; i < n; i++) c->dx[i] = c->train ? c->dy[i] * c->saved[i] : c->dy[i];
}

static double no_macs(const Layer *L) {
    (void)L;
    return 0;
}

const LayerKindOps layer_dropout = {"dropout", dropout_setup, layer_no_init, dropout_fwd,
                                    dropout_bwd, dropout_saved, layer_none, no_macs};
