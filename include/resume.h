/* What a search's output folder already holds, read back before the run starts:
 * the durable task files (a resumed run does not retrain them), and whether the
 * folder belongs to this job at all. No MPI. */
#ifndef AESWEEP_RESUME_H
#define AESWEEP_RESUME_H

#include "experiment.h"
#include "fsutil.h"

typedef struct {
    TaskReport rep;
    double *curve; /* [rep.epochs, 3] */
    char *config;  /* the overrides it was trained with */
} Durable;

typedef struct {
    Durable *tasks; /* sorted by (trial, fold) */
    int n;
    Durable best;   /* the refit (OUT/tasks/best.h5), when has_best */
    int has_best;
    int discarded;  /* incomplete or unreadable task files removed (their tasks rerun) */
    int moved;      /* task files and checkpoints moved from an older flat OUT/tasks */
    char aside[AE_PATH_MAX + 32]; /* where --fresh moved an earlier run, or "" */
    DirLock lock;   /* OUT's lock, held until durable_free */
    char warning[AE_PATH_MAX + 128]; /* why OUT could not be locked, or "" */
} DurableSet;

/* Takes OUT for this run: creates it and locks it against a second run (held
 * until durable_free). Then, with fresh, an earlier run is moved aside to OUT.old.N
 * and the search starts from nothing; otherwise every complete task file of this
 * job is loaded and the rest removed. A folder holding another job's results (by
 * job_sha256) is refused (AE_EINPUT) unless fresh, before anything is written;
 * so is a folder another run holds. */
int resume_prepare(const Experiment *x, int fresh, DurableSet *d, Err *e);
/* The same refusals, read only (nothing moved or removed), for `validate` to
 * make before a job waits in a queue; *task_files counts the task files there
 * (none are counted with fresh). */
int resume_check(const Experiment *x, int fresh, int *task_files, Err *e);
/* The durable task (trial, fold) trained with config, or NULL. */
const Durable *durable_find(const DurableSet *d, int trial, int fold, const char *config);
void durable_free(DurableSet *d);

#endif
