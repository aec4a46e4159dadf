/* aesweep run / validate / info. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "experiment.h"
#include "results.h"
#include "resume.h"
#include "run.h"

#define MAX_SETS 64

static const char run_usage_text[] =
    "usage: aesweep run JOB.json [--out DIR] [--resume | --fresh] [--set KEY=VALUE]...\n"
    "Under MPI: mpirun -np N aesweep run JOB.json (rank 0 coordinates, the others train;\n"
    "with one rank, rank 0 trains). Results: OUT/results.h5 (OUT = --out or output.dir).\n"
    "A rerun of the same job into the same OUT resumes: finished tasks are not retrained.\n"
    "--fresh moves an earlier run in OUT aside (OUT.old.N) and starts over.\n"
    "Stop a run cleanly with kill -USR1 <mpirun pid> (exit code 3; rerun to resume).\n";

static const char validate_usage_text[] =
    "usage: aesweep validate JOB.json [--out DIR] [--resume | --fresh] [--set KEY=VALUE]...\n"
    "Checks the job as `aesweep run` with the same arguments would, and prints the plan;\n"
    "no training. With OUT holding another job's results (and no --fresh), exits 2 as\n"
    "run would: a queued job is checked before it waits.\n"
    "A job without search.space is checked as `aesweep train JOB [--out FILE.h5]` would\n"
    "check it, and its one configuration is printed.\n";

/* The arguments run and validate share. Returns -1 to go on, else an exit code. */
static int parse_run_args(int argc, char **argv, const char *usage, RunOptions *o,
                          const char **sets) {
    int resume = 0;
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--set") && i + 1 < argc) {
            if (o->n_sets == MAX_SETS) return cli_fail(2, "too many --set (at most %d)", MAX_SETS);
            sets[o->n_sets++] = argv[++i];
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            o->out_dir = argv[++i];
            if (!o->out_dir[0]) return cli_fail(2, "%s: --out: expected a folder, got \"\"", argv[0]);
        } else if (!strcmp(a, "--fresh")) {
            o->fresh = 1;
        } else if (!strcmp(a, "--resume")) {
            resume = 1; /* what a rerun does anyway; said aloud, it excludes --fresh */
        } else if (a[0] == '-' || o->job_path) {
            fputs(usage, stderr);
            return cli_fail(2, "%s: unexpected argument '%s'", argv[0], a);
        } else {
            o->job_path = a;
        }
    }
    if (!o->job_path) {
        fputs(usage, stderr);
        return 2;
    }
    if (resume && o->fresh)
        return cli_fail(2, "%s: --resume and --fresh exclude each other", argv[0]);
    o->sets = sets;
    return -1;
}

int cmd_run(int argc, char **argv) {
    RunOptions o;
    const char *sets[MAX_SETS];
    int rc = parse_run_args(argc, argv, run_usage_text, &o, sets);
    if (rc >= 0) return rc;
    cli_blas_threads(0);
    return run_search(&o, &argc, &argv);
}

static void print_param(const Param *p) {
    printf("  %-22s ", p->name);
    if (p->kind == PARAM_VALUES) {
        printf("values [");
        for (int i = 0; i < p->n_values; i++) printf("%s%s", i ? ", " : "", p->values[i]);
        printf("]");
    } else {
        printf("[%g, %g]%s%s", p->min, p->max, p->kind == PARAM_INT ? " int" : "",
               p->log ? " log" : "");
        if (p->points) printf(", %d points", p->points);
    }
    if (p->prefer) printf(", prefer %s", p->prefer < 0 ? "low" : "high");
    if (strcmp(p->name, p->key)) printf("  (%s)", p->key);
    printf("\n");
}

/* What search.select does with this space, in a line. */
static void print_select(const Job *j, const Space *s) {
    int preferring = 0;
    for (int i = 0; i < s->n_params; i++) preferring += s->param[i].prefer != 0;
    if (j->search.select == SELECT_BEST) {
        printf("select     best%s\n", preferring ? " (\"prefer\" is read only by search.select "
                                                    "\"one_se\")" : "");
        return;
    }
    printf("select     one_se: among the points within one standard error of the best, the "
           "one %s\n", preferring ? "the parameters prefer (in their order), then the best"
                                  : "with the best mean (no parameter says \"prefer\")");
}

/* The plan of a bisection: per stage, its parameters and the most points it can take. */
static long print_stages(const Experiment *x) {
    const Space *s = &x->space;
    long most = 0;
    for (int k = 0; k < s->n_stages; k++) {
        int d = s->stage_size[k];
        long per_round = d == 1 ? 3 : 9;
        long last = bisect_last_round_max(s, k, x->job.search.exhaustive_below,
                                          x->job.search.max_rounds);
        long stage_most = per_round * x->job.search.max_rounds + last;
        most += stage_most;
        printf("  stage %d: %s%s%s (at most %d rounds of <= %ld points, then <= %ld)\n", k + 1,
               s->param[s->stage[k][0]].name, d == 2 ? ", " : "",
               d == 2 ? s->param[s->stage[k][1]].name : "", x->job.search.max_rounds, per_round,
               last);
    }
    return most;
}

/* A learning-rate schedule in words, relative to the (fixed or searched) lr;
 * nothing for a constant rate. */
static void print_schedule(const char *who, int kind, double lr_min, int step_epochs,
                           double gamma, int warmup, int epochs) {
    if (kind == SCHED_CONSTANT && !warmup) return;
    printf("schedule   %s.lr: ", who);
    if (warmup) printf("linear warm-up over %d epoch%s from lr/%d, then ", warmup,
                       warmup == 1 ? "" : "s", warmup + 1);
    if (kind == SCHED_COSINE)
        printf("cosine to %g over %d epochs\n", lr_min, epochs - warmup);
    else if (kind == SCHED_STEP)
        printf("x%g every %d epoch%s\n", gamma, step_epochs, step_epochs == 1 ? "" : "s");
    else
        printf("constant\n");
}

int cmd_validate(int argc, char **argv) {
    RunOptions o;
    const char *sets[MAX_SETS];
    int rc = parse_run_args(argc, argv, validate_usage_text, &o, sets);
    if (rc >= 0) return rc;
    Experiment x;
    Err e = {0};
    int task_files = 0;
    Job job; /* a job without search.space is for `aesweep train`: validated as such */
    if (job_load(o.job_path, sets, o.n_sets, &job, &e)) return cli_fail(e.code, "%s", e.msg);
    int train_job = !job.space;
    job_free(&job);
    if (train_job) {
        if (o.fresh)
            return cli_fail(2, "%s: --fresh: a job without search.space is for `aesweep train`, "
                            "which keeps no results folder", o.job_path);
        return validate_train_job(o.job_path, sets, o.n_sets, o.out_dir);
    }
    if (experiment_open(&x, o.job_path, sets, o.n_sets, o.out_dir, NULL, &e))
        return cli_fail(e.code, "%s", e.msg);
    if (resume_check(&x, o.fresh, &task_files, &e)) {
        experiment_close(&x);
        return cli_fail(e.code, "%s", e.msg);
    }
    const Job *j = &x.job;
    int folds = j->search.folds;
    printf("job        %s (%s)\n", j->source, j->name);
    printf("data       %s: %d training images (of %d), %d test images (of %d)\n",
           job_data_dir(j), x.data.train.n, x.data.data.train.n, x.data.test.n,
           x.data.data.test.n);
    if (folds == 1)
        printf("folds      1: a stratified holdout of %g\n", j->data.validation);
    else
        printf("folds      %d, stratified (about %d validation images each)\n", folds,
               x.data.train.n / folds);
    if (print_layer_table(j, &x.data, &e)) {
        experiment_close(&x);
        return cli_fail(e.code, "%s", e.msg);
    }
    print_schedule("train", j->train.schedule, j->train.lr_min, j->train.step_epochs,
                   j->train.gamma, j->train.warmup_epochs, j->train.epochs);
    if (j->classifier.epochs > 0)
        print_schedule("classifier", j->classifier.schedule, j->classifier.lr_min,
                       j->classifier.step_epochs, j->classifier.gamma,
                       j->classifier.warmup_epochs, j->classifier.epochs);
    printf("strategy   %s, objective %s (%s)\n", strategy_names[j->search.strategy],
           objective_names[j->search.objective], j->search.objective == OBJ_VAL_MSE ? "min" : "max");
    printf("space\n");
    for (int i = 0; i < x.space.n_params; i++) print_param(&x.space.param[i]);
    print_select(j, &x.space);
    long trials;
    if (strategy_ops[j->search.strategy]->rounds) {
        printf("stages\n");
        trials = print_stages(&x);
        printf("plan       at most %ld trials (points met again are reused), at most %ld tasks "
               "+ 1 refit\n", trials, trials * folds);
    } else {
        Search plan; /* a strategy that knows its trials ahead says how many */
        Err e = {0};
        char rungs[600] = "";
        trials = search_init(&plan, j, &x.space, &e) ? 0 : plan.total;
        if (trials) halving_describe(&plan, rungs, sizeof rungs);
        search_free(&plan);
        if (rungs[0]) printf("rungs      %s\n", rungs);
        printf("plan       %ld trials x %d fold%s = %ld tasks + 1 refit\n", trials, folds,
               folds == 1 ? "" : "s", trials * folds);
    }
    printf("output     %s/results.h5", x.out_dir);
    if (o.fresh) printf(" (an earlier run there is moved aside)\n");
    else if (task_files)
        printf(" (resumes: %d task file%s there)\n", task_files, task_files == 1 ? "" : "s");
    else printf("\n");
    experiment_close(&x);
    return 0;
}

static const char info_usage_text[] =
    "usage: aesweep info RESULTS.h5 [--top K] [--pareto] [--watch [SECONDS]]\n"
    "The status, counts, the K best trials (default 10) and /best of a results file.\n"
    "--pareto   also the Pareto front: the trials no other beats on both the objective\n"
    "           and the code width (bottleneck), with the compression ratio\n"
    "--watch    redraw every SECONDS (default 2) while the run's status is running;\n"
    "           ends with the final state. Reading never blocks or slows the run.\n";

/* One frame of --watch: the whole table at once, so the terminal never shows half. */
static int watch_frame(const char *path, const InfoOptions *o, int tty, char *status, Err *e) {
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) return err_set(e, AE_ERUN, "out of memory");
    int rc = results_info(path, o, mem, status, 64, e);
    fclose(mem);
    if (rc == AE_OK) {
        time_t now = time(NULL);
        char when[32];
        strftime(when, sizeof when, "%H:%M:%S", localtime(&now));
        if (tty) fputs("\033[H\033[2J", stdout); /* home, clear: a redraw in place */
        else fputs("\n", stdout);
        printf("aesweep info --watch: %s\n%s", when, text);
        fflush(stdout);
    }
    free(text);
    return rc;
}

int cmd_info(int argc, char **argv) {
    InfoOptions o = {.top = 10};
    const char *path = NULL;
    double every = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(info_usage_text, stdout);
            return 0;
        } else if (!strcmp(a, "--top") && i + 1 < argc) {
            if (cli_int(argv[++i], 0, 1000000, &o.top))
                return cli_fail(2, "info: --top: expected a count 0..1000000, got '%s'", argv[i]);
        } else if (!strcmp(a, "--pareto")) {
            o.pareto = 1;
        } else if (!strcmp(a, "--watch")) {
            every = 2;
            /* a number next is the interval (in range or refused); else it is the path */
            double v;
            if (i + 1 < argc && cli_double(argv[i + 1], -1e300, 1e300, &v) == 0) {
                if (cli_double(argv[++i], 0.1, 86400, &every))
                    return cli_fail(2, "info: --watch: expected seconds 0.1..86400, got '%s'",
                                    argv[i]);
            }
        } else if (a[0] == '-' || path) {
            fputs(info_usage_text, stderr);
            return cli_fail(2, "info: unexpected argument '%s'", a);
        } else {
            path = a;
        }
    }
    if (!path) {
        fputs(info_usage_text, stderr);
        return 2;
    }
    Err e = {0};
    char status[64] = "";
    if (every < 0) {
        if (results_info(path, &o, stdout, status, sizeof status, &e))
            return cli_fail(e.code, "%s", e.msg);
        return 0;
    }
    int tty = isatty(STDOUT_FILENO);
    for (;;) {
        if (watch_frame(path, &o, tty, status, &e)) return cli_fail(e.code, "%s", e.msg);
        if (strcmp(status, "running") != 0) return 0;
        struct timespec t = {(time_t)every, (long)((every - floor(every)) * 1e9)};
        nanosleep(&t, NULL);
    }
}
