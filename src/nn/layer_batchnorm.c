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
    size_t n, cs; /* values per channel, stride between channels (images) */
} Stride;

static Stride bn_stride(const Layer *L, int B) {
    if (L->in.flat) return (Stride){(size_t)B, 1};
    size_t n = (size_t)B * L->in.h * L->in.w;
    return (Stride){n, n};
}

/* The sum, and the sum of squared deviations from m, of n values a stride apart,
 * in double and in a fixed order (the same bits every time). */
/* Contiguous values go through 4 double lanes, which vectorise and do not wait
 * on one long chain of additions; the order is still fixed. */
#define LANES 4

static double lanes_total(const double *lane) { return (lane[0] + lane[1]) + (lane[2] + lane[3]); }

static double sum_of(const float *x, size_t n) {
    double lane[LANES] = {0}, s = 0;
    size_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) lane[j] += x[i + j];
    for (; i < n; i++) s += x[i];
    return lanes_total(lane) + s;
}

static double sq_dev(const float *x, size_t n, double m) {
    double lane[LANES] = {0}, ss = 0;
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

/* Vectors [B, C]: per-feature sums row by row (each feature's own order is
 * fixed), so the loops run along the rows and vectorise. */
static void row_sums(const float *x, int B, int C, double *sum) {
    for (int j = 0; j < C; j++) sum[j] = 0;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < C; j++) sum[j] += x[(size_t)b * C + j];
}

/* Per channel: mean and 1/sqrt(var + eps), from the batch while training (and
 * the running statistics moved), else from the running statistics. */
static void bn_stats(const Layer *L, LayerCall *c, Stride st, float *mean, float *inv) {
    int C = L->in.c;
    float *rmean = c->buf + L->buf, *rvar = rmean + C;
    double *sum = (double *)c->temp, *ssq = sum + C;
    if (c->train && L->in.flat) {
        row_sums(c->x, c->B, C, sum);
        for (int j = 0; j < C; j++) sum[j] /= (double)st.n, ssq[j] = 0;
        for (int b = 0; b < c->B; b++)
            for (int j = 0; j < C; j++) {
                double d = (double)c->x[(size_t)b * C + j] - sum[j];
                ssq[j] += d * d;
            }
    } else if (c->train) {
        for (int ch = 0; ch < C; ch++) {
            const float *x = c->x + ch * st.cs;
            sum[ch] = sum_of(x, st.n) / (double)st.n;
            ssq[ch] = sq_dev(x, st.n, sum[ch]);
        }
    }
    for (int ch = 0; ch < C; ch++) {
        if (!c->train) {
            mean[ch] = rmean[ch];
            inv[ch] = 1.0f / sqrtf(rvar[ch] + L->eps);
            continue;
        }
        double var = ssq[ch] / (double)st.n;
        double unbiased = st.n > 1 ? ssq[ch] / (double)(st.n - 1) : var;
        rmean[ch] = (1.0f - L->momentum) * rmean[ch] + L->momentum * (float)sum[ch];
        rvar[ch] = (1.0f - L->momentum) * rvar[ch] + L->momentum * (float)unbiased;
        mean[ch] = (float)sum[ch];
        inv[ch] = (float)(1.0 / sqrt(var + L->eps));
    }
}

static void bn_fwd(const Layer *L, LayerCall *c) {
    Stride st = bn_stride(L, c->B);
    int C = L->in.c;
    const float *gamma = c->p + L->w, *beta = c->p + L->b;
    float *xhat = c->saved, *inv = c->saved + (size_t)c->B * shape_size(L->in);
    float *mean = (float *)c->temp + 4 * (size_t)C;
    bn_stats(L, c, st, mean, inv);
    if (L->in.flat) {
        for (int b = 0; b < c->B; b++) {
            const float *x = c->x + (size_t)b * C;
            float *y = c->y + (size_t)b * C, *xh = xhat + (size_t)b * C;
            for (int j = 0; j < C; j++) {
                float h = (x[j] - mean[j]) * inv[j];
                xh[j] = h;
                y[j] = gamma[j] * h + beta[j];
            }
        }
        act_forward(L->act, L->slope, c->y, (size_t)c->B * C);
        return;
    }
    for (int ch = 0; ch < C; ch++) {
        const float *x = c->x + ch * st.cs;
        float *y = c->y + ch * st.cs, *xh = xhat + ch * st.cs;
        const float m = mean[ch], istd = inv[ch], g = gamma[ch], b = beta[ch];
        for (size_t i = 0; i < st.n; i++) {
            float h = (x[i] - m) * istd;
            xh[i] = h;
            y[i] = g * h + b;
        }
        act_forward(L->act, L->slope, y, st.n);
    }
}

/* Training mode: the batch statistics depend on every x, hence the two sums;
 * dx = gamma*inv/N * (N dz - sum dz - xhat * sum(dz xhat)). In evaluation the
 * statistics are constants: dx = gamma*inv*dz. */
static void bn_bwd(const Layer *L, LayerCall *c) {
    Stride st = bn_stride(L, c->B);
    int C = L->in.c;
    const float *gamma = c->p + L->w;
    const float *xhat = c->saved, *inv = c->saved + (size_t)c->B * shape_size(L->in);
    act_backward(L->act, L->slope, c->y, c->dy, (size_t)c->B * shape_size(L->in));
    double *sg = (double *)c->temp, *sb = sg + C;
    if (L->in.flat) {
        row_sums(c->dy, c->B, C, sb);
        for (int j = 0; j < C; j++) sg[j] = 0;
        for (int b = 0; b < c->B; b++)
            for (int j = 0; j < C; j++)
                sg[j] += (double)c->dy[(size_t)b * C + j] * xhat[(size_t)b * C + j];
    } else {
        for (int ch = 0; ch < C; ch++)
            grad_sums(c->dy + ch * st.cs, xhat + ch * st.cs, st.n, &sg[ch], &sb[ch]);
    }
    /* dx = k (kn dz - kb - xhat kg), per channel */
    float *k = (float *)c->temp + 4 * (size_t)C, *kn = k + C, *kb = kn + C, *kg = kb + C;
    for (int ch = 0; ch < C; ch++) {
        c->g[L->w + ch] = (float)sg[ch];
        c->g[L->b + ch] = (float)sb[ch];
        float n = (float)st.n;
        k[ch] = c->train ? gamma[ch] * inv[ch] / n : gamma[ch] * inv[ch];
        kn[ch] = c->train ? n : 1.0f;
        kb[ch] = c->train ? (float)sb[ch] : 0.0f;
        kg[ch] = c->train ? (float)sg[ch] : 0.0f;
    }
    if (!c->dx) return;
    if (L->in.flat) {
        for (int b = 0; b < c->B; b++) {
            const float *dz = c->dy + (size_t)b * C, *xh = xhat + (size_t)b * C;
            float *dx = c->dx + (size_t)b * C;
            for (int j = 0; j < C; j++) dx[j] = k[j] * (kn[j] * dz[j] - kb[j] - xh[j] * kg[j]);
        }
        return;
    }
    for (int ch = 0; ch < C; ch++) {
        const float *dz = c->dy + ch * st.cs, *xh = xhat + ch * st.cs;
        float *dx = c->dx + ch * st.cs;
        const float a = k[ch], an = kn[ch], ab = kb[ch], ag = kg[ch];
        for (size_t i = 0; i < st.n; i++) dx[i] = a * (an * dz[i] - ab - xh[i] * ag);
    }
}

/* Two doubles and four floats per channel (sums, then coefficients). */
static size_t bn_temp(const Layer *L, int B) {
    (void)B;
    return 8 * (size_t)L->in.c;
}

static double bn_macs(const Layer *L) { return 2.0 * shape_size(L->in); }

const LayerKindOps layer_batchnorm = {"batchnorm", bn_setup, bn_init, bn_fwd, bn_bwd,
                                      bn_saved, bn_temp, bn_macs};
