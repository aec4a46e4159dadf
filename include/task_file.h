/* A task's own file: the aesweep-model layout of SPEC §5 (the trained model, its
 * curve, every parameter and metric), written to a temporary name and renamed.
 * `train --out` writes one; every task of a search writes one under OUT/tasks. */
#ifndef AESWEEP_TASK_FILE_H
#define AESWEEP_TASK_FILE_H

#include "spec.h"
#include "task.h"

int task_file_write(const char *path, const Job *job, const TaskResult *r, Err *e);

#endif
