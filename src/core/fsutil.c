#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "fsutil.h"

int make_dirs(const char *dir, Err *e) {
    char buf[AE_PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return err_set(e, AE_EINPUT, "%.64s...: path too long", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return err_set(e, AE_ERUN, "%s: cannot create folder: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return err_set(e, AE_ERUN, "%s: cannot create folder: %s", buf, strerror(errno));
    if (access(buf, W_OK) != 0) return err_set(e, AE_ERUN, "%s: folder is not writable", buf);
    return AE_OK;
}

int sync_path(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int err = errno;
    close(fd);
    errno = err;
    return rc;
}

int sync_parent_dir(const char *path) {
    char dir[AE_PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        errno = ENAMETOOLONG;
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = 0; /* "/x": the root */
    else if (slash) *slash = 0;
    return sync_path(slash ? dir : ".");
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int write_durably(const char *path, const Bytes *parts, int n, Err *e) {
    char tmp[AE_PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return err_set(e, AE_ERUN, "%s: cannot create: %s", tmp, strerror(errno));
    /* The data must be on disk before the name says the file is complete, and
     * the name on disk before anyone counts the file. */
    size_t size = 0;
    int bad = 0, err = 0;
    for (int i = 0; i < n && !bad; i++) {
        bad = write_all(fd, parts[i].at, parts[i].n) != 0;
        size += parts[i].n;
    }
    if (!bad) bad = fsync(fd) != 0;
    if (bad) err = errno;
    if (close(fd) != 0 && !bad) bad = 1, err = errno;
    if (bad) {
        unlink(tmp);
        return err_set(e, AE_ERUN, "%s: cannot write %zu bytes: %s", tmp, size, strerror(err));
    }
    if (rename(tmp, path) != 0) {
        err = errno;
        unlink(tmp);
        return err_set(e, AE_ERUN, "%s: cannot rename into place: %s", path, strerror(err));
    }
    if (sync_parent_dir(path) != 0)
        return err_set(e, AE_ERUN, "%s: cannot sync its folder: %s", path, strerror(errno));
    return AE_OK;
}

int make_parent_dirs(const char *path, Err *e) {
    char dir[AE_PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return err_set(e, AE_EINPUT, "%.64s...: path too long", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return AE_OK;
    *slash = 0;
    return make_dirs(dir, e);
}

int check_input_file(const char *path, Err *e) {
    struct stat st;
    if (stat(path, &st) != 0)
        return err_set(e, AE_EINPUT, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return err_set(e, AE_EINPUT, "%s: is a folder, not a file", path);
    if (!S_ISREG(st.st_mode))
        return err_set(e, AE_EINPUT, "%s: not a regular file (a pipe, socket or device)", path);
    return AE_OK;
}

/* The longest existing prefix of path (at a '/'), into buf; "." when none is. */
static void existing_part(const char *path, char *buf, size_t n, struct stat *st) {
    snprintf(buf, n, "%s", path);
    for (;;) {
        size_t len = strlen(buf);
        while (len > 1 && buf[len - 1] == '/') buf[--len] = 0; /* "a/b/" is "a/b" */
        if (stat(buf, st) == 0) return;
        char *slash = strrchr(buf, '/');
        if (!slash) break;
        if (slash == buf) slash[1] = 0; /* "/x" -> "/" */
        else *slash = 0;
    }
    snprintf(buf, n, ".");
    if (stat(buf, st) != 0) stat("/", st); /* the working folder is gone: let mkdir say so */
}

int check_output_dir(const char *dir, Err *e) {
    char part[AE_PATH_MAX];
    struct stat st;
    existing_part(dir, part, sizeof part, &st);
    if (S_ISDIR(st.st_mode)) return AE_OK;
    if (!strcmp(part, dir)) return err_set(e, AE_EINPUT, "%s: is a file, not a folder", dir);
    return err_set(e, AE_EINPUT, "%s: cannot be a folder: %s is a file", dir, part);
}

int check_output_file(const char *path, Err *e) {
    char part[AE_PATH_MAX];
    struct stat st;
    existing_part(path, part, sizeof part, &st);
    if (!strcmp(part, path) || (strlen(path) && path[strlen(path) - 1] == '/')) {
        if (S_ISDIR(st.st_mode))
            return err_set(e, AE_EINPUT, "%s: is a folder; give a file name (such as %s/model.h5)",
                           path, part);
        if (!S_ISREG(st.st_mode))
            return err_set(e, AE_EINPUT, "%s: not a regular file", path);
        return AE_OK;
    }
    if (S_ISDIR(st.st_mode)) return AE_OK;
    return err_set(e, AE_EINPUT, "%s: cannot be written: %s is a file, not a folder", path, part);
}

#define LOCK_NAME ".aesweep.lock"

static void lock_path(const char *dir, char *path, size_t n) {
    snprintf(path, n, "%s/" LOCK_NAME, dir);
}

/* The message for a held lock, with what its holder wrote in the file. */
static int lock_busy(const char *dir, int fd, Err *e) {
    char who[300] = "";
    ssize_t got = pread(fd, who, sizeof who - 1, 0);
    who[got > 0 ? got : 0] = 0;
    who[strcspn(who, "\n")] = 0;
    return err_set(e, AE_EINPUT, "%s is in use by another aesweep run (%s): wait for it to end, "
                   "or use another --out", dir, who[0] ? who : "its lock is held");
}

static struct flock whole_file(short type) {
    struct flock l;
    memset(&l, 0, sizeof l);
    l.l_type = type;
    l.l_whence = SEEK_SET; /* l_start = l_len = 0: the whole file */
    return l;
}

/* Opens the lock file, creating it if need be (*created tells). */
static int open_lock(const char *path, int *created) {
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    *created = fd >= 0;
    if (fd < 0 && errno == EEXIST) fd = open(path, O_RDWR | O_CLOEXEC);
    return fd;
}

/* Is fd still the file at path? A refused run may have removed the file it made
 * between our open and our lock; a lock on that orphan would guard nothing. */
static int still_there(int fd, const char *path) {
    struct stat a, b;
    return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

int dir_lock(const char *dir, DirLock *l, char *warning, size_t n, Err *e) {
    lock_path(dir, l->path, sizeof l->path);
    warning[0] = 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        l->fd = open_lock(l->path, &l->created);
        if (l->fd < 0)
            return err_set(e, AE_ERUN, "%s: cannot create: %s", l->path, strerror(errno));
        struct flock w = whole_file(F_WRLCK);
        if (fcntl(l->fd, F_SETLK, &w) == 0) {
            if (still_there(l->fd, l->path)) return AE_OK;
            close(l->fd); /* an orphan: try the file that is there now */
            l->fd = -1;
            continue;
        }
        int err = errno;
        if (err == EACCES || err == EAGAIN) {
            int rc = lock_busy(dir, l->fd, e);
            dir_unlock(l, 0);
            return rc;
        }
        snprintf(warning, n, "%s: no file locks on this file system (%s): nothing stops a "
                 "second run into this folder", dir, strerror(err));
        dir_unlock(l, 1);
        return AE_OK;
    }
    return err_set(e, AE_ERUN, "%s: its lock file keeps changing", l->path);
}

void dir_lock_sign(const DirLock *l) {
    if (l->fd < 0) return;
    char host[256] = "?", text[320];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    int len = snprintf(text, sizeof text, "pid %ld on %s\n", (long)getpid(), host);
    /* Should this fail, the lock holds all the same; a refused run says less. */
    int told = ftruncate(l->fd, 0) == 0 && pwrite(l->fd, text, (size_t)len, 0) == len;
    (void)told;
}

void dir_unlock(DirLock *l, int remove_made) {
    if (l->fd < 0) return;
    /* Removed while still locked, so that no one locks it in between; a run that
     * opened it meanwhile finds it gone (still_there) and starts again. */
    if (remove_made && l->created) unlink(l->path);
    close(l->fd);
    l->fd = -1;
}

/* Never called by the holder itself: closing any descriptor of the file would drop
 * a POSIX lock the process holds. */
int dir_lock_check(const char *dir, Err *e) {
    char path[AE_PATH_MAX + 32];
    lock_path(dir, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return AE_OK; /* no run has locked it yet */
    struct flock l = whole_file(F_WRLCK);
    int rc = AE_OK;
    if (fcntl(fd, F_GETLK, &l) == 0 && l.l_type != F_UNLCK) rc = lock_busy(dir, fd, e);
    close(fd);
    return rc;
}
