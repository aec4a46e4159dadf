/* 2-d convolution and transposed convolution over image batches [C, B, H, W]
 * (layer.h), each one GEMM over the whole batch through im2col/col2im.
 *
 * conv: W [out, in, k, k] (torch Conv2d), out size floor((H + 2p - k)/s) + 1.
 * conv_transpose: W [in, out, k, k] (torch ConvTranspose2d), out size
 * (H - 1)s - 2p + k + output_padding. Both map an output position o and a kernel
 * offset q to the input pixel o*s - p + q (conv) or the other way round
 * (transposed), so one pair of im2col/col2im serves both. */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "layer.h"

/* The output positions ox in [*lo, *hi) whose input column ox*s - p + kx lies
 * inside [0, W): the rest read padding. */
static void inside(int OW, int W, int s, int p, int kx, int *lo, int *hi) {
    int a = p - kx > 0 ? (p - kx + s - 1) / s : 0;
    int b = W - 1 + p - kx >= 0 ? (W - 1 + p - kx) / s + 1 : 0;
    *lo = a < OW ? a : OW;
    *hi = b < OW ? (b > *lo ? b : *lo) : OW;
}

/* cols[(c*k + ky)*k + kx][(b*OH + oy)*OW + ox] = img[c][b][oy*s - p + ky][ox*s - p + kx]
 * (0 outside the image). */
static void im2col(const float *restrict img, int C, int B, int H, int W, int k, int s, int p, int OH,
                   int OW, float *restrict cols) {
    size_t n = (size_t)B * OH * OW;
    for (int ch = 0; ch < C; ch++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                float *row = cols + ((size_t)(ch * k + ky) * k + kx) * n;
                int lo, hi;
                inside(OW, W, s, p, kx, &lo, &hi);
                for (int b = 0; b < B; b++) {
                    const float *im = img + ((size_t)ch * B + b) * H * W;
                    for (int oy = 0; oy < OH; oy++, row += OW) {
                        int iy = oy * s - p + ky;
                        if (iy < 0 || iy >= H) {
                            memset(row, 0, sizeof(float) * (size_t)OW);
                            continue;
                        }
                        const float *line = im + (size_t)iy * W;
                        int off = kx - p; /* input column of ox: ox*s + off */
                        for (int ox = 0; ox < lo; ox++) row[ox] = 0.0f;
                        /* A constant stride vectorises: 1 and 2 are the usual ones. */
                        if (s == 1 && hi > lo)
                            memcpy(row + lo, line + lo + off, sizeof(float) * (size_t)(hi - lo));
                        else if (s == 2)
                            for (int ox = lo; ox < hi; ox++) row[ox] = line[2 * ox + off];
                        else
                            for (int ox = lo; ox < hi; ox++) row[ox] = line[ox * s + off];
                        for (int ox = hi; ox < OW; ox++) row[ox] = 0.0f;
                    }
                }
            }
}

/* The adjoint of im2col: img = 0, then every column entry added to its pixel. */
static void col2im(const float *restrict cols, int C, int B, int H, int W, int k, int s, int p, int OH,
                   int OW, float *restrict img) {
    size_t n = (size_t)B * OH * OW;
    memset(img, 0, sizeof(float) * (size_t)C * B * H * W);
    for (int ch = 0; ch < C; ch++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const float *row = cols + ((size_t)(ch * k + ky) * k + kx) * n;
                int lo, hi;
                inside(OW, W, s, p, kx, &lo, &hi);
                for (int b = 0; b < B; b++) {
                    float *im = img + ((size_t)ch * B + b) * H * W;
                    for (int oy = 0; oy < OH; oy++, row += OW) {
                        int iy = oy * s - p + ky;
                        if (iy < 0 || iy >= H) continue;
                        float *line = im + (size_t)iy * W;
                        int off = kx - p;
                        if (s == 1)
                            for (int ox = lo; ox < hi; ox++) line[ox + off] += row[ox];
                        else if (s == 2)
                            for (int ox = lo; ox < hi; ox++) line[2 * ox + off] += row[ox];
                        else
                            for (int ox = lo; ox < hi; ox++) line[ox * s + off] += row[ox];
                    }
                }
            }
}

/* Bias per channel and the activation, over y [C, n]. */
static void bias_act(float *y, const float *b, int C, size_t n, Act a, float slope) {
    for (int ch = 0; ch < C; ch++) {
        float *row = y + (size_t)ch * n;
        for (size_t i = 0; i < n; i++) row[i] += b[ch];
        act_forward(a, slope, row, n);
    }
}

/* The sum of x[0..n) in 8 float lanes, then in double: a fixed order (the same
 * bits every time) that vectorises. */
static double sum_lanes(const float *x, size_t n) {
    float lane[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) lane[j] += x[i + j];
    double s = 0;
    for (int j = 0; j < 8; j++) s += lane[j];
    for (; i < n; i++) s += x[i];
    return s;
}

/* dy = dL/dz through the activation, and db = its sum per channel. */
static void act_bias_back(const float *y, float *dy, float *db, int C, size_t n, Act a,
                          float slope) {
    act_backward(a, slope, y, dy, (size_t)C * n);
    for (int ch = 0; ch < C; ch++) db[ch] = (float)sum_lanes(dy + (size_t)ch * n, n);
}

static int image_check(const Layer *L, const LayerSpec *s, Err *e) {
    if (L->in.flat)
        return err_set(e, AE_EINPUT, "%s: a convolution needs an image input, not a vector",
                       s->where);
    if (s->units < 1) return err_set(e, AE_EINPUT, "%s: needs at least 1 channel", s->where);
    if (s->kernel < 1) return err_set(e, AE_EINPUT, "%s.kernel: must be at least 1", s->where);
    if (s->stride < 1) return err_set(e, AE_EINPUT, "%s.stride: must be at least 1", s->where);
    if (s->padding < 0)
        return err_set(e, AE_EINPUT, "%s.padding: must be at least 0, got %d", s->where,
                       s->padding);
    return AE_OK;
}

static void copy_geometry(Layer *L, const LayerSpec *s) {
    L->kernel = s->kernel;
    L->stride = s->stride;
    L->padding = s->padding;
    L->output_padding = s->output_padding;
}

static int conv_setup(Layer *L, const LayerSpec *s, Err *e) {
    if (image_check(L, s, e)) return e->code;
    int k = s->kernel, h = L->in.h + 2 * s->padding, w = L->in.w + 2 * s->padding;
    if (k > h || k > w)
        return err_set(e, AE_EINPUT, "%s.kernel: %d is larger than its padded input %dx%d",
                       s->where, k, h, w);
    copy_geometry(L, s);
    L->out = (Shape){s->units, (h - k) / s->stride + 1, (w - k) / s->stride + 1, 0};
    L->n_w = (size_t)s->units * L->in.c * k * k;
    L->n_b = (size_t)s->units;
    L->fan_in = (float)(L->in.c * k * k);
    return AE_OK;
}

static int conv_t_setup(Layer *L, const LayerSpec *s, Err *e) {
    if (image_check(L, s, e)) return e->code;
    if (s->output_padding < 0 || s->output_padding >= s->stride)
        return err_set(e, AE_EINPUT, "%s.output_padding: must be in [0, stride), got %d",
                       s->where, s->output_padding);
    int k = s->kernel;
    int oh = (L->in.h - 1) * s->stride - 2 * s->padding + k + s->output_padding;
    int ow = (L->in.w - 1) * s->stride - 2 * s->padding + k + s->output_padding;
    if (oh < 1 || ow < 1)
        return err_set(e, AE_EINPUT, "%s.padding: %d leaves no output from a %dx%d input",
                       s->where, s->padding, L->in.h, L->in.w);
    copy_geometry(L, s);
    L->out = (Shape){s->units, oh, ow, 0};
    L->n_w = (size_t)L->in.c * s->units * k * k;
    L->n_b = (size_t)s->units;
    L->fan_in = (float)(s->units * k * k); /* torch: weight.size(1) * k * k */
    return AE_OK;
}

/* Columns of the conv's input as seen from its output positions (kept from
 * forward for dW, and their gradient in backward); for the transposed conv, of
 * its output as seen from its input positions. */
static size_t conv_temp(const Layer *L, int B) {
    return (size_t)L->in.c * L->kernel * L->kernel * B * L->out.h * L->out.w;
}

static size_t conv_t_temp(const Layer *L, int B) {
    return (size_t)L->out.c * L->kernel * L->kernel * B * L->in.h * L->in.w;
}

static void conv_fwd(const Layer *L, LayerCall *c) {
    int B = c->B, k = L->kernel, K = L->in.c * k * k;
    int N = B * L->out.h * L->out.w;
    /* Training keeps the columns for backward; evaluation needs them only here. */
    float *cols = c->train ? c->saved : c->temp;
    im2col(c->x, L->in.c, B, L->in.h, L->in.w, k, L->stride, L->padding, L->out.h, L->out.w,
           cols);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L->out.c, N, K, 1.0f, c->p + L->w, K,
                cols, N, 0.0f, c->y, N);
    bias_act(c->y, c->p + L->b, L->out.c, (size_t)N, L->act, L->slope);
}

static void conv_bwd(const Layer *L, LayerCall *c) {
    int B = c->B, k = L->kernel, K = L->in.c * k * k, OC = L->out.c;
    int N = B * L->out.h * L->out.w;
    act_bias_back(c->y, c->dy, c->g + L->b, OC, (size_t)N, L->act, L->slope);
    if (!c->train) /* backward after an evaluation pass: the columns were not kept */
        im2col(c->x, L->in.c, B, L->in.h, L->in.w, k, L->stride, L->padding, L->out.h,
               L->out.w, c->saved);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, K, N, 1.0f, c->dy, N, c->saved, N,
                0.0f, c->g + L->w, K);
    if (!c->dx) return;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, OC, 1.0f, c->p + L->w, K, c->dy, N,
                0.0f, c->temp, N);
    col2im(c->temp, L->in.c, B, L->in.h, L->in.w, k, L->stride, L->padding, L->out.h, L->out.w,
           c->dx);
}

static void conv_t_fwd(const Layer *L, LayerCall *c) {
    int B = c->B, k = L->kernel, K = L->out.c * k * k, IC = L->in.c;
    int N = B * L->in.h * L->in.w;
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, IC, 1.0f, c->p + L->w, K, c->x, N,
                0.0f, c->temp, N);
    col2im(c->temp, L->out.c, B, L->out.h, L->out.w, k, L->stride, L->padding, L->in.h, L->in.w,
           c->y);
    bias_act(c->y, c->p + L->b, L->out.c, (size_t)B * L->out.h * L->out.w, L->act, L->slope);
}

static void conv_t_bwd(const Layer *L, LayerCall *c) {
    int B = c->B, k = L->kernel, K = L->out.c * k * k, IC = L->in.c;
    int N = B * L->in.h * L->in.w;
    act_bias_back(c->y, c->dy, c->g + L->b, L->out.c, (size_t)B * L->out.h * L->out.w, L->act,
                  L->slope);
    im2col(c->dy, L->out.c, B, L->out.h, L->out.w, k, L->stride, L->padding, L->in.h, L->in.w,
           c->temp);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, IC, K, N, 1.0f, c->x, N, c->temp, N,
                0.0f, c->g + L->w, K);
    if (c->dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, IC, N, K, 1.0f, c->p + L->w, K,
                    c->temp, N, 0.0f, c->dx, N);
}

static double conv_macs(const Layer *L) { return (double)L->n_w * L->out.h * L->out.w; }

static double conv_t_macs(const Layer *L) { return (double)L->n_w * L->in.h * L->in.w; }

const LayerKindOps layer_conv = {"conv", conv_setup, layer_init_fan_in, conv_fwd, conv_bwd,
                                 conv_temp, conv_temp, conv_macs};
const LayerKindOps layer_conv_t = {"conv_transpose", conv_t_setup, layer_init_fan_in, conv_t_fwd,
                                   conv_t_bwd, layer_none, conv_t_temp, conv_t_macs};
