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
 *   samples coincide.
 *
 * The kinds below own a small network on the code (a Head) with its own optimizer:
 *
 * adversarial: a discriminator D (hidden widths, then 1 logit) learns to tell the
 *   codes (label 0) from an equal-sized prior sample (label 1) by sigmoid
 *   cross-entropy on logits, mean over each half, summed; one step per batch with
 *   its own Adam at disc_lr. Then the encoder's loss is the mean of
 *   softplus(-D(z)) = -log sigmoid(D(z)) under the stepped D: the codes are pushed
 *   towards what D takes for the prior. lambda weighs it. As in report 003 (and
 *   Makhzani et al.'s adversarial autoencoder), the encoder takes this step on its
 *   own, after the reconstruction step and with an optimizer of its own: a loss
 *   of order 1 beside an MSE of order 0.01 would otherwise drown the
 *   reconstruction in one shared Adam. The adversarial term is a game between two
 *   networks, not a measure: evaluations (the validation loss) leave it out.
 * adversarial+csd: the same plus csd_lambda * D_CS to the same prior sample, in
 *   the encoder's own step too.
 * guided: a linear classifier on the code, trained jointly with the autoencoder
 *   (the same optimizer kind and scheduled rate): lambda * (cross-entropy + alpha *
 *   MAE(softmax, one-hot)), the MAE a mean over the classes.
 * supcon: a projection head (hidden ReLU widths, then the last width, L2
 *   normalised) and the supervised contrastive loss L_out of Khosla et al. (2020)
 *   at temperature tau over the batch's rows: each row's positives are the other
 *   rows of its label (the trainer puts two views of every image in a batch),
 *       L = mean_i -1/|P(i)| sum_{p in P(i)} log( exp(s_ip/tau) / sum_{a != i} exp(s_ia/tau) ),
 *   s the cosine similarities of the projections; lambda weighs it. */

#ifndef AESWEEP_PENALTY_H
#define AESWEEP_PENALTY_H

#include <stdint.h>

#include "err.h"
#include "model.h"
#include "optim.h"
#include "rng.h"

typedef enum {
    PENALTY_NONE,
    PENALTY_CLASS_TARGET,
    PENALTY_CSD,
    PENALTY_ADVERSARIAL,
    PENALTY_ADVERSARIAL_CSD,
    PENALTY_GUIDED,
    PENALTY_SUPCON,
    PENALTY_COUNT
} PenaltyKind;
typedef enum { PRIOR_ONEHOT, PRIOR_SWISS_ROLL, PRIOR_GAUSSIAN, PRIOR_COUNT } PriorKind;

extern const char *const penalty_names[PENALTY_COUNT];
extern const char *const prior_names[PRIOR_COUNT];

typedef struct {
    PenaltyKind kind;
    float lambda;
    float sigma;       /* csd: Parzen window width */
    PriorKind prior;   /* csd, adversarial */
    float prior_noise; /* std of Gaussian noise added to onehot prior samples */
    int n_classes;     /* onehot prior: labels drawn uniformly from [0, n_classes); guided */
    float csd_lambda;  /* adversarial+csd: the weight of D_CS */
    /* the head's widths after the code: adversarial, the discriminator's hidden
     * layers (the 1 logit follows); supcon, the projection's (the last is its output) */
    int n_head;
    int head[AE_MAX_HIDDEN];
    Act head_act;      /* the discriminator's hidden activation */
    float disc_lr;     /* adversarial: the discriminator's Adam rate */
    float alpha;       /* guided: the weight of the MAE term */
    float temperature; /* supcon */
    Optim optim;       /* guided, supcon: the autoencoder's optimizer (its rate follows
                          penalty_set_lr) */
} PenaltyConfig;

/* What a penalty kind does: one row of penalty_kinds[]. */
struct Penalty;
typedef struct {
    int uses_prior;    /* draws prior samples: needs penalty.prior */
    int follows_lr;    /* its head learns at the autoencoder's scheduled rate */
    int own_step;      /* the encoder takes a step on the penalty alone, with an
                          optimizer of its own, after the reconstruction step */
    int (*init)(struct Penalty *p, Err *e);
    /* The weighted penalty of the codes z [B, d]; with dz non-NULL (a training
     * step) also its gradient, and the head's own step. */
    double (*apply)(struct Penalty *p, const float *z, const uint8_t *labels, int B, float *dz);
} PenaltyKindOps;

extern const PenaltyKindOps penalty_kinds[PENALTY_COUNT];

/* A small network on the code with its own optimizer, and its scratch. */
typedef struct {
    Model m;
    Work w;
    Optim opt;
    float *dout; /* [rows, max(out, d)]: dL/d(its output) */
    float *unit, *sim, *norm; /* supcon: [rows, out] projections, [rows, rows], [rows] */
} Head;

/* A dense stack d -> widths[0..n) with activations acts, weights drawn from seed,
 * for batches of up to rows; sims: the scratch of a contrastive loss too. */
int head_init(Head *h, int d, int n, const int *widths, const Act *acts, int rows, int sims,
              const Optim *opt, uint64_t seed, Err *e);
void head_free(Head *h);
/* One step of the head's optimizer on the gradients its last backward pass left. */
void head_step(Head *h);

/* Buffers for one batch of up to max_batch codes of width d, the stream the
 * prior samples come from, and the head when the kind has one. */
typedef struct Penalty {
    PenaltyConfig cfg;
    int max_batch, d;
    float *prior;  /* [B, d] */
    float *kernel; /* [B, B] scratch: Gram products, then kernel weights */
    float *sq_z, *sq_p; /* [B] squared norms */
    float *dcode;  /* [B, d]: d (weighted penalty) / d z */
    float *part;   /* [B, d]: one term's gradient, when terms are added */
    Head head;
    int has_head;
    Rng rng;
} Penalty;

/* Fails (AE_EINPUT) when the prior cannot fill the code, e.g. swiss_roll with a
 * bottleneck below 2. The head's weights are drawn from seed. */
int penalty_init(Penalty *p, const PenaltyConfig *cfg, int max_batch, int d, uint64_t seed,
                 Err *e);
void penalty_free(Penalty *p);
/* Restarts the prior stream, so that evaluations see the same prior samples. */
void penalty_reseed(Penalty *p, uint64_t seed);
/* The autoencoder's rate for this epoch: a head that learns with it follows. */
void penalty_set_lr(Penalty *p, float lr);
/* The head's trained state (parameters and buffers), for keeping the best epoch's. */
size_t penalty_state_size(const Penalty *p);
void penalty_state_save(const Penalty *p, float *to);
void penalty_state_load(Penalty *p, const float *from);

/* The weighted penalty of the batch of codes z [B, d] with their labels; when grad
 * is nonzero, p->dcode receives its gradient with respect to z and a head takes
 * its own step. */
double penalty_forward_backward(Penalty *p, const float *z, const uint8_t *labels, int B,
                                int grad);

/* The raw penalties (no lambda). dz may be NULL. */
double class_target_forward_backward(const float *z, const uint8_t *labels, int B, int d,
                                     float *dz);
/* kernel: [N, N] scratch; sq_z, sq_p: [N] scratch. */
double csd_forward_backward(const float *z, const float *p, int N, int d, float sigma,
                            float *kernel, float *sq_z, float *sq_p, float *dz);

/* The discriminator's loss on codes z and prior samples p (N rows each, in the
 * head's input, laid out z then p); grads of h->m filled. */
double adversarial_disc_forward_backward(Head *h, const float *z, const float *p, int N, int d);
/* The encoder's adversarial loss, mean softplus(-D(z)); dz (NULL: not computed)
 * receives its gradient. */
double adversarial_gen_forward_backward(Head *h, const float *z, int N, int d, float *dz);
/* Cross-entropy + alpha * MAE of the classifier head on z; its grads filled and
 * dz written when dz is non-NULL. */
double guided_forward_backward(Head *h, const float *z, const uint8_t *labels, int N, int d,
                               float alpha, float *dz);
/* SupCon of the head's projections of z at temperature tau; grads filled and dz
 * written when dz is non-NULL. */
double supcon_forward_backward(Head *h, const float *z, const uint8_t *labels, int N, int d,
                               float tau, float *dz);

/* N samples of the prior in d dimensions (see penalty.h's header comment):
 * onehot: one-hot rows of labels uniform in [0, n_classes), padded/truncated to d,
 *   plus N(0, noise^2) per element; swiss_roll: t = 1.5 pi (1 + 2u), (t cos t,
 *   t sin t) in the first two dimensions, zeros after; gaussian: N(0, 1). */
void prior_sample(PriorKind k, int n_classes, float noise, Rng *r, int N, int d, float *out);

#endif
