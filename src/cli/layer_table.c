/* The model of a job as `aesweep validate` shows it: one line per layer with its
 * shapes, parameters and multiply-adds per sample, then the totals. */
#include <stdio.h>

#include "cli/cli.h"
#include "plan.h"

static void shape_text(Shape s, char *buf, size_t n) {
    if (s.flat) snprintf(buf, n, "%d", s.c);
    else snprintf(buf, n, "%dx%dx%d", s.c, s.h, s.w);
}

static const char *layer_detail(const Layer *L, char *buf, size_t n) {
    switch (L->kind) {
    case LAYER_CONV:
    case LAYER_CONV_T:
        snprintf(buf, n, "k%d s%d p%d op%d", L->kernel, L->stride, L->padding,
                 L->output_padding);
        break;
    case LAYER_DROPOUT: snprintf(buf, n, "p %g", L->rate); break;
    case LAYER_VARIATIONAL: snprintf(buf, n, "beta %g", L->beta); break;
    default: buf[0] = 0;
    }
    return buf;
}

/* A penalty's network on the code (penalty.h), built as the trainer builds it. */
static int print_penalty_head(const Job *job, const JobData *d, int code, Err *e) {
    TrainConfig cfg;
    job_train_config(job, &cfg);
    cfg.penalty.n_classes = d->data.n_classes;
    cfg.penalty.optim = cfg.optim;
    Penalty p;
    int rc = penalty_init(&p, &cfg.penalty, 2, code, 1, e);
    if (rc || !p.has_head) {
        penalty_free(&p);
        return rc;
    }
    static const char *const what[PENALTY_COUNT] = {
        [PENALTY_ADVERSARIAL] = "discriminator (codes against prior samples), Adam at disc_lr",
        [PENALTY_ADVERSARIAL_CSD] = "discriminator (codes against prior samples), Adam at disc_lr",
        [PENALTY_GUIDED] = "classifier trained with the encoder",
        [PENALTY_SUPCON] = "projection head, L2-normalised, trained with the encoder"};
    printf("penalty    %s: %d", penalty_names[job->penalty.type], code);
    for (int l = 0; l < p.head.m.n_layers; l++) printf("-%d", shape_size(p.head.m.layer[l].out));
    printf(" %s, %zu parameters\n", what[job->penalty.type], p.head.m.n_params);
    penalty_free(&p);
    return AE_OK;
}

int print_layer_table(const Job *job, const JobData *d, Err *e) {
    Model m;
    int rc = job_model_check(job, d, &m, e);
    if (rc) return rc;
    /* The sizes in a line (784-16-4-16-784), then the table. */
    char text[32];
    shape_text(m.input.flat ? m.input : (Shape){m.input_dim, 1, 1, 1}, text, sizeof text);
    printf("model      %s", text);
    for (int l = 0; l < m.n_layers; l++) {
        const Layer *L = &m.layer[l];
        if (L->kind == LAYER_DROPOUT || L->kind == LAYER_RESHAPE || L->kind == LAYER_BATCHNORM)
            continue;
        shape_text(L->out, text, sizeof text);
        printf("-%s", text);
    }
    printf("\n           %d layers, %zu parameters, %.3g MFLOP per sample to train (forward "
           "%.3g)\n", m.n_layers, m.n_params, 6.0 * model_macs(&m) / 1e6,
           2.0 * model_macs(&m) / 1e6);
    printf("  %-3s %-15s %-10s %-10s %-11s %-14s %9s %10s\n", "", "layer", "in", "out",
           "activation", "", "params", "MFLOP/fwd");
    for (int l = 0; l < m.n_layers; l++) {
        const Layer *L = &m.layer[l];
        char in[32], out[32], detail[48];
        shape_text(L->in, in, sizeof in);
        shape_text(L->out, out, sizeof out);
        int acts = L->kind <= LAYER_BATCHNORM;
        printf("  %-3d %-15s %-10s %-10s %-11s %-14s %9zu %10.3f%s\n", l,
               layer_kinds[L->kind]->name, in, out, acts ? act_names[L->act] : "",
               layer_detail(L, detail, sizeof detail), L->n_w + L->n_b,
               2.0 * layer_kinds[L->kind]->macs(L) / 1e6,
               l == m.bottleneck_layer ? "  <- code" : "");
    }
    if (m.bottleneck_layer == m.n_layers - 1)
        printf("           no decoder: train.recon_weight is 0, the encoder trains alone\n");
    rc = print_penalty_head(job, d, model_code_dim(&m), e);
    model_free(&m);
    return rc;
}
