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
#include "task.h"

#define MAX_SETS 64

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void catch_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

static void print_epoch(void *ctx, int epoch, int epochs, double train_loss, double val_loss) {
    (void)ctx;
    fprintf(stderr, "epoch %3d/%d  train_loss %.6f  val_loss %.6f\n", epoch, epochs, train_loss,
            val_loss);
}

/* mkdir -p for the folder holding path. */
static int make_parent_dirs(const char *path, Err *e) {
    char dir[AE_PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return err_set(e, AE_EINPUT, "%.64s...: path too long", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return AE_OK;
    *slash = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            return err_set(e, AE_EINPUT, "%s: cannot create folder: %s", dir, strerror(errno));
        *p = '/';
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return err_set(e, AE_EINPUT, "%s: cannot create folder: %s", dir, strerror(errno));
    if (access(dir, W_OK) != 0)
        return err_set(e, AE_EINPUT, "%s: folder is not writable", dir);
    return AE_OK;
}

typedef struct {
    Dataset data;
    Index train_all, test_all, train, val, test;
} Splits;

static void splits_free(Splits *s) {
    dataset_free(&s->data);
    index_free(&s->train_all);
    index_free(&s->test_all);
    index_free(&s->train);
    index_free(&s->val);
    index_free(&s->test);
}

/* The data of a job: its subsets (train_limit, test_limit) and the holdout split,
 * every draw a function of the job's seed. */
static int load_splits(const Job *job, Splits *s, Err *e) {
    memset(s, 0, sizeof *s);
    uint64_t seed = (uint64_t)job->seed;
    Index all_train, all_test;
    int rc = dataset_load(job_data_dir(job), &s->data, e);
    if (rc && job->data.path[0]) return err_prefix(e, "%s: data.path", job->source);
    if (rc) {
        err_prefix(e, "%s: data.dataset \"%s\"", job->source, job->data.dataset);
        size_t n = strlen(e->msg);
        snprintf(e->msg + n, sizeof e->msg - n, " (Debian package dataset-%s installed?)",
                 job->data.dataset);
        return rc;
    }
    rc = index_all(s->data.train.n, &all_train, e);
    if (rc) return rc;
    rc = index_subset(s->data.train.labels, &all_train,
                      job->data.train_limit ? job->data.train_limit : all_train.n,
                      seed_mix(seed, RNG_SUBSET_TRAIN), &s->train_all, e);
    index_free(&all_train);
    if (rc) return rc;
    rc = index_all(s->data.test.n, &all_test, e);
    if (rc) return rc;
    rc = index_subset(s->data.test.labels, &all_test,
                      job->data.test_limit ? job->data.test_limit : all_test.n,
                      seed_mix(seed, RNG_SUBSET_TEST), &s->test, e);
    index_free(&all_test);
    if (rc) return rc;
    return index_holdout(s->data.train.labels, &s->train_all, job->data.validation,
                         seed_mix(seed, RNG_SPLIT), &s->train, &s->val, e);
}

static const char *status_name(TrainStatus s) {
    switch (s) {
    case TRAIN_OK: return "ok";
    case TRAIN_DIVERGED: return "diverged";
    case TRAIN_INTERRUPTED: return "interrupted";
    default: return "failed";
    }
}

static int write_model(const char *out, const Job *job, const TaskResult *r, Err *e) {
    const TrainResult *f = &r->fit;
    NamedValue v[] = {
        {"lr", job->train.lr},
        {"batch_size", job->train.batch_size},
        {"bottleneck", job->model.bottleneck},
        {"lambda", job->penalty.lambda},
        {"sigma", job->penalty.sigma},
        {"dropout", job->train.dropout},
        {"weight_decay", job->train.weight_decay},
        {"input_noise", job->train.input_noise},
        {"seed", job->seed},
        {"epochs", f->epochs},
        {"best_epoch", f->best_epoch},
        {"train_mse", f->train_mse},
        {"val_mse", f->val_mse},
        {"test_mse", r->test_mse},
        {"val_nrmse", r->val_nrmse},
        {"test_nrmse", r->test_nrmse},
        {"latent_accuracy", r->val_latent_accuracy},
        {"test_latent_accuracy", r->test_latent_accuracy},
        {"val_accuracy", r->val_accuracy},
        {"test_accuracy", r->test_accuracy},
        {"classifier_epochs", r->cls.epochs},
        {"seconds", f->seconds},
    };
    ModelFileInfo info = {job->json, status_name(f->status), v, (int)(sizeof v / sizeof v[0]),
                          f->curve, f->epochs, &r->model,
                          r->classifier.n_layers ? &r->classifier : NULL, r->confusion,
                          r->n_classes};
    return model_file_write(out, &info, e);
}

static void print_summary(const TaskResult *r, const char *out) {
    const TrainResult *f = &r->fit;
    printf("status           %s\nepochs           %d (best %d)\n", status_name(f->status),
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
    Splits s;
    memset(&s, 0, sizeof s);
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
    if (make_parent_dirs(out, &e) || load_splits(&job, &s, &e)) {
        code = cli_fail(e.code, "%s", e.msg);
        goto done;
    }
    int threads = cli_blas_threads(0);
    fprintf(stderr, "aesweep train: %s: %d train / %d val / %d test images, %d BLAS thread%s\n",
            job_path, s.train.n, s.val.n, s.test.n, threads, threads == 1 ? "" : "s");

    TaskConfig cfg;
    job_train_config(&job, &cfg.train);
    job_classifier_config(&job, &cfg.classifier);
    cfg.use_classifier = job.classifier.epochs > 0;
    cfg.train.stop = cfg.classifier.stop = &stop_requested;
    cfg.train.on_epoch = print_epoch;
    catch_signals();
    if (task_run(&cfg, &s.data, &s.train, &s.val, &s.test, &r, &e)) {
        code = cli_fail(e.code, "%s", e.msg);
        goto done;
    }
    if (r.fit.status == TRAIN_INTERRUPTED) {
        code = cli_fail(3, "interrupted after %d epochs; nothing written", r.fit.epochs);
        goto done;
    }
    if (write_model(out, &job, &r, &e)) {
        code = cli_fail(e.code, "%s", e.msg);
        goto done;
    }
    print_summary(&r, out);
done:
    task_result_free(&r);
    splits_free(&s);
    job_free(&job);
    return code;
}
