/* Files and folders: making them, and checking a path before anything is written. */
#ifndef AESWEEP_FSUTIL_H
#define AESWEEP_FSUTIL_H

#include "err.h"

/* mkdir -p dir, then checks that it is writable; AE_ERUN naming the folder. */
int make_dirs(const char *dir, Err *e);
/* make_dirs of the folder that holds path (nothing for a bare file name). */
int make_parent_dirs(const char *path, Err *e);

/* A file to read: AE_EINPUT unless path names a regular file (a folder, a FIFO that
 * would block, or a device such as /dev/zero is refused before it is opened). */
int check_input_file(const char *path, Err *e);
/* A folder to write into: AE_EINPUT when dir, or the nearest part of it that exists,
 * is not a folder (an output path that is a file). A missing folder is fine. */
int check_output_dir(const char *dir, Err *e);
/* A file to write: AE_EINPUT when path is a folder, or its folder cannot be one. */
int check_output_file(const char *path, Err *e);

#endif
