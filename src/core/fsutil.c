#include <errno.h>
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
