/* aesweep train: one configuration, no search. */
#include <cJSON.h>
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

static void print_epoch(void *ctx, const EpochReport *r) {
    (void)ctx;
    fprintf(stderr, "epoch %3d/%d  train_loss %.6f  val_loss %.6f\n", r->epoch, r->epochs,
            r->train_loss, r->val_loss);
}

/* A JSON number, or null for NaN and infinities (JSON has neither). */
static void json_number(const char *key, double v, const char *sep) {
    if (isfinite(v)) printf("\"%s\": %.17g%s", key, v, sep);
    else printf("\"%s\": null%s", key, sep);
}

/* --progress json: one line per epoch on stdout, flushed, for a driver outside
 * (it may stop the training with SIGINT or SIGTERM: aesweep stops at the next
 * batch and exits 3). */
static void json_epoch(void *ctx, const EpochReport *r) {
    (void)ctx;
    printf("{\"event\": \"epoch\", \"epoch\": %d, \"epochs\": %d, ", r->epoch, r->epochs);
    json_number("train_loss", r->train_loss, ", ");
    json_number("val_loss", r->val_loss, ", ");
    json_number("val_mse", r->val_mse, ", ");
    json_number("seconds", r->seconds, "}\n");
    fflush(stdout);
}

/* s as a JSON string (quoted and escaped by cJSON); "" when memory runs out. */
static void json_string(FILE *f, const char *s) {
    cJSON *v = cJSON_CreateString(s);
    char *text = v ? cJSON_PrintUnformatted(v) : NULL;
    fputs(text ? text : "\"\"", f);
    free(text);
    cJSON_Delete(v);
}

/* --progress json's last line: the summary's numbers. */
static void json_summary(const TaskResult *r, const char *out) {
    const TrainResult *f = &r->fit;
    printf("{\"event\": \"done\", \"status\": \"%s\", \"epochs\": %d, \"best_epoch\": %d, ",
           train_status_name(f->status), f->epochs, f->best_epoch);
    const struct {
        const char *key;
        double v;
    } v[] = {{"train_mse", f->train_mse}, {"val_mse", f->val_mse}, {"test_mse", r->test_mse},
             {"val_accuracy", r->val_accuracy}, {"test_accuracy", r->test_accuracy},
             {"val_knn_accuracy", r->val_knn_accuracy},
             {"val_linear_accuracy", r->val_linear_accuracy}, {"seconds", f->seconds}};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++) json_number(v[i].key, v[i].v, ", ");
    printf("\"model\": ");
    json_string(stdout, out);
    printf("}\n");
    fflush(stdout);
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
    printf("knn_accuracy     %.4f (val)  %.4f (test)\n", r->val_knn_accuracy, r->test_knn_accuracy);
    printf("linear_accuracy  %.4f (val)  %.4f (test)\n", r->val_linear_accuracy,
           r->test_linear_accuracy);
    if (!isnan(r->val_kl) || !isnan(r->test_kl))
        printf("kl               %.6g (val)  %.6g (test)\nelbo             %.6g (val)  %.6g "
               "(test)\n", r->val_kl, r->test_kl, r->val_elbo, r->test_elbo);
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

/* What `train` reads and checks before it trains: the job, its data and split, and
 * where the model goes. `validate` checks a train job through the same code. */
typedef struct {
    Job job;
    JobData d;
    Index train, val;
    char out[AE_PATH_MAX];
} TrainSetup;

static void train_close(TrainSetup *t) {
    index_free(&t->train);
    index_free(&t->val);
    job_data_free(&t->d);
    job_free(&t->job);
}

/* Every check that can fail before the training. out NULL: output.dir/model.h5.
 * With make_dirs 0 nothing is created (validate). */
static int train_open(TrainSetup *t, const char *job_path, const char *const *sets, int n_sets,
                      const char *out, int make_dirs, Err *e) {
    memset(t, 0, sizeof *t);
    int rc = job_load(job_path, sets, n_sets, &t->job, e);
    if (rc) return rc;
    if ((out ? snprintf(t->out, sizeof t->out, "%s", out)
             : snprintf(t->out, sizeof t->out, "%s/model.h5", t->job.output.dir)) >=
        (int)sizeof t->out)
        rc = err_set(e, AE_EINPUT, "%s: %s: path too long", job_path, out ? "--out" : "output.dir");
    if (!rc) rc = check_output_file(t->out, e);
    if (!rc && make_dirs) rc = make_parent_dirs(t->out, e);
    if (!rc) rc = job_data_load(&t->job, &t->d, e);
    if (!rc) rc = job_data_split(&t->job, &t->d, 1, 0, &t->train, &t->val, e);
    if (!rc) rc = check_batches(&t->job, t->train.n, e);
    if (!rc) rc = job_model_check(&t->job, &t->d, NULL, e);
    if (rc) train_close(t);
    return rc;
}

/* "a-b-c-" for the widths of a list, forwards or backwards. */
static void print_widths(const IntList *l, int backwards) {
    for (int i = 0; i < l->n; i++) printf("%d-", l->v[backwards ? l->n - 1 - i : i]);
}

int validate_train_job(const char *job_path, const char *const *sets, int n_sets,
                       const char *out) {
    TrainSetup t;
    Err e = {0};
    if (train_open(&t, job_path, sets, n_sets, out, 0, &e)) return cli_fail(e.code, "%s", e.msg);
    const Job *j = &t.job;
    const Images *im = &t.d.data.train;
    printf("job        %s (%s): one configuration, for `aesweep train` (no search.space, "
           "which `aesweep run` needs)\n", j->source, j->name);
    printf("data       %s: %d training images (of %d), %d test images (of %d), %dx%d, %d "
           "classes\n", job_data_dir(j), t.d.train.n, im->n, t.d.test.n, t.d.data.test.n,
           im->rows, im->cols, t.d.data.n_classes);
    printf("split      a stratified holdout of %g: %d train, %d validation images\n",
           j->data.validation, t.train.n, t.val.n);
    if (print_layer_table(j, &t.d, &e)) {
        train_close(&t);
        return cli_fail(e.code, "%s", e.msg);
    }
    printf("classifier ");
    if (j->classifier.epochs > 0 && j->classifier.finetune) {
        printf("the encoder's layers before its code (fine-tuned from the autoencoder's), then ");
        print_widths(&j->classifier.hidden, 0);
        printf("%d, on the images, %d epochs\n", t.d.data.n_classes, j->classifier.epochs);
    } else if (j->classifier.epochs > 0) {
        printf("%d-", j->model.bottleneck);
        print_widths(&j->classifier.hidden, 0);
        printf("%d on the codes, %d epochs\n", t.d.data.n_classes, j->classifier.epochs);
    } else {
        printf("none (classifier.epochs is 0)\n");
    }
    printf("configuration (defaults included)\n");
    job_print_settings(j, stdout, "  ");
    printf("output     %s\n", t.out);
    train_close(&t);
    return 0;
}

#define TRAIN_USAGE \
    "usage: aesweep train JOB.json [--set KEY=VALUE]... [--out FILE.h5] [--progress text|json]"

static int train_usage(void) { return cli_fail(2, "%s", TRAIN_USAGE); }

int cmd_train(int argc, char **argv) {
    const char *job_path = NULL, *out = NULL;
    const char *sets[MAX_SETS];
    int n_sets = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s\n"
                   "  --progress text   (default) a line per epoch on stderr, a summary on stdout\n"
                   "  --progress json   a JSON object per line on stdout, flushed as it happens:\n"
                   "                    {\"event\": \"epoch\", epoch, epochs, train_loss, val_loss,\n"
                   "                    val_mse, seconds} after every epoch, then {\"event\":\n"
                   "                    \"done\", status, ..., model}; null for a value not measured\n",
                   TRAIN_USAGE);
            return 0;
        } else if (!strcmp(a, "--set") && i + 1 < argc) {
            if (n_sets == MAX_SETS) return cli_fail(2, "too many --set (at most %d)", MAX_SETS);
            sets[n_sets++] = argv[++i];
        } else if (!strncmp(a, "--set=", 6)) {
            if (n_sets == MAX_SETS) return cli_fail(2, "too many --set (at most %d)", MAX_SETS);
            sets[n_sets++] = a + 6;
        } else if (!strcmp(a, "--progress") && i + 1 < argc) {
            const char *p = argv[++i];
            if (strcmp(p, "text") && strcmp(p, "json"))
                return cli_fail(2, "train: --progress: expected text or json, got \"%s\"", p);
            json = !strcmp(p, "json");
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
    TrainSetup t;
    if (train_open(&t, job_path, sets, n_sets, out, 1, &e)) return cli_fail(e.code, "%s", e.msg);
    int code = 0;
    TaskResult r;
    memset(&r, 0, sizeof r);
    int threads = cli_blas_threads(0);
    fprintf(stderr, "aesweep train: %s: %d train / %d val / %d test images, %d BLAS thread%s\n",
            job_path, t.train.n, t.val.n, t.d.test.n, threads, threads == 1 ? "" : "s");

    /* One configuration: the job's own seed, and the holdout split whatever
     * search.folds says. */
    TaskConfig cfg;
    job_task_config(&t.job, (uint64_t)t.job.seed, 1, &cfg);
    cfg.train.stop = cfg.classifier.stop = &stop_requested;
    cfg.train.on_epoch = json ? json_epoch : print_epoch;
    stop_on_signals();
    if (task_run(&cfg, &t.d.data, &t.train, &t.val, &t.d.test, &r, &e)) {
        code = cli_fail(e.code, "%s", e.msg);
        goto done;
    }
    if (r.fit.status == TRAIN_INTERRUPTED) {
        code = cli_fail(3, "interrupted after %d epochs; nothing written", r.fit.epochs);
        goto done;
    }
    if (task_file_write(t.out, &t.job, &r, NULL, &e)) {
        code = cli_fail(e.code, "%s", e.msg);
        goto done;
    }
    if (json) json_summary(&r, t.out);
    else print_summary(&r, t.out);
done:
    task_result_free(&r);
    train_close(&t);
    return code;
}
