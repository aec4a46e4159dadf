/* Fully connected: y[B,out] = act(x[B,in] W^T + b), W [out,in] as torch.nn.Linear. */

#include "layer.h"

static int dense_setup(Layer *L, const LayerSpec *s, Err *e) {
    if (!L->in.flat) return err_set(e, AE_EINPUT, "%s: a dense layer needs a vector input", s->where);
    if (s->units < 1) return err_set(e, AE_EINPUT, "%s.dense: must be at least 1", s->where);
    int in = shape_size(L->in);
    L->out = (Shape){s->units, 1, 1, 1};
    L->n_w = (size_t)s->units * in;
    L->n_b = (size_t)s->units;
    L->fan_in = (float)in;
    return AE_OK;
}

static void dense_fwd(const Layer *L, LayerCall *c) {
    dense_forward(c->x, c->p + L->w, c->p + L->b, L->act, L->slope, c->y, c->B, shape_size(L->in),
                  L->out.c);
}

static void dense_bwd(const Layer *L, LayerCall *c) {
    dense_backward(c->x, c->p + L->w, c->y, L->act, L->slope, c->dy, c->g + L->w, c->g + L->b,
                   c->dx, c->B, shape_size(L->in), L->out.c);
}

static double dense_macs(const Layer *L) { return (double)L->n_w; }

const LayerKindOps layer_dense = {"dense", dense_setup, layer_init_fan_in, dense_fwd, dense_bwd,
                                  layer_none, layer_none, dense_macs};
