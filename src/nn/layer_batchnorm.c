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

/* Channel ch's mean and 1/sqrt(var + eps) from its batch mean and sum of squared
 * deviations (moving the running statistics), or from the running statistics
 * in evaluation. */
static void channel_stats(const Layer *L, LayerCall *c, size_t n, int ch, double m, double ssq,
                          float *mean, float *inv) {
    float *rmean = c->buf + L->buf, *rvar = rmean + L->in.c;
    if (!c->train) {
        mean[ch] = rmean[ch];
        inv[ch] = 1.0f / sqrtf(rvar[ch] + L->eps);
        return;
    }
    double var = ssq / (double)n;
    double unbiased = n > 1 ? ssq / (double)(n - 1) : var;
    rmean[ch] = (1.0f - L->momentum) * rmean[ch] + L->momentum * (float)m;
    rvar[ch] = (1.0f - L->momentum) * rvar[ch] + L->momentum * (float)unbiased;
    mean[ch] = (float)m;
    inv[ch] = (float)(1.0 / sqrt(var + L->eps));
}

/* Vectors [B, C]: every feature's statistics. */
static void row_stats(const Layer *L, LayerCall *c, float *mean, float *inv) {
    int C = L->in.c;
    double *sum = (double *)c->temp, *ssq = sum + C;
    if (c->train) {
        row_sums(c->x, c->B, C, sum);
        for (int j = 0; j < C; j++) sum[j] /= (double)c->B, ssq[j] = 0;
        for (int b = 0; b < c->B; b++)
            for (int j = 0; j < C; j++) {
                double d = (double)c->x[(size_t)b * C + j] - sum[j];
                ssq[j] += d * d;
            }
    }
    for (int j = 0; j < C; j++)
        channel_stats(L, c, (size_t)c->B, j, c->train ? sum[j] : 0, c->train ? ssq[j] : 0, mean,
                      inv);
}

/* Images go channel by channel, statistics then normalisation, so that a
 * channel's values are read again while still in cache. */
static void bn_fwd(const Layer *L, LayerCall *c) {
    Stride st = bn_stride(L, c->B);
    int C = L->in.c;
    const float *gamma = c->p + L->w, *beta = c->p + L->b;
    float *xhat = c->saved, *inv = c->saved + (size_t)c->B * shape_size(L->in);
    float *mean = (float *)c->temp + 4 * (size_t)C;
    if (L->in.flat) {
        row_stats(L, c, mean, inv);
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
        double m = 0, ssq = 0;
        if (c->train) {
            m = sum_of(x, st.n) / (double)st.n;
            ssq = sq_dev(x, st.n, m);
        }
        channel_stats(L, c, st.n, ch, m, ssq, mean, inv);
        float *y = c->y + ch * st.cs, *xh = xhat + ch * st.cs;
        const float mu = mean[ch], istd = inv[ch], g = gamma[ch], b = beta[ch];
        for (size_t i = 0; i < st.n; i++) {
            float h = (x[i] - mu) * istd;
            xh[i] = h;
            y[i] = g * h + b;
        }
        act_forward(L->act, L->slope, y, st.n);
    }
}

/* Training mode: the batch statistics depend on every x, hence the two sums;
 * dx = gamma*inv/N * (N dz - sum dz - xhat * sum(dz xhat)). In evaluation the
 * statistics are constants: dx = gamma*inv*dz. */
/* dx = k (kn dz - kb - xhat kg), per channel: dW and the coefficients from the
 * channel's sums. */
static void coefficients(const Layer *L, LayerCall *c, size_t n, int ch, double sg, double sb,
                         float *k) {
    const float *gamma = c->p + L->w, *inv = c->saved + (size_t)c->B * shape_size(L->in);
    c->g[L->w + ch] = (float)sg;
    c->g[L->b + ch] = (float)sb;
    float fn = (float)n;
    k[0] = c->train ? gamma[ch] * inv[ch] / fn : gamma[ch] * inv[ch];
    k[1] = c->train ? fn : 1.0f;
    k[2] = c->train ? (float)sb : 0.0f;
    k[3] = c->train ? (float)sg : 0.0f;
}

/* Images, like forward, go channel by channel: the activation's gradient, the
 * sums, then dx while the channel is in cache. */
static void bn_bwd(const Layer *L, LayerCall *c) {
    Stride st = bn_stride(L, c->B);
    int C = L->in.c;
    const float *xhat = c->saved;
    if (L->in.flat) {
        act_backward(L->act, L->slope, c->y, c->dy, (size_t)c->B * C);
        double *sg = (double *)c->temp, *sb = sg + C;
        float *k = (float *)c->temp + 4 * (size_t)C; /* [C][4] */
        row_sums(c->dy, c->B, C, sb);
        for (int j = 0; j < C; j++) sg[j] = 0;
        for (int b = 0; b < c->B; b++)
            for (int j = 0; j < C; j++)
                sg[j] += (double)c->dy[(size_t)b * C + j] * xhat[(size_t)b * C + j];
        for (int j = 0; j < C; j++) coefficients(L, c, st.n, j, sg[j], sb[j], k + 4 * j);
        if (!c->dx) return;
        for (int b = 0; b < c->B; b++) {
            const float *dz = c->dy + (size_t)b * C, *xh = xhat + (size_t)b * C;
            float *dx = c->dx + (size_t)b * C;
            for (int j = 0; j < C; j++) {
                const float *kj = k + 4 * j;
                dx[j] = kj[0] * (kj[1] * dz[j] - kj[2] - xh[j] * kj[3]);
            }
        }
        return;
    }
    for (int ch = 0; ch < C; ch++) {
        float *dz = c->dy + ch * st.cs;
        const float *xh = xhat + ch * st.cs;
        act_backward(L->act, L->slope, c->y + ch * st.cs, dz, st.n);
        double sg, sb;
        grad_sums(dz, xh, st.n, &sg, &sb);
        float k[4];
        coefficients(L, c, st.n, ch, sg, sb, k);
        if (!c->dx) continue;
        float *dx = c->dx + ch * st.cs;
        const float a = k[0], an = k[1], ab = k[2], ag = k[3];
        for (size_t i = 0; i < st.n; i++) dx[i] = a * (an * dz[i] - ab - xh[i] * ag);
    }
}

/* Per channel, two doubles (sums) and four floats (mean, or dx's coefficients). */
static size_t bn_temp(const Layer *L, int B) {
    (void)B;
    return 8 * (size_t)L->in.c;
}

static double bn_macs(const Layer *L) { return 2.0 * shape_size(L->in); }

const LayerKindOps layer_batchnorm = {"batchnorm", bn_setup, bn_init, bn_fwd, bn_bwd,
                                      bn_saved, bn_temp, bn_macs};
