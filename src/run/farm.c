/* The work farm: rank 0 plans trials and hands out (trial, fold) tasks; every
 * other rank trains them. Each worker holds up to PREFETCH tasks, so it starts
 * its next task the moment it finishes one, whenever rank 0 happens to look.
 * That lets rank 0 wait with Iprobe and naps of up to 100 ms (Open MPI's
 * blocking receive would poll a core at 100%) without ever idling a worker. */
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "experiment.h"
#include "results.h"
#include "node_data.h"
#include "resume.h"
#include "run.h"
#include "sha256.h"
#include "stop.h"

enum { TAG_TASK = 1, TAG_REPORT, TAG_STOP };

#define PREFETCH 2 /* tasks a worker holds: the one it trains and the next */

#define OVERRIDES_MAX 4096

typedef struct {
    TaskPlan plan;
    char overrides[OVERRIDES_MAX];
} TaskMsg;


/* CPU time of this process, user and system (to the nanosecond: it also times
 * the handling of one result). */
static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Waits for a message without burning a core; returns 0 when stop is set first
 * (with stop_ok), 2 once clock_seconds() passes `until`, else 1 with *st
 * filled. The nap grows from 1 ms to 100 ms while nothing comes: every Iprobe
 * runs Open MPI's progress engine, which costs tens of microseconds, and a rank
 * that polled every millisecond would spend several percent of a core on
 * waiting. */
static int wait_message(int source, MPI_Status *st, int stop_ok, double until) {
    long nap_ns = 1000000;
    for (;;) {
        int flag = 0;
        MPI_Iprobe(source, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, st);
        if (flag) return 1;
        if (stop_ok && stop_requested) return 0;
        double left = until - clock_seconds();
        if (left <= 0) return 2;
        struct timespec nap = {0, left * 1e9 < nap_ns ? (long)(left * 1e9) + 1 : nap_ns};
        nanosleep(&nap, NULL);
        if (nap_ns < 100000000) nap_ns += nap_ns / 2;
    }
}

enum { RESULTS_BATCH_SECONDS = 1 };

/* ---- the worker ---- */

/* A report travels as the fixed struct followed by the curve. */
static void send_report(const TaskReport *rep, const double *curve, char *buf) {
    size_t n = sizeof *rep + sizeof(double) * CURVE_COLS * (size_t)rep->epochs;
    memcpy(buf, rep, sizeof *rep);
    memcpy(buf + sizeof *rep, curve, n - sizeof *rep);
    MPI_Send(buf, (int)n, MPI_BYTE, 0, TAG_REPORT, MPI_COMM_WORLD);
}

/* Runs one task; a failure is a report with status TRAIN_FAILED (and fatal set
 * when its file could not be written). */
static void run_one(const Experiment *x, const TaskMsg *t, int rank, TaskReport *rep,
                    double *curve) {
    Err e = {0};
    const TaskPlan *p = &t->plan;
    if (experiment_run_task(x, p, rank, t->overrides, &stop_requested, rep, curve, &e))
        fprintf(stderr, "aesweep: rank %d: trial %d fold %d failed: %s\n", rank, p->trial,
                p->fold, e.msg);
    if (rep->checkpoint_note[0])
        fprintf(stderr, "aesweep: rank %d: trial %d fold %d trains from epoch 0: %s\n", rank,
                p->trial, p->fold, rep->checkpoint_note);
}

static int worker(const Experiment *x, int rank, int max_epochs) {
    double *curve = malloc(sizeof(double) * CURVE_COLS * (size_t)max_epochs);
    char *buf = malloc(sizeof(TaskReport) + sizeof(double) * CURVE_COLS * (size_t)max_epochs);
    TaskMsg *t = malloc(sizeof *t);
    if (!curve || !buf || !t) MPI_Abort(MPI_COMM_WORLD, 1);
    for (;;) {
        MPI_Status st;
        wait_message(0, &st, 0, INFINITY);
        if (st.MPI_TAG == TAG_STOP) {
            MPI_Recv(NULL, 0, MPI_BYTE, 0, TAG_STOP, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            break;
        }
        int n;
        MPI_Get_count(&st, MPI_BYTE, &n);
        MPI_Recv(t, n, MPI_BYTE, 0, TAG_TASK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        TaskReport rep;
        run_one(x, t, rank, &rep, curve);
        send_report(&rep, curve, buf);
    }
    free(curve), free(buf), free(t);
    return 0;
}

/* ---- the coordinator ---- */

typedef struct {
    const Experiment *x;
    Search search;
    Results *results;
    int folds, size, max_epochs;
    /* per trial: its overrides and the values that go into its row */
    char **overrides, **configs; /* one per line (for tasks), on one line (for rows) */
    TrialRow *rows;
    /* per trial, its folds' reports while its row is not made yet (then NULL):
     * rank 0 keeps no report of a finished trial, whatever the task count */
    TaskReport **reports;
    int *folds_done;
    int cap;
    /* the queue of (trial, fold), FIFO */
    int *queue, q_head, q_tail, q_cap;
    int outstanding;
    long tasks_done, tasks_total;
    double t0, cpu0; /* wall clock and CPU time at the start of the search */
    double report_cpu; /* CPU time in handle_report for trained tasks: rank 0's work per result */
    int tty;
    /* tasks held by each worker, and buffers reused for every message */
    int *load;
    /* workers holding no task: since when (the sum of their idle_since), the
     * idle seconds of intervals that have ended, and the idle seconds in all
     * when the last task went out (what the strategy made them wait) */
    double *idle_since, idle_sum_since, idle_done, idle_at_last, last_dispatch;
    int n_idle;
    /* resume: tasks already on disk, and counts */
    const DurableSet *durable;
    long kept;
    long resumed, promoted; /* tasks that went on from a checkpoint: after a stop, or a rung up */
    long checkpoints;       /* written */
    double checkpoint_seconds, checkpoint_bytes;
    int rounds_written; /* the search's rounds already in /rounds */
    double write_seconds;
    char *buf;
    double *curve;
    TaskMsg *msg;
} Coordinator;

static int grow(Coordinator *c, int n_trials, Err *e) {
    if (n_trials <= c->cap) return AE_OK;
    int cap = c->cap ? c->cap : 64;
    while (cap < n_trials) cap *= 2;
    char **o = realloc(c->overrides, sizeof *o * (size_t)cap);
    if (o) c->overrides = o;
    char **cf = realloc(c->configs, sizeof *cf * (size_t)cap);
    if (cf) c->configs = cf;
    TrialRow *r = realloc(c->rows, sizeof *r * (size_t)cap);
    if (r) c->rows = r;
    TaskReport **rep = realloc(c->reports, sizeof *rep * (size_t)cap);
    if (rep) c->reports = rep;
    int *d = realloc(c->folds_done, sizeof *d * (size_t)cap);
    if (d) c->folds_done = d;
    if (!o || !cf || !r || !rep || !d) return err_set(e, AE_ERUN, "out of memory");
    for (int i = c->cap; i < cap; i++)
        c->overrides[i] = c->configs[i] = NULL, c->reports[i] = NULL, c->folds_done[i] = 0;
    c->cap = cap;
    return AE_OK;
}

static int enqueue(Coordinator *c, int trial, int fold, Err *e) {
    if (c->q_tail == c->q_cap) {
        int cap = c->q_cap ? 2 * c->q_cap : 256;
        int *q = realloc(c->queue, sizeof *q * 2 * (size_t)cap);
        if (!q) return err_set(e, AE_ERUN, "out of memory");
        c->queue = q;
        c->q_cap = cap;
    }
    c->queue[2 * c->q_tail] = trial;
    c->queue[2 * c->q_tail + 1] = fold;
    c->q_tail++;
    return AE_OK;
}

/* A new trial: its overrides, its row's fixed values, and its tasks queued. */
static int add_trial(Coordinator *c, int id, Err *e) {
    const Experiment *x = c->x;
    const Trial *t = &c->search.trials[id];
    char buf[OVERRIDES_MAX];
    const char *sets[SEARCH_MAX_PARAMS];
    int n = point_overrides(&x->space, &t->point, buf, sizeof buf, sets, SEARCH_MAX_PARAMS);
    if (n < 0) return err_set(e, AE_EINPUT, "trial %d: overrides too long", id);
    Job job;
    if (job_parse(x->job.json, x->job.source, sets, n, &job, e)) return e->code;
    /* one line per override for the task message, spaces for the table */
    size_t len = 0;
    for (int i = 0; i < n; i++) len += strlen(sets[i]) + 1;
    char *text = malloc(len + 1);
    if (!text) {
        job_free(&job);
        return err_set(e, AE_ERUN, "out of memory");
    }
    text[0] = 0;
    for (int i = 0; i < n; i++) strcat(strcat(text, sets[i]), "\n");
    c->overrides[id] = text;
    /* The row shows them on one line. */
    char *line = strdup(text);
    if (!line) {
        job_free(&job);
        return err_set(e, AE_ERUN, "out of memory");
    }
    for (char *p = line; *p; p++)
        if (*p == '\n') *p = p[1] ? ' ' : 0;
    c->configs[id] = line;
    c->rows[id] = (TrialRow){.trial = id, .stage = t->stage, .round = t->round,
                             .lr = job.train.lr, .batch_size = job.train.batch_size,
                             .bottleneck = job.model.bottleneck, .lambda = job.penalty.lambda,
                             .sigma = job.penalty.sigma, .folds = c->folds, .status = -1};
    job_free(&job);
    c->reports[id] = malloc(sizeof *c->reports[id] * (size_t)c->folds);
    if (!c->reports[id]) return err_set(e, AE_ERUN, "out of memory");
    for (int f = 0; f < c->folds; f++)
        if (enqueue(c, id, f, e)) return e->code;
    c->tasks_total += c->folds;
    return AE_OK;
}

/* /rounds from the search's round log: the intervals of every round so far, and
 * each finished stage's values. */
static int write_rounds(Coordinator *c, Err *e) {
    const Search *s = &c->search;
    RoundRow *rows = malloc(sizeof *rows * 2 * (size_t)(s->n_rounds + 1));
    if (!rows) return err_set(e, AE_ERUN, "out of memory");
    int n = 0;
    for (int i = 0; i < s->n_rounds; i++) {
        const RoundLog *r = &s->rounds[i];
        for (int j = 0; j < r->n_params; j++)
            rows[n++] = (RoundRow){.stage = r->stage, .round = r->round, .final = r->final,
                                   .param = s->space->param[r->param[j]].name,
                                   .lo = r->lo[j], .hi = r->hi[j], .chosen = r->chosen[j]};
    }
    c->rounds_written = s->n_rounds;
    int rc = results_write_rounds(c->results, rows, n, e);
    free(rows);
    return rc;
}

/* Checkpoints of a lineage no later trial goes on with (hyperband). */
static void drop_checkpoints(Coordinator *c) {
    const int *ended;
    int n = search_ended(&c->search, &ended);
    for (int i = 0; i < n; i++)
        for (int f = 0; f < c->folds; f++) {
            char path[AE_PATH_MAX + 32];
            experiment_checkpoint_path(c->x, ended[i], f, path, sizeof path);
            unlink(path);
        }
}

static int release(Coordinator *c, Err *e) {
    const int *ids;
    int n = search_release(&c->search, &ids, e);
    if (n < 0) return e->code;
    if (c->search.n_rounds != c->rounds_written && write_rounds(c, e)) return e->code;
    if (grow(c, c->search.n_trials, e)) return e->code;
    for (int i = 0; i < n; i++)
        if (add_trial(c, ids[i], e)) return e->code;
    drop_checkpoints(c);
    return AE_OK;
}

static double mean_of(const TaskReport *r, int n, size_t off) {
    double s = 0;
    for (int i = 0; i < n; i++) s += *(const double *)((const char *)&r[i] + off);
    return s / n;
}

/* All folds of a trial are in: its row, in fold order so the sums are exact. */
static void finish_trial(Coordinator *c, int id) {
    TaskReport *r = c->reports[id];
    TrialRow *row = &c->rows[id];
    int status = TRIAL_OK;
    double secs = 0, epochs = 0;
    for (int f = 0; f < c->folds; f++) {
        if (r[f].status == TRAIN_FAILED) status = TRIAL_FAILED;
        else if (r[f].status == TRAIN_DIVERGED && status == TRIAL_OK) status = TRIAL_DIVERGED;
        secs += r[f].seconds;
        epochs += r[f].best_epoch;
    }
    row->status = status;
    row->seconds = secs;
    row->epochs = epochs / c->folds;
    row->train_mse = mean_of(r, c->folds, offsetof(TaskReport, train_mse));
    row->val_mse = mean_of(r, c->folds, offsetof(TaskReport, val_mse));
    row->val_accuracy = mean_of(r, c->folds, offsetof(TaskReport, val_accuracy));
    row->val_knn_accuracy = mean_of(r, c->folds, offsetof(TaskReport, val_knn_accuracy));
    row->val_linear_accuracy = mean_of(r, c->folds, offsetof(TaskReport, val_linear_accuracy));
    double m = mean_of(r, c->folds, offsetof(TaskReport, objective)), v = 0;
    for (int f = 0; f < c->folds; f++) v += (r[f].objective - m) * (r[f].objective - m);
    row->objective_mean = status == TRIAL_OK ? m : NAN;
    row->objective_std = status == TRIAL_OK ? sqrt(v / c->folds) : NAN;
    row->objective_se = status == TRIAL_OK && c->folds > 1
                            ? sqrt(v / (c->folds - 1)) / sqrt(c->folds) : NAN;
    row->config = c->configs[id];
    free(r);
    c->reports[id] = NULL;
    search_complete(&c->search, id, row->objective_mean, row->objective_se, status);
}

static void format_duration(double s, char *buf, size_t n) {
    if (!isfinite(s) || s < 0) snprintf(buf, n, "?");
    else if (s < 60) snprintf(buf, n, "%.0fs", s);
    else if (s < 3600) snprintf(buf, n, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, n, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

/* Did the task go on from an earlier trial's checkpoint (a rung up)? */
static int went_up(const Coordinator *c, const TaskReport *rep) {
    return c->search.trials[rep->trial].lineage != rep->trial;
}

static void progress(Coordinator *c, const TaskReport *rep) {
    const Experiment *x = c->x;
    double el = clock_seconds() - c->t0, rate = c->tasks_done / el * 60.0;
    int more = !search_done(&c->search) && c->search.ops->adaptive;
    char eta[32], best[512] = "-", desc[400];
    format_duration((c->tasks_total - c->tasks_done) / (rate / 60.0), eta, sizeof eta);
    int b = search_best(&c->search);
    if (b >= 0) {
        point_describe(&x->space, &c->search.trials[b].point, desc, sizeof desc);
        snprintf(best, sizeof best, "%.6g (trial %d: %s)", c->search.trials[b].objective, b, desc);
    }
    char from[64] = "";
    if (rep->resumed_epoch > 0 && went_up(c, rep))
        snprintf(from, sizeof from, " (rung %d, on from epoch %d)",
                 c->search.trials[rep->trial].round, rep->resumed_epoch);
    else if (rep->resumed_epoch > 0)
        snprintf(from, sizeof from, " (from its checkpoint at epoch %d)", rep->resumed_epoch);
    fprintf(stderr, "%s[%ld/%s%ld] trial %d fold %d %s%s %s %.6g | best %s | %.1f tasks/min | ETA %s%s\n",
            c->tty ? "\r\033[K" : "", c->tasks_done, more ? ">=" : "", c->tasks_total, rep->trial,
            rep->fold, train_status_name(rep->status), from, objective_names[x->job.search.objective],
            rep->objective, best, rate, eta, more ? "+" : "");
    if (c->tty) { /* a live bar under the log */
        int w = 30, fill = c->tasks_total ? (int)(w * c->tasks_done / c->tasks_total) : 0;
        fprintf(stderr, "[%.*s%*s] %ld/%ld ETA %s", fill, "##############################",
                w - fill, "", c->tasks_done, c->tasks_total, eta);
    }
}

/* kept: the task comes from its file (a resumed run), not from training now. */
static int handle_report(Coordinator *c, const TaskReport *rep, const double *curve, int kept,
                         Err *e) {
    const Experiment *x = c->x;
    char path[AE_PATH_MAX + 32];
    experiment_task_path(x, rep->trial, rep->fold, path, sizeof path);
    if (rep->fatal)
        return err_set(e, AE_ERUN, "%s: rank %d could not write this task's file or checkpoint "
                       "(its message says why); stopping", path, rep->rank);
    if (!kept) {
        c->resumed += rep->resumed_epoch > 0 && !went_up(c, rep);
        c->promoted += rep->resumed_epoch > 0 && went_up(c, rep);
        c->checkpoints += rep->checkpoints;
        c->checkpoint_seconds += rep->checkpoint_seconds;
        if (rep->checkpoints) c->checkpoint_bytes = rep->checkpoint_bytes;
    }
    if (rep->status == TRAIN_INTERRUPTED) { /* a signal on some rank stops the whole run */
        stop_requested = 1;
        return AE_OK; /* not done: a resumed run trains it */
    }
    if (!c->reports[rep->trial])
        return err_set(e, AE_ERUN, "%s: a second report of a finished trial (rank %d)", path,
                       rep->rank);
    c->tasks_done++;
    c->write_seconds += rep->write_seconds;
    c->reports[rep->trial][rep->fold] = *rep;
    FoldRow row = {.trial = rep->trial, .fold = rep->fold, .rank = rep->rank,
                   .epochs = rep->epochs, .train_mse = rep->train_mse, .val_mse = rep->val_mse,
                   .val_accuracy = rep->val_accuracy, .objective = rep->objective,
                   .seconds = rep->seconds, .status = rep->status,
                   .val_knn_accuracy = rep->val_knn_accuracy,
                   .val_linear_accuracy = rep->val_linear_accuracy,
                   /* by rank 0's clock alone: workers' clocks may disagree */
                   .finished = kept ? NAN : clock_seconds() - c->t0};
    int keep = x->job.output.weights == WEIGHTS_ALL && rep->status != TRAIN_FAILED;
    if (results_write_fold(c->results, &row, curve, rep->epochs, keep ? path : NULL, e))
        return e->code;
    if (++c->folds_done[rep->trial] == c->folds) {
        finish_trial(c, rep->trial);
        if (results_write_trial(c->results, &c->rows[rep->trial], e)) return e->code;
    }
    progress(c, rep);
    return AE_OK;
}

static void task_msg(const Coordinator *c, int trial, int fold, int epochs, TaskMsg *m) {
    const Trial *t = &c->search.trials[trial];
    m->plan = (TaskPlan){.trial = trial, .fold = fold, .epochs = epochs,
                         .until = fold == FOLD_REFIT ? 0 : t->budget, .lineage = t->lineage};
    snprintf(m->overrides, sizeof m->overrides, "%s", c->overrides[trial]);
}

/* Receives one message from any worker (a report, into rep and curve, *got
 * set), flushing results.h5's batch when it falls due meanwhile. Returns the
 * sender, -1 when a stop came first and nothing is outstanding, -2 when the
 * flush failed (e says why). */
static int receive(Coordinator *c, TaskReport *rep, double *curve, int *got, Err *e) {
    MPI_Status st;
    int w;
    *got = 0;
    while ((w = wait_message(MPI_ANY_SOURCE, &st, c->outstanding == 0,
                             results_flush_due(c->results))) == 2)
        if (results_flush(c->results, e)) return -2;
    if (!w) return -1;
    int n;
    MPI_Get_count(&st, MPI_BYTE, &n);
    MPI_Recv(c->buf, n, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (st.MPI_TAG == TAG_REPORT) {
        c->outstanding--;
        if (--c->load[st.MPI_SOURCE] == 0) {
            double t = clock_seconds();
            c->idle_since[st.MPI_SOURCE] = t;
            c->idle_sum_since += t;
            c->n_idle++;
        }
        memcpy(rep, c->buf, sizeof *rep);
        memcpy(curve, c->buf + sizeof *rep, (size_t)n - sizeof *rep);
        *got = 1;
    }
    return st.MPI_SOURCE;
}

/* Seconds the workers have spent holding no task, up to t. */
static double idle_seconds(const Coordinator *c, double t) {
    return c->idle_done + c->n_idle * t - c->idle_sum_since;
}

static void dispatch(Coordinator *c, const TaskMsg *m, int dest) {
    size_t n = offsetof(TaskMsg, overrides) + strlen(m->overrides) + 1;
    MPI_Send(m, (int)n, MPI_BYTE, dest, TAG_TASK, MPI_COMM_WORLD);
    c->outstanding++;
    double t = clock_seconds();
    if (c->load[dest]++ == 0) {
        c->idle_done += t - c->idle_since[dest];
        c->idle_sum_since -= c->idle_since[dest];
        c->n_idle--;
    }
    if (m->plan.fold != FOLD_REFIT) c->last_dispatch = t, c->idle_at_last = idle_seconds(c, t);
}

/* The next task that needs training. Tasks already on disk (a resumed run) are
 * handled on the way, exactly as if a worker had just reported them. */
static int pop_task(Coordinator *c, TaskMsg *m, int *rc, Err *e) {
    while (c->q_head < c->q_tail && *rc == AE_OK) {
        int trial = c->queue[2 * c->q_head], fold = c->queue[2 * c->q_head + 1];
        c->q_head++;
        const Durable *d = durable_find(c->durable, trial, fold, c->overrides[trial]);
        if (!d) {
            task_msg(c, trial, fold, 0, m);
            return 1;
        }
        c->kept++;
        *rc = handle_report(c, &d->rep, d->curve, 1, e);
    }
    return 0;
}

/* The search proper: every task of every trial until the strategy is done. */
static int farm(Coordinator *c, Err *e) {
    int rc = AE_OK;
    TaskReport rep;
    while (rc == AE_OK) {
        if (!stop_requested && (rc = release(c, e))) break;
        int queued = c->q_tail - c->q_head;
        if (c->outstanding == 0 && (stop_requested || (queued == 0 && search_done(&c->search))))
            break;
        if (c->size == 1) { /* rank 0 trains the tasks itself */
            if (!pop_task(c, c->msg, &rc, e)) continue;
            run_one(c->x, c->msg, 0, &rep, c->curve);
            rc = handle_report(c, &rep, c->curve, 0, e);
            continue;
        }
        /* First a task for every worker without one, then each worker's next. */
        for (int held = 0; held < PREFETCH && !stop_requested; held++)
            for (int r = 1; r < c->size; r++)
                if (c->load[r] == held && pop_task(c, c->msg, &rc, e)) dispatch(c, c->msg, r);
        int got, from = rc == AE_OK && c->outstanding > 0 ? receive(c, &rep, c->curve, &got, e)
                                                           : -1;
        if (from == -2) {
            rc = e->code;
        } else if (from >= 0 && got) {
            double t = cpu_seconds();
            rc = handle_report(c, &rep, c->curve, 0, e);
            c->report_cpu += cpu_seconds() - t;
        }
    }
    return rc;
}

/* The chosen trial (the best, or the one search.select one_se takes) refit on
 * the whole training set for the mean early-stopping epoch of its folds, scored
 * on the test set: /best. */
static int refit(Coordinator *c, Err *e) {
    const Experiment *x = c->x;
    int best = search_chosen(&c->search);
    if (best < 0) /* the run has found nothing: it failed, whatever its rank timing */
        return err_set(e, AE_ERUN, "no trial has a finite %s (each diverged, failed or scored "
                       "NaN): no best trial, no /best",
                       objective_names[x->job.search.objective]);
    int epochs = (int)floor(c->rows[best].epochs + 0.5);
    task_msg(c, best, FOLD_REFIT, epochs < 1 ? 1 : epochs, c->msg);
    TaskReport rep;
    const Durable *done = c->durable->has_best ? &c->durable->best : NULL;
    if (done && done->rep.trial == best && !strcmp(done->config, c->overrides[best])) {
        rep = done->rep; /* refit before the interruption */
    } else if (c->size == 1) {
        run_one(x, c->msg, 0, &rep, c->curve);
    } else {
        int got = 0;
        dispatch(c, c->msg, 1); /* every worker is free now */
        do
            if (receive(c, &rep, c->curve, &got, e) == -2) return e->code;
        while (!(got && rep.fold == FOLD_REFIT) && !(stop_requested && c->outstanding == 0));
        if (!got || rep.fold != FOLD_REFIT) return AE_OK;
    }
    if (rep.fatal) { /* its file or checkpoint could not be written: as handle_report */
        char path[AE_PATH_MAX + 32];
        experiment_task_path(x, best, FOLD_REFIT, path, sizeof path);
        return err_set(e, AE_ERUN, "%s: rank %d could not write the refit's file or checkpoint "
                       "(its message says why); no /best", path, rep.rank);
    }
    if (rep.status != TRAIN_OK) {
        fprintf(stderr, "aesweep: the refit of trial %d ended %s: no /best\n", best,
                train_status_name(rep.status));
        return AE_OK;
    }
    const TrialRow *r = &c->rows[best];
    BestRow b = {.trial = best, .objective = r->objective_mean, .lr = r->lr,
                 .batch_size = r->batch_size, .bottleneck = r->bottleneck, .lambda = r->lambda,
                 .sigma = r->sigma, .config = r->config, .test_mse = rep.test_mse,
                 .test_accuracy = rep.test_accuracy,
                 .test_latent_accuracy = rep.test_latent_accuracy, .test_nrmse = rep.test_nrmse,
                 .test_knn_accuracy = rep.test_knn_accuracy,
                 .test_linear_accuracy = rep.test_linear_accuracy,
                 .epochs = rep.epochs, .test_index = x->data.test.idx,
                 .n_test = x->data.test.n};
    char path[AE_PATH_MAX + 32];
    experiment_task_path(x, best, FOLD_REFIT, path, sizeof path);
    if (results_write_best(c->results, &b, path, e)) return e->code;
    char desc[400];
    point_describe(&x->space, &c->search.trials[best].point, desc, sizeof desc);
    int top = search_best(&c->search);
    char chose[600] = "";
    if (top != best) {
        char topdesc[400];
        point_describe(&x->space, &c->search.trials[top].point, topdesc, sizeof topdesc);
        int tied = objective_tied(r->objective_mean, c->rows[top].objective_mean,
                                  c->rows[top].objective_se, c->search.maximize);
        snprintf(chose, sizeof chose, " (search.select one_se: %s, trial %d (%s) at %.6g ± %.3g)",
                 tied ? "preferred among the trials tied with the best mean"
                      : "where the bisection's stages led, each choosing by the rule; the best "
                        "mean is",
                 top, topdesc, c->rows[top].objective_mean, c->rows[top].objective_se);
    }
    char se[48] = "";
    if (c->folds > 1) snprintf(se, sizeof se, " ± %.3g", r->objective_se);
    fprintf(stderr, "%s%s: trial %d (%s): %s %.6g%s over %d fold%s%s; refit %d epochs: "
            "test_mse %.6g test_accuracy %.4f\n", c->tty ? "\r\033[K" : "",
            top != best ? "chosen" : "best", best, desc,
            objective_names[x->job.search.objective], r->objective_mean, se, c->folds,
            c->folds == 1 ? "" : "s", chose, rep.epochs, rep.test_mse, rep.test_accuracy);
    return AE_OK;
}

/* ---- set-up and the end ---- */

static void coordinator_free(Coordinator *c) {
    for (int i = 0; i < c->cap; i++)
        free(c->overrides[i]), free(c->configs[i]), free(c->reports[i]);
    free(c->overrides), free(c->configs), free(c->rows), free(c->reports), free(c->folds_done), free(c->queue);
    free(c->load), free(c->idle_since), free(c->buf), free(c->curve), free(c->msg);
    search_free(&c->search);
}

static int coordinator_init(Coordinator *c, const Experiment *x, int size, Err *e) {
    memset(c, 0, sizeof *c);
    c->x = x;
    c->size = size;
    c->folds = x->job.search.folds;
    c->max_epochs = experiment_max_epochs(x);
    c->tty = isatty(2);
    c->t0 = clock_seconds();
    c->cpu0 = cpu_seconds();
    size_t bufsize = sizeof(TaskReport) + sizeof(double) * CURVE_COLS * (size_t)c->max_epochs;
    c->load = calloc((size_t)size, sizeof(int));
    c->idle_since = malloc(sizeof(double) * (size_t)size);
    for (int r = 1; r < size && c->idle_since; r++) c->idle_since[r] = c->t0;
    c->n_idle = size - 1;
    c->idle_sum_since = (size - 1) * c->t0;
    c->buf = malloc(bufsize > sizeof(TaskMsg) ? bufsize : sizeof(TaskMsg));
    c->curve = malloc(sizeof(double) * CURVE_COLS * (size_t)c->max_epochs);
    c->msg = malloc(sizeof *c->msg);
    if (!c->load || !c->idle_since || !c->buf || !c->curve || !c->msg)
        return err_set(e, AE_ERUN, "out of memory");
    return search_init(&c->search, &x->job, &x->space, e);
}

/* Every worker gets STOP once nothing is outstanding, so no message is left
 * unreceived at MPI_Finalize. */
static void stop_workers(Coordinator *c) {
    TaskReport rep;
    int got;
    Err ignored = {0}; /* a failed flush is the status write's to report */
    while (c->outstanding > 0 && receive(c, &rep, c->curve, &got, &ignored) != -1) {
    }
    for (int r = 1; r < c->size; r++) MPI_Send(NULL, 0, MPI_BYTE, r, TAG_STOP, MPI_COMM_WORLD);
}

/* results.h5 is always rebuilt: from the durable task files of an earlier run of
 * the same job (resume), or from nothing. */
static int open_results(const Experiment *x, int fresh, DurableSet *d, Results **out, Err *e) {
    char path[AE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/results.h5", x->out_dir);
    if (resume_prepare(x, fresh, d, e) || experiment_make_dirs(x, e)) return e->code;
    int obj = x->job.search.objective;
    ResultsMeta meta = {.job_json = x->job.json, .job_sha256 = x->sha, .sets = x->sets,
                        .input_dim = x->data.data.train.dim,
                        .strategy = strategy_names[x->job.search.strategy],
                        .objective = objective_names[obj],
                        .direction = obj == OBJ_VAL_MSE ? "min" : "max",
                        .folds = x->job.search.folds};
    return results_create(path, &meta, out, e);
}

static int coordinate(const Experiment *x, int size, int fresh, Err *e) {
    Coordinator c;
    Results *res = NULL;
    DurableSet durable;
    int rc = open_results(x, fresh, &durable, &res, e);
    if (durable.aside[0]) fprintf(stderr, "aesweep: --fresh: the earlier run is kept in %s\n",
                                  durable.aside);
    if (durable.warning[0]) fprintf(stderr, "aesweep: warning: %s\n", durable.warning);
    if (durable.n || durable.discarded)
        fprintf(stderr, "aesweep: resuming: %d finished task%s on disk, %d incomplete file%s "
                "removed\n", durable.n, durable.n == 1 ? "" : "s", durable.discarded,
                durable.discarded == 1 ? "" : "s");
    if (durable.moved)
        fprintf(stderr, "aesweep: resuming: %d file%s of an older layout moved into %s/AAA/BBB/ "
                "folders\n", durable.moved, durable.moved == 1 ? "" : "s", x->tasks_dir);
    if (rc == AE_OK) {
        rc = coordinator_init(&c, x, size, e);
        c.results = res;
        /* With workers, rank 0 must keep up with them: rows go to disk in batches
         * of at most a second (each is durable in its task file meanwhile). Alone,
         * it trains between results and flushes each. */
        if (res && size > 1) results_batch(res, RESULTS_BATCH_SECONDS);
        c.durable = &durable;
        fprintf(stderr, "aesweep run: %s: %s search, %d fold%s, %d rank%s -> %s/results.h5\n",
                x->job.source, strategy_names[x->job.search.strategy], c.folds,
                c.folds == 1 ? "" : "s", size, size == 1 ? "" : "s", x->out_dir);
        if (rc == AE_OK) rc = farm(&c, e);
        double farm_end = clock_seconds(), farm_wall = farm_end - c.t0;
        double farm_idle = rc == AE_OK ? idle_seconds(&c, farm_end) : 0;
        if (rc == AE_OK && !stop_requested) rc = refit(&c, e);
        if (size > 1) stop_workers(&c);
        Err e2 = {0};
        /* the last stage's values, which no later round has written */
        if (c.search.ops->rounds && write_rounds(&c, &e2) && rc == AE_OK)
            rc = e2.code, *e = e2;
        const char *status = stop_requested ? "interrupted" : rc ? "failed" : "complete";
        if (results_set_status(res, status, &e2) && rc == AE_OK) rc = e2.code, *e = e2;
        if (results_close(res, &e2) && rc == AE_OK) rc = e2.code, *e = e2;
        double cpu = cpu_seconds() - c.cpu0, wall = clock_seconds() - c.t0;
        fprintf(stderr, "%s%s: %ld tasks in %.1f s, refit %.1f s", c.tty ? "\r\033[K" : "",
                status, c.tasks_done, farm_wall, wall - farm_wall);
        long received = c.tasks_done - c.kept;
        if (size > 1)
            fprintf(stderr, "; coordinator CPU %.2f s (%.2f%% of wall time; %.3f ms a result "
                    "received to handle it)", cpu, 100 * cpu / wall,
                    received > 0 ? 1000 * c.report_cpu / (double)received : 0.0);
        fprintf(stderr, "\n");
        int workers = size - 1;
        if (workers > 0 && c.last_dispatch > c.t0)
            fprintf(stderr, "workers waited for a task %.1f%% of the time until the last one "
                    "went out, %.1f%% of the search's %.1f s\n",
                    100 * c.idle_at_last / (workers * (c.last_dispatch - c.t0)),
                    100 * farm_idle / (workers * farm_wall), farm_wall);
        long trained = c.tasks_done - c.kept;
        if (trained > 0)
            fprintf(stderr, "%ld task%s trained, %ld kept from their files; a task file took %.1f "
                    "ms to write and sync on average\n", trained, trained == 1 ? "" : "s",
                    c.kept, 1e3 * c.write_seconds / trained);
        if (c.checkpoints > 0)
            fprintf(stderr, "%ld checkpoint%s written (%.1f MB each, %.1f ms to write and sync on "
                    "average); %ld task%s went on from a checkpoint (%ld after a stop, %ld a "
                    "rung up)\n", c.checkpoints, c.checkpoints == 1 ? "" : "s",
                    c.checkpoint_bytes / 1e6, 1e3 * c.checkpoint_seconds / c.checkpoints,
                    c.resumed + c.promoted, c.resumed + c.promoted == 1 ? "" : "s", c.resumed,
                    c.promoted);
        coordinator_free(&c);
    }
    else if (size > 1) /* the workers wait for word: tell them there is nothing to do */
        for (int r = 1; r < size; r++) MPI_Send(NULL, 0, MPI_BYTE, r, TAG_STOP, MPI_COMM_WORLD);
    durable_free(&durable);
    if (rc == AE_OK && stop_requested) rc = AE_EINTR;
    return rc;
}

/* Started by mpirun or srun (Open MPI, PMIx, PMI), rather than as a lone process? */
static int launched(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

/* Under mpirun: the job, then its data once a node (node_data_load), then the
 * rest of the experiment on that data. Every rank reaches each collective step:
 * a job that fails to parse on any rank stops all before the data. */
static int open_shared(const RunOptions *o, Experiment *x, NodeData *nd, int *opened, Err *e) {
    Job job;
    JobData data;
    int rc = job_load(o->job_path, o->sets, o->n_sets, &job, e), any;
    MPI_Allreduce(&rc, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (rc) return rc;
    if (any) { /* another rank's fault: it speaks */
        job_free(&job);
        return err_set(e, any, "another rank could not read the job");
    }
    rc = node_data_load(&job, nd, &data, e);
    job_free(&job);
    if (!rc) rc = experiment_open(x, o->job_path, o->sets, o->n_sets, o->out_dir, &data, e);
    *opened = rc == AE_OK;
    return rc;
}

int run_search(const RunOptions *o, int *argc, char ***argv) {
    /* Before MPI_Init, which can take a while: a batch system's stop signal
     * that comes then must stop the run (exit 3), not kill the rank. */
    stop_on_signals();
    Experiment x;
    Err e = {0};
    int open_rc = AE_OK, opened = 0;
    if (!launched()) {
        /* A lone process checks the job before MPI_Init, which as a singleton
         * takes half a second: a bad job is refused at once, with no MPI at all. */
        open_rc = experiment_open(&x, o->job_path, o->sets, o->n_sets, o->out_dir, NULL, &e);
        if (open_rc) {
            fprintf(stderr, "aesweep: %s\n", e.msg);
            return open_rc;
        }
        opened = 1;
    }
    MPI_Init(argc, argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    NodeData nd = {.node = MPI_COMM_NULL, .win = MPI_WIN_NULL};
    if (!opened) open_rc = open_shared(o, &x, &nd, &opened, &e);
    /* Every rank checks the job and its data; all stop if any failed. Rank 0
     * speaks for all, other ranks only for a fault of their own. */
    int worst, rc0 = open_rc, rc = open_rc;
    MPI_Allreduce(&open_rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Bcast(&rc0, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (open_rc && (rank == 0 || rc0 == AE_OK))
        fprintf(stderr, "aesweep: %s%s\n", rank ? "rank: " : "", e.msg);
    if (worst == AE_OK && rank == 0 && size > 1)
        fprintf(stderr, "aesweep: data: %.1f MB a copy, %d cop%s for %d ranks%s\n", nd.mbytes,
                nd.nodes, nd.nodes == 1 ? "y" : "ies", size,
                nd.private_copies ? " (no shared memory window: one a rank)" : " (one a node)");
    if (worst == AE_OK) {
        if (rank == 0) {
            rc = coordinate(&x, size, o->fresh, &e);
            if (rc && rc != AE_EINTR) fprintf(stderr, "aesweep: %s\n", e.msg);
        } else {
            rc = worker(&x, rank, experiment_max_epochs(&x));
        }
    }
    if (opened) experiment_close(&x);
    node_data_free(&nd); /* after the data's last use */
    /* The run's exit code is the coordinator's. */
    int code = worst ? worst : rc;
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return code;
}
