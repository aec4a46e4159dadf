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

/* One side of a convolution as im2col/col2im see it: images [C, B, H, W] and
 * output positions OH x OW, of which the images [b0, b0 + nb) are taken, their
 * columns at cols + row * ld. Working on a few images at a time keeps the columns
 * in cache between im2col/col2im and the GEMM beside them. */
typedef struct {
    int C, B, H, W, k, s, p, OH, OW;
    int b0, nb;
    size_t ld;
    float *phase; /* scratch for the phase planes (phased()), else NULL */
} Cols;

static void fill(float *x, size_t n, float v) {
    for (size_t i = 0; i < n; i++) x[i] = v;
}

/* cols[(c*k + ky)*k + kx][((b - b0)*OH + oy)*OW + ox] = img[c][b][oy*s - p + ky][ox*s - p + kx]
 * (0 outside the image). Outputs are small (4x4 to 32x32), so the work per
 * output row is kept to the copy itself: the padded rows and columns are
 * ranges found once per kernel entry. */
static void im2col_rows(const float *restrict img, const Cols *g, float *restrict cols) {
    int k = g->k, s = g->s, p = g->p, H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    size_t plane = (size_t)OH * OW;
    for (int ch = 0; ch < g->C; ch++)
        for (int ky = 0; ky < k; ky++) {
            int ylo, yhi;
            inside(OH, H, s, p, ky, &ylo, &yhi);
            for (int kx = 0; kx < k; kx++) {
                float *row = cols + ((size_t)(ch * k + ky) * k + kx) * g->ld;
                int lo, hi, off = kx - p; /* input column of ox: ox*s + off */
                inside(OW, W, s, p, kx, &lo, &hi);
                if (ylo > 0 || yhi < OH || lo > 0 || hi < OW)
                    memset(row, 0, sizeof(float) * plane * (size_t)g->nb);
                for (int b = 0; b < g->nb; b++, row += plane) {
                    const float *im = img + ((size_t)ch * g->B + g->b0 + b) * H * W + off;
                    for (int oy = ylo; oy < yhi; oy++) {
                        float *restrict r = row + (size_t)oy * OW;
                        const float *restrict line = im + (size_t)(oy * s - p + ky) * W;
                        /* A constant stride vectorises: 1 and 2 are the usual ones. */
                        if (s == 1)
                            memcpy(r + lo, line + lo, sizeof(float) * (size_t)(hi - lo));
                        else if (s == 2)
                            for (int ox = lo; ox < hi; ox++) r[ox] = line[2 * ox];
                        else
                            for (int ox = lo; ox < hi; ox++) r[ox] = line[ox * s];
                    }
                }
            }
        }
}

/* The adjoint of im2col: the images [b0, b0 + nb) = start (a value per
 * channel, or 0 if NULL), then every column entry added to its pixel. */
static void col2im_rows(const float *restrict cols, const Cols *g, const float *start,
                        float *restrict img) {
    int k = g->k, s = g->s, p = g->p, H = g->H, W = g->W, OH = g->OH, OW = g->OW;
    size_t plane = (size_t)OH * OW;
    for (int ch = 0; ch < g->C; ch++)
        fill(img + ((size_t)ch * g->B + g->b0) * H * W, (size_t)g->nb * H * W,
             start ? start[ch] : 0.0f);
    for (int ch = 0; ch < g->C; ch++)
        for (int ky = 0; ky < k; ky++) {
            int ylo, yhi;
            inside(OH, H, s, p, ky, &ylo, &yhi);
            for (int kx = 0; kx < k; kx++) {
                const float *row = cols + ((size_t)(ch * k + ky) * k + kx) * g->ld;
                int lo, hi, off = kx - p;
                inside(OW, W, s, p, kx, &lo, &hi);
                for (int b = 0; b < g->nb; b++, row += plane) {
                    float *im = img + ((size_t)ch * g->B + g->b0 + b) * H * W + off;
                    for (int oy = ylo; oy < yhi; oy++) {
                        const float *restrict r = row + (size_t)oy * OW;
                        float *restrict line = im + (size_t)(oy * s - p + ky) * W;
                        if (s == 1)
                            for (int ox = lo; ox < hi; ox++) line[ox] += r[ox];
                        else if (s == 2)
                            for (int ox = lo; ox < hi; ox++) line[2 * ox] += r[ox];
                        else
                            for (int ox = lo; ox < hi; ox++) line[ox * s] += r[ox];
                    }
                }
            }
        }
}

/* ---- stride 2 by phases ----
 * Output rows are short (4 or 8 values in report 004's net), so a loop per row
 * costs more than its copy. With stride 2 over an even-sized image, split into
 * its 4 phase planes P[py][px] = img[2i + py][2j + px] of W/2 columns: when that
 * is the output width, kernel entry (ky, kx) reads, for a whole image, plane
 * P[(ky - p) mod 2][(kx - p) mod 2] at one constant offset, so its columns are
 * one block copy (and col2im one block addition), then the padded edges. */
static int phased(const Cols *g) {
    return g->s == 2 && g->H % 2 == 0 && g->W % 2 == 0 && g->W / 2 == g->OW;
}

/* Planes are [4][C][nb][H/2][W/2]. */
static size_t phase_floats(const Cols *g) { return (size_t)g->C * g->nb * g->H * g->W; }

/* Where entry (ky, kx) reads: its plane's offset in the phase buffer (channel 0,
 * image 0) and the constant offset of an output position's value within it. */
typedef struct {
    int ylo, yhi, lo, hi; /* output rows and columns that read inside the image */
    size_t plane;         /* offset of the plane's channel 0 */
    long d;               /* P index = output index + d */
} Tap;

static Tap tap(const Cols *g, int ky, int kx) {
    Tap t;
    inside(g->OH, g->H, 2, g->p, ky, &t.ylo, &t.yhi);
    inside(g->OW, g->W, 2, g->p, kx, &t.lo, &t.hi);
    int ty = ky - g->p, tx = kx - g->p, py = ty & 1, px = tx & 1;
    t.plane = (size_t)(py * 2 + px) * g->C * g->nb * (g->H / 2) * (g->W / 2);
    t.d = (long)(ty - py) / 2 * g->OW + (tx - px) / 2;
    return t;
}

/* Each image of the chunk split into (or, with start, added back from) phases. */
static void split(const float *restrict img, const Cols *g, float *restrict ph) {
    int Hp = g->H / 2, Wp = g->W / 2;
    size_t quarter = (size_t)g->C * g->nb * Hp * Wp;
    for (int ch = 0; ch < g->C; ch++)
        for (int b = 0; b < g->nb; b++) {
            const float *im = img + ((size_t)ch * g->B + g->b0 + b) * g->H * g->W;
            float *q = ph + ((size_t)ch * g->nb + b) * Hp * Wp;
            for (int y = 0; y < g->H; y++, im += g->W) {
                float *e = q + (size_t)(y & 1) * 2 * quarter + (size_t)(y >> 1) * Wp, *o = e + quarter;
                for (int j = 0; j < Wp; j++) e[j] = im[2 * j], o[j] = im[2 * j + 1];
            }
        }
}

static void merge(const float *restrict ph, const Cols *g, const float *start,
                  float *restrict img) {
    int Hp = g->H / 2, Wp = g->W / 2;
    size_t quarter = (size_t)g->C * g->nb * Hp * Wp;
    for (int ch = 0; ch < g->C; ch++)
        for (int b = 0; b < g->nb; b++) {
            float *im = img + ((size_t)ch * g->B + g->b0 + b) * g->H * g->W, v = start ? start[ch] : 0.0f;
            const float *q = ph + ((size_t)ch * g->nb + b) * Hp * Wp;
            for (int y = 0; y < g->H; y++, im += g->W) {
                const float *e = q + (size_t)(y & 1) * 2 * quarter + (size_t)(y >> 1) * Wp,
                            *o = e + quarter;
                for (int j = 0; j < Wp; j++) im[2 * j] = v + e[j], im[2 * j + 1] = v + o[j];
            }
        }
}

/* Zeroes the values of output block r, in the rows [ylo, yhi), whose columns
 * read padding: outside [lo, hi). */
static void zero_columns(float *r, const Tap *t, int OW) {
    if (t->lo == 0 && t->hi == OW) return;
    for (int oy = t->ylo; oy < t->yhi; oy++) {
        float *row = r + (size_t)oy * OW;
        for (int ox = 0; ox < t->lo; ox++) row[ox] = 0.0f;
        for (int ox = t->hi; ox < OW; ox++) row[ox] = 0.0f;
    }
}

/* The valid values of a block run from output index a to z (exclusive); in
 * between, only the padded columns, which zero_columns() clears. */
static int span(const Tap *t, int OW, size_t *a, size_t *z) {
    if (t->ylo >= t->yhi || t->lo >= t->hi) return 0;
    *a = (size_t)t->ylo * OW + t->lo;
    *z = (size_t)(t->yhi - 1) * OW + t->hi;
    return 1;
}

static void im2col_phased(const float *restrict img, const Cols *g, float *restrict cols) {
    int k = g->k, OW = g->OW;
    size_t cplane = (size_t)g->OH * OW, pplane = (size_t)(g->H / 2) * (g->W / 2);
    split(img, g, g->phase);
    for (int ch = 0; ch < g->C; ch++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                Tap t = tap(g, ky, kx);
                float *row = cols + ((size_t)(ch * k + ky) * k + kx) * g->ld;
                const float *q = g->phase + t.plane + (size_t)ch * g->nb * pplane;
                size_t a = 0, z = 0;
                if (!span(&t, OW, &a, &z)) t.ylo = t.yhi = 0; /* all of it padding */
                size_t top = (size_t)t.ylo * OW, bottom = (size_t)t.yhi * OW;
                for (int b = 0; b < g->nb; b++, row += cplane, q += pplane) {
                    /* Blocks are short: loops, not calls, and no empty ones. */
                    for (size_t i = 0; i < top; i++) row[i] = 0.0f;
                    for (size_t i = bottom; i < cplane; i++) row[i] = 0.0f;
                    float *restrict dst = row + a;
                    const float *restrict src = q + (long)a + t.d;
                    for (size_t i = 0; i < z - a; i++) dst[i] = src[i];
                    zero_columns(row, &t, OW);
                }
            }
}

/* Clears the padded values of cols on the way (they are scratch). */
static void col2im_phased(float *restrict cols, const Cols *g, const float *start,
                          float *restrict img) {
    int k = g->k, OW = g->OW;
    size_t cplane = (size_t)g->OH * OW, pplane = (size_t)(g->H / 2) * (g->W / 2);
    memset(g->phase, 0, sizeof(float) * phase_floats(g));
    for (int ch = 0; ch < g->C; ch++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                Tap t = tap(g, ky, kx);
                float *row = cols + ((size_t)(ch * k + ky) * k + kx) * g->ld;
                float *q = g->phase + t.plane + (size_t)ch * g->nb * pplane;
                size_t a, z;
                if (!span(&t, OW, &a, &z)) continue;
                for (int b = 0; b < g->nb; b++, row += cplane, q += pplane) {
                    zero_columns(row, &t, OW);
                    float *restrict dst = q + (long)a + t.d;
                    const float *restrict src = row + a;
                    for (size_t i = 0; i < z - a; i++) dst[i] += src[i];
                }
            }
    merge(g->phase, g, start, img);
}

static void im2col(const float *img, const Cols *g, float *cols) {
    if (g->phase) im2col_phased(img, g, cols);
    else im2col_rows(img, g, cols);
}

static void col2im(float *cols, const Cols *g, const float *start, float *img) {
    if (g->phase) col2im_phased(cols, g, start, img);
    else col2im_rows(cols, g, start, img);
}

/* A chunk's columns fit in half of a typical L2 (256 KB), unless that would
 * leave the GEMM fewer than CHUNK_MIN_N of them (its efficiency falls fast). */
#define CHUNK_FLOATS (1 << 16)
#define CHUNK_MIN_N 512

/* The geometry of L's columns: its input as seen from its output positions
 * (conv), or its output as seen from its input positions (transposed conv);
 * nb images per chunk. */
static Cols conv_cols(const Layer *L, int B, int transposed) {
    Shape img = transposed ? L->out : L->in, pos = transposed ? L->in : L->out;
    Cols g = {img.c, B, img.h, img.w, L->kernel, L->stride, L->padding, pos.h, pos.w, 0, B, 0, NULL};
    size_t per_image = (size_t)img.c * g.k * g.k * pos.h * pos.w;
    g.nb = (int)(CHUNK_FLOATS / per_image);
    if (g.nb * pos.h * pos.w < CHUNK_MIN_N) g.nb = (CHUNK_MIN_N + pos.h * pos.w - 1) / (pos.h * pos.w);
    if (g.nb < 1) g.nb = 1;
    if (g.nb > B) g.nb = B;
    return g;
}

/* Moves g to the chunk of images from b0 (the last may be short). */
static void chunk_at(Cols *g, int b0, int nb) {
    g->b0 = b0;
    g->nb = b0 + nb > g->B ? g->B - b0 : nb;
    g->ld = (size_t)g->nb * g->OH * g->OW;
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

/* One chunk's columns. */
static size_t cols_chunk(const Cols *g) { return (size_t)g->C * g->k * g->k * g->nb * g->OH * g->OW; }

/* Scratch: a chunk's columns, then its phase planes if phased(). */
static size_t chunk_temp(const Layer *L, int B, int transposed) {
    Cols g = conv_cols(L, B, transposed);
    return cols_chunk(&g) + (phased(&g) ? phase_floats(&g) : 0);
}

/* The geometry with its phase scratch in temp, after a chunk's columns. */
static Cols conv_cols_in(const Layer *L, int B, int transposed, float *temp) {
    Cols g = conv_cols(L, B, transposed);
    if (phased(&g)) g.phase = temp + cols_chunk(&g);
    return g;
}

static size_t conv_temp(const Layer *L, int B) { return chunk_temp(L, B, 0); }

static size_t conv_t_temp(const Layer *L, int B) { return chunk_temp(L, B, 1); }

/* Nothing is kept from forward to backward: backward makes each chunk's
 * columns again, which costs less than writing and reading back the whole
 * batch's (16 MB a layer in report 004's net) through memory. */
static void conv_fwd(const Layer *L, LayerCall *c) {
    int B = c->B, K = L->in.c * L->kernel * L->kernel, OC = L->out.c;
    size_t N = (size_t)B * L->out.h * L->out.w, pos = (size_t)L->out.h * L->out.w;
    /* y starts as the bias, to which the GEMM adds (no pass of its own). */
    for (int ch = 0; ch < OC; ch++) fill(c->y + ch * N, N, c->p[L->b + ch]);
    Cols g = conv_cols_in(L, B, 0, c->temp);
    int step = g.nb;
    for (int b0 = 0; b0 < B; b0 += step) {
        chunk_at(&g, b0, step);
        im2col(c->x, &g, c->temp);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, (int)g.ld, K, 1.0f,
                    c->p + L->w, K, c->temp, (int)g.ld, 1.0f, c->y + b0 * pos, (int)N);
    }
    act_forward(L->act, L->slope, c->y, (size_t)OC * N);
}

/* Per chunk: its columns, dW summed over the chunks (the first overwrites),
 * then the columns' gradient in their place and dx from it. */
static void conv_bwd(const Layer *L, LayerCall *c) {
    int B = c->B, K = L->in.c * L->kernel * L->kernel, OC = L->out.c;
    size_t N = (size_t)B * L->out.h * L->out.w, pos = (size_t)L->out.h * L->out.w;
    act_bias_back(c->y, c->dy, c->g + L->b, OC, N, L->act, L->slope);
    Cols g = conv_cols_in(L, B, 0, c->temp);
    int step = g.nb;
    for (int b0 = 0; b0 < B; b0 += step) {
        chunk_at(&g, b0, step);
        int n = (int)g.ld;
        const float *dy = c->dy + b0 * pos;
        im2col(c->x, &g, c->temp);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, OC, K, n, 1.0f, dy, (int)N, c->temp,
                    n, b0 ? 1.0f : 0.0f, c->g + L->w, K);
        if (!c->dx) continue;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, n, OC, 1.0f, c->p + L->w, K, dy,
                    (int)N, 0.0f, c->temp, n);
        col2im(c->temp, &g, NULL, c->dx);
    }
}

static void conv_t_fwd(const Layer *L, LayerCall *c) {
    int B = c->B, K = L->out.c * L->kernel * L->kernel, IC = L->in.c;
    size_t N = (size_t)B * L->in.h * L->in.w, pos = (size_t)L->in.h * L->in.w;
    Cols g = conv_cols_in(L, B, 1, c->temp);
    int step = g.nb;
    for (int b0 = 0; b0 < B; b0 += step) {
        chunk_at(&g, b0, step);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, g.nb * (int)pos, IC, 1.0f,
                    c->p + L->w, K, c->x + b0 * pos, (int)N, 0.0f, c->temp, (int)g.ld);
        col2im(c->temp, &g, c->p + L->b, c->y);
    }
    act_forward(L->act, L->slope, c->y, (size_t)B * shape_size(L->out));
}

/* dW sums over the chunks (the first overwrites, the rest add). */
static void conv_t_bwd(const Layer *L, LayerCall *c) {
    int B = c->B, K = L->out.c * L->kernel * L->kernel, IC = L->in.c;
    size_t N = (size_t)B * L->in.h * L->in.w, pos = (size_t)L->in.h * L->in.w;
    act_bias_back(c->y, c->dy, c->g + L->b, L->out.c, (size_t)B * L->out.h * L->out.w, L->act,
                  L->slope);
    Cols g = conv_cols_in(L, B, 1, c->temp);
    int step = g.nb;
    for (int b0 = 0; b0 < B; b0 += step) {
        chunk_at(&g, b0, step);
        int n = g.nb * (int)pos;
        im2col(c->dy, &g, c->temp);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, IC, K, n, 1.0f, c->x + b0 * pos,
                    (int)N, c->temp, n, b0 ? 1.0f : 0.0f, c->g + L->w, K);
        if (c->dx)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, IC, n, K, 1.0f, c->p + L->w, K,
                        c->temp, n, 0.0f, c->dx + b0 * pos, (int)N);
    }
}

static double conv_macs(const Layer *L) { return (double)L->n_w * L->out.h * L->out.w; }

static double conv_t_macs(const Layer *L) { return (double)L->n_w * L->in.h * L->in.w; }

const LayerKindOps layer_conv = {"conv", conv_setup, layer_init_fan_in, conv_fwd, conv_bwd,
                                 layer_none, conv_temp, conv_macs};
const LayerKindOps layer_conv_t = {"conv_transpose", conv_t_setup, layer_init_fan_in, conv_t_fwd,
                                   conv_t_bwd, layer_none, conv_t_temp, conv_t_macs};
