/* Two cheap measures of how well codes separate classes, for every task and as
 * search objectives: k-nearest-neighbour accuracy and a linear probe. Both see
 * the codes standardised by the training split (per dimension, its mean and
 * standard deviation), so neither depends on the codes' scale. */
#ifndef AESWEEP_PROBE_H
#define AESWEEP_PROBE_H

#include <stdint.h>

#include "classifier.h"
#include "err.h"

#define KNN_K 10
#define PROBE_STEPS 2000 /* at least: whole epochs of batches, so small splits train enough */
#define PROBE_BATCH 256
#define PROBE_LR 0.01f

/* Standardises train, val and test (any may have n = 0) in place by train's
 * per-dimension mean and standard deviation (a constant dimension is centred only). */
void features_standardise(Features *train, Features *val, Features *test);

/* The share of query rows whose label is the majority label of their KNN_K
 * nearest rows of ref (Euclidean; ties between labels go to the label of the
 * nearer neighbour, ties in distance to the lower row). NaN for an empty query. */
int knn_accuracy(const Features *ref, const Features *query, int n_classes, double *accuracy,
                 Err *e);

/* A softmax regression trained on train for the fewest whole epochs that make
 * PROBE_STEPS steps (Adam, PROBE_LR, batches of PROBE_BATCH, no early stopping,
 * seeded by seed), then its accuracy on each of evals[0..n_evals) (NaN for an
 * empty one). */
int linear_probe(const Features *train, const Features *const *evals, int n_evals, int n_classes,
                 uint64_t seed, double *accuracy, Err *e);

#endif
