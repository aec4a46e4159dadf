/* A task's own file: the aesweep-model layout of SPEC §5 (the trained model, its
 * curve, every parameter and metric), written to a temporary name, synced and
 * renamed, then the folder synced: once it has its name it is complete and on
 * disk. `train --out` writes one; every task of a search writes one under
 * OUT/tasks, and a resumed search reads them back instead of retraining. */
#ifndef AESWEEP_TASK_FILE_H
#define AESWEEP_TASK_FILE_H

#include "spec.h"
#include "task.h"

/* Which task of which search a file holds (NULL for `train`). */
typedef struct {
    int trial, fold, rank;
    const char *job_sha256;
    const char *config; /* the trial's overrides, one per line */
} TaskIdentity;

int task_file_write(const char *path, const Job *job, const TaskResult *r,
                    const TaskIdentity *id, Err *e);

/* Reads a search's task file back: its report, its curve (room for max_epochs
 * rows), the job hash and the config it was trained with. AE_EINPUT when the
 * file is not a complete, readable task file (it is then retrained). */
int task_file_read(const char *path, TaskReport *rep, double *curve, int max_epochs,
                   char sha[65], char *config, size_t config_size, Err *e);

#endif
