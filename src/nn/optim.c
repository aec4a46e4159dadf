#include <math.h>

#include "optim.h"

const char *const optim_names[OPT_COUNT] = {"adam", "radam", "sgd", "rmsprop", "adagrad",
                                            "adadelta"};

void optim_init(Optim *o, OptKind kind, float lr) {
    *o = (Optim){.kind = kind, .lr = lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                 .momentum = 0.0f, .alpha = 0.99f, .rho = 0.9f};
    if (kind == OPT_ADAGRAD) o->eps = 1e-10f;
    if (kind == OPT_ADADELTA) o->eps = 1e-6f;
}

int optim_state_count(OptKind kind) {
    switch (kind) {
    case OPT_ADAM:
    case OPT_RADAM:
    case OPT_ADADELTA: return 2;
    case OPT_SGD:
    case OPT_RMSPROP:
    case OPT_ADAGRAD: return 1;
    default: return 0;
    }
}

/* The scalars of a step are computed in double from t, as torch computes them
 * in Python floats, then rounded once to float. */
void optim_begin_step(Optim *o) {
    o->t++;
    double t = (double)o->t, b1 = o->beta1, b2 = o->beta2;
    double bc1 = 1.0 - pow(b1, t), bc2 = 1.0 - pow(b2, t);
    o->rectified = 0;
    switch (o->kind) {
    case OPT_ADAM:
        o->c1 = (float)(o->lr / bc1);  /* step size */
        o->c2 = (float)sqrt(bc2);      /* sqrt of bias correction 2 */
        break;
    case OPT_RADAM: {
        double rho_inf = 2.0 / (1.0 - b2) - 1.0;
        double rho_t = rho_inf - 2.0 * t * pow(b2, t) / bc2;
        o->c1 = (float)bc1;
        if (rho_t > 5.0) {
            o->rectified = 1;
            o->c2 = (float)sqrt(bc2);
            o->c3 = (float)sqrt((rho_t - 4) * (rho_t - 2) * rho_inf /
                                ((rho_inf - 4) * (rho_inf - 2) * rho_t));
        }
        break;
    }
    default: break;
    }
}

void optim_update(const Optim *o, float *restrict p, const float *restrict g, float *restrict s0,
                  float *restrict s1, size_t n) {
    const float lr = o->lr, wd = o->weight_decay, eps = o->eps;
    switch (o->kind) {
    case OPT_ADAM: {
        const float b1 = o->beta1, b2 = o->beta2, step = o->c1, bc2s = o->c2;
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] + wd * p[i];
            s0[i] = b1 * s0[i] + (1.0f - b1) * gi;
            s1[i] = b2 * s1[i] + (1.0f - b2) * gi * gi;
            float denom = sqrtf(s1[i]) / bc2s + eps;
            p[i] -= step * (s0[i] / denom);
        }
        break;
    }
    case OPT_RADAM: {
        const float b1 = o->beta1, b2 = o->beta2, bc1 = o->c1, bc2s = o->c2, rect = o->c3;
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] + wd * p[i];
            s0[i] = b1 * s0[i] + (1.0f - b1) * gi;
            s1[i] = b2 * s1[i] + (1.0f - b2) * gi * gi;
            float m_hat = s0[i] / bc1;
            if (o->rectified)
                p[i] -= m_hat * lr * (bc2s / (sqrtf(s1[i]) + eps)) * rect;
            else
                p[i] -= m_hat * lr;
        }
        break;
    }
    case OPT_SGD: {
        const float mu = o->momentum;
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] + wd * p[i];
            /* torch starts the buffer at the first gradient; from zero state,
             * mu*0 + g is the same. */
            if (mu != 0.0f) {
                s0[i] = mu * s0[i] + gi;
                gi = s0[i];
            }
            p[i] -= lr * gi;
        }
        break;
    }
    case OPT_RMSPROP: {
        const float a = o->alpha;
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] + wd * p[i];
            s0[i] = a * s0[i] + (1.0f - a) * gi * gi;
            p[i] -= lr * (gi / (sqrtf(s0[i]) + eps));
        }
        break;
    }
    case OPT_ADAGRAD:
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] + wd * p[i];
            s0[i] += gi * gi;
            p[i] -= lr * (gi / (sqrtf(s0[i]) + eps));
        }
        break;
    case OPT_ADADELTA: {
        const float rho = o->rho;
        for (size_t i = 0; i < n; i++) {
            float gi = g[i] + wd * p[i];
            s0[i] = rho * s0[i] + (1.0f - rho) * gi * gi;
            float delta = sqrtf(s1[i] + eps) / sqrtf(s0[i] + eps) * gi;
            s1[i] = rho * s1[i] + (1.0f - rho) * delta * delta;
            p[i] -= lr * delta;
        }
        break;
    }
    default: break;
    }
}
