#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fastexp.h"
#include "penalty.h"

#define PI 3.14159265358979323846

const char *const penalty_names[PENALTY_COUNT] = {"none",        "class_target", "csd",
                                                   "adversarial", "adversarial+csd",
                                                   "guided",      "supcon"};
const char *const prior_names[PRIOR_COUNT] = {"onehot", "swiss_roll", "gaussian"};

/* ---- class_target ------------------------------------------------------------ */

double class_target_forward_backward(const float *z, const uint8_t *labels, int B, int d,
                                     float *dz) {
    double sum = 0;
    for (int i = 0; i < B; i++) {
        const float *zi = z + (size_t)i * d;
        int y = labels[i];
        double sq = 0;
        for (int j = 0; j < d; j++) {
            float diff = zi[j] - (j == y ? 1.0f : 0.0f);
            sq += (double)diff * diff;
        }
        double norm = sqrt(sq);
        sum += norm;
        if (!dz) continue;
        /* d||u||/du = u/||u||; at u = 0 the subgradient 0. */
        float scale = norm > 0 ? (float)(1.0 / (norm * B)) : 0.0f;
        float *di = dz + (size_t)i * d;
        for (int j = 0; j < d; j++) di[j] = (zi[j] - (j == y ? 1.0f : 0.0f)) * scale;
    }
    return sum / B;
}

/* ---- csd ----------------------------------------------------------------------- */

static void row_norms(const float *a, int N, int d, float *sq) {
    for (int i = 0; i < N; i++) {
        float s = 0;
        for (int j = 0; j < d; j++) s += a[(size_t)i * d + j] * a[(size_t)i * d + j];
        sq[i] = s;
    }
}

/* log V(a,b) (up to the kernel's constant, which cancels in D_CS). Leaves in K the
 * normalised weights w_ij = G(a_i - b_j) / sum G, which sum to 1. The exponents
 * -||a_i - b_j||^2 / (4 sigma^2) come from one GEMM (|a|^2 + |b|^2 - 2 a.b, clamped
 * at 0 against rounding); the largest is factored out before exp. */
static double log_potential(const float *a, const float *sq_a, const float *b, const float *sq_b,
                            int N, int d, float sigma, float *K) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, N, d, 1.0f, a, d, b, d, 0.0f, K, N);
    /* in double: sigma * sigma underflows float for sigma below 1e-19 */
    const float c = (float)(-0.25 / ((double)sigma * sigma));
    float emax = -INFINITY;
    for (int i = 0; i < N; i++) {
        float *row = K + (size_t)i * N;
        for (int j = 0; j < N; j++) {
            float d2 = sq_a[i] + sq_b[j] - 2.0f * row[j];
            row[j] = (d2 > 0.0f ? d2 : 0.0f) * c;
            emax = row[j] > emax ? row[j] : emax;
        }
    }
    double total = 0;
    for (int i = 0; i < N; i++) {
        float *row = K + (size_t)i * N, rs = 0;
        for (int j = 0; j < N; j++) {
            row[j] = fast_exp(row[j] - emax);
            rs += row[j];
        }
        total += rs;
    }
    float inv = (float)(1.0 / total);
    for (size_t i = 0; i < (size_t)N * N; i++) K[i] *= inv;
    return emax + log(total) - 2.0 * log((double)N);
}

/* dz += s * (r_k z_k - (W b)_k), r_k the row sums of the weights W in K. */
static void add_weighted_pull(const float *K, const float *z, const float *b, int N, int d,
                              float s, float *dz) {
    /* dz -= s W b, then dz += s r z */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, d, N, -s, K, N, b, d, 1.0f, dz, d);
    for (int k = 0; k < N; k++) {
        float r = 0;
        for (int j = 0; j < N; j++) r += K[(size_t)k * N + j];
        for (int j = 0; j < d; j++) dz[(size_t)k * d + j] += s * r * z[(size_t)k * d + j];
    }
}

double csd_forward_backward(const float *z, const float *p, int N, int d, float sigma,
                            float *K, float *sq_z, float *sq_p, float *dz) {
    row_norms(z, N, d, sq_z);
    row_norms(p, N, d, sq_p);
    const float inv_s2 = (float)(1.0 / ((double)sigma * sigma));
    /* d log V(z,z)/dz_k = -(1/sigma^2) sum_j w_kj (z_k - z_j)  (both arguments move)
     * d log V(z,p)/dz_k = -(1/(2 sigma^2)) sum_j w'_kj (z_k - p_j)
     * so d D_CS/dz_k = -(1/sigma^2) [sum_j w_kj (z_k - z_j) - sum_j w'_kj (z_k - p_j)] */
    double lzz = log_potential(z, sq_z, z, sq_z, N, d, sigma, K);
    if (dz) {
        memset(dz, 0, sizeof(float) * (size_t)N * d);
        add_weighted_pull(K, z, z, N, d, -inv_s2, dz);
    }
    double lzp = log_potential(z, sq_z, p, sq_p, N, d, sigma, K);
    if (dz) add_weighted_pull(K, z, p, N, d, inv_s2, dz);
    double lpp = log_potential(p, sq_p, p, sq_p, N, d, sigma, K);
    return lzz + lpp - 2.0 * lzp;
}

/* ---- priors -------------------------------------------------------------------- */

void prior_sample(PriorKind k, int n_classes, float noise, Rng *r, int N, int d, float *out) {
    memset(out, 0, sizeof(float) * (size_t)N * d);
    for (int i = 0; i < N; i++) {
        float *row = out + (size_t)i * d;
        switch (k) {
        case PRIOR_ONEHOT: {
            int y = (int)rng_below(r, (uint64_t)(n_classes > 0 ? n_classes : d));
            if (y < d) row[y] = 1.0f;
            if (noise > 0)
                for (int j = 0; j < d; j++) row[j] += noise * (float)rng_normal(r);
            break;
        }
        case PRIOR_SWISS_ROLL: {
            double t = 1.5 * PI * (1.0 + 2.0 * rng_uniform(r));
            row[0] = (float)(t * cos(t));
            row[1] = (float)(t * sin(t));
            break;
        }
        case PRIOR_GAUSSIAN:
            for (int j = 0; j < d; j++) row[j] = (float)rng_normal(r);
            break;
        default: break;
        }
    }
}

/* ---- the kinds ----------------------------------------------------------------- */

static void scale(float *x, size_t n, float s) {
    for (size_t i = 0; i < n; i++) x[i] *= s;
}

static double class_target_apply(Penalty *p, const float *z, const uint8_t *labels, int B,
                                 float *dz) {
    double v = class_target_forward_backward(z, labels, B, p->d, dz);
    if (dz) scale(dz, (size_t)B * p->d, p->cfg.lambda);
    return p->cfg.lambda * v;
}

static void draw_prior(Penalty *p, int B) {
    const PenaltyConfig *c = &p->cfg;
    prior_sample(c->prior, c->n_classes, c->prior_noise, &p->rng, B, p->d, p->prior);
}

/* weight * D_CS of z to the prior sample already drawn; its gradient into g. */
static double csd_term(Penalty *p, const float *z, int B, float weight, float *g) {
    double v = csd_forward_backward(z, p->prior, B, p->d, p->cfg.sigma, p->kernel, p->sq_z,
                                    p->sq_p, g);
    if (g) scale(g, (size_t)B * p->d, weight);
    return weight * v;
}

static double csd_apply(Penalty *p, const float *z, const uint8_t *labels, int B, float *dz) {
    (void)labels;
    draw_prior(p, B);
    return csd_term(p, z, B, p->cfg.lambda, dz);
}

/* The discriminator's step on this batch, then the encoder's loss under it. */
static double adversarial_apply(Penalty *p, const float *z, const uint8_t *labels, int B,
                                float *dz) {
    (void)labels;
    draw_prior(p, B);
    if (!dz) return 0; /* not a measure (penalty.h) */
    adversarial_disc_forward_backward(&p->head, z, p->prior, B, p->d);
    head_step(&p->head);
    double v = adversarial_gen_forward_backward(&p->head, z, B, p->d, dz);
    scale(dz, (size_t)B * p->d, p->cfg.lambda);
    return p->cfg.lambda * v;
}

static double adversarial_csd_apply(Penalty *p, const float *z, const uint8_t *labels, int B,
                                    float *dz) {
    double v = adversarial_apply(p, z, labels, B, dz);
    v += csd_term(p, z, B, p->cfg.csd_lambda, dz ? p->part : NULL);
    if (dz)
        for (size_t i = 0; i < (size_t)B * p->d; i++) dz[i] += p->part[i];
    return v;
}

/* A head trained with the encoder: its step, and its term and code gradient
 * weighed by lambda. */
static double head_term(Penalty *p, double v, int B, float *dz) {
    if (dz) {
        head_step(&p->head);
        scale(dz, (size_t)B * p->d, p->cfg.lambda);
    }
    return p->cfg.lambda * v;
}

static double guided_apply(Penalty *p, const float *z, const uint8_t *labels, int B, float *dz) {
    return head_term(p, guided_forward_backward(&p->head, z, labels, B, p->d, p->cfg.alpha, dz),
                     B, dz);
}

static double supcon_apply(Penalty *p, const float *z, const uint8_t *labels, int B, float *dz) {
    return head_term(p, supcon_forward_backward(&p->head, z, labels, B, p->d, p->cfg.temperature,
                                                dz), B, dz);
}

static int no_init(Penalty *p, Err *e) {
    (void)p, (void)e;
    return AE_OK;
}

static int csd_init(Penalty *p, Err *e) {
    size_t B = (size_t)p->max_batch;
    p->kernel = xmalloc(sizeof(float) * B * B, e);
    p->sq_z = xmalloc(sizeof(float) * B, e);
    p->sq_p = xmalloc(sizeof(float) * B, e);
    p->part = xmalloc(sizeof(float) * B * p->d, e);
    return p->kernel && p->sq_z && p->sq_p && p->part ? AE_OK : AE_ERUN;
}

/* The head's seed: its own stream beside the prior's. */
static uint64_t head_seed(const Penalty *p) {
    return seed_mix(p->rng.s[0] ^ p->rng.s[1], RNG_INIT);
}

static int head_of(Penalty *p, int n, const int *widths, const Act *acts, int rows, int sims,
                   const Optim *opt, Err *e) {
    int rc = head_init(&p->head, p->d, n, widths, acts, rows, sims, opt, head_seed(p), e);
    p->has_head = rc == AE_OK;
    return rc;
}

static int adversarial_init(Penalty *p, Err *e) {
    const PenaltyConfig *c = &p->cfg;
    int w[AE_MAX_HIDDEN + 1];
    Act a[AE_MAX_HIDDEN + 1];
    for (int i = 0; i < c->n_head; i++) w[i] = c->head[i], a[i] = c->head_act;
    w[c->n_head] = 1;
    a[c->n_head] = ACT_LINEAR;
    Optim opt;
    optim_init(&opt, OPT_ADAM, c->disc_lr);
    return head_of(p, c->n_head + 1, w, a, 2 * p->max_batch, 0, &opt, e);
}

static int adversarial_csd_init(Penalty *p, Err *e) {
    int rc = csd_init(p, e);
    return rc ? rc : adversarial_init(p, e);
}

static int guided_init(Penalty *p, Err *e) {
    int C = p->cfg.n_classes;
    Act a = ACT_LINEAR;
    return head_of(p, 1, &C, &a, p->max_batch, 0, &p->cfg.optim, e);
}

static int supcon_init(Penalty *p, Err *e) {
    const PenaltyConfig *c = &p->cfg;
    Act a[AE_MAX_HIDDEN];
    for (int i = 0; i < c->n_head; i++) a[i] = i < c->n_head - 1 ? ACT_RELU : ACT_LINEAR;
    return head_of(p, c->n_head, c->head, a, p->max_batch, 1, &c->optim, e);
}

/* In penalty_names' order. */
const PenaltyKindOps penalty_kinds[PENALTY_COUNT] = {
    /* uses_prior, follows_lr, own_step */
    [PENALTY_NONE] = {0, 0, 0, no_init, NULL},
    [PENALTY_CLASS_TARGET] = {0, 0, 0, no_init, class_target_apply},
    [PENALTY_CSD] = {1, 0, 0, csd_init, csd_apply},
    [PENALTY_ADVERSARIAL] = {1, 0, 1, adversarial_init, adversarial_apply},
    [PENALTY_ADVERSARIAL_CSD] = {1, 0, 1, adversarial_csd_init, adversarial_csd_apply},
    [PENALTY_GUIDED] = {0, 1, 0, guided_init, guided_apply},
    [PENALTY_SUPCON] = {0, 1, 0, supcon_init, supcon_apply},
};

/* ---- the penalty of a training step ------------------------------------------- */

int penalty_init(Penalty *p, const PenaltyConfig *cfg, int max_batch, int d, uint64_t seed,
                 Err *e) {
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    p->max_batch = max_batch;
    p->d = d;
    if (cfg->kind == PENALTY_NONE) return AE_OK;
    const PenaltyKindOps *k = &penalty_kinds[cfg->kind];
    if (k->uses_prior && cfg->prior == PRIOR_SWISS_ROLL && d < 2)
        return err_set(e, AE_EINPUT, "penalty.prior: swiss_roll is 2-D, the bottleneck is %d", d);
    penalty_reseed(p, seed);
    size_t B = (size_t)max_batch;
    p->dcode = xmalloc(sizeof(float) * B * d, e);
    if (k->uses_prior) p->prior = xmalloc(sizeof(float) * B * d, e);
    int rc = p->dcode && (!k->uses_prior || p->prior) ? k->init(p, e) : AE_ERUN;
    if (rc) penalty_free(p);
    return rc;
}

void penalty_reseed(Penalty *p, uint64_t seed) { rng_seed(&p->rng, seed); }

void penalty_set_lr(Penalty *p, float lr) {
    if (p->has_head && penalty_kinds[p->cfg.kind].follows_lr) p->head.opt.lr = lr;
}

size_t penalty_state_size(const Penalty *p) {
    return p->has_head ? model_state_size(&p->head.m) : 0;
}

void penalty_state_save(const Penalty *p, float *to) {
    if (p->has_head) model_state_save(&p->head.m, to);
}

void penalty_state_load(Penalty *p, const float *from) {
    if (p->has_head) model_state_load(&p->head.m, from);
}

void penalty_free(Penalty *p) {
    free(p->prior);
    free(p->kernel);
    free(p->sq_z);
    free(p->sq_p);
    free(p->dcode);
    free(p->part);
    head_free(&p->head);
    memset(p, 0, sizeof *p);
}

double penalty_forward_backward(Penalty *p, const float *z, const uint8_t *labels, int B,
                                int grad) {
    if (p->cfg.kind == PENALTY_NONE) return 0;
    return penalty_kinds[p->cfg.kind].apply(p, z, labels, B, grad ? p->dcode : NULL);
}
