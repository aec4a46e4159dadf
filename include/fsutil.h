/* Folders. */
#ifndef AESWEEP_FSUTIL_H
#define AESWEEP_FSUTIL_H

#include "err.h"

/* mkdir -p dir, then checks that it is writable; AE_ERUN naming the folder. */
int make_dirs(const char *dir, Err *e);
/* make_dirs of the folder that holds path (nothing for a bare file name). */
int make_parent_dirs(const char *path, Err *e);

#endif
