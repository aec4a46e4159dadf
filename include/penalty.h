/* Penalties on the latent code z (the bottleneck layer's output), added to the
 * reconstruction loss as lambda * penalty. Each returns its value for the batch
 * and, when asked, its gradient with respect to the codes only.
 *
 * class_target: mean over the batch of ||z_i - t_{y_i}||_2, where t_y is row y of
 *   the identity: the one-hot of the label, padded with zeros when the bottleneck
 *   is wider than the class count, truncated when it is narrower (a class whose
 *   one-hot falls outside the code then has the zero vector as target).
 *
 * csd: the Cauchy-Schwarz divergence between the batch of codes z (N rows) and an
 *   equal-sized sample p of the prior,
 *       D_CS = log V(z,z) + log V(p,p) - 2 log V(z,p),
 *       V(a,b) = 1/(N M) sum_i sum_j G(a_i - b_j),
 *   with G the Gaussian of width sigma*sqrt(2) (two Parzen windows of width sigma
 *   convolved): G(u) = exp(-||u||^2 / (4 sigma^2)) up to its normalising constant,
 *   which cancels in D_CS. Each log V is a log-sum-exp (the largest term is
 *   factored out), so no sum underflows to log(0). D_CS >= 0, and 0 when the two
 *   samples coincide. */
#ifndef AESWEEP_PENALTY_H
#define AESWEEP_PENALTY_H

#include <stdint.h>

#include "err.h"
#include "rng.h"

typedef enum { PENALTY_NONE, PENALTY_CLASS_TARGET, PENALTY_CSD, PENALTY_COUNT } PenaltyKind;
typedef enum { PRIOR_ONEHOT, PRIOR_SWISS_ROLL, PRIOR_GAUSSIAN, PRIOR_COUNT } PriorKind;

extern const char *const penalty_names[PENALTY_COUNT];
extern const char *const prior_names[PRIOR_COUNT];

typedef struct {
    PenaltyKind kind;
    float lambda;
    float sigma;       /* csd: Parzen window width */
    PriorKind prior;   /* csd */
    float prior_noise; /* std of Gaussian noise added to onehot prior samples */
    int n_classes;     /* onehot prior: labels drawn uniformly from [0, n_classes) */
} PenaltyConfig;

/* Buffers for one batch of up to max_batch codes of width d, and the stream the
 * prior samples come from. */
typedef struct {
    PenaltyConfig cfg;
    int max_batch, d;
    float *prior;  /* [B, d] */
    float *kernel; /* [B, B] scratch: Gram products, then kernel weights */
    float *sq_z, *sq_p; /* [B] squared norms */
    float *dcode;  /* [B, d]: lambda * d penalty / d z */
    Rng rng;
} Penalty;

/* Fails (AE_EINPUT) when the prior cannot fill the code, e.g. swiss_roll with a
 * bottleneck below 2. */
int penalty_init(Penalty *p, const PenaltyConfig *cfg, int max_batch, int d, uint64_t seed,
                 Err *e);
void penalty_free(Penalty *p);
/* Restarts the prior stream, so that evaluations see the same prior samples. */
void penalty_reseed(Penalty *p, uint64_t seed);

/* lambda * penalty of the batch of codes z [B, d] with their labels; when grad is
 * nonzero, p->dcode receives lambda * d penalty / d z. */
double penalty_forward_backward(Penalty *p, const float *z, const uint8_t *labels, int B,
                                int grad);

/* The raw penalties (no lambda). dz may be NULL. */
double class_target_forward_backward(const float *z, const uint8_t *labels, int B, int d,
                                     float *dz);
/* kernel: [N, N] scratch; sq_z, sq_p: [N] scratch. */
double csd_forward_backward(const float *z, const float *p, int N, int d, float sigma,
                            float *kernel, float *sq_z, float *sq_p, float *dz);

/* N samples of the prior in d dimensions (see penalty.h's header comment):
 * onehot: one-hot rows of labels uniform in [0, n_classes), padded/truncated to d,
 *   plus N(0, noise^2) per element; swiss_roll: t = 1.5 pi (1 + 2u), (t cos t,
 *   t sin t) in the first two dimensions, zeros after; gaussian: N(0, 1). */
void prior_sample(PriorKind k, int n_classes, float noise, Rng *r, int N, int d, float *out);

#endif
