/* From a job to its tasks: the job's data (subsets, folds, holdout) and each
 * task's configuration and seed. Every draw is a function of the job's seed and
 * the task's (trial, fold), never of which rank runs it. */
#ifndef AESWEEP_PLAN_H
#define AESWEEP_PLAN_H

#include "spec.h"
#include "task.h"

typedef struct {
    Dataset data;
    Index train; /* data.train_limit's stratified subset of the training images */
    Index test;  /* data.test_limit's subset of the test images */
} JobData;

/* Loads the job's dataset; errors name the job file and the data key. */
int job_data_load(const Job *job, JobData *d, Err *e);
void job_data_free(JobData *d);

#define FOLD_REFIT (-1) /* the task that refits on the whole training set */

/* The split of a task: fold in [0, folds) of a stratified k-fold split (with
 * folds = 1, the stratified holdout of data.validation); FOLD_REFIT is the whole
 * training subset with no validation. */
int job_data_split(const Job *job, const JobData *d, int folds, int fold, Index *train,
                   Index *val, Err *e);

/* The number of images the smallest of the job's splits trains on: fold 0 of
 * `folds` (the fold with the most validation images), or the holdout when folds is 1.
 * A split the data cannot make (more folds than a class has images) is AE_EINPUT
 * naming search.folds or data.validation. */
int job_data_fit_size(const Job *job, const JobData *d, int folds, int *n, Err *e);

/* AE_EINPUT when batch is larger than the n images a model trains on; the message
 * names `where` (the key, or the search.space entry that sets it). Callers check the
 * batch sizes a user wrote: a default that is larger is no error (a batch is then
 * the whole set), so that a small job needs no batch size of its own. */
int job_batch_check(const Job *job, const char *where, double batch, int n, Err *e);

/* Builds the job's autoencoder for the data's images, so that every shape is
 * checked before any training: AE_EINPUT naming the job file and the entry
 * (model.encoder[1].kernel). With m non-NULL the model is kept there (no weights
 * drawn); else it is freed. */
int job_model_check(const Job *job, const JobData *d, Model *m, Err *e);

/* The seed of task (trial, fold) of a job. */
uint64_t task_seed(const Job *job, int trial, int fold);

/* The task configuration of a job. */
void job_task_config(const Job *job, uint64_t seed, int use_classifier, TaskConfig *cfg);

#endif
