/* Checkpoint files: a running task's Trainer bytes (trainer_checkpoint_save)
 * made durable beside the task files, so that a killed or requeued run goes on
 * from each running task's last checkpoint (issue 17). The file names the task
 * it belongs to (job, trial, fold, overrides, epoch budget) and carries a
 * checksum: a checkpoint of anything else, or a damaged one, is never loaded.
 * No MPI, no HDF5. */
#ifndef AESWEEP_CHECKPOINT_H
#define AESWEEP_CHECKPOINT_H

#include <stddef.h>

#include "err.h"

typedef struct {
    const char *job_sha256; /* 64 hex digits */
    int trial, fold;
    int epochs;             /* the refit's fixed epoch count; 0 for a fold */
    const char *config;     /* the task's overrides */
} CheckpointId;

/* Writes the checkpoint of `epoch` epochs durably (write_durably). */
int checkpoint_write(const char *path, const CheckpointId *id, int epoch, const void *blob,
                     size_t n, Err *e);
/* Reads path's checkpoint into *blob (malloc'd, the caller frees) and its epoch.
 * *blob is NULL with AE_OK when there is no file; AE_EINPUT (e says why: another
 * task's, damaged, truncated) when there is one that must not be loaded. */
int checkpoint_read(const char *path, const CheckpointId *id, void **blob, size_t *n,
                    int *epoch, Err *e);

#endif
