/* aesweep run / validate / info. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "experiment.h"
#include "results.h"
#include "run.h"

#define MAX_SETS 64

static const char run_usage_text[] =
    "usage: aesweep run JOB.json [--out DIR] [--resume | --fresh] [--set KEY=VALUE]...\n"
    "Under MPI: mpirun -np N aesweep run JOB.json (rank 0 coordinates, the others train;\n"
    "with one rank, rank 0 trains). Results: OUT/results.h5 (OUT = --out or output.dir).\n"
    "A rerun of the same job into the same OUT resumes: finished tasks are not retrained.\n"
    "--fresh moves an earlier run in OUT aside (OUT.old.N) and starts over.\n"
    "Stop a run cleanly with kill -USR1 <mpirun pid> (exit code 3; rerun to resume).\n";

int cmd_run(int argc, char **argv) {
    RunOptions o = {0};
    int resume = 0;
    const char *sets[MAX_SETS];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(run_usage_text, stdout);
            return 0;
        } else if (!strcmp(a, "--set") && i + 1 < argc) {
            if (o.n_sets == MAX_SETS) return cli_fail(2, "too many --set (at most %d)", MAX_SETS);
            sets[o.n_sets++] = argv[++i];
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            o.out_dir = argv[++i];
        } else if (!strcmp(a, "--fresh")) {
            o.fresh = 1;
        } else if (!strcmp(a, "--resume")) {
            resume = 1; /* what a rerun does anyway; said aloud, it excludes --fresh */
        } else if (a[0] == '-' || o.job_path) {
            fputs(run_usage_text, stderr);
            return cli_fail(2, "run: unexpected argument '%s'", a);
        } else {
            o.job_path = a;
        }
    }
    if (!o.job_path) {
        fputs(run_usage_text, stderr);
        return 2;
    }
    if (resume && o.fresh) return cli_fail(2, "run: --resume and --fresh exclude each other");
    o.sets = sets;
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
    if (strcmp(p->name, p->key)) printf("  (%s)", p->key);
    printf("\n");
}

/* The plan of a bisection: per stage, its parameters and the most points it can take. */
static long print_stages(const Experiment *x) {
    const Space *s = &x->space;
    long most = 0;
    for (int k = 0; k < s->n_stages; k++) {
        int d = s->stage_size[k];
        long per_round = d == 1 ? 3 : 9, last = 1;
        for (int j = 0; j < d; j++) {
            const Param *p = &s->param[s->stage[k][j]];
            long n = p->kind == PARAM_REAL ? 5 : x->job.search.exhaustive_below;
            if (p->kind == PARAM_VALUES && p->n_values < n) n = p->n_values;
            last *= n;
        }
        long stage_most = per_round * x->job.search.max_rounds + last;
        most += stage_most;
        printf("  stage %d: %s%s%s (at most %d rounds of <= %ld points, then <= %ld)\n", k + 1,
               s->param[s->stage[k][0]].name, d == 2 ? ", " : "",
               d == 2 ? s->param[s->stage[k][1]].name : "", x->job.search.max_rounds, per_round,
               last);
    }
    return most;
}

int cmd_validate(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') {
        fputs("usage: aesweep validate JOB.json [--set KEY=VALUE]...\n", argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sets[MAX_SETS];
    int n_sets = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--set") && i + 1 < argc && n_sets < MAX_SETS) sets[n_sets++] = argv[++i];
        else return cli_fail(2, "validate: unexpected argument '%s'", argv[i]);
    }
    Experiment x;
    Err e = {0};
    if (experiment_open(&x, argv[1], sets, n_sets, NULL, &e)) return cli_fail(e.code, "%s", e.msg);
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
    printf("strategy   %s, objective %s (%s)\n", strategy_names[j->search.strategy],
           objective_names[j->search.objective], j->search.objective == OBJ_VAL_MSE ? "min" : "max");
    printf("space\n");
    for (int i = 0; i < x.space.n_params; i++) print_param(&x.space.param[i]);
    long trials;
    if (j->search.strategy == STRATEGY_BISECTION) {
        printf("stages\n");
        trials = print_stages(&x);
        printf("plan       at most %ld trials (points met again are reused), at most %ld tasks "
               "+ 1 refit\n", trials, trials * folds);
    } else {
        trials = j->search.strategy == STRATEGY_GRID ? grid_size(&x.space) : j->search.trials;
        printf("plan       %ld trials x %d fold%s = %ld tasks + 1 refit\n", trials, folds,
               folds == 1 ? "" : "s", trials * folds);
    }
    printf("output     %s/results.h5\n", x.out_dir);
    experiment_close(&x);
    return 0;
}

int cmd_info(int argc, char **argv) {
    if (argc != 2 || argv[1][0] == '-') {
        fputs("usage: aesweep info RESULTS.h5\n", argc == 2 ? stdout : stderr);
        return argc == 2 ? 0 : 2;
    }
    Err e = {0};
    if (results_info(argv[1], 10, stdout, &e)) return cli_fail(e.code, "%s", e.msg);
    return 0;
}
