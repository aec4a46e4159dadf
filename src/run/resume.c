#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "results.h"
#include "resume.h"
#include "task_file.h"

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* --fresh: the earlier run goes to OUT.old.N, the first N free. */
static int move_aside(const Experiment *x, DurableSet *d, Err *e) {
    for (int n = 1; n < 10000; n++) {
        snprintf(d->aside, sizeof d->aside, "%s.old.%d", x->out_dir, n);
        if (exists(d->aside)) continue;
        if (rename(x->out_dir, d->aside) != 0)
            return err_set(e, AE_ERUN, "%s: cannot move aside to %s: %s", x->out_dir, d->aside,
                           strerror(errno));
        return AE_OK;
    }
    return err_set(e, AE_ERUN, "%s: too many earlier runs kept aside", x->out_dir);
}

static int by_task(const void *a, const void *b) {
    const TaskReport *p = &((const Durable *)a)->rep, *q = &((const Durable *)b)->rep;
    return p->trial != q->trial ? (p->trial > q->trial) - (p->trial < q->trial)
                                : (p->fold > q->fold) - (p->fold < q->fold);
}

static void durable_clear(Durable *t) {
    free(t->curve);
    free(t->config);
    memset(t, 0, sizeof *t);
}

/* Reads one task file; an incomplete one is removed so that its task reruns.
 * Returns 1 when kept, 0 when removed, -1 when it belongs to another job. */
static int load_one(const Experiment *x, const char *path, int max_epochs, Durable *t) {
    char sha[65] = "", config[8192];
    Err e = {0};
    memset(t, 0, sizeof *t);
    t->curve = malloc(sizeof(double) * 3 * (size_t)max_epochs);
    if (t->curve &&
        task_file_read(path, &t->rep, t->curve, max_epochs, sha, config, sizeof config, &e) ==
            AE_OK) {
        if (strcmp(sha, x->sha) != 0) {
            durable_clear(t);
            return -1;
        }
        t->rep.objective = report_objective(x, &t->rep);
        t->config = strdup(config);
        if (t->config) return 1;
    }
    durable_clear(t);
    unlink(path);
    return 0;
}

static int add_task(DurableSet *d, const Durable *t, int *cap) {
    if (d->n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        Durable *m = realloc(d->tasks, sizeof *m * (size_t)*cap);
        if (!m) return -1;
        d->tasks = m;
    }
    d->tasks[d->n++] = *t;
    return 0;
}

/* tNNNNNN_fFF.EXT as experiment_task_path and experiment_checkpoint_path name
 * them: 1 when `name` is one with that ext. */
static int is_named(const char *name, const char *ext, int *trial, int *fold) {
    int end = 0;
    return sscanf(name, "t%6d_f%2d.%n", trial, fold, &end) == 2 && end > 0 &&
           !strcmp(name + end, ext);
}

static int is_task_name(const char *name) {
    int trial, fold;
    return is_named(name, "h5", &trial, &fold);
}

/* The fan-out folders' names: three digits. */
static int is_fanout_name(const char *name) {
    return strlen(name) == 3 && strspn(name, "0123456789") == 3;
}

/* Calls fn(path, name, depth, ctx) for every entry of OUT/tasks (depth 0) and of
 * its fan-out folders AAA (1) and AAA/BBB (2), stopping at the first nonzero. */
typedef int (*EntryFn)(const char *path, const char *name, int depth, void *ctx);

static int walk_tasks(const char *dir, int depth, EntryFn fn, void *ctx) {
    DIR *d = opendir(dir);
    if (!d) return 0; /* nothing yet */
    struct dirent *ent;
    int rc = 0;
    while (!rc && (ent = readdir(d))) {
        if (ent->d_name[0] == '.') continue;
        char path[AE_PATH_MAX + 300];
        if (snprintf(path, sizeof path, "%s/%s", dir, ent->d_name) >= (int)sizeof path)
            continue; /* not a name of ours */
        rc = depth < 2 && is_fanout_name(ent->d_name) ? walk_tasks(path, depth + 1, fn, ctx)
                                                      : fn(path, ent->d_name, depth, ctx);
    }
    closedir(d);
    return rc;
}

/* Folders written before the fan-out (every task file in OUT/tasks itself) go
 * on where they stopped: their task files and checkpoints move into place
 * first, each by a rename (a kill in between leaves each file in one place or
 * the other, and the next resume moves the rest). */
static int move_flat_files(const Experiment *x, int *moved, Err *e) {
    DIR *dir = opendir(x->tasks_dir);
    if (!dir) return AE_OK;
    int cap = 0, n = 0, rc = AE_OK;
    char (*names)[32] = NULL; /* tNNNNNN_fFF.ckpt and no longer */
    struct dirent *ent;
    while (!rc && (ent = readdir(dir))) { /* collected first: renaming adds folders */
        int trial, fold;
        if (strlen(ent->d_name) >= sizeof *names ||
            (!is_named(ent->d_name, "h5", &trial, &fold) &&
             !is_named(ent->d_name, "ckpt", &trial, &fold)))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            void *m = realloc(names, sizeof *names * (size_t)cap);
            if (!m) {
                rc = err_set(e, AE_ERUN, "out of memory");
                break;
            }
            names = m;
        }
        snprintf(names[n++], sizeof *names, "%s", ent->d_name);
    }
    closedir(dir);
    for (int i = 0; i < n && !rc; i++) {
        int trial, fold, task = is_named(names[i], "h5", &trial, &fold);
        if (!task) is_named(names[i], "ckpt", &trial, &fold);
        char from[AE_PATH_MAX + 300], to[AE_PATH_MAX + 32];
        snprintf(from, sizeof from, "%s/%s", x->tasks_dir, names[i]);
        if (task) experiment_task_path(x, trial, fold, to, sizeof to);
        else experiment_checkpoint_path(x, trial, fold, to, sizeof to);
        rc = experiment_make_task_dir(x, trial, fold, e);
        if (!rc && rename(from, to) != 0)
            rc = err_set(e, AE_ERUN, "%s: cannot move to %s: %s", from, to, strerror(errno));
        if (!rc && (sync_parent_dir(to) != 0 || sync_parent_dir(from) != 0))
            rc = err_set(e, AE_ERUN, "%s: cannot sync its folder: %s", to, strerror(errno));
        *moved += !rc;
    }
    free(names);
    return rc;
}

typedef struct {
    const Experiment *x;
    DurableSet *d;
    int known_job, cap, max_epochs;
    Err *e;
} Scan;

static int scan_entry(const char *path, const char *name, int depth, void *ctx) {
    Scan *sc = ctx;
    DurableSet *d = sc->d;
    if (strstr(name, ".tmp.")) { /* a write that never finished */
        unlink(path);
        d->discarded++;
        return AE_OK;
    }
    int is_best = depth == 0 && !strcmp(name, "best.h5");
    if (!is_best && (depth != 2 || !is_task_name(name))) return AE_OK;
    Durable t;
    int kept = load_one(sc->x, path, sc->max_epochs, &t);
    if (kept < 0 && !sc->known_job)
        return err_set(sc->e, AE_EINPUT, "%s holds another job's task files (job_sha256 "
                       "differs): pass --fresh (the old files are kept aside) or use another "
                       "--out", sc->x->out_dir);
    if (kept <= 0) {
        d->discarded += kept == 0;
    } else if (is_best) {
        durable_clear(&d->best);
        d->best = t, d->has_best = 1;
    } else if (add_task(d, &t, &sc->cap) != 0) {
        durable_clear(&t);
        return err_set(sc->e, AE_ERUN, "out of memory");
    }
    return AE_OK;
}

static int scan_tasks(const Experiment *x, DurableSet *d, int known_job, Err *e) {
    Scan sc = {x, d, known_job, 0, experiment_max_epochs(x), e};
    int rc = move_flat_files(x, &d->moved, e);
    if (!rc) rc = walk_tasks(x->tasks_dir, 0, scan_entry, &sc);
    if (d->n > 1) qsort(d->tasks, (size_t)d->n, sizeof *d->tasks, by_task);
    /* A run killed between a task file's rename and its checkpoint's removal
     * leaves a checkpoint nobody will read; unless later trials go on from
     * their lineage's checkpoint (hyperband: the search drops those itself). */
    int continues = strategy_ops[x->job.search.strategy]->continues;
    for (int i = continues ? d->n : 0; i < d->n + d->has_best; i++) {
        const TaskReport *r = i < d->n ? &d->tasks[i].rep : &d->best.rep;
        char path[AE_PATH_MAX + 32];
        experiment_checkpoint_path(x, r->trial, i < d->n ? r->fold : FOLD_REFIT, path,
                                   sizeof path);
        unlink(path);
    }
    return rc;
}

static int count_task_file(const char *path, const char *name, int depth, void *ctx) {
    (void)path;
    *(int *)ctx += is_task_name(name) && (depth == 0 || depth == 2);
    return 0;
}

/* Whose folder is OUT? Its results file says, if it can still be read (*known). */
static int check_owner(const Experiment *x, const char *results, int *known, Err *e) {
    char sha[65];
    Err ignored = {0};
    *known = exists(results) && results_read_sha(results, sha, &ignored) == AE_OK;
    if (*known && strcmp(sha, x->sha) != 0)
        return err_set(e, AE_EINPUT, "%s holds another job's results (job_sha256 %.12s..., this "
                       "job %.12s...): pass --fresh (the old files are kept aside) or use another "
                       "--out", results, sha, x->sha);
    return AE_OK;
}

static void results_path(const Experiment *x, char *path, size_t size) {
    snprintf(path, size, "%s/results.h5", x->out_dir);
}

int resume_check(const Experiment *x, int fresh, int *task_files, Err *e) {
    char results[AE_PATH_MAX + 16];
    int known;
    results_path(x, results, sizeof results);
    *task_files = 0;
    if (dir_lock_check(x->out_dir, e)) return e->code;
    if (fresh) return AE_OK;
    if (check_owner(x, results, &known, e)) return e->code;
    walk_tasks(x->tasks_dir, 0, count_task_file, task_files);
    return AE_OK;
}

/* Creates OUT and locks it. */
static int take_out_dir(const Experiment *x, DirLock *l, char *warning, size_t n, Err *e) {
    l->fd = -1;
    if (make_dirs(x->out_dir, e)) return e->code;
    return dir_lock(x->out_dir, l, warning, n, e);
}

/* --fresh: the earlier run goes aside with its lock file (held, and left as it
 * was); the new OUT gets its own lock, and should another run have taken the new
 * OUT in between, this one stops. */
static int start_fresh(const Experiment *x, DurableSet *d, Err *e) {
    DirLock old = d->lock;
    d->lock.fd = -1;
    int rc = move_aside(x, d, e);
    if (!rc) rc = take_out_dir(x, &d->lock, d->warning, sizeof d->warning, e);
    dir_unlock(&old, 0);
    return rc;
}

int resume_prepare(const Experiment *x, int fresh, DurableSet *d, Err *e) {
    memset(d, 0, sizeof *d);
    d->lock.fd = -1;
    char results[AE_PATH_MAX + 16];
    results_path(x, results, sizeof results);
    int known, rc;
    /* Read only first: most refusals come before the lock file is even made. */
    if (!fresh && check_owner(x, results, &known, e)) return e->code;
    if (take_out_dir(x, &d->lock, d->warning, sizeof d->warning, e)) return e->code;
    int has_results = exists(results), has_tasks = exists(x->tasks_dir);
    if (fresh) {
        rc = has_results || has_tasks ? start_fresh(x, d, e) : AE_OK;
    } else {
        rc = check_owner(x, results, &known, e); /* again, under the lock */
        if (!rc) rc = scan_tasks(x, d, known, e);
        /* An unreadable results.h5 is repaired from task files; with none to show
         * it is this job's, it may be anything, and is not ours to overwrite. */
        if (rc == AE_OK && has_results && !known && d->n == 0 && !d->has_best)
            rc = err_set(e, AE_EINPUT, "%s exists but is not a readable aesweep results file, "
                         "and no task files of this job are there to rebuild it from: pass "
                         "--fresh (it is kept aside) or use another --out", results);
    }
    if (rc) dir_unlock(&d->lock, 1); /* refused: no lock file left behind */
    else dir_lock_sign(&d->lock);
    return rc;
}

const Durable *durable_find(const DurableSet *d, int trial, int fold, const char *config) {
    Durable key = {.rep = {.trial = trial, .fold = fold}};
    const Durable *t = d->n ? bsearch(&key, d->tasks, (size_t)d->n, sizeof *d->tasks, by_task)
                            : NULL;
    return t && !strcmp(t->config, config) ? t : NULL;
}

void durable_free(DurableSet *d) {
    dir_unlock(&d->lock, 0); /* the end of this run's hold on OUT */
    for (int i = 0; i < d->n; i++) durable_clear(&d->tasks[i]);
    free(d->tasks);
    durable_clear(&d->best);
    memset(d, 0, sizeof *d);
    d->lock.fd = -1;
}
