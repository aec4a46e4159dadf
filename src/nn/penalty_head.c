/* The penalties that own a network on the code (penalty.h): the adversarial
 * discriminator, the guided classifier and the SupCon projection. Each loss is a
 * forward/backward pair over the head; the kinds' `apply` (penalty.c's table)
 * step the head with its own optimizer. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fastexp.h"
#include "penalty.h"

/* log(1 + e^x) without overflow. */
static double softplus(double x) { return (x > 0 ? x : 0) + log1p(exp(-fabs(x))); }

static float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

/* Runs the head on N rows of z (training mode: nothing in a head depends on it
 * but batch norm, which heads do not have). Returns its output. */
static const float *head_forward(Head *h, const float *z, int N, int d, Rng *none) {
    memcpy(h->w.input, z, sizeof(float) * (size_t)N * d);
    model_forward_train(&h->m, &h->w, N, none);
    return model_output(&h->m, &h->w);
}

/* ---- adversarial ----------------------------------------------------------- */

double adversarial_disc_forward_backward(Head *h, const float *z, const float *p, int N, int d) {
    memcpy(h->w.input, z, sizeof(float) * (size_t)N * d);
    memcpy(h->w.input + (size_t)N * d, p, sizeof(float) * (size_t)N * d);
    model_forward_train(&h->m, &h->w, 2 * N, NULL);
    const float *logit = model_output(&h->m, &h->w);
    /* codes are class 0, prior samples class 1; each half's mean, summed */
    double loss = 0;
    for (int i = 0; i < 2 * N; i++) {
        int prior = i >= N;
        loss += softplus(prior ? -logit[i] : logit[i]);
        h->dout[i] = (sigmoid(logit[i]) - (float)prior) / (float)N;
    }
    model_backward(&h->m, &h->w, 2 * N, h->dout, NULL);
    return loss / N;
}

double adversarial_gen_forward_backward(Head *h, const float *z, int N, int d, float *dz) {
    const float *logit = head_forward(h, z, N, d, NULL);
    double loss = 0;
    for (int i = 0; i < N; i++) {
        loss += softplus(-logit[i]);
        h->dout[i] = (sigmoid(logit[i]) - 1.0f) / (float)N;
    }
    if (dz) model_backward_input(&h->m, &h->w, N, h->dout, dz);
    return loss / N;
}

/* ---- guided ---------------------------------------------------------------- */

double guided_forward_backward(Head *h, const float *z, const uint8_t *labels, int N, int d,
                               float alpha, float *dz) {
    const float *logits = head_forward(h, z, N, d, NULL);
    int C = shape_size(h->m.layer[h->m.n_layers - 1].out);
    double ce = softmax_xent_forward_backward(logits, labels, dz ? h->dout : NULL, N, C, NULL);
    /* MAE(softmax, one-hot) = mean_c |p_c - t_c|; its gradient through the
     * softmax: dl_k = p_k (g_k - sum_j g_j p_j), g = sign(p - t) / C. */
    double mae = 0;
    for (int i = 0; i < N; i++) {
        const float *l = logits + (size_t)i * C;
        float top = l[argmax(l, C)], p[256];
        double sum = 0, row = 0;
        for (int c = 0; c < C; c++) sum += (p[c] = expf(l[c] - top));
        for (int c = 0; c < C; c++) {
            p[c] = (float)(p[c] / sum);
            row += fabsf(p[c] - (c == labels[i]));
        }
        mae += row / C;
        if (!dz || alpha == 0) continue;
        float g[256], gp = 0;
        for (int c = 0; c < C; c++) {
            float diff = p[c] - (c == labels[i]);
            g[c] = (diff > 0 ? 1.0f : diff < 0 ? -1.0f : 0.0f) / (float)C;
            gp += g[c] * p[c];
        }
        float *dl = h->dout + (size_t)i * C;
        for (int c = 0; c < C; c++) dl[c] += alpha * p[c] * (g[c] - gp) / (float)N;
    }
    if (dz) model_backward_input(&h->m, &h->w, N, h->dout, dz);
    return ce + alpha * mae / N;
}

/* ---- supcon ---------------------------------------------------------------- */

double supcon_forward_backward(Head *h, const float *z, const uint8_t *labels, int N, int d,
                               float tau, float *dz) {
    const float *y = head_forward(h, z, N, d, NULL);
    int P = shape_size(h->m.layer[h->m.n_layers - 1].out);
    float *u = h->unit, *S = h->sim, *norm = h->norm;
    for (int i = 0; i < N; i++) {
        double sq = 0;
        for (int j = 0; j < P; j++) sq += (double)y[(size_t)i * P + j] * y[(size_t)i * P + j];
        norm[i] = (float)sqrt(sq) + 1e-12f;
        for (int j = 0; j < P; j++) u[(size_t)i * P + j] = y[(size_t)i * P + j] / norm[i];
    }
    float inv_tau = 1.0f / tau;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, N, P, inv_tau, u, P, u, P, 0.0f, S, N);
    /* Row i becomes dL/dS_i: softmax over a != i minus 1/|P(i)| on the positives. */
    double loss = 0;
    int anchors = 0;
    for (int i = 0; i < N; i++) {
        float *row = S + (size_t)i * N, top = -INFINITY;
        int pos = 0;
        for (int a = 0; a < N; a++)
            if (a != i) {
                top = row[a] > top ? row[a] : top;
                pos += labels[a] == labels[i];
            }
        if (pos == 0) { /* nothing to pull towards: the anchor does not count */
            memset(row, 0, sizeof(float) * (size_t)N);
            continue;
        }
        double se = 0, spos = 0;
        for (int a = 0; a < N; a++)
            if (a != i) {
                se += fast_exp(row[a] - top);
                if (labels[a] == labels[i]) spos += row[a];
            }
        double lse = top + log(se);
        loss += lse - spos / pos;
        anchors++;
        for (int a = 0; a < N; a++)
            row[a] = a == i ? 0.0f
                            : (float)(fast_exp(row[a] - top) / se) -
                                  (labels[a] == labels[i] ? 1.0f / (float)pos : 0.0f);
    }
    if (anchors == 0) {
        if (dz) memset(dz, 0, sizeof(float) * (size_t)N * d);
        return 0;
    }
    if (!dz) return loss / anchors;
    /* S = U U^T / tau: dU = (G + G^T) U / tau, G the rows above over the anchors. */
    float s = inv_tau / (float)anchors;
    float *du = h->dout;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, P, N, s, S, N, u, P, 0.0f, du, P);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, N, P, N, s, S, N, u, P, 1.0f, du, P);
    /* through u = y / |y|: dy = (du - u (u . du)) / |y| */
    for (int i = 0; i < N; i++) {
        float *g = du + (size_t)i * P;
        const float *ui = u + (size_t)i * P;
        float dot = 0;
        for (int j = 0; j < P; j++) dot += ui[j] * g[j];
        for (int j = 0; j < P; j++) g[j] = (g[j] - ui[j] * dot) / norm[i];
    }
    model_backward_input(&h->m, &h->w, N, du, dz);
    return loss / anchors;
}

/* ---- the head itself -------------------------------------------------------- */

int head_init(Head *h, int d, int n, const int *widths, const Act *acts, int rows, int sims,
              const Optim *opt, uint64_t seed, Err *e) {
    memset(h, 0, sizeof *h);
    int w[AE_MAX_HIDDEN + 2];
    w[0] = d;
    memcpy(w + 1, widths, sizeof(int) * (size_t)n);
    int rc = model_init_stack(&h->m, n, w, acts, 0.01f, 0, e);
    if (rc) return rc;
    model_init_weights(&h->m, seed);
    h->opt = *opt;
    h->opt.t = 0;
    int out = w[n], widest = out > d ? out : d;
    if (work_init(&h->w, &h->m, rows, e)) {
        head_free(h);
        return AE_ERUN;
    }
    h->dout = xmalloc(sizeof(float) * (size_t)rows * widest, e);
    if (sims) {
        h->unit = xmalloc(sizeof(float) * (size_t)rows * out, e);
        h->sim = xmalloc(sizeof(float) * (size_t)rows * rows, e);
        h->norm = xmalloc(sizeof(float) * (size_t)rows, e);
    }
    if (!h->dout || (sims && (!h->unit || !h->sim || !h->norm))) {
        head_free(h);
        return AE_ERUN;
    }
    return AE_OK;
}

void head_free(Head *h) {
    model_free(&h->m);
    work_free(&h->w);
    free(h->dout);
    free(h->unit);
    free(h->sim);
    free(h->norm);
    memset(h, 0, sizeof *h);
}

void head_step(Head *h) {
    optim_begin_step(&h->opt);
    optim_update(&h->opt, h->m.params, h->m.grads, h->m.state[0], h->m.state[1], h->m.n_params);
}
