/* A small deterministic generator (xoshiro256**, seeded through splitmix64).
 * Every random stream in aesweep is a pure function of (job seed, purpose, ids),
 * so results never depend on scheduling or on the number of ranks. */
#ifndef AESWEEP_RNG_H
#define AESWEEP_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
    int has_spare;  /* Box-Muller makes normals in pairs */
    double spare;
} Rng;

/* Mixes a list of 64-bit words into one seed (order matters). */
uint64_t seed_mix(uint64_t a, uint64_t b);

void rng_seed(Rng *r, uint64_t seed);
uint64_t rng_next(Rng *r);
/* Uniform in [0, 1) with 53 (double) or 24 (float) random bits. */
double rng_uniform(Rng *r);
float rng_uniformf(Rng *r);
/* Uniform integer in [0, n), unbiased. */
uint64_t rng_below(Rng *r, uint64_t n);
/* Standard normal. */
double rng_normal(Rng *r);
/* Fisher-Yates shuffle of n ints. */
void rng_shuffle(Rng *r, int *a, int n);

/* Purposes, so that streams drawn from the same seed never coincide. */
enum {
    RNG_INIT = 1,      /* weight initialisation */
    RNG_SHUFFLE = 2,   /* minibatch order */
    RNG_DROPOUT = 3,
    RNG_NOISE = 4,     /* denoising input noise */
    RNG_SPLIT = 5,     /* subsets, holdout, folds */
    RNG_SUBSET_TRAIN = 6,
    RNG_SUBSET_TEST = 7,
    RNG_PRIOR = 8,        /* csd prior samples while training */
    RNG_PRIOR_EVAL = 9,   /* the same, for evaluations (restarted each time) */
    RNG_CLASSIFIER = 10,  /* the classifier's init and minibatch order */
    RNG_SEARCH = 11,      /* random search: trial i from (seed, i) */
    RNG_TASK = 12,        /* a task: (seed, trial, fold) */
    RNG_PROBE = 13,       /* the linear probe on the codes */
    RNG_AUGMENT = 14,     /* data augmentation (crop, flip, noise) */
    RNG_TPE = 15,         /* tpe: trial i's candidates from (seed, i) */
};

#endif
