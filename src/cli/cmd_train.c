/* aesweep train: one configuration, no search. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "model_file.h"
#include "spec.h"
#include "stop.h"
#include "fsutil.h"
#include "plan.h"
#include "task_file.h"

#define MAX_SETS 64

static void print_epoch(void *ctx, int epoch, int epochs, double train_loss, double val_loss) {
    (void)ctx;
    fprintf(stderr, "epoch %3d/%d  train_loss %.6f  val_loss %.6f\n", epoch, epochs, train_loss,
            val_loss);
}

static void print_summary(const TaskResult *r, const char *out) {
    const TrainResult *f = &r->fit;
    printf("status           %s\nepochs           %d (best %d)\n", train_status_name(f->status),
           f->epochs, f->best_epoch);
    printf("train_mse        %.6g\nval_mse          %.6g\ntest_mse         %.6g\n", f->train_mse,
           f->val_mse, r->test_mse);
    printf("test_nrmse       %.6g\n", r->test_nrmse);
    printf("latent_accuracy  %.4f (val)  %.4f (test)\n", r->val_latent_accuracy,
           r->test_latent_accuracy);
    printf("val_accuracy     %.4f\ntest_accuracy    %.4f\n", r->val_accuracy, r->test_accuracy);
    if (r->confusion) {
        printf("confusion (rows: true class, columns: predicted; test split)\n");
        for (int i = 0; i < r->n_classes; i++) {
            for (int j = 0; j < r->n_classes; j++)
                printf("%5d", r->confusion[i * r->n_classes + j]);
            printf("\n");
        }
    }
    printf("seconds          %.1f\nmodel            %s\n", f->seconds, out);
}

/* The batch sizes the job wrote must fit in the n training images of the holdout. */
static int check_batches(const Job *job, int n, Err *e) {
    static const char *const keys[] = {"train.batch_size", "classifier.batch_size"};
    for (int i = 0; i < 2; i++)
        if (job_key_given(job, keys[i]) &&
            job_batch_check(job, keys[i], job_number(job, keys[i]), n, e))
            return AE_EINPUT;
    return AE_OK;
}

static int train_usage(void) {
    return cli_fail(2, "usage: aesweep train JOB.json [--set KEY=VALUE]... [--out FILE.h5]");
}

int cmd_train(int argc, char **argv) {
    const char *job_path = NULL, *out = NULL;
    const char *sets[MAX_SETS];
    int n_sets = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: aesweep train JOB.json [--set KEY=VALUE]... [--out FILE.h5]\n");
            return 0;
        } else if (!strcmp(a, "--set") && i + 1 < argc) {
            if (n_sets == MAX_SETS) return cli_fail(2, "too many --set (at most %d)", MAX_SETS);
            sets[n_sets++] = argv[++i];
        } else if (!strncmp(a, "--set=", 6)) {
            if (n_sets == MAX_SETS) return cli_fail(2, "too many --set (at most %d)", MAX_SETS);
            sets[n_sets++] = a + 6;
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            out = argv[++i];
            if (!out[0]) return cli_fail(2, "train: --out: expected a file name, got \"\"");
        } else if (a[0] == '-' || job_path) {
            cli_fail(2, "train: unexpected argument '%s'", a);
            return train_usage();
        } else {
            job_path = a;
        }
    }
    if (!job_path) return train_usage();

    Err e = {0};
    Job job;
    if (job_load(job_path, sets, n_sets, &job, &e)) return cli_fail(e.code, "%s", e.msg);
    int code = 0;
    char default_out[AE_PATH_MAX];
    JobData d;
    Index train = {0}, val = {0};
    memset(&d, 0, sizeof d);
    TaskResult r;
    memset(&r, 0, sizeof r);
    if (!out) {
        if (snprintf(default_out, sizeof default_out, "%s/model.h5", job.output.dir) >=
            (int)sizeof default_out) {
            code = cli_fail(2, "%s: output.dir: path too long", job_path);
            goto done;
        }
        out = default_out;
    }
    /* Every check that can fail comes before the training. */
    if (check_output_file(out, &e) || make_parent_dirs(out, &e) || job_data_load(&job, &d, &e) ||
        job_data_split(&job, &d, 1, 0, &train, &val, &e) || check_batches(&job, train.n, &e)) {
        code = cli_fail(e.code, "%s", e.msg);
        goto done;
    }
    int threads = cli_blas_threads(0);
    fprintf(stderr, "aesweep train: %s: %d train / %d val / %d test images, %d BLAS thread%s\n",
            job_path, train.n, val.n, d.test.n, threads, threads == 1 ? "" : "s");

    /* One configuration: the job's own seed, and the holdout split whatever
     * search.folds says. */
    TaskConfig cfg;
    job_task_config(&job, (uint64_t)job.seed, 1, &cfg);
    cfg.train.stop = cfg.classifier.stop = &stop_requested;
    cfg.train.on_epoch = print_epoch;
    stop_on_signals();
    if (task_run(&cfg, &d.data, &train, &val, &d.test, &r, &e)) {
        code = cli_fail(e.code, "%s", e.msg);
        goto done;
    }
    if (r.fit.status == TRAIN_INTERRUPTED) {
        code = cli_fail(3, "interrupted after %d epochs; nothing written", r.fit.epochs);
        goto done;
    }
    if (task_file_write(out, &job, &r, NULL, &e)) {
        code = cli_fail(e.code, "%s", e.msg);
        goto done;
    }
    print_summary(&r, out);
done:
    task_result_free(&r);
    index_free(&train);
    index_free(&val);
    job_data_free(&d);
    job_free(&job);
    return code;
}
