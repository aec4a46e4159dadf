/* A small MLP trained on the frozen encoder's codes, or (finetune) on the images
 * through the encoder's layers, which train with it: hidden ReLU layers, a linear
 * last layer with softmax cross-entropy, Adam, early stopping on validation
 * accuracy that keeps the best epoch's weights. */
#ifndef AESWEEP_CLASSIFIER_H
#define AESWEEP_CLASSIFIER_H

#include <signal.h>
#include <stdint.h>

#include "dataset.h"
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
    int finetune;  /* the encoder trains with it, from the autoencoder's weights */
    uint64_t seed;
    volatile sig_atomic_t *stop;
} ClassifierConfig;

/* Labelled feature rows: the codes of one split. */
typedef struct {
    float *x;   /* [n, d] */
    uint8_t *y; /* [n] */
    int n, d;
} Features;

/* What a classifier reads: a split's codes, or (fine-tuning) its images. */
typedef struct {
    const Features *codes; /* or NULL, and then: */
    const Images *images;
    const Index *ix;
} Rows;

static inline Rows rows_of_codes(const Features *f) { return (Rows){.codes = f}; }
static inline Rows rows_of_images(const Images *im, const Index *ix) {
    return (Rows){.images = im, .ix = ix};
}
static inline int rows_count(const Rows *r) { return r->codes ? r->codes->n : r->ix->n; }

typedef struct {
    int status; /* TrainStatus */
    int epochs, best_epoch;
    double *curve; /* [epochs, 3]: train_loss, val_loss, val_accuracy; owned */
    double val_accuracy;
} ClassifierResult;

void features_free(Features *f);

/* Trains net on train, stopping on val (which may be empty: then it runs all
 * epochs). On codes net is built here: d -> hidden... -> n_classes. Fine-tuning
 * (rows of images), net is the layers of `pretrained` before its code, with their
 * trained weights, then that MLP. */
int classifier_fit(const ClassifierConfig *cfg, const Rows *train, const Rows *val,
                   int n_classes, const Model *pretrained, Model *net, ClassifierResult *r,
                   Err *e);
void classifier_result_free(ClassifierResult *r);

/* Accuracy of net on rows; with confusion non-NULL, also the [n_classes,
 * n_classes] counts (row: true class, column: predicted). NaN for no rows. */
int classifier_accuracy(const Model *net, const Rows *rows, int n_classes, double *accuracy,
                        int *confusion, Err *e);

#endif
