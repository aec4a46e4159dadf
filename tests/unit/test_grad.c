/* Finite-difference checks of every activation, every loss, the dense layer and
 * a whole autoencoder (with dropout, and with a gradient entering at the code).
 *
 * Tolerance: everything runs in float32. A central difference with step h has
 * truncation error O(h^2 f''') and rounding error about eps_f32 * |f| / h; with
 * h = 1e-3 for elementwise functions and 1e-2 on the small networks (where |f| is
 * larger and the functions are smooth away from kinks) both terms stay near 1e-4
 * relative, so analytic and numeric gradients must agree to 2e-2 relative, with
 * an absolute floor of 2e-2 of the largest gradient of the same array. Inputs
 * are kept 0.05 away from the kinks of relu/leaky_relu/mae. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "nn.h"
#include "penalty.h"
#include "rng.h"
#include "test.h"

#define TOL 2e-2

static Rng rng;

static float uniform(float lo, float hi) { return lo + (hi - lo) * rng_uniformf(&rng); }

/* Away from 0 by at least 0.05. */
static float off_kink(float lo, float hi) {
    float x;
    do x = uniform(lo, hi);
    while (fabsf(x) < 0.05f);
    return x;
}

/* Compares an analytic gradient with a numeric one element by element. */
static void compare(const char *what, const float *a, const double *n, size_t len) {
    double amax = 0;
    for (size_t i = 0; i < len; i++) amax = fmax(amax, fabs(a[i]));
    int bad = 0;
    for (size_t i = 0; i < len; i++) {
        double err = fabs(a[i] - n[i]);
        double lim = TOL * fmax(fabs(a[i]), fabs(n[i])) + TOL * amax + 1e-7;
        if (err > lim && bad++ < 3)
            CHECK(0, "%s[%zu]: analytic %.7g vs numeric %.7g", what, i, a[i], n[i]);
    }
    CHECK(bad == 0, "%s: %d of %zu elements off", what, bad, len);
    CHECK(amax > 0, "%s: gradient is all zero, the check proves nothing", what);
}

/* Central differences of f with respect to each of p[0..n). */
static void fd_array(float *p, size_t n, double *num, float h, double (*f)(void *), void *ctx) {
    for (size_t i = 0; i < n; i++) {
        float save = p[i];
        p[i] = save + h;
        double fp = f(ctx);
        p[i] = save - h;
        double fm = f(ctx);
        p[i] = save;
        num[i] = (fp - fm) / (2.0 * h);
    }
}

/* ---- activations: f(x) = sum_i w_i act(x_i) ---- */

static double act_objective(Act a, float slope, const float *x, const float *w, size_t n) {
    float y[16];
    memcpy(y, x, n * sizeof *y);
    act_forward(a, slope, y, n);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)w[i] * y[i];
    return s;
}

static void test_activations(void) {
    enum { N = 16 };
    const float h = 1e-3f;
    for (int a = 0; a < ACT_COUNT; a++) {
        float x[N], w[N], y[N], dy[N];
        double num[N];
        for (int i = 0; i < N; i++) x[i] = off_kink(-3, 3), w[i] = uniform(-1, 1);
        float slope = 0.2f;
        memcpy(y, x, sizeof y);
        act_forward((Act)a, slope, y, N);
        memcpy(dy, w, sizeof dy);
        act_backward((Act)a, slope, y, dy, N);
        for (int i = 0; i < N; i++) {
            float save = x[i];
            x[i] = save + h;
            double fp = act_objective((Act)a, slope, x, w, N);
            x[i] = save - h;
            double fm = act_objective((Act)a, slope, x, w, N);
            x[i] = save;
            num[i] = (fp - fm) / (2.0 * h);
        }
        compare(act_names[a], dy, num, N);
    }
    /* Exact values where they are known. */
    float v[5] = {-2, -0.5f, 0, 0.5f, 2};
    act_forward(ACT_LEAKY_RELU, 0.1f, v, 5);
    CHECK(v[0] == -0.2f && v[1] == -0.05f && v[2] == 0 && v[3] == 0.5f && v[4] == 2,
          "leaky_relu values %g %g %g %g %g", v[0], v[1], v[2], v[3], v[4]);
    float s[4] = {0, 2, -2, 40};
    act_forward(ACT_SIGMOID, 0, s, 4);
    CHECK_CLOSE(s[0], 0.5, 1e-7, "sigmoid(0)");
    CHECK_CLOSE(s[1], 1 / (1 + exp(-2.0)), 3e-7, "sigmoid(2)");
    CHECK_CLOSE(s[2], 1 / (1 + exp(2.0)), 3e-7, "sigmoid(-2)");
    CHECK(s[3] <= 1.0f && s[3] > 0.999f, "sigmoid(40) = %g", s[3]);
    /* The sigmoid's own exp, against libm over the whole range it is used on. */
    double worst = 0;
    for (float x = -30; x <= 30; x += 0.01f) {
        float y = x;
        act_forward(ACT_SIGMOID, 0, &y, 1);
        double ref = 1.0 / (1.0 + exp(-(double)x));
        worst = fmax(worst, fabs(y - ref) / ref);
    }
    CHECK(worst < 5e-7, "sigmoid relative error %g", worst);
}

/* ---- losses ---- */

static void test_losses(void) {
    enum { B = 3, D = 5, N = B * D };
    const float h = 1e-3f;
    /* LOSS_COUNT: mse + 0.5 mae, report 004's weighting */
    for (int l = 0; l <= LOSS_COUNT; l++) {
        Loss kind = l == LOSS_COUNT ? LOSS_MSE_MAE : (Loss)l;
        float w = l == LOSS_COUNT ? 0.5f : 1.0f;
        float y[N], t[N], dy[N];
        double num[N];
        for (int i = 0; i < N; i++) {
            t[i] = uniform(0, 1);
            /* bce needs y in (0,1); the others need y - t away from 0 */
            y[i] = kind == LOSS_BCE ? uniform(0.1f, 0.9f) : t[i] + off_kink(-0.5f, 0.5f);
        }
        loss_weighted(kind, w, y, t, dy, B, D);
        for (int i = 0; i < N; i++) {
            float save = y[i];
            y[i] = save + h;
            double fp = loss_weighted(kind, w, y, t, NULL, B, D);
            y[i] = save - h;
            double fm = loss_weighted(kind, w, y, t, NULL, B, D);
            y[i] = save;
            num[i] = (fp - fm) / (2.0 * h);
        }
        compare(l == LOSS_COUNT ? "mse+0.5mae" : loss_names[l], dy, num, N);
    }
    /* Exact values: mse and mae of a known pair, and bce at a perfect prediction stays finite. */
    float y[2] = {0.25f, 1.0f}, t[2] = {0.75f, 0.5f};
    CHECK_CLOSE(loss_forward_backward(LOSS_MSE, y, t, NULL, 1, 2), 0.25, 1e-7, "mse");
    CHECK_CLOSE(loss_forward_backward(LOSS_MAE, y, t, NULL, 1, 2), 0.5, 1e-7, "mae");
    CHECK_CLOSE(loss_forward_backward(LOSS_MSE_MAE, y, t, NULL, 1, 2), 0.75, 1e-7, "mse+mae");
    CHECK_CLOSE(loss_weighted(LOSS_MSE_MAE, 0.5f, y, t, NULL, 1, 2), 0.5, 1e-7, "mse+0.5mae");
    float one[1] = {1.0f}, zero[1] = {0.0f}, d[1];
    double b = loss_forward_backward(LOSS_BCE, one, zero, d, 1, 1);
    CHECK(isfinite(b) && isfinite(d[0]) && b > 10, "bce(1, 0) = %g, d = %g", b, d[0]);
}

/* ---- penalties and the classifier's loss, with respect to their inputs ---- */

enum { PB = 6, PD = 4 };

typedef struct {
    float z[PB * PD], p[PB * PD];
    uint8_t labels[PB];
    float kernel[PB * PB], sq_z[PB], sq_p[PB];
    float sigma;
} PenCase;

static double class_target_f(void *ctx) {
    PenCase *c = ctx;
    return class_target_forward_backward(c->z, c->labels, PB, PD, NULL);
}

static double csd_f(void *ctx) {
    PenCase *c = ctx;
    return csd_forward_backward(c->z, c->p, PB, PD, c->sigma, c->kernel, c->sq_z, c->sq_p, NULL);
}

static double xent_f(void *ctx) {
    PenCase *c = ctx; /* z as logits [PB, PD], labels < PD */
    return softmax_xent_forward_backward(c->z, c->labels, NULL, PB, PD, NULL);
}

static void test_penalties(void) {
    PenCase c;
    for (int i = 0; i < PB * PD; i++) c.z[i] = uniform(-1, 1.5f), c.p[i] = uniform(-1, 1);
    for (int i = 0; i < PB; i++) c.labels[i] = (uint8_t)(i % PD);
    float dz[PB * PD];
    double num[PB * PD];

    class_target_forward_backward(c.z, c.labels, PB, PD, dz);
    fd_array(c.z, PB * PD, num, 1e-3f, class_target_f, &c);
    compare("class_target dz", dz, num, PB * PD);

    /* Narrow and wide kernels: the weights range from nearly uniform to dominated
     * by the nearest pairs. */
    const float sigmas[] = {0.3f, 1.0f, 5.0f};
    for (int k = 0; k < 3; k++) {
        c.sigma = sigmas[k];
        csd_forward_backward(c.z, c.p, PB, PD, c.sigma, c.kernel, c.sq_z, c.sq_p, dz);
        /* A wide kernel flattens D_CS: a larger step keeps the difference above
         * float rounding. */
        fd_array(c.z, PB * PD, num, c.sigma > 2 ? 1e-2f : 1e-3f, csd_f, &c);
        char what[64];
        snprintf(what, sizeof what, "csd dz (sigma %g)", c.sigma);
        compare(what, dz, num, PB * PD);
    }

    softmax_xent_forward_backward(c.z, c.labels, dz, PB, PD, NULL);
    fd_array(c.z, PB * PD, num, 1e-3f, xent_f, &c);
    compare("softmax cross-entropy dlogits", dz, num, PB * PD);
}

/* ---- the penalties with a head: with respect to the codes and the head's weights ---- */

typedef struct {
    Head h;
    PenCase *c;
    int which; /* 0 discriminator, 1 encoder's adversarial, 2 guided, 3 supcon */
} HeadCase;

static double head_f(void *ctx) {
    HeadCase *k = ctx;
    switch (k->which) {
    case 0: return adversarial_disc_forward_backward(&k->h, k->c->z, k->c->p, PB, PD);
    case 1: return adversarial_gen_forward_backward(&k->h, k->c->z, PB, PD, NULL);
    case 2: return guided_forward_backward(&k->h, k->c->z, k->c->labels, PB, PD, 0.7f, NULL);
    default: return supcon_forward_backward(&k->h, k->c->z, k->c->labels, PB, PD, 0.5f, NULL);
    }
}

/* Analytic gradients of one head loss against central differences, for the codes
 * (but for the discriminator's loss, which does not reach them) and the weights. */
static void check_head(HeadCase *k, const char *what) {
    float dz[PB * PD], *g = malloc(sizeof(float) * k->h.m.n_params);
    double num[PB * PD], *numw = malloc(sizeof(double) * k->h.m.n_params);
    switch (k->which) {
    case 0: adversarial_disc_forward_backward(&k->h, k->c->z, k->c->p, PB, PD); break;
    case 1: adversarial_gen_forward_backward(&k->h, k->c->z, PB, PD, dz); break;
    case 2: guided_forward_backward(&k->h, k->c->z, k->c->labels, PB, PD, 0.7f, dz); break;
    default: supcon_forward_backward(&k->h, k->c->z, k->c->labels, PB, PD, 0.5f, dz); break;
    }
    memcpy(g, k->h.m.grads, sizeof(float) * k->h.m.n_params);
    char name[80];
    if (k->which != 1) { /* the generator's pass leaves the weights' gradient unused */
        fd_array(k->h.m.params, k->h.m.n_params, numw, 1e-2f, head_f, k);
        snprintf(name, sizeof name, "%s d weights", what);
        compare(name, g, numw, k->h.m.n_params);
    }
    if (k->which != 0) {
        fd_array(k->c->z, PB * PD, num, 1e-2f, head_f, k);
        snprintf(name, sizeof name, "%s dz", what);
        compare(name, dz, num, PB * PD);
    }
    free(g);
    free(numw);
}

static void test_head_penalties(void) {
    Rng outer = rng; /* the later checks keep the draws their kink-free seed gave them */
    rng_seed(&rng, 99);
    PenCase c;
    for (int i = 0; i < PB * PD; i++) c.z[i] = uniform(-1, 1.5f), c.p[i] = uniform(-1, 1);
    for (int i = 0; i < PB; i++) c.labels[i] = (uint8_t)(i % 3); /* each has positives */
    Optim opt;
    optim_init(&opt, OPT_ADAM, 1e-3f);
    Err e = {0};
    const char *names[] = {"adversarial discriminator", "adversarial encoder", "guided",
                           "supcon"};
    for (int which = 0; which < 4; which++) {
        /* tanh hidden layers: smooth, so differences see no kinks */
        int widths[2] = {5, which == 2 ? 3 : which == 3 ? 4 : 1};
        Act acts[2] = {ACT_TANH, ACT_LINEAR};
        HeadCase k = {.c = &c, .which = which};
        int rc = head_init(&k.h, PD, 2, widths, acts, 2 * PB, which == 3, &opt, 7 + which, &e);
        CHECK(rc == AE_OK, "head_init: %s", e.msg);
        if (rc) continue;
        check_head(&k, names[which]);
        head_free(&k.h);
    }
    rng = outer;
}

/* ---- a dense layer: f = sum r * act(x W^T + b) ---- */

static double dense_objective(const float *x, const float *W, const float *b, Act a, const float *r,
                              int B, int in, int out) {
    float y[64];
    dense_forward(x, W, b, a, 0.2f, y, B, in, out);
    double s = 0;
    for (int i = 0; i < B * out; i++) s += (double)r[i] * y[i];
    return s;
}


typedef struct {
    float x[12], W[20], b[5], r[15];
    Act a;
} DenseCase;

static double dense_f(void *ctx) {
    DenseCase *c = ctx;
    return dense_objective(c->x, c->W, c->b, c->a, c->r, 3, 4, 5);
}

static void test_dense(void) {
    enum { B = 3, IN = 4, OUT = 5 };
    for (int a = 0; a < ACT_COUNT; a++) {
        DenseCase c;
        c.a = (Act)a;
        for (int i = 0; i < B * IN; i++) c.x[i] = uniform(-1, 1);
        for (int i = 0; i < OUT * IN; i++) c.W[i] = uniform(-1, 1);
        for (int i = 0; i < OUT; i++) c.b[i] = uniform(-0.5f, 0.5f);
        for (int i = 0; i < B * OUT; i++) c.r[i] = uniform(-1, 1);
        float y[B * OUT], dy[B * OUT], dW[OUT * IN], db[OUT], dx[B * IN];
        dense_forward(c.x, c.W, c.b, c.a, 0.2f, y, B, IN, OUT);
        memcpy(dy, c.r, sizeof dy);
        dense_backward(c.x, c.W, y, c.a, 0.2f, dy, dW, db, dx, B, IN, OUT);
        double nW[OUT * IN], nb[OUT], nx[B * IN];
        fd_array(c.W, OUT * IN, nW, 1e-3f, dense_f, &c);
        fd_array(c.b, OUT, nb, 1e-3f, dense_f, &c);
        fd_array(c.x, B * IN, nx, 1e-3f, dense_f, &c);
        char what[64];
        snprintf(what, sizeof what, "dense %s dW", act_names[a]);
        compare(what, dW, nW, OUT * IN);
        snprintf(what, sizeof what, "dense %s db", act_names[a]);
        compare(what, db, nb, OUT);
        snprintf(what, sizeof what, "dense %s dx", act_names[a]);
        compare(what, dx, nx, B * IN);
    }
}

/* ---- a whole model: loss(model(x), x) + sum(c * code) + its own terms ---- */

typedef struct {
    Model m;
    Work w;
    Loss loss;     /* LOSS_COUNT: f = sum(r * output) instead of a loss */
    const float *x;
    const float *r; /* [B, out] weights of the output when there is no loss */
    float c[8 * 4]; /* weights of the extra term on the code, [B, code width] */
    int B;
} NetCase;

static double net_f(void *ctx) {
    NetCase *n = ctx;
    Rng r;
    rng_seed(&r, 99); /* the same dropout masks and noise on every evaluation */
    memcpy(n->w.input, n->x, sizeof(float) * (size_t)n->B * n->m.input_dim);
    model_forward_train(&n->m, &n->w, n->B, &r);
    const float *y = model_output(&n->m, &n->w);
    double f = n->w.aux;
    if (n->loss == LOSS_COUNT)
        for (int i = 0; i < n->B * n->m.input_dim; i++) f += (double)n->r[i] * y[i];
    else
        f += loss_forward_backward(n->loss, y, n->x, NULL, n->B, n->m.input_dim);
    if (n->m.bottleneck_layer >= 0) {
        const float *code = model_code(&n->m, &n->w);
        for (int i = 0; i < n->B * model_code_dim(&n->m); i++) f += (double)n->c[i] * code[i];
    }
    return f;
}

/* Analytic against numeric gradients of every parameter of n->m (built by the
 * caller), on inputs x and output weights r, each [B, input_dim]. */
static void check_net(NetCase *n, const char *what, const float *x, const float *r, float h) {
    Err e = {0};
    CHECK(work_init(&n->w, &n->m, n->B, &e) == AE_OK, "%s: work: %s", what, e.msg);
    n->x = x;
    n->r = r;
    for (int i = 0; i < n->B * model_code_dim(&n->m); i++) n->c[i] = uniform(-0.1f, 0.1f);
    net_f(n);
    float *dy = n->w.grad[0];
    const float *y = model_output(&n->m, &n->w);
    if (n->loss == LOSS_COUNT)
        memcpy(dy, r, sizeof(float) * (size_t)n->B * n->m.input_dim);
    else
        loss_forward_backward(n->loss, y, x, dy, n->B, n->m.input_dim);
    model_backward(&n->m, &n->w, n->B, dy, n->m.bottleneck_layer >= 0 ? n->c : NULL);
    double *num = malloc(sizeof(double) * n->m.n_params);
    fd_array(n->m.params, n->m.n_params, num, h, net_f, n);
    /* Each layer on its own, so that a failure names it. */
    for (int l = 0; l < n->m.n_layers; l++) {
        const Layer *L = &n->m.layer[l];
        if (L->n_w + L->n_b == 0) continue;
        char name[160];
        snprintf(name, sizeof name, "%s: layer %d (%s)", what, l, layer_kinds[L->kind]->name);
        compare(name, n->m.grads + L->w, num + L->w, L->n_w + L->n_b);
    }
    free(num);
    work_free(&n->w);
    model_free(&n->m);
}

static void test_network(Act hidden, Act latent, Act output, Loss loss, float dropout) {
    enum { B = 4, D = 6 };
    NetCase n;
    memset(&n, 0, sizeof n);
    ModelShape s = {.input = {D, 1, 1, 1}, .n_hidden = 1, .hidden = {5}, .bottleneck = 3,
                    .activation = hidden, .latent_activation = latent,
                    .output_activation = output, .leaky_slope = 0.2f, .dropout = dropout};
    Err e = {0};
    CHECK(model_init_autoencoder(&n.m, &s, &e) == AE_OK, "init: %s", e.msg);
    model_init_weights(&n.m, 7);
    /* Larger weights than the default init, so every layer has sizeable gradients. */
    for (size_t i = 0; i < n.m.n_params; i++) n.m.params[i] *= 2.0f;
    float x[B * D];
    for (int i = 0; i < B * D; i++) x[i] = uniform(0.05f, 0.95f);
    n.B = B;
    n.loss = loss;
    char what[128];
    snprintf(what, sizeof what, "net %s/%s/%s %s dropout %.1f", act_names[hidden], act_names[latent],
             act_names[output], loss_names[loss], dropout);
    check_net(&n, what, x, NULL, 1e-2f);
}

/* ---- layered models: every kind of layer, with a gradient flowing through it ---- */

static LayerSpec spec(LayerKind k, int units, int kernel, int stride, int pad, int opad, Act a) {
    return (LayerSpec){.kind = k, .units = units, .kernel = kernel, .stride = stride,
                       .padding = pad, .output_padding = opad, .act = a, .slope = 0.2f,
                       .beta = 1.0f, .where = "test"};
}

/* f = sum(r * model(x)) + the model's own terms (KL), on B images of `in`. */
static void test_layers(const char *what, Shape in, const LayerSpec *specs, int n, int code,
                        int B) {
    NetCase c;
    memset(&c, 0, sizeof c);
    Err e = {0};
    CHECK(model_build(&c.m, in, specs, n, code, &e) == AE_OK, "%s: build: %s", what, e.msg);
    if (e.code) return;
    model_init_weights(&c.m, 11);
    for (size_t i = 0; i < c.m.n_params; i++) c.m.params[i] *= 1.5f;
    int D = c.m.input_dim;
    float *x = malloc(sizeof(float) * B * D), *r = malloc(sizeof(float) * B * D);
    for (int i = 0; i < B * D; i++) x[i] = uniform(-1, 1), r[i] = uniform(-1, 1);
    c.B = B;
    c.loss = LOSS_COUNT;
    CHECK(shape_size(c.m.layer[c.m.n_layers - 1].out) == D, "%s: output is not input-sized", what);
    check_net(&c, what, x, r, 1e-2f);
    free(x);
    free(r);
}

static void test_layer_kinds(void) {
    Shape img = {2, 7, 6, 0};
    /* conv (padding, stride 2, a floor in the size), conv with dx, then dense */
    LayerSpec a[] = {spec(LAYER_CONV, 3, 3, 2, 1, 0, ACT_TANH),
                     spec(LAYER_CONV, 4, 2, 1, 0, 0, ACT_LEAKY_RELU),
                     spec(LAYER_DENSE, 2 * 7 * 6, 0, 0, 0, 0, ACT_SIGMOID)};
    test_layers("conv, conv, dense", img, a, 3, -1, 3);
    /* dense to an image, two transposed convs (output padding) back to 2x7x6 */
    LayerSpec b[] = {spec(LAYER_DENSE, 5, 0, 0, 0, 0, ACT_TANH),
                     spec(LAYER_DENSE, 3 * 2 * 2, 0, 0, 0, 0, ACT_TANH),
                     spec(LAYER_RESHAPE, 0, 0, 0, 0, 0, ACT_LINEAR),
                     spec(LAYER_CONV_T, 4, 3, 2, 1, 0, ACT_TANH),
                     spec(LAYER_CONV_T, 2, 3, 2, 1, 1, ACT_LINEAR)};
    b[2].to = (Shape){3, 2, 2, 0};
    Shape out = {2, 6, 6, 0}; /* (2-1)*2-2+3 = 3, (3-1)*2-2+3+1 = 6 */
    test_layers("dense, reshape, conv_transpose x2", out, b, 5, 0, 3);
    /* batch norm in training mode over images and over vectors */
    LayerSpec c[] = {spec(LAYER_CONV, 3, 3, 1, 1, 0, ACT_LINEAR),
                     spec(LAYER_BATCHNORM, 0, 0, 0, 0, 0, ACT_TANH),
                     spec(LAYER_DENSE, 6, 0, 0, 0, 0, ACT_LINEAR),
                     spec(LAYER_BATCHNORM, 0, 0, 0, 0, 0, ACT_SIGMOID),
                     spec(LAYER_DENSE, 2 * 7 * 6, 0, 0, 0, 0, ACT_LINEAR)};
    test_layers("conv, batchnorm, dense, batchnorm1d, dense", img, c, 5, 3, 3);
    /* the variational head: reparameterisation and KL, the code in the middle */
    LayerSpec d[] = {spec(LAYER_DENSE, 8, 0, 0, 0, 0, ACT_TANH),
                     spec(LAYER_DENSE, 2 * 3, 0, 0, 0, 0, ACT_LINEAR),
                     spec(LAYER_VARIATIONAL, 0, 0, 0, 0, 0, ACT_LINEAR),
                     spec(LAYER_DENSE, 2 * 7 * 6, 0, 0, 0, 0, ACT_SIGMOID)};
    test_layers("variational", img, d, 4, 2, 3);
    /* dropout between convolutions */
    LayerSpec f[] = {spec(LAYER_CONV, 3, 3, 1, 1, 0, ACT_TANH),
                     spec(LAYER_DROPOUT, 0, 0, 0, 0, 0, ACT_LINEAR),
                     spec(LAYER_CONV, 2, 3, 1, 1, 0, ACT_LINEAR)};
    f[1].rate = 0.3f;
    test_layers("conv, dropout, conv", img, f, 3, -1, 3);
    /* Batches larger than a chunk of im2col columns (12 images of 1x24x24 with a
     * 3x3 kernel, 6 of 2x24x24): the chunks' outputs, dx (each layer's feeds one
     * with weights) and the summed dW of the transposed conv. */
    LayerSpec g[] = {spec(LAYER_CONV, 2, 3, 1, 1, 0, ACT_TANH),
                     spec(LAYER_CONV, 2, 3, 1, 1, 0, ACT_TANH),
                     spec(LAYER_CONV_T, 1, 3, 1, 1, 0, ACT_LINEAR)};
    test_layers("conv x2, conv_transpose in chunks", (Shape){1, 24, 24, 0}, g, 3, -1, 13);
    /* Stride 2 by phase planes (even sizes, report 004's k4 s2 p1), in chunks of
     * 7 images of 1x48x48 -> 24x24 and back. */
    LayerSpec h[] = {spec(LAYER_CONV, 1, 3, 1, 1, 0, ACT_TANH),
                     spec(LAYER_CONV, 2, 4, 2, 1, 0, ACT_TANH),
                     spec(LAYER_CONV_T, 1, 4, 2, 1, 0, ACT_LINEAR)};
    test_layers("conv, conv s2, conv_transpose s2 in chunks", (Shape){1, 48, 48, 0}, h, 3, -1, 9);
}

int main(void) {
    rng_seed(&rng, 2024);
    test_activations();
    test_losses();
    test_dense();
    test_penalties();
    test_head_penalties();
    test_network(ACT_TANH, ACT_LINEAR, ACT_SIGMOID, LOSS_MSE, 0);
    test_network(ACT_SIGMOID, ACT_TANH, ACT_SIGMOID, LOSS_BCE, 0);
    test_network(ACT_TANH, ACT_SIGMOID, ACT_LINEAR, LOSS_MSE, 0.3f);
    test_network(ACT_SIGMOID, ACT_LINEAR, ACT_SIGMOID, LOSS_MSE_MAE, 0);
    /* Piecewise-linear nets: with this seed no pre-activation lies within h of a
     * kink (a crossing would show as a failure, not pass silently). */
    test_network(ACT_RELU, ACT_LINEAR, ACT_SIGMOID, LOSS_MSE, 0);
    test_network(ACT_LEAKY_RELU, ACT_LEAKY_RELU, ACT_SIGMOID, LOSS_MSE, 0.2f);
    test_layer_kinds();
    return test_summary("grad");
}
