/* A model is a sequence of layers (layer.h) with all parameters in one contiguous
 * block, their gradients and optimizer state beside it, so an optimizer step is
 * one loop; buffers that are not trained (batch norm's running statistics) live
 * in a block of their own, out of the optimizer's reach.
 *
 * Its input is a batch of rows [B, C*H*W] (images as they arrive, channel by
 * channel) and so is its output; reshape layers, put in by model_build where a
 * layer needs another form, convert inside. */
#ifndef AESWEEP_MODEL_H
#define AESWEEP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "layer.h"
#include "nn.h"
#include "rng.h"

#define AE_MAX_LAYERS 64
#define AE_MAX_HIDDEN 15

typedef struct {
    int n_layers;
    Layer layer[AE_MAX_LAYERS];
    Shape input;          /* the images' C x H x W */
    int input_dim;        /* C*H*W: the width of an input row (and of the output) */
    int bottleneck_layer; /* index of the layer whose output is the code; -1 if none */
    int signed_range;     /* its input is in [-1, 1] (data.range), for the model file */
    int max_width;        /* the widest tensor of one sample, in floats */
    size_t n_params, n_buffers;
    float *mem;    /* one allocation: params | grads | state[0] | state[1] | buffers */
    float *params;
    float *grads;
    float *state[2];
    float *buffers;
} Model;

#define AE_MAX_ENTRIES 16

/* The architecture of an autoencoder: the encoder's entries (each a dense, conv
 * or conv_transpose layer with its activation, then batch norm and dropout when
 * asked), the code (bottleneck wide, or a variational head), then the decoder:
 * an explicit list whose last entry makes the output, or the mirror (n_decoder
 * 0): every encoder entry undone in reverse order, each undoing layer ending
 * where the entry began, with the activation, batch norm and dropout of the
 * entry before it (output_activation for the last). With no encoder entries,
 * n_hidden/hidden are dense entries of `activation` (the model.hidden shorthand).
 * An entry's rate < 0 means `dropout`. */
typedef struct {
    Shape input;
    int n_hidden;
    int hidden[AE_MAX_HIDDEN];
    int n_encoder, n_decoder;
    LayerSpec encoder[AE_MAX_ENTRIES], decoder[AE_MAX_ENTRIES];
    int bottleneck;
    Act activation, latent_activation, output_activation;
    float leaky_slope;
    float dropout;   /* after every hidden entry but the code, while training */
    int variational; /* the code is z ~ N(mu, sigma^2) */
    int no_decoder;  /* the encoder alone: the code is the output (nothing reconstructs) */
    float beta;      /* weight of the KL term */
} ModelShape;

/* Builds any sequence: `input` is the images' shape (a vector when flat), specs
 * the layers in order; code_layer the index (in specs) of the layer whose output
 * is the code, or -1. A reshape is put in before a dense layer that follows an
 * image, before a convolution that reads the input, and after an image output.
 * AE_EINPUT naming the layer's `where` when the shapes do not fit. */
int model_build(Model *m, Shape input, const LayerSpec *specs, int n, int code_layer, Err *e);
int model_init_autoencoder(Model *m, const ModelShape *s, Err *e);
/* A stack of dense layers: widths[0] is the input, widths[1..n] the layer outputs;
 * with dropout > 0, a dropout layer after each but the last. */
int model_init_stack(Model *m, int n_layers, const int *widths, const Act *acts, float slope,
                     float dropout, Err *e);
/* The same, and with batchnorm each layer but the last is linear and followed by
 * batch norm with its activation (then dropout): torch's Linear, BatchNorm1d,
 * ReLU, Dropout. */
int model_init_mlp(Model *m, int n_layers, const int *widths, const Act *acts, float slope,
                   float dropout, int batchnorm, Err *e);
/* The first layer of ae's code entry (the dense layer that makes the code, or
 * (mu, log sigma^2)): the layers before it are the encoder a fine-tuned
 * classifier starts from, the code layer replaced (report 002 §2.3). */
int model_before_code(const Model *ae);
/* The MLP of model_init_mlp reading the output of base's first `keep` layers,
 * which come first (their shapes; model_copy_layers brings their trained state):
 * widths[0] is not read, the MLP's input being that output. */
int model_init_mlp_on(Model *m, const Model *base, int keep, int n_layers, const int *widths,
                      const Act *acts, float slope, float dropout, int batchnorm, Err *e);
/* Parameters and buffers of from's first n layers into m's, laid out alike. */
void model_copy_layers(Model *m, const Model *from, int n);
/* torch's default initialisation of every layer, drawn from seed; optimizer state 0. */
void model_init_weights(Model *m, uint64_t seed);
void model_free(Model *m);

/* The code's width (the bottleneck layer's output). */
int model_code_dim(const Model *m);
/* What a copy of the trained state holds: parameters then buffers. */
size_t model_state_size(const Model *m);
void model_state_save(const Model *m, float *to);
void model_state_load(Model *m, const float *from);

/* Buffers for one forward/backward pass of up to max_batch rows, reused every step. */
typedef struct {
    int max_batch;
    float *input;                  /* [B, input_dim]: what layer 0 reads */
    float *out[AE_MAX_LAYERS];     /* each layer's output */
    float *saved[AE_MAX_LAYERS];   /* each layer's memory from forward to backward */
    float *temp;                   /* shared scratch (im2col) */
    float *grad[2];                /* ping-pong dL/dy buffers [B, max_width] */
    int train;                     /* the last forward pass was in training mode */
    double aux;                    /* the layers' own loss terms of the last pass (beta KL) */
    double kl;                     /* the KL divergence of the last pass (0 but for a VAE) */
    double *seconds;               /* NULL, or [2 * n_layers]: each layer's time in forward,
                                      then in backward, added to (aesweep bench --profile) */
} Work;

int work_init(Work *w, const Model *m, int max_batch, Err *e);
void work_free(Work *w);

/* Forward pass over w->input (B rows) in evaluation mode: no dropout, batch
 * norm's running statistics, the variational mean. */
void model_forward(const Model *m, Work *w, int B);
/* The same in training mode: dropout masks and variational noise from rng, batch
 * statistics (batch norm's running statistics move). */
void model_forward_train(Model *m, Work *w, int B, Rng *rng);
/* The encoder alone (layers up to the bottleneck, evaluation mode): the codes
 * are then model_code(m, w). */
void model_encode(const Model *m, Work *w, int B);
/* The network's output and its code after a forward pass. */
const float *model_output(const Model *m, const Work *w);
const float *model_code(const Model *m, const Work *w);
/* dy = dL/d(output) [B, out] (clobbered); fills m->grads (overwriting), the
 * layers' own loss terms included. dcode, when non-NULL, is an extra dL/d(code)
 * [B, code width] from a penalty on the latent code, added where the backward
 * pass reaches the bottleneck. The gradient with respect to the input is not
 * computed. */
void model_backward(Model *m, Work *w, int B, float *dy, const float *dcode);
/* The same without a code gradient, and with dx [B, input_dim] receiving the
 * gradient with respect to the input (a head on the code passes it on to the
 * encoder). */
void model_backward_input(Model *m, Work *w, int B, float *dy, float *dx);
/* The encoder's own training pass and its backward pass from a gradient at the
 * code (a penalty with a step of its own): the gradients of the encoder's
 * parameters, the first model_encoder_params(m) of the block, are filled; the
 * decoder's are left as they were. */
void model_encode_train(Model *m, Work *w, int B, Rng *rng);
void model_backward_encoder(Model *m, Work *w, int B, const float *dcode);
/* How many parameters the encoder (the layers up to the code) has: they come
 * first in the block. */
size_t model_encoder_params(const Model *m);
/* Multiply-adds of one sample's forward pass. */
double model_macs(const Model *m);

#endif
