#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "experiment.h"
#include "checkpoint.h"
#include "fsutil.h"
#include "sha256.h"
#include "task_file.h"

/* The search.space entry that sets a job key, or NULL: the job's own value holds. */
static const Param *space_entry(const Experiment *x, const char *key) {
    int k = space_find_key(&x->space, key);
    return k < 0 ? NULL : &x->space.param[k];
}

/* The largest batch a key can take: its search.space entry's, or the job's own
 * when the job wrote it (0: a default, which adapts to small data). */
static double largest_batch(const Experiment *x, const char *key, char *where, size_t n) {
    const Param *p = space_entry(x, key);
    if (!p) {
        snprintf(where, n, "%s", key);
        return job_key_given(&x->job, key) ? job_number(&x->job, key) : 0;
    }
    snprintf(where, n, "search.space.%s%s", p->name, p->kind == PARAM_VALUES ? ".values" : ".max");
    return param_largest(p);
}

/* Can some trial of the search set key to a value in [lo, hi] (`want` says which)?
 * When not, `why` says what decides: the search.space entry, or the job's value. */
static int key_can_take(const Experiment *x, const char *key, double lo, double hi,
                        const char *want, char *why, size_t n) {
    const Param *p = space_entry(x, key);
    if (p) {
        snprintf(why, n, "search.space.%s never sets %s %s", p->name, key, want);
        return param_can_take(p, lo, hi);
    }
    double v = job_number(&x->job, key);
    snprintf(why, n, "%s is %g", key, v);
    return v >= lo && v <= hi;
}

/* An objective no trial can compute is refused before anything runs: every trial
 * would score NaN. When only some trials can (a searched range that includes the
 * class count), the others score NaN and never win. */
static int check_objective(const Experiment *x, Err *e) {
    const Job *j = &x->job;
    char why[160], want[32];
    int classes = x->data.data.n_classes;
    snprintf(want, sizeof want, "to %d", classes);
    if (j->search.objective == OBJ_LATENT_ACCURACY &&
        !key_can_take(x, "model.bottleneck", classes, classes, want, why, sizeof why))
        return err_set(e, AE_EINPUT, "%s: search.objective: latent_accuracy compares the argmax "
                       "of the code with the label, so it needs a code of %d units (the data's "
                       "class count), but %s", j->source, classes, why);
    if (j->search.objective == OBJ_VAL_ACCURACY && j->penalty.type != PENALTY_GUIDED &&
        !key_can_take(x, "classifier.epochs", 1, HUGE_VAL, "above 0", why, sizeof why))
        return err_set(e, AE_EINPUT, "%s: search.objective: val_accuracy is the accuracy of the "
                       "classifier on the codes, which trains only when classifier.epochs > 0 "
                       "(or with the codes, a guided penalty), but %s", j->source, why);
    return AE_OK;
}

/* Checks that need the data: every split can be made, and a batch size the user
 * wrote fits in the smallest one (SPEC §6: reported before anything runs). */
static int check_data_fits(const Experiment *x, Err *e) {
    int n;
    int rc = job_data_fit_size(&x->job, &x->data, x->job.search.folds, &n, e);
    static const char *const keys[] = {"train.batch_size", "classifier.batch_size"};
    for (int i = 0; !rc && i < 2; i++) {
        char where[128];
        double batch = largest_batch(x, keys[i], where, sizeof where);
        if (i == 1 && x->job.classifier.epochs == 0) break;
        rc = job_batch_check(&x->job, where, batch, n, e);
    }
    return rc;
}

/* Every shape of the model, for the job's own values and for each end (or
 * value) of a searched model key, so that a kernel a trial would find too large
 * is reported now, naming the entry, and not when the trial runs. */
static int check_model(const Experiment *x, Err *e) {
    int rc = job_model_check(&x->job, &x->data, NULL, e);
    for (int i = 0; !rc && i < x->space.n_params; i++) {
        const Param *p = &x->space.param[i];
        if (strncmp(p->key, "model.", 6) && strncmp(p->key, "train.dropout", 13)) continue;
        for (int k = 0; !rc && k < (p->kind == PARAM_VALUES ? p->n_values : 2); k++) {
            char set[1200];
            const char *sets[1] = {set};
            double v = k ? param_largest(p) : p->kind == PARAM_INT ? floor(p->min + 0.5) : p->min;
            if (p->kind == PARAM_VALUES) snprintf(set, sizeof set, "%s=%s", p->key, p->values[k]);
            else if (p->kind == PARAM_INT) snprintf(set, sizeof set, p->list ? "%s=[%.0f]" : "%s=%.0f", p->key, v);
            else snprintf(set, sizeof set, "%s=%.17g", p->key, v);
            Job probe;
            rc = job_parse(x->job.json, x->job.source, sets, 1, &probe, e);
            if (!rc) {
                rc = job_model_check(&probe, &x->data, NULL, e);
                job_free(&probe);
            }
            if (rc) err_append(e, " (where search.space.%s sets %s)", p->name, strchr(set, '=') + 1);
        }
    }
    return rc;
}

int experiment_open(Experiment *x, const char *job_path, const char *const *sets, int n_sets,
                    const char *out_dir, JobData *data, Err *e) {
    memset(x, 0, sizeof *x);
    if (data) { /* ours from here on, whatever happens */
        x->data = *data;
        memset(data, 0, sizeof *data);
    }
    int rc = job_load(job_path, sets, n_sets, &x->job, e);
    if (rc) {
        job_data_free(&x->data);
        return rc;
    }
    size_t len = 1;
    for (int i = 0; i < n_sets; i++) len += strlen(sets[i]) + 1;
    x->sets = malloc(len);
    if (!x->sets) rc = err_set(e, AE_ERUN, "out of memory");
    else x->sets[0] = 0;
    for (int i = 0; !rc && i < n_sets; i++)
        strcat(strcat(x->sets, sets[i]), i + 1 < n_sets ? "\n" : "");
    if (!rc) rc = space_parse(&x->job, &x->space, e);
    const char *dir = out_dir ? out_dir : x->job.output.dir;
    if (!rc && (snprintf(x->out_dir, sizeof x->out_dir, "%s", dir) >= (int)sizeof x->out_dir ||
                snprintf(x->tasks_dir, sizeof x->tasks_dir, "%s/tasks", dir) >=
                    (int)sizeof x->tasks_dir))
        rc = err_set(e, AE_EINPUT, "%s: output.dir: path too long", job_path);
    if (!rc && check_output_dir(x->out_dir, e))
        rc = out_dir ? err_prefix(e, "--out") : err_prefix(e, "%s: output.dir", job_path);
    if (!rc && !data) rc = job_data_load(&x->job, &x->data, e);
    if (!rc) rc = check_data_fits(x, e);
    if (!rc) rc = check_objective(x, e);
    if (!rc) rc = check_model(x, e);
    if (!rc) sha256_hex(x->job.json, strlen(x->job.json), x->sha);
    if (rc) {
        experiment_close(x);
        return rc;
    }
    return AE_OK;
}

void experiment_close(Experiment *x) {
    job_data_free(&x->data);
    space_free(&x->space);
    job_free(&x->job);
    free(x->sets);
    x->sets = NULL;
}

/* Task files fan out by the task's number i = trial * folds + fold into
 * tasks/AAA/BBB/ (AAA = i / 10^6, BBB = i / 1000 mod 1000): at most 1000 task
 * files (and their checkpoints) in a folder and 1000 folders in a folder at
 * any search size; a parallel file system's metadata server slows every open
 * and rename in a folder of 10^5 entries. */
static void task_file_name(const Experiment *x, int trial, int fold, const char *ext, char *buf,
                           size_t n) {
    long i = (long)trial * x->job.search.folds + fold; /* < 10^8: trials * folds */
    if (fold == FOLD_REFIT) snprintf(buf, n, "%s/best.%s", x->tasks_dir, ext);
    else snprintf(buf, n, "%s/%03u/%03u/t%06d_f%02d.%s", x->tasks_dir,
                  (unsigned)(i / 1000000 % 1000), (unsigned)(i / 1000 % 1000), trial, fold, ext);
}

int experiment_make_task_dir(const Experiment *x, int trial, int fold, Err *e) {
    char dir[AE_PATH_MAX + 32];
    experiment_task_path(x, trial, fold, dir, sizeof dir);
    *strrchr(dir, '/') = 0;
    struct stat st;
    if (stat(dir, &st) == 0) return AE_OK;
    if (make_dirs(dir, e)) return e->code;
    /* the new folders' names on disk too, as a task file's own name will be */
    for (int up = 0; up < 2; up++) {
        if (sync_parent_dir(dir) != 0)
            return err_set(e, AE_ERUN, "%s: cannot sync its folder: %s", dir, strerror(errno));
        *strrchr(dir, '/') = 0;
    }
    return AE_OK;
}

void experiment_task_path(const Experiment *x, int trial, int fold, char *buf, size_t n) {
    task_file_name(x, trial, fold, "h5", buf, n);
}

void experiment_checkpoint_path(const Experiment *x, int trial, int fold, char *buf, size_t n) {
    task_file_name(x, trial, fold, "ckpt", buf, n);
}

double report_objective(const Experiment *x, const TaskReport *r) {
    switch (x->job.search.objective) {
    case OBJ_VAL_ACCURACY: return r->val_accuracy;
    case OBJ_LATENT_ACCURACY: return r->latent_accuracy;
    case OBJ_VAL_KNN_ACCURACY: return r->val_knn_accuracy;
    case OBJ_VAL_LINEAR_ACCURACY: return r->val_linear_accuracy;
    default: return r->val_mse;
    }
}

/* Splits "a=1\nb=2" into sets pointing into buf. */
static int split_lines(char *buf, const char **sets, int max) {
    int n = 0;
    for (char *line = strtok(buf, "\n"); line && n < max; line = strtok(NULL, "\n"))
        sets[n++] = line;
    return n;
}


/* A task's checkpoints, as files beside its task file (CheckpointStore). */
typedef struct {
    char path[AE_PATH_MAX + 32];
    CheckpointId id;
    int until; /* a checkpoint past this epoch cannot be this task's start */
    int written, failed;
    double seconds;
    size_t bytes;
} TaskCheckpoints;

static int checkpoint_load(void *ctx, void **buf, size_t *n, Err *e) {
    TaskCheckpoints *c = ctx;
    int epoch, rc = checkpoint_read(c->path, &c->id, buf, n, &epoch, e);
    if (!rc && *buf && epoch > c->until) {
        free(*buf);
        *buf = NULL;
        rc = err_set(e, AE_EINPUT, "%s: at epoch %d, past this task's %d", c->path, epoch,
                     c->until);
    }
    return rc;
}

static int checkpoint_save(void *ctx, const void *buf, size_t n, int epoch, Err *e) {
    TaskCheckpoints *c = ctx;
    double t0 = clock_seconds();
    int rc = checkpoint_write(c->path, &c->id, epoch, buf, n, e);
    c->seconds += clock_seconds() - t0;
    c->written += rc == AE_OK;
    c->failed |= rc != AE_OK;
    c->bytes = n;
    return rc;
}

int experiment_run_task(const Experiment *x, const TaskPlan *p, int rank, const char *overrides,
                        volatile sig_atomic_t *stop, TaskReport *rep, double *curve, Err *e) {
    int trial = p->trial, fold = p->fold, epochs = p->epochs;
    /* a promoted trial is its lineage's training gone further: its seed, its file */
    int lineage = fold == FOLD_REFIT ? trial : p->lineage;
    /* Until the task has run, its report is a failure. */
    *rep = (TaskReport){.trial = trial, .fold = fold, .rank = rank, .status = TRAIN_FAILED};
    rep->train_mse = rep->val_mse = rep->val_accuracy = rep->latent_accuracy = NAN;
    rep->objective = rep->seconds = rep->test_mse = rep->test_accuracy = NAN;
    rep->test_latent_accuracy = rep->test_nrmse = NAN;
    rep->val_knn_accuracy = rep->val_linear_accuracy = NAN;
    rep->test_knn_accuracy = rep->test_linear_accuracy = NAN;
    char buf[8192], extra[2][64];
    const char *sets[SEARCH_MAX_PARAMS + 2];
    snprintf(buf, sizeof buf, "%s", overrides);
    int n = split_lines(buf, sets, SEARCH_MAX_PARAMS);
    if (fold == FOLD_REFIT) { /* the mean early-stopping epoch, all of it */
        snprintf(extra[0], sizeof extra[0], "train.epochs=%d", epochs);
        snprintf(extra[1], sizeof extra[1], "train.early_stopping.patience=0");
        sets[n++] = extra[0];
        sets[n++] = extra[1];
    }
    Job job;
    int rc = job_parse(x->job.json, x->job.source, sets, n, &job, e);
    if (rc) return rc;
    const Job *j = &job;
    /* its file's folder, and its checkpoint's (a promoted trial's lineage's) */
    rc = experiment_make_task_dir(x, trial, fold, e);
    if (!rc) rc = experiment_make_task_dir(x, lineage, fold, e);
    if (rc) {
        rep->fatal = 1;
        job_free(&job);
        return rc;
    }
    int folds = j->search.folds;
    Index train = {0}, val = {0};
    TaskResult r;
    memset(&r, 0, sizeof r);
    TaskCheckpoints ck = {.id = {x->sha, lineage, fold, fold == FOLD_REFIT ? epochs : 0, overrides},
                          .until = p->until > 0 ? p->until : j->train.epochs};
    experiment_checkpoint_path(x, lineage, fold, ck.path, sizeof ck.path);
    rc = job_data_split(j, &x->data, folds, fold, &train, &val, e);
    if (!rc) {
        TaskConfig cfg;
        /* The classifier runs in a fold when the objective needs it, and always in
         * the refit (its test accuracy goes to /best). */
        int classify = fold == FOLD_REFIT || j->search.objective == OBJ_VAL_ACCURACY;
        job_task_config(j, task_seed(j, lineage, fold), classify, &cfg);
        cfg.until = p->until;
        cfg.train.stop = cfg.classifier.stop = stop;
        cfg.checkpoints = (CheckpointStore){j->output.checkpoint_every, checkpoint_load,
                                            checkpoint_save, &ck};
        rc = task_run(&cfg, &x->data.data, &train, &val, fold == FOLD_REFIT ? &x->data.test : NULL,
                      &r, e);
    }
    char path[AE_PATH_MAX + 32];
    experiment_task_path(x, trial, fold, path, sizeof path);
    if (!rc) {
        task_report(&r, trial, fold, rep);
        rep->rank = rank;
        rep->objective = report_objective(x, rep);
        memcpy(curve, r.fit.curve, sizeof(double) * CURVE_COLS * (size_t)r.fit.epochs);
    }
    rep->resumed_epoch = r.resumed_epoch;
    rep->checkpoints = ck.written;
    rep->checkpoint_seconds = ck.seconds;
    rep->checkpoint_bytes = (double)ck.bytes;
    snprintf(rep->checkpoint_note, sizeof rep->checkpoint_note, "%.190s", r.checkpoint_note);
    if (ck.failed) rep->fatal = 1; /* the run cannot keep its promise: stop it */
    if (!rc && r.fit.status != TRAIN_INTERRUPTED) {
        /* Durable before anyone counts it: an interrupted task leaves nothing. */
        TaskIdentity id = {trial, fold, rank, x->sha, overrides};
        double t0 = clock_seconds();
        rc = task_file_write(path, j, &r, &id, e);
        rep->write_seconds = clock_seconds() - t0;
        if (rc) rep->status = TRAIN_FAILED, rep->fatal = 1;
        else if (p->until <= 0) unlink(ck.path); /* the task file holds all of it now */
    }
    task_result_free(&r);
    index_free(&train);
    index_free(&val);
    job_free(&job);
    return rc;
}

int experiment_make_dirs(const Experiment *x, Err *e) { return make_dirs(x->tasks_dir, e); }

int experiment_max_epochs(const Experiment *x) {
    int most = x->job.train.epochs;
    int k = space_find_key(&x->space, "train.epochs");
    if (k >= 0) most = fmax(most, param_largest(&x->space.param[k]));
    return most;
}
