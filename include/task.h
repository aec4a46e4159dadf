/* One task: train the autoencoder on a split, measure it and its codes (k-NN,
 * a linear probe), train the classifier on its codes. The unit `train` runs once and the search runs per (trial, fold).
 * Knows nothing of MPI or HDF5. */
#ifndef AESWEEP_TASK_H
#define AESWEEP_TASK_H

#include "classifier.h"
#include "dataset.h"
#include "trainer.h"

/* Where a task keeps its checkpoints: the task hands over a Trainer's bytes
 * after every `every` epochs and asks for the last ones before it starts; the
 * caller makes them durable (the task knows no files). */
typedef struct {
    int every; /* epochs between checkpoints; 0: none */
    /* The last checkpoint's bytes (malloc'd, the task frees them), or *buf NULL
     * for none; non-zero and e set when one is there that must not be loaded. */
    int (*load)(void *ctx, void **buf, size_t *n, Err *e);
    int (*save)(void *ctx, const void *buf, size_t n, int epoch, Err *e);
    void *ctx;
} CheckpointStore;

typedef struct {
    TrainConfig train;
    ClassifierConfig classifier;
    int use_classifier;
    CheckpointStore checkpoints; /* zero: none */
    /* Train to this epoch of train.epochs and stop there, checkpointed (a
     * hyperband rung: a later task goes on from it); 0: to the end. */
    int until;
} TaskConfig;

typedef struct {
    TrainResult fit;         /* the autoencoder's run: status, epochs, curve */
    ClassifierResult cls;    /* when the classifier ran */
    double test_mse;
    double val_nrmse, test_nrmse; /* RMSE over the range of the split's pixels */
    double val_latent_accuracy, test_latent_accuracy; /* NaN unless bottleneck = classes */
    double val_accuracy, test_accuracy;               /* the classifier's; NaN without */
    double val_kl, val_elbo, test_kl, test_elbo;      /* a variational model's; NaN else */
    /* k-NN and linear-probe accuracies of the codes (probe.h), from the training
     * split's codes; NaN for an empty split */
    double val_knn_accuracy, val_linear_accuracy, test_knn_accuracy, test_linear_accuracy;
    int n_classes;
    int *confusion;          /* [n_classes^2] on the test split (rows: true class), or NULL */
    Model model, classifier; /* owned; classifier.n_layers is 0 when none */
    int classifier_on_images;  /* it reads the images (classifier.finetune), not the codes */
    /* the epochs a checkpoint brought (0: trained from the start); -1: there was
     * one that could not be loaded (checkpoint_note says why), so it trained from 0 */
    int resumed_epoch;
    char checkpoint_note[256];
} TaskResult;

/* What a task reports to the coordinator and keeps in its file: a fixed-size
 * summary of a TaskResult (the curve travels beside it). */
typedef struct {
    int trial, fold, rank, status, epochs, best_epoch;
    double train_mse, val_mse, val_accuracy, latent_accuracy, objective, seconds;
    double test_mse, test_accuracy, test_latent_accuracy, test_nrmse;
    double val_knn_accuracy, val_linear_accuracy, test_knn_accuracy, test_linear_accuracy;
    double write_seconds; /* writing and syncing the task file */
    int resumed_epoch;    /* TaskResult's */
    int checkpoints;      /* written by this task */
    double checkpoint_seconds, checkpoint_bytes; /* their total time, and one's size */
    char checkpoint_note[200]; /* why a checkpoint on disk was not used, or "" */
    int fatal;            /* the task file could not be written: the run must stop */
} TaskReport;

/* The summary of a finished task (objective left NaN: the job decides it). */
void task_report(const TaskResult *r, int trial, int fold, TaskReport *out);

/* test may be NULL or empty (a fold: no test metrics). Divergence and
 * interruption are statuses in r->fit.status, not errors. */
int task_run(const TaskConfig *cfg, const Dataset *d, const Index *train, const Index *val,
             const Index *test, TaskResult *r, Err *e);
void task_result_free(TaskResult *r);

/* argmax of each code against its label, for a bottleneck of n_classes units
 * (softmax does not move the argmax); NaN for other widths or an empty split. */
int latent_accuracy(const Model *m, const Images *data, const Index *ix, int n_classes,
                    double *accuracy, Err *e);

/* The codes of ix under the model's encoder, with their labels. */
int encode_split(const Model *m, const Images *data, const Index *ix, Features *out, Err *e);

#endif
