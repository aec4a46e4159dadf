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
