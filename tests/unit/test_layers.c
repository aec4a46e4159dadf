/* Forward passes of every layer kind against direct loops written from torch's
 * definitions (Conv2d, ConvTranspose2d, BatchNorm2d/1d in train and eval mode,
 * flatten order, the variational head), through model_build as the trainer uses
 * it: images in and out as rows [B, C, H, W]. The gradient checks (test_grad)
 * prove each backward is the forward's derivative; these prove the forward is
 * torch's. And the shape checks: what model_build refuses, with the entry named. */
#include <string.h>

#include "model.h"
#include "test.h"

#define TOL 1e-5

static Rng rng;

static float uniform(float lo, float hi) { return lo + (hi - lo) * rng_uniformf(&rng); }

static LayerSpec spec(LayerKind k, int units, int kernel, int stride, int pad, int opad) {
    return (LayerSpec){.kind = k, .units = units, .kernel = kernel, .stride = stride,
                       .padding = pad, .output_padding = opad, .act = ACT_LINEAR,
                       .beta = 1.0f, .where = "model.encoder[0]"};
}

/* A model of one layer (and the reshapes model_build adds), weights drawn at
 * random, run on x in training or evaluation mode. */
typedef struct {
    Model m;
    Work w;
    const Layer *L; /* the layer under test */
} One;

static int one_build(One *o, Shape in, LayerSpec s, int B) {
    Err e = {0};
    memset(o, 0, sizeof *o);
    int rc = model_build(&o->m, in, &s, 1, -1, &e);
    CHECK(rc == AE_OK, "build %s: %s", layer_kinds[s.kind]->name, e.msg);
    if (rc) return rc;
    rc = work_init(&o->w, &o->m, B, &e);
    CHECK(rc == AE_OK, "work: %s", e.msg);
    for (size_t i = 0; i < o->m.n_params; i++) o->m.params[i] = uniform(-1, 1);
    for (int l = 0; l < o->m.n_layers; l++)
        if (o->m.layer[l].kind == s.kind) o->L = &o->m.layer[l];
    return rc;
}

static void one_free(One *o) {
    work_free(&o->w);
    model_free(&o->m);
}

static void compare(const char *what, const float *got, const double *want, size_t n) {
    int bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= TOL * fmax(1.0, fabs(want[i]))) && bad++ < 3)
            CHECK(0, "%s[%zu]: %.8g, expected %.8g", what, i, got[i], want[i]);
    CHECK(bad == 0, "%s: %d of %zu values off", what, bad, n);
}

/* x[b][c][y][x] in rows [B, C, H, W]. */
#define AT(p, C, H, W, b, c, y, x) (p)[(((size_t)(b) * (C) + (c)) * (H) + (y)) * (W) + (x)]

static void test_conv(int C, int H, int W, int OC, int k, int s, int p) {
    enum { B = 3 };
    One o;
    if (one_build(&o, (Shape){C, H, W, 0}, spec(LAYER_CONV, OC, k, s, p, 0), B)) return;
    const Layer *L = o.L;
    int OH = L->out.h, OW = L->out.w;
    CHECK(OH == (H + 2 * p - k) / s + 1 && OW == (W + 2 * p - k) / s + 1, "conv out %dx%d", OH, OW);
    for (int i = 0; i < B * C * H * W; i++) o.w.input[i] = uniform(-1, 1);
    model_forward(&o.m, &o.w, B);
    const float *Wt = o.m.params + L->w, *bias = o.m.params + L->b, *x = o.w.input;
    double *want = calloc((size_t)B * OC * OH * OW, sizeof *want);
    for (int b = 0; b < B; b++)
        for (int oc = 0; oc < OC; oc++)
            for (int oy = 0; oy < OH; oy++)
                for (int ox = 0; ox < OW; ox++) {
                    double sum = bias[oc];
                    for (int c = 0; c < C; c++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * s - p + ky, ix = ox * s - p + kx;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                sum += (double)AT(Wt, C, k, k, oc, c, ky, kx) *
                                       AT(x, C, H, W, b, c, iy, ix);
                            }
                    AT(want, OC, OH, OW, b, oc, oy, ox) = sum;
                }
    char what[96];
    snprintf(what, sizeof what, "conv %dx%dx%d -> %d k%d s%d p%d", C, H, W, OC, k, s, p);
    compare(what, model_output(&o.m, &o.w), want, (size_t)B * OC * OH * OW);
    free(want);
    one_free(&o);
}

static void test_conv_t(int C, int H, int W, int OC, int k, int s, int p, int op) {
    enum { B = 2 };
    One o;
    if (one_build(&o, (Shape){C, H, W, 0}, spec(LAYER_CONV_T, OC, k, s, p, op), B)) return;
    const Layer *L = o.L;
    int OH = L->out.h, OW = L->out.w;
    CHECK(OH == (H - 1) * s - 2 * p + k + op, "conv_t out %d", OH);
    for (int i = 0; i < B * C * H * W; i++) o.w.input[i] = uniform(-1, 1);
    model_forward(&o.m, &o.w, B);
    const float *Wt = o.m.params + L->w, *bias = o.m.params + L->b, *x = o.w.input;
    size_t n = (size_t)B * OC * OH * OW;
    double *want = calloc(n, sizeof *want);
    for (int b = 0; b < B; b++)
        for (int oc = 0; oc < OC; oc++)
            for (int i = 0; i < OH * OW; i++) AT(want, OC, OH, OW, b, oc, 0, i) = bias[oc];
    /* Every input pixel scatters its kernel (weight [in, out, k, k]) into the output. */
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            for (int iy = 0; iy < H; iy++)
                for (int ix = 0; ix < W; ix++)
                    for (int oc = 0; oc < OC; oc++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int oy = iy * s - p + ky, ox = ix * s - p + kx;
                                if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                                AT(want, OC, OH, OW, b, oc, oy, ox) +=
                                    (double)AT(Wt, OC, k, k, c, oc, ky, kx) *
                                    AT(x, C, H, W, b, c, iy, ix);
                            }
    char what[96];
    snprintf(what, sizeof what, "conv_transpose %dx%dx%d -> %d k%d s%d p%d op%d", C, H, W, OC,
             k, s, p, op);
    compare(what, model_output(&o.m, &o.w), want, n);
    free(want);
    one_free(&o);
}

/* BatchNorm over images (2d) or vectors (1d, in = {C,1,1,1}); train then eval. */
static void test_batchnorm(Shape in) {
    enum { B = 4 };
    One o;
    if (one_build(&o, in, spec(LAYER_BATCHNORM, 0, 0, 0, 0, 0), B)) return;
    const Layer *L = o.L;
    int C = in.c, HW = in.h * in.w;
    size_t n = (size_t)B * C * HW;
    for (size_t i = 0; i < n; i++) o.w.input[i] = uniform(-2, 3);
    const float *g = o.m.params + L->w, *beta = o.m.params + L->b;
    float *rmean = o.m.buffers + L->buf, *rvar = rmean + C;
    for (int c = 0; c < C; c++) rmean[c] = uniform(-1, 1), rvar[c] = uniform(0.5f, 2);
    double *want = calloc(n, sizeof *want), *mean = calloc((size_t)C, sizeof *mean);
    double *var = calloc((size_t)C, sizeof *var), r0[2][64];
    for (int c = 0; c < C; c++) r0[0][c] = rmean[c], r0[1][c] = rvar[c];
    const float *x = o.w.input;
    for (int c = 0; c < C; c++) {
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) mean[c] += AT(x, C, 1, HW, b, c, 0, i);
        mean[c] /= B * HW;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) {
                double d = AT(x, C, 1, HW, b, c, 0, i) - mean[c];
                var[c] += d * d;
            }
        var[c] /= B * HW; /* biased, for normalising */
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++)
                AT(want, C, 1, HW, b, c, 0, i) =
                    g[c] * (AT(x, C, 1, HW, b, c, 0, i) - mean[c]) / sqrt(var[c] + 1e-5) + beta[c];
    }
    Rng unused;
    rng_seed(&unused, 1);
    model_forward_train(&o.m, &o.w, B, &unused);
    char what[64];
    snprintf(what, sizeof what, "batchnorm%s train", in.flat ? "1d" : "2d");
    compare(what, model_output(&o.m, &o.w), want, n);
    /* torch: running = 0.9 running + 0.1 batch, with the unbiased variance. */
    double nn = (double)B * HW;
    for (int c = 0; c < C; c++) {
        CHECK_CLOSE(rmean[c], 0.9 * r0[0][c] + 0.1 * mean[c], TOL, "running_mean");
        CHECK_CLOSE(rvar[c], 0.9 * r0[1][c] + 0.1 * var[c] * nn / (nn - 1), TOL, "running_var");
    }
    for (int c = 0; c < C; c++)
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++)
                AT(want, C, 1, HW, b, c, 0, i) =
                    g[c] * (AT(x, C, 1, HW, b, c, 0, i) - rmean[c]) / sqrt(rvar[c] + 1e-5) + beta[c];
    model_forward(&o.m, &o.w, B);
    snprintf(what, sizeof what, "batchnorm%s eval", in.flat ? "1d" : "2d");
    compare(what, model_output(&o.m, &o.w), want, n);
    free(want), free(mean), free(var);
    one_free(&o);
}

/* conv then dense: the dense layer must see torch's flatten order (c, h, w). */
static void test_flatten_order(void) {
    enum { B = 2, C = 3, H = 2, W = 2 };
    LayerSpec s[2] = {spec(LAYER_CONV, C, 1, 1, 0, 0), spec(LAYER_DENSE, C * H * W, 0, 0, 0, 0)};
    Model m;
    Work w;
    Err e = {0};
    CHECK(model_build(&m, (Shape){C, H, W, 0}, s, 2, -1, &e) == AE_OK, "build: %s", e.msg);
    CHECK(m.n_layers == 4 && m.layer[0].kind == LAYER_RESHAPE && m.layer[2].kind == LAYER_RESHAPE,
          "reshapes put in before the conv and before the dense layer: %d layers", m.n_layers);
    CHECK(work_init(&w, &m, B, &e) == AE_OK, "work: %s", e.msg);
    /* conv = identity (1x1, W = I, b = 0); dense = identity: out must equal in. */
    memset(m.params, 0, sizeof(float) * m.n_params);
    const Layer *conv = &m.layer[1], *dense = &m.layer[3];
    for (int c = 0; c < C; c++) m.params[conv->w + c * C + c] = 1;
    for (int j = 0; j < C * H * W; j++) m.params[dense->w + (size_t)j * C * H * W + j] = 1;
    double want[B * C * H * W];
    for (int i = 0; i < B * C * H * W; i++) w.input[i] = (float)i, want[i] = i;
    model_forward(&m, &w, B);
    compare("flatten order", model_output(&m, &w), want, B * C * H * W);
    work_free(&w);
    model_free(&m);
}

static void test_variational(void) {
    enum { B = 3, D = 2 };
    LayerSpec s = spec(LAYER_VARIATIONAL, 0, 0, 0, 0, 0);
    Model m;
    Work w;
    Err e = {0};
    CHECK(model_build(&m, (Shape){2 * D, 1, 1, 1}, &s, 1, 0, &e) == AE_OK, "build: %s", e.msg);
    CHECK(work_init(&w, &m, B, &e) == AE_OK, "work: %s", e.msg);
    double kl = 0, mu[B * D];
    for (int b = 0; b < B; b++)
        for (int j = 0; j < D; j++) {
            float u = uniform(-1, 1), lv = uniform(-1, 1);
            w.input[b * 2 * D + j] = u, w.input[b * 2 * D + D + j] = lv;
            mu[b * D + j] = u;
            kl += 0.5 * (u * u + exp(lv) - 1 - lv);
        }
    model_forward(&m, &w, B);
    compare("variational eval: z = mu", model_code(&m, &w), mu, B * D);
    CHECK_CLOSE(w.aux, kl / B, TOL, "KL, batch mean");
    Rng r, again;
    rng_seed(&r, 5), rng_seed(&again, 5);
    model_forward_train(&m, &w, B, &r);
    double z[B * D];
    for (int b = 0; b < B; b++)
        for (int j = 0; j < D; j++) {
            double eps = (float)rng_normal(&again);
            z[b * D + j] = mu[b * D + j] + exp(0.5 * w.input[b * 2 * D + D + j]) * eps;
        }
    compare("variational train: z = mu + sigma eps", model_code(&m, &w), z, B * D);
    work_free(&w);
    model_free(&m);
}

/* What model_build refuses, each naming the entry. */
static void expect_refused(Shape in, LayerSpec s, const char *needle) {
    Model m;
    Err e = {0};
    int rc = model_build(&m, in, &s, 1, -1, &e);
    CHECK(rc == AE_EINPUT && strstr(e.msg, needle) && strstr(e.msg, "model.encoder[0]"),
          "expected a refusal naming '%s', got %d: %s", needle, rc, e.msg);
    model_free(&m);
}

static void test_refusals(void) {
    Shape img = {1, 4, 4, 0};
    expect_refused(img, spec(LAYER_CONV, 2, 7, 1, 1, 0), "kernel");
    expect_refused(img, spec(LAYER_CONV, 2, 3, 0, 1, 0), "stride");
    expect_refused(img, spec(LAYER_CONV, 0, 3, 1, 1, 0), "channel");
    expect_refused(img, spec(LAYER_CONV_T, 2, 3, 2, 1, 2), "output_padding");
    expect_refused(img, spec(LAYER_CONV_T, 2, 1, 1, 3, 0), "padding");
    LayerSpec r = spec(LAYER_RESHAPE, 0, 0, 0, 0, 0);
    r.to = (Shape){3, 2, 2, 0};
    expect_refused(img, r, "reshape");
    expect_refused((Shape){5, 1, 1, 1}, spec(LAYER_VARIATIONAL, 0, 0, 0, 0, 0), "2 x code");
}

/* ---- whole autoencoders: the mirror of reports 002 and 004 ---- */

static LayerSpec entry(LayerKind k, int units, int kernel, int stride, int pad, int bn) {
    LayerSpec s = spec(k, units, kernel, stride, pad, 0);
    s.act = ACT_RELU;
    s.batchnorm = bn;
    s.rate = -1;
    return s;
}

/* Layer kinds and output shapes "kind:CxHxW" (or "kind:N" for vectors), in order. */
static void check_layout(const Model *m, const char *const *want, int n, const char *what) {
    CHECK(m->n_layers == n, "%s: %d layers, expected %d", what, m->n_layers, n);
    for (int l = 0; l < m->n_layers && l < n; l++) {
        const Layer *L = &m->layer[l];
        char got[64];
        if (L->out.flat) snprintf(got, sizeof got, "%s:%d", layer_kinds[L->kind]->name, L->out.c);
        else
            snprintf(got, sizeof got, "%s:%dx%dx%d", layer_kinds[L->kind]->name, L->out.c,
                     L->out.h, L->out.w);
        CHECK(!strcmp(got, want[l]), "%s: layer %d is %s, expected %s", what, l, got, want[l]);
    }
}

/* Report 002: conv 8, 16, 32 (k3 s2, p1 p1 p0), dense 64, code 48. */
static ModelShape report002_shape(void) {
    ModelShape d = {.input = {1, 28, 28, 0}, .n_encoder = 4, .bottleneck = 48,
                    .latent_activation = ACT_LINEAR, .output_activation = ACT_SIGMOID};
    d.encoder[0] = entry(LAYER_CONV, 8, 3, 2, 1, 0);
    d.encoder[1] = entry(LAYER_CONV, 16, 3, 2, 1, 0);
    d.encoder[2] = entry(LAYER_CONV, 32, 3, 2, 0, 0);
    d.encoder[3] = entry(LAYER_DENSE, 64, 0, 0, 0, 0);
    return d;
}

static void test_autoencoders(void) {
    Err e = {0};
    Model m;
    ModelShape d = report002_shape();
    CHECK(model_init_autoencoder(&m, &d, &e) == AE_OK, "report 002: %s", e.msg);
    static const char *const dl[] = {
        "reshape:1x28x28", "conv:8x14x14", "conv:16x7x7", "conv:32x3x3", "reshape:288",
        "dense:64", "dense:48", "dense:64", "dense:288", "reshape:32x3x3",
        "conv_transpose:16x7x7", "conv_transpose:8x14x14", "conv_transpose:1x28x28", "reshape:784"};
    check_layout(&m, dl, 14, "report 002");
    /* torch's count for the same nn.Module */
    CHECK(m.n_params == 55217, "report 002: %zu parameters, torch has 55217", m.n_params);
    CHECK(m.layer[12].output_padding == 1 && m.layer[10].output_padding == 0,
          "output paddings %d %d", m.layer[12].output_padding, m.layer[10].output_padding);
    CHECK(m.layer[12].act == ACT_SIGMOID && m.layer[11].act == ACT_RELU, "activations");
    model_free(&m);
    /* Report 004: conv 32, 64, 128 (k4 s2 p1) with batch norm, code 128, tanh. */
    ModelShape c = {.input = {3, 32, 32, 0}, .n_encoder = 3, .bottleneck = 128,
                    .latent_activation = ACT_LINEAR, .output_activation = ACT_TANH};
    for (int i = 0; i < 3; i++) c.encoder[i] = entry(LAYER_CONV, 32 << i, 4, 2, 1, 1);
    CHECK(model_init_autoencoder(&m, &c, &e) == AE_OK, "report 004: %s", e.msg);
    static const char *const cl[] = {
        "reshape:3x32x32", "conv:32x16x16", "batchnorm:32x16x16", "conv:64x8x8",
        "batchnorm:64x8x8", "conv:128x4x4", "batchnorm:128x4x4", "reshape:2048", "dense:128",
        "dense:2048", "batchnorm:2048", "reshape:128x4x4", "conv_transpose:64x8x8",
        "batchnorm:64x8x8", "conv_transpose:32x16x16", "batchnorm:32x16x16",
        "conv_transpose:3x32x32", "reshape:3072"};
    check_layout(&m, cl, 18, "report 004");
    CHECK(m.n_buffers == 2 * (32 + 64 + 128 + 2048 + 64 + 32), "report 004: %zu buffers",
          m.n_buffers);
    Work w;
    CHECK(work_init(&w, &m, 2, &e) == AE_OK, "work: %s", e.msg);
    model_init_weights(&m, 1);
    for (int i = 0; i < 2 * 3072; i++) w.input[i] = uniform(0, 1);
    Rng r;
    rng_seed(&r, 1);
    model_forward_train(&m, &w, 2, &r);
    int in_range = 1;
    for (int i = 0; i < 2 * 3072; i++) in_range &= fabsf(model_output(&m, &w)[i]) <= 1.0f;
    CHECK(in_range, "report 004: tanh output within [-1, 1]");
    work_free(&w);
    model_free(&m);
    /* A variational code: dense to 2 x 3, the head, the decoder from 3. */
    d.variational = 1;
    d.beta = 1;
    d.bottleneck = 3;
    CHECK(model_init_autoencoder(&m, &d, &e) == AE_OK, "vae: %s", e.msg);
    CHECK(m.layer[m.bottleneck_layer].kind == LAYER_VARIATIONAL && model_code_dim(&m) == 3 &&
              m.layer[m.bottleneck_layer - 1].out.c == 6,
          "vae: the code is the head's 3-wide output");
    model_free(&m);
    /* A mirror that cannot give the input back: 28 x 27 through k3 s2 p1. */
    ModelShape bad = {.input = {1, 28, 27, 0}, .n_encoder = 1, .bottleneck = 4};
    bad.encoder[0] = entry(LAYER_CONV, 4, 3, 2, 1, 0);
    snprintf(bad.encoder[0].where, sizeof bad.encoder[0].where, "model.encoder[0]");
    int rc = model_init_autoencoder(&m, &bad, &e);
    CHECK(rc == AE_EINPUT && strstr(e.msg, "model.encoder[0].stride") && strstr(e.msg, "mirror"),
          "mirror refusal: %d %s", rc, e.msg);
    model_free(&m);
}

/* A fine-tuned classifier (report 002 section 2.3): the autoencoder's layers before
 * its code entry, then the MLP; the kept layers compute what the autoencoder's
 * did, running statistics included, bit for bit. */
static void check_finetune(const ModelShape *s, const char *const *want, int n, int keep,
                           const char *what) {
    Err e = {0};
    Model ae, net;
    CHECK(model_init_autoencoder(&ae, s, &e) == AE_OK, "%s: %s", what, e.msg);
    model_init_weights(&ae, 3);
    CHECK(model_before_code(&ae) == keep, "%s: %d layers before the code, expected %d", what,
          model_before_code(&ae), keep);
    int widths[3] = {0, 32, 10};
    Act acts[2] = {ACT_RELU, ACT_LINEAR};
    CHECK(model_init_mlp_on(&net, &ae, keep, 2, widths, acts, 0, 0, 0, &e) == AE_OK, "%s: %s",
          what, e.msg);
    check_layout(&net, want, n, what);
    CHECK(net.bottleneck_layer == -1 && net.input_dim == ae.input_dim, "%s: a classifier", what);
    Work wa, wn;
    CHECK(work_init(&wa, &ae, 3, &e) == AE_OK && work_init(&wn, &net, 3, &e) == AE_OK, "work");
    for (int i = 0; i < 3 * ae.input_dim; i++) wa.input[i] = uniform(0, 1);
    Rng r;
    rng_seed(&r, 5);
    model_forward_train(&ae, &wa, 3, &r); /* running statistics away from their start */
    model_init_weights(&net, 4);
    model_copy_layers(&net, &ae, keep);
    memcpy(wn.input, wa.input, sizeof(float) * 3 * (size_t)ae.input_dim);
    model_forward(&ae, &wa, 3);
    model_forward(&net, &wn, 3);
    size_t len = sizeof(float) * 3 * (size_t)shape_size(ae.layer[keep - 1].out);
    CHECK(!memcmp(wa.out[keep - 1], wn.out[keep - 1], len), "%s: the kept layers differ", what);
    size_t kept = 0, d = (size_t)shape_size(ae.layer[keep - 1].out);
    for (int l = 0; l < keep; l++) kept += ae.layer[l].n_w + ae.layer[l].n_b;
    CHECK(net.n_params == kept + d * 32 + 32 + 32 * 10 + 10, "%s: %zu parameters", what,
          net.n_params);
    work_free(&wa);
    work_free(&wn);
    model_free(&net);
    model_free(&ae);
}

static void test_finetune_models(void) {
    ModelShape d = report002_shape();
    static const char *const l002[] = {"reshape:1x28x28", "conv:8x14x14", "conv:16x7x7",
                                       "conv:32x3x3", "reshape:288", "dense:64", "dense:32",
                                       "dense:10"};
    check_finetune(&d, l002, 8, 6, "report 002 fine-tuned");
    d.variational = 1, d.beta = 1, d.bottleneck = 3; /* (mu, log sigma^2) goes too */
    check_finetune(&d, l002, 8, 6, "variational fine-tuned");
    ModelShape c = {.input = {3, 8, 8, 0}, .n_encoder = 2, .bottleneck = 16,
                    .latent_activation = ACT_LINEAR, .output_activation = ACT_TANH};
    for (int i = 0; i < 2; i++) c.encoder[i] = entry(LAYER_CONV, 4 << i, 4, 2, 1, 1);
    static const char *const l004[] = {"reshape:3x8x8", "conv:4x4x4", "batchnorm:4x4x4",
                                       "conv:8x2x2", "batchnorm:8x2x2", "reshape:32",
                                       "dense:32", "dense:10"};
    check_finetune(&c, l004, 8, 6, "batch norm fine-tuned");
    ModelShape m = {.input = {784, 1, 1, 1}, .n_hidden = 2, .hidden = {20, 12}, .bottleneck = 2,
                    .activation = ACT_RELU, .output_activation = ACT_SIGMOID};
    static const char *const dense[] = {"dense:20", "dense:12", "dense:32", "dense:10"};
    check_finetune(&m, dense, 4, 2, "dense fine-tuned");
}

int main(void) {
    rng_seed(&rng, 77);
    test_conv(1, 28, 28, 8, 3, 2, 1);   /* report 002's first layer: a floor in the size */
    test_conv(3, 8, 8, 4, 4, 2, 1);     /* report 004's geometry */
    test_conv(2, 7, 5, 3, 3, 2, 0);     /* not square, no padding */
    test_conv(2, 5, 5, 3, 1, 1, 0);     /* 1x1 */
    test_conv_t(4, 3, 3, 2, 3, 2, 0, 0);
    test_conv_t(3, 7, 7, 1, 3, 2, 1, 1); /* report 002's decoder: 7 -> 14 */
    test_conv_t(2, 4, 5, 3, 4, 2, 1, 0); /* report 004's: doubles the size */
    test_batchnorm((Shape){3, 3, 2, 0});
    test_batchnorm((Shape){5, 1, 1, 1});
    test_flatten_order();
    test_variational();
    test_refusals();
    test_autoencoders();
    test_finetune_models();
    return test_summary("layers");
}
