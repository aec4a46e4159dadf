/* aesweep bench: times the trainer's own training step on synthetic data, for a
 * dense stack given by --layers or for the model of a job file (--job). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "spec.h"
#include "clock.h"
#include "trainer.h"

#define BENCH_BATCHES 16 /* distinct synthetic batches, cycled */
#define BENCH_CLASSES 10

/* A training step as the trainer takes it: convert the batch, then train_step. */
static void bench_step(const TrainConfig *cfg, Model *m, Work *w, Optim *opt, const Images *im,
                       const int *idx, long k, Penalty *pen, uint8_t *labels, Rng *noise) {
    const int *rows = idx + (size_t)(k % BENCH_BATCHES) * cfg->batch_size;
    images_batch(im, rows, cfg->batch_size, w->input);
    if (pen) images_labels(im, rows, cfg->batch_size, labels);
    train_step(cfg, m, w, opt, w->input, cfg->batch_size, noise, pen, labels);
}

static int parse_layers(const char *s, int *w, int *n) {
    *n = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (*n == AE_MAX_HIDDEN + 2 || cli_int(tok, 1, 1000000, &w[*n])) return 1;
        (*n)++;
    }
    return *n < 2;
}

static const char usage[] =
    "usage: aesweep bench [--layers 784,800,400,225] [--batch 164] [--activation relu]\n"
    "                     [--leaky-slope 0.01] [--penalty none|class_target|csd]\n"
    "                     [--seconds 3] [--threads 1]\n"
    "       aesweep bench --job JOB.json [--set KEY=VALUE]... [--input CxHxW] [--batch B]\n"
    "                     [--seconds 3] [--threads 1] [--layers-json] [--profile]\n"
    "--layers are the encoder widths (input first); the decoder mirrors them.\n"
    "--job times the job's model, loss, optimizer and penalty on synthetic images of\n"
    "its data's shape (1x28x28, 3x32x32 for cifar10, with data.pad; or --input);\n"
    "--layers-json prints the model's layers as JSON (what tests/bench/torch_bench.py\n"
    "builds) and exits. --profile adds each layer's forward and backward time per\n"
    "step on stderr.\n";

static int bench_usage(void) {
    fputs(usage, stderr);
    return 2;
}

static int find_name(const char *const *names, int n, const char *s) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], s)) return i;
    return -1;
}

/* Synthetic uint8 images so the step includes the batch conversion, as in training. */
static int synthetic_images(Images *im, int n, Shape shape, Err *e) {
    int dim = shape_size(shape);
    memset(im, 0, sizeof *im);
    im->pixels = xmalloc((size_t)n * dim, e);
    im->labels = xcalloc((size_t)n, 1, e);
    if (!im->pixels || !im->labels) {
        images_free(im);
        return AE_ERUN;
    }
    im->n = n;
    im->channels = shape.flat ? 1 : shape.c;
    im->rows = shape.flat ? 1 : shape.h;
    im->cols = shape.flat ? dim : shape.w;
    im->dim = dim;
    Rng r;
    rng_seed(&r, 12345);
    for (size_t i = 0; i < (size_t)n * dim; i++) im->pixels[i] = (uint8_t)rng_below(&r, 256);
    for (int i = 0; i < n; i++) im->labels[i] = (uint8_t)rng_below(&r, BENCH_CLASSES);
    return AE_OK;
}

/* The --layers model: the dense stack, Adam 1e-3, MSE, and the penalty asked for. */
static void dense_config(TrainConfig *cfg, const int *widths, int n_widths, Act act, float slope,
                         int batch, PenaltyKind penalty) {
    ModelShape *s = &cfg->shape;
    s->n_hidden = n_widths - 2;
    memcpy(s->hidden, widths + 1, sizeof(int) * (size_t)s->n_hidden);
    s->bottleneck = widths[n_widths - 1];
    s->activation = act;
    s->latent_activation = ACT_LINEAR;
    s->output_activation = ACT_SIGMOID;
    s->leaky_slope = slope;
    optim_init(&cfg->optim, OPT_ADAM, 1e-3f);
    cfg->loss = LOSS_MSE;
    cfg->recon_weight = 1;
    cfg->batch_size = batch;
    /* The penalty's cost does not depend on lambda/sigma; these are the reports'. */
    cfg->penalty = (PenaltyConfig){.kind = penalty, .lambda = 1, .sigma = 5,
                                   .prior = PRIOR_ONEHOT, .n_classes = BENCH_CLASSES};
}

#define MAX_SETS 64

/* "3x32x32" */
static int parse_shape(const char *s, Shape *out) {
    int c, h, w;
    char tail;
    if (sscanf(s, "%dx%dx%d%c", &c, &h, &w, &tail) != 3 || c < 1 || h < 1 || w < 1 ||
        c > 4096 || h > 4096 || w > 4096)
        return 1;
    *out = (Shape){c, h, w, 0};
    return 0;
}

/* The layers as JSON, one object per layer, for a reference implementation. */
static void print_layers_json(const Model *m, const TrainConfig *cfg, int signed_range) {
    printf("{\"signed_range\":%d,\"input\":[%d,%d,%d],\"loss\":\"%s\",\"batch\":%d,\"lr\":%.9g,"
           "\"variational\":%d,\"likelihood_variance\":%.9g,\"code_layer\":%d,\"layers\":[",
           signed_range, m->input.c, m->input.h, m->input.w, loss_names[cfg->loss], cfg->batch_size,
           cfg->optim.lr, cfg->shape.variational, cfg->likelihood_variance, m->bottleneck_layer);
    for (int l = 0; l < m->n_layers; l++) {
        const Layer *L = &m->layer[l];
        printf("%s{\"kind\":\"%s\",\"in\":[%d,%d,%d],\"out\":[%d,%d,%d],\"flat_in\":%d,"
               "\"flat_out\":%d,\"activation\":\"%s\",\"slope\":%.9g,\"kernel\":%d,"
               "\"stride\":%d,\"padding\":%d,\"output_padding\":%d,\"rate\":%.9g,"
               "\"beta\":%.9g}",
               l ? "," : "", layer_kinds[L->kind]->name, L->in.c, L->in.h, L->in.w, L->out.c,
               L->out.h, L->out.w, L->in.flat, L->out.flat, act_names[L->act], L->slope,
               L->kernel, L->stride, L->padding, L->output_padding, L->rate, L->beta);
    }
    printf("]}\n");
}

/* Where a step's time goes, per layer, on stderr (stdout keeps the JSON line). */
static void print_profile(const Model *m, const double *sec, long steps, double total) {
    double layers = 0;
    fprintf(stderr, "%-5s %-15s %-14s %10s %10s %6s\n", "layer", "kind", "output", "fwd ms",
            "bwd ms", "%step");
    for (int l = 0; l < m->n_layers; l++) {
        const Layer *L = &m->layer[l];
        double f = sec[l], b = sec[m->n_layers + l];
        char shape[32];
        if (L->out.flat) snprintf(shape, sizeof shape, "%d", L->out.c);
        else snprintf(shape, sizeof shape, "%dx%dx%d", L->out.c, L->out.h, L->out.w);
        fprintf(stderr, "%-5d %-15s %-14s %10.3f %10.3f %6.1f\n", l, layer_kinds[L->kind]->name,
                shape, 1e3 * f / steps, 1e3 * b / steps, 100 * (f + b) / total);
        layers += f + b;
    }
    fprintf(stderr, "%-36s %21.3f %6.1f\n", "rest (batch, loss, optimizer)",
            1e3 * (total - layers) / steps, 100 * (total - layers) / total);
}

int cmd_bench(int argc, char **argv) {
    int widths[AE_MAX_HIDDEN + 2] = {784, 800, 400, 225}, n_widths = 4;
    int batch = 164, threads = 1, batch_given = 0, layers_json = 0, profile = 0, n_sets = 0;
    const char *job_path = NULL, *sets[MAX_SETS];
    Shape input = {0, 0, 0, 0};
    double seconds = 3, slope = 0.01;
    Act act = ACT_RELU;
    PenaltyKind penalty = PENALTY_NONE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strcmp(a, "--layers-json")) {
            layers_json = 1;
            continue;
        }
        if (!strcmp(a, "--profile")) {
            profile = 1;
            continue;
        }
        if (!v) return bench_usage();
        if (!strcmp(a, "--layers")) bad = parse_layers(v, widths, &n_widths);
        else if (!strcmp(a, "--job")) job_path = v;
        else if (!strcmp(a, "--set")) {
            if (n_sets == MAX_SETS) return cli_fail(2, "bench: at most %d --set", MAX_SETS);
            sets[n_sets++] = v;
        } else if (!strcmp(a, "--input")) bad = parse_shape(v, &input);
        else if (!strcmp(a, "--batch")) bad = cli_int(v, 1, 1000000, &batch), batch_given = 1;
        else if (!strcmp(a, "--threads")) bad = cli_int(v, 1, 1024, &threads);
        else if (!strcmp(a, "--seconds")) bad = cli_double(v, 0.01, 86400, &seconds);
        else if (!strcmp(a, "--leaky-slope")) bad = cli_double(v, 1e-9, 1, &slope);
        else if (!strcmp(a, "--activation")) {
            int k = find_name(act_names, ACT_COUNT, v);
            bad = k < 0;
            act = (Act)k;
        } else if (!strcmp(a, "--penalty")) {
            int k = find_name(penalty_names, PENALTY_COUNT, v);
            bad = k < 0;
            penalty = (PenaltyKind)k;
        } else
            return bench_usage();
        if (bad) return cli_fail(2, "bench: bad value for %s: '%s'", a, v);
        i++;
    }
    cli_blas_threads(threads);
    if (!job_path && (n_sets || layers_json || input.c))
        return cli_fail(2, "bench: --set, --input and --layers-json go with --job");

    TrainConfig cfg = {0};
    Job job = {0};
    int signed_range = 0;
    if (job_path) {
        Err je = {0};
        if (job_load(job_path, sets, n_sets, &job, &je)) return cli_fail(je.code, "%s", je.msg);
        job_train_config(&job, &cfg);
        /* The data's shape without opening it: CIFAR-10 3x32x32, else MNIST-format 1x28x28. */
        int cifar = !strcmp(job.data.dataset, "cifar10"), side = (cifar ? 32 : 28) + 2 * job.data.pad;
        if (!input.c) input = (Shape){cifar ? 3 : 1, side, side, 0};
        if (batch_given) cfg.batch_size = batch;
        batch = cfg.batch_size;
        penalty = cfg.penalty.kind;
        cfg.penalty.n_classes = BENCH_CLASSES;
        signed_range = job.data.signed_range;
        job_free(&job);
    } else {
        input = (Shape){widths[0], 1, 1, 1};
        dense_config(&cfg, widths, n_widths, act, (float)slope, batch, penalty);
    }
    ModelShape *s = &cfg.shape;
    s->input = input;
    s->dropout = cfg.dropout;

    Err e = {0};
    Model m = {0};
    Work w = {0};
    Images im = {0};
    Penalty pen = {0};
    int *idx = NULL;
    uint8_t *labels = NULL;
    int code = 0;
    if (model_init_autoencoder(&m, s, &e) || work_init(&w, &m, batch, &e) ||
        penalty_init(&pen, &cfg.penalty, batch, model_code_dim(&m), 1, &e) ||
        !(labels = xmalloc((size_t)batch, &e)) ||
        synthetic_images(&im, BENCH_BATCHES * batch, input, &e) ||
        !(idx = xmalloc(sizeof(int) * (size_t)im.n, &e))) {
        code = cli_fail(e.code, "bench: %s", e.msg);
        goto done;
    }
    if (layers_json) {
        print_layers_json(&m, &cfg, signed_range);
        goto done;
    }
    im.signed_range = signed_range;
    for (int i = 0; i < im.n; i++) idx[i] = i;
    model_init_weights(&m, 1);
    Rng noise; /* dropout masks and variational samples, as in training */
    rng_seed(&noise, 7);
    Optim opt = cfg.optim;
    Penalty *pen_or_null = penalty == PENALTY_NONE ? NULL : &pen;

    /* Warm-up: first touches of every buffer and OpenBLAS's own set-up. */
    long steps = 0;
    double t0 = clock_seconds(), t;
    for (int k = 0; k < 5 || clock_seconds() - t0 < 0.3; k++) {
        bench_step(&cfg, &m, &w, &opt, &im, idx, k, pen_or_null, labels, &noise);
    }
    double prof[2 * AE_MAX_LAYERS] = {0};
    if (profile) w.seconds = prof;
    t0 = clock_seconds();
    do {
        bench_step(&cfg, &m, &w, &opt, &im, idx, steps, pen_or_null, labels, &noise);
        steps++;
        t = clock_seconds() - t0;
    } while (t < seconds);
    w.seconds = NULL;
    if (profile) print_profile(&m, prof, steps, t);

    /* A multiply-add is 2 FLOPs; backward does about twice the forward's work. */
    double flops_per_sample = 6.0 * model_macs(&m);
    double sps = (double)steps * batch / t;
    printf("{\"impl\":\"aesweep\",");
    if (job_path) {
        printf("\"job\":\"%s\",\"input\":[%d,%d,%d]", job_path, input.c, input.h, input.w);
    } else {
        printf("\"layers\":[");
        for (int i = 0; i < n_widths; i++) printf("%s%d", i ? "," : "", widths[i]);
        printf("]");
    }
    printf(",\"batch\":%d,\"threads\":%d,\"samples_per_s\":%.1f,\"gflops\":%.2f,"
           "\"penalty\":\"%s\"}\n",
           batch, threads, sps, sps * flops_per_sample / 1e9, penalty_names[penalty]);
done:
    free(idx);
    free(labels);
    penalty_free(&pen);
    images_free(&im);
    work_free(&w);
    model_free(&m);
    return code;
}
