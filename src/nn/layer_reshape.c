/* Between vectors [B, n] and images [C, B, H, W] (see layer.h), in torch's
 * flatten order: element (c, h, w) of image b is column (c*H + h)*W + w of row b. */
#include <string.h>

#include "layer.h"

static int reshape_setup(Layer *L, const LayerSpec *s, Err *e) {
    Shape to = s->to;
    if (to.flat) to = (Shape){shape_size(L->in), 1, 1, 1};
    if (to.c < 1 || to.h < 1 || to.w < 1 || shape_size(to) != shape_size(L->in))
        return err_set(e, AE_EINPUT, "%s: cannot reshape %d values into %dx%dx%d", s->where,
                       shape_size(L->in), to.c, to.h, to.w);
    L->out = to;
    return AE_OK;
}

/* rows [B, C*HW] <-> channels [C, B, HW]; to_rows picks the direction. */
static void permute(const float *src, float *dst, int B, int C, int HW, int to_rows) {
    for (int ch = 0; ch < C; ch++)
        for (int b = 0; b < B; b++) {
            size_t row = ((size_t)b * C + ch) * HW, chan = ((size_t)ch * B + b) * HW;
            memcpy(dst + (to_rows ? row : chan), src + (to_rows ? chan : row),
                   sizeof(float) * (size_t)HW);
        }
}

/* x of shape `from` to y of shape `to` (same size); either may be flat. */
static void convert(Shape from, Shape to, const float *x, float *y, int B) {
    size_t n = (size_t)B * shape_size(from);
    if (from.flat == to.flat) {
        memcpy(y, x, n * sizeof(float));
        return;
    }
    Shape img = from.flat ? to : from;
    permute(x, y, B, img.c, img.h * img.w, to.flat);
}

static void reshape_fwd(const Layer *L, LayerCall *c) { convert(L->in, L->out, c->x, c->y, c->B); }

static void reshape_bwd(const Layer *L, LayerCall *c) {
    if (c->dx) convert(L->out, L->in, c->dy, c->dx, c->B);
}

static double no_macs(const Layer *L) {
    (void)L;
    return 0;
}

const LayerKindOps layer_reshape = {"reshape", reshape_setup, layer_no_init, reshape_fwd,
                                    reshape_bwd, layer_none, layer_none, no_macs};
