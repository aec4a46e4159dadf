#include <string.h>

#include "augment.h"

/* One image: a window of the padded image at offset (dy, dx) in [0, 2 crop],
 * then the mirror. Rows are copied in runs: the window is the image shifted. */
static void crop_flip(const Augment *a, Shape s, float blank, float *x, float *tmp, Rng *r) {
    int H = s.h, W = s.w, p = a->crop;
    int dy = p ? (int)rng_below(r, (uint64_t)(2 * p + 1)) - p : 0;
    int dx = p ? (int)rng_below(r, (uint64_t)(2 * p + 1)) - p : 0;
    int mirror = a->flip && rng_below(r, 2);
    if (!dy && !dx && !mirror) return;
    memcpy(tmp, x, sizeof(float) * (size_t)s.c * H * W);
    for (int c = 0; c < s.c; c++)
        for (int i = 0; i < H; i++) {
            float *out = x + ((size_t)c * H + i) * W;
            int si = i + dy;
            for (int j = 0; j < W; j++) {
                int sj = j + dx;
                out[j] = si >= 0 && si < H && sj >= 0 && sj < W
                             ? tmp[((size_t)c * H + si) * W + sj] : blank;
            }
            if (mirror)
                for (int j = 0; j < W / 2; j++) {
                    float t = out[j];
                    out[j] = out[W - 1 - j];
                    out[W - 1 - j] = t;
                }
        }
}

void augment_batch(const Augment *a, Shape s, float blank, float *x, int B, float *tmp, Rng *r) {
    size_t D = (size_t)shape_size(s);
    for (int b = 0; b < B; b++) {
        float *img = x + (size_t)b * D;
        if (a->crop > 0 || a->flip) crop_flip(a, s, blank, img, tmp, r);
        if (a->noise > 0)
            for (size_t k = 0; k < D; k++) img[k] += a->noise * (float)rng_normal(r);
    }
}
