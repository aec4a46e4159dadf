/* The variational head: its input row is (mu, log sigma^2), each d wide; its
 * output the code z = mu + sigma * eps with eps ~ N(0, I) from the task's own
 * stream while training, z = mu in evaluation. It adds its own loss term,
 *   beta * mean over the batch of KL(N(mu, sigma^2) || N(0, I)),
 *   KL = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2),
 * in evaluation as in training, so the validation loss is the same objective. */
#include <math.h>

#include "layer.h"

static int vae_setup(Layer *L, const LayerSpec *s, Err *e) {
    int n = shape_size(L->in);
    if (!L->in.flat || n % 2)
        return err_set(e, AE_EINPUT, "%s: the variational head needs a vector of 2 x code width",
                       s->where);
    if (!(s->beta >= 0.0f))
        return err_set(e, AE_EINPUT, "%s: beta must be at least 0", s->where);
    L->out = (Shape){n / 2, 1, 1, 1};
    L->beta = s->beta;
    return AE_OK;
}

static size_t vae_saved(const Layer *L, int B) { return (size_t)B * L->out.c; }

static void vae_fwd(const Layer *L, LayerCall *c) {
    int d = L->out.c;
    double kl = 0;
    for (int b = 0; b < c->B; b++) {
        const float *mu = c->x + (size_t)b * 2 * d, *lv = mu + d;
        float *z = c->y + (size_t)b * d, *eps = c->saved + (size_t)b * d;
        for (int j = 0; j < d; j++) {
            float var = expf(lv[j]);
            kl += 0.5 * ((double)mu[j] * mu[j] + var - 1.0 - lv[j]);
            if (c->train) {
                eps[j] = (float)rng_normal(c->rng);
                z[j] = mu[j] + sqrtf(var) * eps[j];
            } else {
                z[j] = mu[j];
            }
        }
    }
    c->aux += L->beta * kl / c->B;
    c->kl += kl / c->B;
}

static void vae_bwd(const Layer *L, LayerCall *c) {
    if (!c->dx) return;
    int d = L->out.c;
    float w = L->beta / (float)c->B;
    for (int b = 0; b < c->B; b++) {
        const float *mu = c->x + (size_t)b * 2 * d, *lv = mu + d;
        const float *dz = c->dy + (size_t)b * d, *eps = c->saved + (size_t)b * d;
        float *dmu = c->dx + (size_t)b * 2 * d, *dlv = dmu + d;
        for (int j = 0; j < d; j++) {
            float var = expf(lv[j]);
            float through = c->train ? dz[j] * 0.5f * sqrtf(var) * eps[j] : 0.0f;
            dmu[j] = dz[j] + w * mu[j];
            dlv[j] = through + w * 0.5f * (var - 1.0f);
        }
    }
}

static double vae_macs(const Layer *L) { return 4.0 * L->out.c; }

const LayerKindOps layer_variational = {"variational", vae_setup, layer_no_init, vae_fwd,
                                        vae_bwd, vae_saved, layer_none, vae_macs};
