/* One interface for every kind of layer: a forward/backward pair over flat float
 * buffers plus its shapes, its parameters (trained, in the model's one block) and
 * its buffers (not trained: batch norm's running statistics). Each kind is one
 * file, src/nn/layer_<kind>.c, and one row of the table layer_kinds[].
 *
 * Tensors. A batch of B vectors is [B, n] row-major (what dense layers read and
 * write). A batch of B images of C channels is kept channel-major, [C, B, H, W]
 * ("CNHW"): a convolution is then one GEMM over the whole batch, and each
 * channel's values are contiguous for bias, batch norm and col2im. The model
 * converts at its edges (images arrive as [B, C, H, W]); `reshape` converts
 * between the two inside it, in torch's flatten order (c, h, w). */
#ifndef AESWEEP_LAYER_H
#define AESWEEP_LAYER_H

#include <stddef.h>

#include "err.h"
#include "nn.h"
#include "rng.h"

typedef enum {
    LAYER_DENSE,
    LAYER_CONV,
    LAYER_CONV_T,
    LAYER_BATCHNORM,
    LAYER_DROPOUT,
    LAYER_RESHAPE,
    LAYER_VARIATIONAL,
    LAYER_KIND_COUNT
} LayerKind;

/* C x H x W; a vector of n is {n, 1, 1} with flat = 1. */
typedef struct {
    int c, h, w;
    int flat; /* 1: [B, n] rows; 0: an image batch, [C, B, H, W] */
} Shape;

static inline int shape_size(Shape s) { return s.c * s.h * s.w; }

/* What a job (or a caller) says of a layer, before shapes are known. */
typedef struct {
    LayerKind kind;
    int units;   /* dense: outputs; conv, conv_t: output channels */
    int kernel, stride, padding, output_padding;
    Act act;
    float slope; /* leaky_relu's negative slope */
    float rate;  /* dropout probability */
    float beta;  /* variational: weight of the KL term */
    int batchnorm; /* an autoencoder entry: batch norm (then the activation) follows */
    Shape to;    /* reshape: the target shape (flat or image) */
    char where[48]; /* the job path that named it, for messages: "model.encoder[1]" */
} LayerSpec;

typedef struct {
    LayerKind kind;
    Shape in, out;
    Act act;
    float slope;
    int kernel, stride, padding, output_padding;
    float rate, beta;
    float momentum, eps; /* batchnorm: torch's defaults 0.1 and 1e-5 */
    size_t w, n_w;       /* weights: offset in the parameter block, count */
    size_t b, n_b;       /* bias (or batch norm's shift) */
    size_t buf, n_buf;   /* buffers: offset in the model's buffer block, count */
    float fan_in;        /* torch's init bound is 1/sqrt(fan_in) */
} Layer;

/* One call of a layer on one batch. Forward reads x and writes y; backward reads
 * dy (which it may clobber) and writes dx (NULL: not needed, the first layer),
 * and writes (never adds to) the gradients of its parameters. */
typedef struct {
    int B;
    int train;          /* batch statistics, dropout and sampling on */
    const float *x;
    float *y;
    float *dy, *dx;
    float *p, *g;       /* the model's parameter and gradient blocks */
    float *buf;         /* the model's buffer block (writable while training) */
    float *saved;       /* this layer's per-batch memory from forward to backward */
    float *temp;        /* scratch shared by all layers (im2col columns) */
    Rng *rng;           /* dropout masks, variational noise (training only) */
    double aux;         /* forward adds its own loss term here (beta * the KL divergence) */
    double kl;          /* and the KL divergence itself, for the metrics */
} LayerCall;

typedef struct {
    const char *name; /* the model file's `kind` */
    /* Fills L's output shape and counts from L->in and the spec; AE_EINPUT naming
     * spec->where when the shapes do not fit. */
    int (*setup)(Layer *L, const LayerSpec *s, Err *e);
    /* torch's default initialisation of the parameters and buffers. */
    void (*init)(const Layer *L, float *p, float *buf, Rng *r);
    void (*forward)(const Layer *L, LayerCall *c);
    void (*backward)(const Layer *L, LayerCall *c);
    /* Floats kept from forward to backward, and floats of shared scratch, for a
     * batch of B. */
    size_t (*saved)(const Layer *L, int B);
    size_t (*temp)(const Layer *L, int B);
    /* Multiply-adds per sample of the forward pass (backward is about twice). */
    double (*macs)(const Layer *L);
} LayerKindOps;

extern const LayerKindOps *const layer_kinds[LAYER_KIND_COUNT];

/* The kind named s ("dense", "conv", ...), or -1. */
int layer_kind_find(const char *s);

/* Shared pieces of the kinds. */
void layer_uniform(float *p, size_t n, float bound, Rng *r);
/* torch's init of Linear, Conv2d and ConvTranspose2d: W then b uniform in
 * +-1/sqrt(fan_in). */
void layer_init_fan_in(const Layer *L, float *p, float *buf, Rng *r);
size_t layer_none(const Layer *L, int B);
void layer_no_init(const Layer *L, float *p, float *buf, Rng *r);

#endif
