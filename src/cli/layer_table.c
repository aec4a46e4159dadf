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
    model_free(&m);
    return AE_OK;
}
