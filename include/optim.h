/* Optimizers, each one loop over a flat parameter block, with PyTorch's update
 * rules and defaults (torch.optim, 1.13) so results can be compared side by side. */
#ifndef AESWEEP_OPTIM_H
#define AESWEEP_OPTIM_H

#include <stddef.h>

typedef enum { OPT_ADAM, OPT_RADAM, OPT_SGD, OPT_RMSPROP, OPT_ADAGRAD, OPT_ADADELTA, OPT_COUNT } OptKind;

extern const char *const optim_names[OPT_COUNT];

typedef struct {
    OptKind kind;
    float lr;
    float beta1, beta2; /* adam, radam */
    float eps;
    float momentum;     /* sgd */
    float alpha;        /* rmsprop's smoothing constant */
    float rho;          /* adadelta */
    float weight_decay; /* L2, added to the gradient as torch does */
    long t;             /* steps taken */
    /* per-step scalars, set by optim_begin_step */
    float c1, c2, c3;
    int rectified;
} Optim;

/* PyTorch's defaults for kind, with the given learning rate. */
void optim_init(Optim *o, OptKind kind, float lr);
/* How many state arrays (of n_params floats each) the optimizer keeps: 0, 1 or 2. */
int optim_state_count(OptKind kind);
/* Starts step t+1: computes bias corrections etc. once per step. */
void optim_begin_step(Optim *o);
/* Updates p[0..n) from g using state s0, s1 (zero at the start). May be called on
 * several disjoint ranges within one step. */
void optim_update(const Optim *o, float *p, const float *g, float *s0, float *s1, size_t n);

#endif
