/* A search's shared state on every rank (the job, its space, its data, the output
 * folder) and the execution of one task, which writes the task's file and
 * returns a fixed-size report. No MPI here: the farm moves reports around. */
#ifndef AESWEEP_EXPERIMENT_H
#define AESWEEP_EXPERIMENT_H

#include <signal.h>

#include "plan.h"
#include "search.h"

typedef struct {
    Job job;
    Space space;
    JobData data;
    char out_dir[AE_PATH_MAX];
    char tasks_dir[AE_PATH_MAX];
    char sha[65]; /* SHA-256 of the job's JSON: which search a file belongs to */
    char *sets;   /* the --set overrides as given, one per line ("" without): what
                     made this run of the job file, for the results file (owned) */
} Experiment;

/* Loads and checks everything a run needs before any training: the job (with
 * --set overrides), its search space, its data. out_dir overrides output.dir
 * when non-NULL. data: NULL to load the job's data here, or data already loaded
 * for this job (a node's shared copy), which the experiment takes over (*data
 * is emptied, even on failure). */
int experiment_open(Experiment *x, const char *job_path, const char *const *sets, int n_sets,
                    const char *out_dir, JobData *data, Err *e);
void experiment_close(Experiment *x);


#define CURVE_MAX_EPOCHS 100000

/* What a worker is asked to train. */
typedef struct {
    int trial, fold;
    int epochs;  /* FOLD_REFIT: the epochs to train */
    int until;   /* a hyperband rung: train to this epoch and keep the checkpoint; 0: all */
    int lineage; /* the trial whose training it goes on with: its seed and checkpoint
                    (a promoted trial's first rung; otherwise the trial itself) */
} TaskPlan;

/* Runs task p of the point given as --set overrides (one per line). Writes the
 * task file (experiment_task_path) and fills rep and curve[epochs * 3] (curve
 * has room for train.epochs rows). Divergence and interruption are statuses in
 * rep. */
int experiment_run_task(const Experiment *x, const TaskPlan *p, int rank, const char *overrides,
                        volatile sig_atomic_t *stop, TaskReport *rep, double *curve, Err *e);
/* The most epochs a task of the search can run (for curve buffers). */
int experiment_max_epochs(const Experiment *x);
/* Creates OUT and OUT/tasks. */
int experiment_make_dirs(const Experiment *x, Err *e);
/* OUT/tasks/AAA/BBB/tTRIAL_fFOLD.h5 with i = trial * folds + fold, AAA = i / 10^6
 * and BBB = i / 1000 mod 1000 (at most 1000 entries a folder); OUT/tasks/best.h5
 * for the refit. */
void experiment_task_path(const Experiment *x, int trial, int fold, char *buf, size_t n);
/* The same with .ckpt (best.ckpt): the running task's checkpoint, beside its file. */
void experiment_checkpoint_path(const Experiment *x, int trial, int fold, char *buf, size_t n);
/* Creates the folder of a task's file (durably: each new folder's name is
 * synced in its parent); AE_ERUN naming it. */
int experiment_make_task_dir(const Experiment *x, int trial, int fold, Err *e);
/* The objective of a task's report under the job's objective. */
double report_objective(const Experiment *x, const TaskReport *r);

#endif
