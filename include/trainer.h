/* Trains one autoencoder on one split. Knows nothing of MPI or HDF5. */
#ifndef AESWEEP_TRAINER_H
#define AESWEEP_TRAINER_H

#include <signal.h>

#include "augment.h"
#include "dataset.h"
#include "err.h"
#include "model.h"
#include "nn.h"
#include "optim.h"
#include "penalty.h"
#include "schedule.h"

/* What the trainer says after each epoch (TrainConfig.on_epoch). */
typedef struct {
    int epoch, epochs;
    double train_loss, val_loss, val_mse; /* NaN when not measured (no validation split) */
    double seconds;                       /* this epoch's wall time, its validation included */
} EpochReport;

typedef struct {
    ModelShape shape;
    Optim optim;       /* its lr is the base rate of the schedule */
    Schedule schedule;
    Loss loss;
    int batch_size;
    int epochs;
    int patience;      /* 0: no early stopping */
    float min_delta;
    float dropout;
    float input_noise; /* std of Gaussian noise added to the input (denoising) */
    /* A variational model's reconstruction term is the sum over the pixels of the
     * loss divided by 2c (for mse, the Gaussian likelihood of variance c). */
    float likelihood_variance;
    float mae_weight; /* mse+mae: mse + mae_weight * mae */
    /* the reconstruction term's weight; 0 with a head penalty (guided, supcon)
     * trains the encoder alone (shape.no_decoder: nothing is reconstructed) */
    float recon_weight;
    Augment augment;   /* of every training batch (supcon: of each of its two views) */
    PenaltyConfig penalty; /* on the code; labels reach training only through it */
    uint64_t seed;
    /* Set asynchronously (a signal handler) to stop at the next minibatch. */
    volatile sig_atomic_t *stop;
    /* Called after each epoch, e.g. for progress output; may be NULL. */
    void (*on_epoch)(void *ctx, const EpochReport *r);
    void *ctx;
} TrainConfig;

typedef enum {
    TRAIN_OK = 0,
    TRAIN_DIVERGED = 1,
    TRAIN_FAILED = 2,
    TRAIN_INTERRUPTED = 3,
} TrainStatus;

#define CURVE_COLS 3 /* train_loss, val_loss, val_metric */

typedef struct {
    TrainStatus status;
    int epochs;       /* epochs run */
    int best_epoch;   /* 1-based epoch whose weights were kept */
    double *curve;    /* [epochs, CURVE_COLS]; owned, free with train_result_free */
    double train_mse; /* of the kept weights, on the training split, no noise/dropout */
    double val_mse;
    double seconds;
    Model head;       /* guided: the classifier on the code, as kept; owned (n_layers 0: none) */
} TrainResult;

/* Builds the model from cfg->shape, initialises it from cfg->seed and trains it on
 * the images train->idx of data, validating on val (which may be empty: then
 * early stopping watches the training loss). On return *model holds the kept
 * weights (even when diverged, for inspection). Returns AE_OK unless something
 * failed outright (out of memory); divergence and interruption are statuses. */
int trainer_fit(const TrainConfig *cfg, const Images *data, const Index *train, const Index *val,
                Model *model, TrainResult *res, Err *e);
void train_result_free(TrainResult *r);

/* trainer_fit in steps, so that a training can stop after any epoch and go on
 * later, in this process or another, from a checkpoint: bit for bit as if it
 * had run straight through (issue 17). trainer_begin sets up what trainer_fit
 * does before its first epoch (NULL and e set on failure, nothing held);
 * trainer_run trains epochs until `until` are done, or early stopping,
 * divergence or cfg->stop end it (returns the epochs done); trainer_end keeps
 * the best epoch, measures it as trainer_fit does and frees the Trainer;
 * trainer_abandon frees it with the model and the result. */
typedef struct Trainer Trainer;
Trainer *trainer_begin(const TrainConfig *cfg, const Images *data, const Index *train,
                       const Index *val, Model *model, TrainResult *res, Err *e);
int trainer_run(Trainer *t, int until);
/* More epochs to train: no early stop, divergence or interruption, and fewer than
 * cfg->epochs done. */
int trainer_running(const Trainer *t);
void trainer_end(Trainer *t);
void trainer_abandon(Trainer *t);
/* A checkpoint: every state the next epochs read (weights, optimizer states and
 * step counts, every random generator, the shuffled order, early stopping, the
 * best epoch's state, a penalty's network and prior stream, the curve so far),
 * as bytes for this build and this training. It is meant for a Trainer begun
 * with the same config, data and split: one whose size differs, or whose
 * counts are out of range or whose shuffled order is not this split's, is
 * refused (AE_EINPUT) and the Trainer is left as it was. Which job, trial and
 * fold a checkpoint belongs to is for its file to say (checkpoint.h). */
size_t trainer_checkpoint_size(Trainer *t);
void trainer_checkpoint_save(Trainer *t, void *buf);
int trainer_checkpoint_load(Trainer *t, const void *buf, size_t size, Err *e);
/* The model cfg describes, for data's images (no weights drawn yet). */
int trainer_build_model(const TrainConfig *cfg, const Images *data, Model *m, Err *e);
/* "ok", "diverged", "failed", "interrupted". */
const char *train_status_name(TrainStatus s);

/* One optimisation step on the B rows in w->input against target (the input
 * itself, or the clean batch when the input is noisy), plus the penalty on the
 * code when pen is non-NULL (labels: the batch's, for class_target). Returns the
 * batch loss (reconstruction + lambda * penalty); a non-finite loss is returned
 * before any update. */
double train_step(const TrainConfig *cfg, Model *m, Work *w, Optim *opt, const float *target,
                  int B, Rng *drop, Penalty *pen, const uint8_t *labels);

/* A variational model's KL divergence and ELBO per image on ix (evaluation mode:
 * z = mu), ELBO = -(reconstruction term + KL) with the loss of cfg (the
 * reconstruction over 2c; beta not applied); both NaN for other models. */
int trainer_eval_elbo(const TrainConfig *cfg, const Model *m, const Images *data, const Index *ix,
                      double *kl, double *elbo, Err *e);

/* Mean squared error per element of the model's reconstruction of ix. */
int model_eval_mse(const Model *m, const Images *data, const Index *ix, double *mse, Err *e);

/* Early stopping, shared by the autoencoder and the classifier: an epoch improves
 * when its value beats the best by more than min_delta (lower is better, or
 * higher with maximize). */
typedef struct {
    int patience; /* 0: never stop early */
    double min_delta;
    int maximize;
    double best;
    int best_epoch, since_best;
} EarlyStop;

void early_stop_init(EarlyStop *s, int patience, double min_delta, int maximize);
/* Returns 1 when epoch is the new best; sets *stop when patience has run out. */
int early_stop_update(EarlyStop *s, int epoch, double value, int *stop);

#endif
