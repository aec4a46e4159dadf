/* Batch normalisation (torch BatchNorm1d over vectors, BatchNorm2d over images),
 * followed by the entry's activation. Training normalises by the batch's mean and
 * biased variance and moves the running statistics by `momentum` (with the
 * unbiased variance, as torch); evaluation uses the running statistics.
 *
 * Parameters: weight (gamma) and bias (beta), one per channel. Buffers:
 * running_mean, running_var. A channel's values are element i of
 *   images [C, B, H, W]: c*N + i, N = B*H*W (contiguous);
 *   vectors [B, C]:      i*C + c, N = B. */
#include <math.h>

#include "layer.h"

#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f

static int bn_setup(Layer *L, const LayerSpec *s, Err *e) {
    (void)s, (void)e;
    L->out = L->in;
    L->n_w = L->n_b = (size_t)L->in.c;
    L->n_buf = 2 * (size_t)L->in.c;
    L->momentum = BN_MOMENTUM;
    L->eps = BN_EPS;
    return AE_OK;
}

static void bn_init(const Layer *L, float *p, float *buf, Rng *r) {
    (void)r;
    for (int c = 0; c < L->in.c; c++) {
        p[L->w + c] = 1.0f;
        p[L->b + c] = 0.0f;
        buf[L->buf + c] = 0.0f;         /* running_mean */
        buf[L->buf + L->in.c + c] = 1.0f; /* running_var */
    }
}

/* x-hat for backward, then 1/sqrt(var + eps) per channel. */
static size_t bn_saved(const Layer *L, int B) {
    return (size_t)B * shape_size(L->in) + (size_t)L->in.c;
}

typedef struct {
    size_t n, cs, is; /* values per channel, stride between channels, between values */
} Stride;

static Stride bn_stride(const Layer *L, int B) {
    if (L->in.flat) return (Stride){(size_t)B, 1, (size_t)L->in.c};
    size_t n = (size_t)B * L->in.h * L->in.w;
    return (Stride){n, n, 1};
}

/* The sum, and the sum of squared deviations from m, of n values a stride apart,
 * in double and in a fixed order (the same bits every time). */
/* Contiguous values go through 4 double lanes, which vectorise and do not wait
 * on one long chain of additions; the order is still fixed. */
#define LANES 4

static double lanes_total(const double *lane) { return (lane[0] + lane[1]) + (lane[2] + lane[3]); }

static double sum_of(const float *x, size_t n, size_t is) {
    double s = 0;
    if (is != 1) {
        for (size_t i = 0; i < n; i++) s += x[i * is];
        return s;
    }
    double lane[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) lane[j] += x[i + j];
    for (; i < n; i++) s += x[i];
    return lanes_total(lane) + s;
}

static double sq_dev(const float *x, size_t n, size_t is, double m) {
    double ss = 0;
    if (is != 1) {
        for (size_t i = 0; i < n; i++) ss += ((double)x[i * is] - m) * ((double)x[i * is] - m);
        return ss;
    }
    double lane[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) lane[j] += ((double)x[i + j] - m) * ((double)x[i + j] - m);
    for (; i < n; i++) ss += ((double)x[i] - m) * ((double)x[i] - m);
    return lanes_total(lane) + ss;
}

/* sum(dz * xh) and sum(dz) over a contiguous channel. */
static void grad_sums(const float *dz, const float *xh, size_t n, double *sg, double *sb) {
    double g[LANES] = {0}, b[LANES] = {0}, g1 = 0, b1 = 0;
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) g[j] += (double)dz[i + j] * xh[i + j], b[j] += dz[i + j];
    for (; i < n; i++) g1 += (double)dz[i] * xh[i], b1 += dz[i];
    *sg = lanes_total(g) + g1;
    *sb = lanes_total(b) + b1;
}

static void bn_fwd(const Layer *L, LayerCall *c) {
    Stride st = bn_stride(L, c->B);
    int C = L->in.c;
    const float *gamma = c->p + L->w, *beta = c->p + L->b;
    float *rmean = c->buf + L->buf, *rvar = rmean + C;
    float *xhat = c->saved, *inv = c->saved + (size_t)c->B * shape_size(L->in);
    for (int ch = 0; ch < C; ch++) {
        const float *x = c->x + ch * st.cs;
        float *y = c->y + ch * st.cs, *xh = xhat + ch * st.cs;
        float mean, istd;
        if (c->train) {
            double m = sum_of(x, st.n, st.is) / (double)st.n, ss = sq_dev(x, st.n, st.is, m);
            double var = ss / (double)st.n;
            double unbiased = st.n > 1 ? ss / (double)(st.n - 1) : var;
            rmean[ch] = (1.0f - L->momentum) * rmean[ch] + L->momentum * (float)m;
            rvar[ch] = (1.0f - L->momentum) * rvar[ch] + L->momentum * (float)unbiased;
            mean = (float)m;
            istd = (float)(1.0 / sqrt(var + L->eps));
        } else {
            mean = rmean[ch];
            istd = 1.0f / sqrtf(rvar[ch] + L->eps);
        }
        inv[ch] = istd;
        const float g = gamma[ch], b = beta[ch];
        if (st.is == 1) {
            for (size_t i = 0; i < st.n; i++) {
                float h = (x[i] - mean) * istd;
                xh[i] = h;
                y[i] = g * h + b;
            }
            act_forward(L->act, L->slope, y, st.n);
        } else {
            for (size_t i = 0; i < st.n; i++) {
                float h = (x[i * st.is] - mean) * istd;
                xh[i * st.is] = h;
                y[i * st.is] = g * h + b;
            }
        }
    }
    if (st.is != 1) act_forward(L->act, L->slope, c->y, (size_t)c->B * shape_size(L->in));
}

/* Training mode: the batch statistics depend on every x, hence the two sums;
 * dx = gamma*inv/N * (N dz - sum dz - xhat * sum(dz xhat)). */
static void bn_bwd(const Layer *L, LayerCall *c) {
    Stride st = bn_stride(L, c->B);
    int C = L->in.c;
    const float *gamma = c->p + L->w;
    const float *xhat = c->saved, *inv = c->saved + (size_t)c->B * shape_size(L->in);
    act_backward(L->act, L->slope, c->y, c->dy, (size_t)c->B * shape_size(L->in));
    for (int ch = 0; ch < C; ch++) {
        const float *dz = c->dy + ch * st.cs, *xh = xhat + ch * st.cs;
        double sg = 0, sb = 0;
        if (st.is == 1)
            grad_sums(dz, xh, st.n, &sg, &sb);
        else
            for (size_t i = 0; i < st.n; i++)
                sg += (double)dz[i * st.is] * xh[i * st.is], sb += dz[i * st.is];
        c->g[L->w + ch] = (float)sg;
        c->g[L->b + ch] = (float)sb;
        if (!c->dx) continue;
        float *dx = c->dx + ch * st.cs;
        float n = (float)st.n, mb = (float)sb, mg = (float)sg;
        /* evaluation: the statistics are constants, dx = gamma*inv*dz */
        float k = c->train ? gamma[ch] * inv[ch] / n : gamma[ch] * inv[ch];
        float kn = c->train ? n : 1.0f, kb = c->train ? mb : 0.0f, kg = c->train ? mg : 0.0f;
        if (st.is == 1)
            for (size_t i = 0; i < st.n; i++) dx[i] = k * (kn * dz[i] - kb - xh[i] * kg);
        else
            for (size_t i = 0; i < st.n; i++)
                dx[i * st.is] = k * (kn * dz[i * st.is] - kb - xh[i * st.is] * kg);
    }
}

static double bn_macs(const Layer *L) { return 2.0 * shape_size(L->in); }

const LayerKindOps layer_batchnorm = {"batchnorm", bn_setup, bn_init, bn_fwd, bn_bwd,
                                      bn_saved, layer_none, bn_macs};
