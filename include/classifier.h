/* A small MLP trained on the frozen encoder's codes: hidden ReLU layers, a linear
 * last layer with softmax cross-entropy, Adam, early stopping on validation
 * accuracy that keeps the best epoch's weights. */
#ifndef AESWEEP_CLASSIFIER_H
#define AESWEEP_CLASSIFIER_H

#include <signal.h>
#include <stdint.h>

#include "err.h"
#include "model.h"
#include "schedule.h"

typedef struct {
    int n_hidden;
    int hidden[AE_MAX_HIDDEN];
    float lr; /* the base rate of the schedule */
    Schedule schedule;
    int batch_size, epochs;
    int patience; /* epochs without a better val accuracy; 0: never stop early */
    float dropout; /* inverted dropout after every hidden layer while training */
    int batchnorm; /* batch norm after every hidden layer, before its ReLU */
    uint64_t seed;
    volatile sig_atomic_t *stop;
} ClassifierConfig;

/* Labelled feature rows: the codes of one split. */
typedef struct {
    float *x;   /* [n, d] */
    uint8_t *y; /* [n] */
    int n, d;
} Features;

typedef struct {
    int status; /* TrainStatus */
    int epochs, best_epoch;
    double *curve; /* [epochs, 3]: train_loss, val_loss, val_accuracy; owned */
    double val_accuracy;
} ClassifierResult;

void features_free(Features *f);

/* Trains mlp (built here: d -> hidden... -> n_classes) on train, stopping on val
 * (which may be empty: then it runs all epochs). */
int classifier_fit(const ClassifierConfig *cfg, const Features *train, const Features *val,
                   int n_classes, Model *mlp, ClassifierResult *r, Err *e);
void classifier_result_free(ClassifierResult *r);

/* Accuracy of mlp on f; with confusion non-NULL, also the [n_classes, n_classes]
 * counts (row: true class, column: predicted). NaN for an empty f. */
int classifier_accuracy(const Model *mlp, const Features *f, int n_classes, double *accuracy,
                        int *confusion, Err *e);

#endif
