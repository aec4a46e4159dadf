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

/* tNNNNNN_fFF.h5, as experiment_task_path names them. */
static int is_task_name(const char *name) {
    int trial, fold, end = 0;
    return sscanf(name, "t%6d_f%2d.h5%n", &trial, &fold, &end) == 2 && name[end] == 0;
}

static int scan_tasks(const Experiment *x, DurableSet *d, int known_job, Err *e) {
    DIR *dir = opendir(x->tasks_dir);
    if (!dir) return AE_OK; /* nothing yet */
    int cap = 0, max_epochs = experiment_max_epochs(x), rc = AE_OK;
    struct dirent *ent;
    while (rc == AE_OK && (ent = readdir(dir))) {
        char path[AE_PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", x->tasks_dir, ent->d_name);
        if (strstr(ent->d_name, ".tmp.")) { /* a write that never finished */
            unlink(path);
            d->discarded++;
            continue;
        }
        int is_best = !strcmp(ent->d_name, "best.h5");
        int is_task = is_task_name(ent->d_name);
        if (!is_best && !is_task) continue;
        Durable t;
        int kept = load_one(x, path, max_epochs, &t);
        if (kept < 0 && !known_job)
            rc = err_set(e, AE_EINPUT, "%s holds another job's task files (job_sha256 differs): "
                         "pass --fresh (the old files are kept aside) or use another --out",
                         x->out_dir);
        else if (kept <= 0)
            d->discarded += kept == 0;
        else if (is_best) {
            durable_clear(&d->best);
            d->best = t, d->has_best = 1;
        } else if (add_task(d, &t, &cap) != 0) {
            durable_clear(&t);
            rc = err_set(e, AE_ERUN, "out of memory");
        }
    }
    closedir(dir);
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
    DIR *dir = opendir(x->tasks_dir);
    struct dirent *ent;
    while (dir && (ent = readdir(dir))) *task_files += is_task_name(ent->d_name);
    if (dir) closedir(dir);
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
