/* Files and folders: making them, and checking a path before anything is written. */
#ifndef AESWEEP_FSUTIL_H
#define AESWEEP_FSUTIL_H

#include "dataset.h" /* AE_PATH_MAX */
#include "err.h"

/* mkdir -p dir, then checks that it is writable; AE_ERUN naming the folder. */
int make_dirs(const char *dir, Err *e);
/* make_dirs of the folder that holds path (nothing for a bare file name). */
int make_parent_dirs(const char *path, Err *e);

/* fsync of a file or a folder by name: 0, or -1 with errno set. */
int sync_path(const char *path);
/* fsync of the folder that holds path ("." for a bare name): a rename into it is
 * then on disk too. */
int sync_parent_dir(const char *path);

/* Writes parts[0..n) one after the other as path, durably: under a temporary
 * name (path.tmp.PID), fsynced, renamed into place, its folder fsynced. Either
 * path is the whole new file or it is what it was; AE_ERUN naming the file and
 * errno's reason (a full disk, a size limit) otherwise, with no temporary left. */
typedef struct {
    const void *at;
    size_t n;
} Bytes;
int write_durably(const char *path, const Bytes *parts, int n, Err *e);

/* A file to read: AE_EINPUT unless path names a regular file (a folder, a FIFO that
 * would block, or a device such as /dev/zero is refused before it is opened). */
int check_input_file(const char *path, Err *e);
/* A folder to write into: AE_EINPUT when dir, or the nearest part of it that exists,
 * is not a folder (an output path that is a file). A missing folder is fine. */
int check_output_dir(const char *dir, Err *e);
/* A file to write: AE_EINPUT when path is a folder, or its folder cannot be one. */
int check_output_file(const char *path, Err *e);

/* One run at a time per output folder: an exclusive POSIX record lock on
 * DIR/.aesweep.lock, held until dir_unlock or the end of the process (so a killed
 * run leaves no stale lock). AE_EINPUT "DIR is in use by another aesweep run (pid
 * P on HOST)" when another process holds it. Where the file system has no locks
 * (Lustre without -o flock), l->fd is -1 and `warning` says so; the run goes on. */
typedef struct {
    int fd;      /* -1: not held */
    int created; /* this process made the lock file */
    char path[AE_PATH_MAX + 32];
} DirLock;
int dir_lock(const char *dir, DirLock *l, char *warning, size_t n, Err *e);
/* Writes "pid P on HOST" into the held lock file, for the message of a refused
 * run. Only a run that goes ahead signs: a refused one leaves the file as it was. */
void dir_lock_sign(const DirLock *l);
/* Lets go of the lock; with remove_made, a lock file this process made is removed
 * too (a refused run leaves nothing behind). */
void dir_unlock(DirLock *l, int remove_made);
/* The same question without taking the lock: AE_EINPUT when a run holds it. */
int dir_lock_check(const char *dir, Err *e);

#endif
