/* aesweep: hyperparameter search for stacked autoencoders across MPI ranks. */
#include <cblas.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "version.h"

static const char usage[] =
    "usage:\n"
    "  aesweep train JOB.json [--set KEY=VALUE]... [--out FILE.h5]\n"
    "        train one configuration (the job's fixed values) on its holdout split and\n"
    "        write the model, its loss curve and train/val/test MSE to FILE.h5\n"
    "        (default OUTPUT_DIR/model.h5, OUTPUT_DIR being the job's output.dir)\n"
    "  aesweep bench [--layers 784,800,400,225] [--batch 164] [--activation relu]\n"
    "                [--leaky-slope 0.01] [--penalty none|class_target|csd] [--seconds 3]\n"
    "                [--threads 1]\n"
    "        time training steps on synthetic data; prints one JSON line\n"
    "  aesweep run JOB.json [--out DIR] [--resume | --fresh] [--set KEY=VALUE]...\n"
    "        the search (under mpirun: rank 0 coordinates, the other ranks train);\n"
    "        results in OUT/results.h5\n"
    "  aesweep validate JOB.json     check the job and print the plan; no training\n"
    "  aesweep info RESULTS.h5       status, counts and the best trials\n"
    "  aesweep --help | --version\n"
    "\n"
    "KEY is a dotted job-spec path, e.g. --set train.lr=0.01 --set model.hidden=[256]\n"
    "Exit codes: 0 done, 1 failure at run time, 2 bad command line or job spec,\n"
    "3 interrupted (SIGINT/SIGTERM/SIGUSR1).\n"
    "BLAS threads: 1, or OPENBLAS_NUM_THREADS when set (bench: --threads).\n";

int cli_fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("aesweep: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int cli_double(const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (errno || end == s || *end || !(x >= lo && x <= hi)) return 1;
    *out = x;
    return 0;
}

int cli_int(const char *s, int lo, int hi, int *out) {
    double x;
    if (cli_double(s, lo, hi, &x) || x != (int)x) return 1;
    *out = (int)x;
    return 0;
}

int cli_blas_threads(int requested) {
    int n = requested;
    const char *env = getenv("OPENBLAS_NUM_THREADS");
    if (n <= 0 && !(env && cli_int(env, 1, 1024, &n) == 0)) n = 1;
    openblas_set_num_threads(n);
    return n;
}

int main(int argc, char **argv) {
    /* A file-size limit (ulimit -f) must fail a write with EFBIG, which every
     * writer reports with the file's name, not kill the process half-way. */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("aesweep %s\n", AESWEEP_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "train")) return cmd_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "run")) return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "validate")) return cmd_validate(argc - 1, argv + 1);
    if (!strcmp(cmd, "info")) return cmd_info(argc - 1, argv + 1);
    fputs(usage, stderr);
    return cli_fail(2, "unknown command '%s'", cmd);
}
