/* The subcommands. Each parses its own arguments and returns the process exit
 * code (SPEC §2): 0 done, 1 failure at run time, 2 bad input, 3 interrupted. */
#ifndef AESWEEP_CLI_H
#define AESWEEP_CLI_H

#include "plan.h"

int cmd_train(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_info(int argc, char **argv);
/* `aesweep validate` of a job without search.space: the checks of `aesweep train
 * JOB [--set]... [--out FILE]`, then its configuration; nothing is written. */
int validate_train_job(const char *job_path, const char *const *sets, int n_sets,
                       const char *out);

/* Prints the job's model for its data, layer by layer (shapes, parameters, FLOPs). */
int print_layer_table(const Job *job, const JobData *d, Err *e);

/* Prints "aesweep: MESSAGE" to stderr and returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses a whole decimal integer/number or returns nonzero. */
int cli_int(const char *s, int lo, int hi, int *out);
int cli_double(const char *s, double lo, double hi, double *out);
/* BLAS threads: `requested` if > 0, else OPENBLAS_NUM_THREADS if set, else 1. */
int cli_blas_threads(int requested);

#endif
