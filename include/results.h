/* OUT/results.h5 (SPEC §5): one writer, rank 0. Rows of /trials and /folds are
 * written at their own index (trial; trial * folds + fold), growing the extent
 * when needed, so an append never rewrites the table and the finished file does
 * not depend on the order in which tasks completed. The file is flushed after
 * every write so readers can watch a run, or with results_batch, in batches. */
#ifndef AESWEEP_RESULTS_H
#define AESWEEP_RESULTS_H

#include <stdio.h>

#include "err.h"

typedef struct {
    int trial, stage, round; /* stage/round: -1 outside bisection */
    double lr, batch_size, bottleneck, lambda, sigma; /* the trial's effective values */
    int folds;
    double objective_mean, objective_std; /* over folds; NaN unless status 0 */
    double train_mse, val_mse, val_accuracy; /* means over folds */
    double val_knn_accuracy, val_linear_accuracy; /* means over folds */
    /* the standard error of objective_mean: the folds' sample standard deviation
     * (n - 1) over sqrt(folds); NaN with one fold or unless status 0 */
    double objective_se;
    double epochs;  /* mean early-stopping epoch over folds */
    double seconds; /* sum over folds */
    int status;     /* 0 ok, 1 diverged, 2 failed */
    const char *config; /* every override of the trial, "key=value key=value" */
} TrialRow;

typedef struct {
    int trial, fold, rank, epochs;
    double train_mse, val_mse, val_accuracy, objective, seconds;
    int status;
    double val_knn_accuracy, val_linear_accuracy;
    double finished; /* s since the run started, when rank 0 got it; NaN: kept from a file */
} FoldRow;

/* /rounds: one row per bisection round and stage parameter, as the round
 * started: the interval [lo, hi] in value units (indices for a values list);
 * chosen: the stage's value, on its last round once the stage has ended. */
typedef struct {
    int stage, round, final;
    const char *param;
    double lo, hi, chosen;
} RoundRow;

typedef struct {
    const char *job_json;
    const char *job_sha256; /* hex of SHA-256 of job_json */
    const char *sets;       /* the run's --set overrides, one per line (NULL: none) */
    int input_dim;          /* the values of an image (784 for 28x28): 0 unknown */
    const char *strategy, *objective, *direction; /* direction: "min" | "max" */
    int folds;
} ResultsMeta;

/* /best's attributes: the refit of the best trial on the whole training set. */
typedef struct {
    int trial;
    double objective;
    double lr, batch_size, bottleneck, lambda, sigma;
    const char *config;
    double test_mse, test_accuracy, test_latent_accuracy, test_nrmse;
    double test_knn_accuracy, test_linear_accuracy;
    int epochs;
    const int *test_index; /* the test images scored (indices into the test set), */
    int n_test;            /* written as /best/test_index so analysis can redo it */
} BestRow;

typedef struct Results Results;

/* Creates path (truncating) with the root attributes, status "running". */
int results_create(const char *path, const ResultsMeta *meta, Results **out, Err *e);
/* One task: its /folds row and /curves/TRIAL/FOLD (float64 [epochs, 3]); when
 * task_file is non-NULL, its /model is copied to /models/TRIAL/FOLD. */
int results_write_fold(Results *r, const FoldRow *row, const double *curve, int epochs,
                       const char *task_file, Err *e);
int results_write_trial(Results *r, const TrialRow *row, Err *e);
/* /best: the attributes, and /best/model copied from the refit's task file. */
int results_write_best(Results *r, const BestRow *b, const char *task_file, Err *e);
/* /rounds, rewritten whole (a bisection has a few dozen rounds). */
int results_write_rounds(Results *r, const RoundRow *rows, int n, Err *e);
/* Root attribute status: "running", "complete" or "interrupted". */
int results_set_status(Results *r, const char *status, Err *e);
int results_close(Results *r, Err *e);

/* Batches: rows and curves are flushed once the oldest unflushed one is `seconds`
 * old (0, the default: after every write), and whenever /best, /rounds or the
 * status is written. A coordinator with thousands of results a second cannot
 * afford a flush each (the task files keep them durable meanwhile); one idle
 * calls results_flush by results_flush_due so that a batch never waits longer. */
void results_batch(Results *r, double seconds);
/* clock_seconds() at which the pending batch is due; INFINITY when none is. */
double results_flush_due(const Results *r);
/* Flushes the pending batch, if any. */
int results_flush(Results *r, Err *e);

/* The job_sha256 of an existing results file; AE_EINPUT when the file is not a
 * readable aesweep results file (missing, truncated, something else). */
int results_read_sha(const char *path, char sha[65], Err *e);

typedef struct {
    int top;    /* the best trials shown */
    int pareto; /* also the Pareto front over the objective and the code width */
} InfoOptions;

/* aesweep info: status, counts and the `top` best trials of a results file as an
 * aligned table (and the Pareto front); status (when not NULL) gets the file's
 * status ("running", "complete", ...). Retries a read that meets a flush. */
int results_info(const char *path, const InfoOptions *o, FILE *out, char *status,
                 size_t status_size, Err *e);
/* The ok trials that no other ok trial beats on both the objective (maximize: its
 * direction) and the code width (bottleneck, smaller is better), most compressed
 * first; of trials equal on both, the lowest id. front has room for n; returns
 * its count, -1 when memory runs out. */
int results_pareto(const TrialRow *rows, long n, int maximize, const TrialRow **front);

#endif
