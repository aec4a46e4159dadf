#include <math.h>
#include <string.h>

#include "layer.h"

extern const LayerKindOps layer_dense, layer_conv, layer_conv_t, layer_batchnorm, layer_dropout,
    layer_reshape, layer_variational;

/* In LayerKind's order. */
const LayerKindOps *const layer_kinds[LAYER_KIND_COUNT] = {
    &layer_dense,   &layer_conv,    &layer_conv_t,      &layer_batchnorm,
    &layer_dropout, &layer_reshape, &layer_variational,
};

int layer_kind_find(const char *s) {
    for (int k = 0; k < LAYER_KIND_COUNT; k++)
        if (!strcmp(layer_kinds[k]->name, s)) return k;
    return -1;
}

/* torch's default for Linear, Conv2d and ConvTranspose2d weights and biases:
 * uniform in +-bound, bound = 1/sqrt(fan_in). */
void layer_uniform(float *p, size_t n, float bound, Rng *r) {
    for (size_t i = 0; i < n; i++) p[i] = (2.0f * rng_uniformf(r) - 1.0f) * bound;
}

/* W then b, from one stream: the order every release has used for dense layers. */
void layer_init_fan_in(const Layer *L, float *p, float *buf, Rng *r) {
    (void)buf;
    float bound = 1.0f / sqrtf(L->fan_in);
    layer_uniform(p + L->w, L->n_w, bound, r);
    layer_uniform(p + L->b, L->n_b, bound, r);
}

size_t layer_none(const Layer *L, int B) {
    (void)L, (void)B;
    return 0;
}

void layer_no_init(const Layer *L, float *p, float *buf, Rng *r) { (void)L, (void)p, (void)buf, (void)r; }
