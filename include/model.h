/* A stack of dense layers with all parameters in one contiguous block, their
 * gradients and optimizer state beside it, so an optimizer step is one loop. */
#ifndef AESWEEP_MODEL_H
#define AESWEEP_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "nn.h"
#include "rng.h"

#define AE_MAX_LAYERS 32
#define AE_MAX_HIDDEN 15

typedef struct {
    int in, out;
    Act act;
    float slope;  /* leaky_relu's negative slope */
    size_t w, b;  /* offsets of W [out,in] and b [out] in the parameter block */
} Layer;

typedef struct {
    int n_layers;
    Layer layer[AE_MAX_LAYERS];
    int input_dim;
    int bottleneck_layer; /* index of the layer whose output is the code; -1 if none */
    int max_width;
    size_t n_params;
    float *mem;    /* one allocation: params | grads | state[0] | state[1] */
    float *params;
    float *grads;
    float *state[2];
} Model;

/* The architecture of an autoencoder: encoder input_dim -> hidden... -> bottleneck,
 * decoder mirrored back to input_dim. */
typedef struct {
    int input_dim;
    int n_hidden;
    int hidden[AE_MAX_HIDDEN];
    int bottleneck;
    Act activation, latent_activation, output_activation;
    float leaky_slope;
} ModelShape;

int model_init_autoencoder(Model *m, const ModelShape *s, Err *e);
/* Any stack: widths[0] is the input, widths[1..n] the layer outputs. */
int model_init_stack(Model *m, int n_layers, const int *widths, const Act *acts, float slope,
                     Err *e);
/* torch.nn.Linear's default: W and b uniform in +-1/sqrt(in), drawn from seed. */
void model_init_weights(Model *m, uint64_t seed);
void model_free(Model *m);

/* Buffers for one forward/backward pass of up to max_batch rows, reused every step. */
typedef struct {
    int max_batch;
    float *input;                  /* [B, input_dim]: what layer 0 reads */
    float *out[AE_MAX_LAYERS];     /* post-activation output of each layer */
    float *drop[AE_MAX_LAYERS];    /* after dropout (NULL where no dropout) */
    float *mask[AE_MAX_LAYERS];    /* dropout scale per element: 0 or 1/(1-p) */
    float *grad[2];                /* ping-pong dL/dy buffers [B, max_width] */
    int dropped;                   /* the last forward pass applied dropout masks */
} Work;

int work_init(Work *w, const Model *m, int max_batch, float dropout, Err *e);
void work_free(Work *w);

/* Forward pass over w->input (B rows). With dropout > 0 and rng non-NULL, inverted
 * dropout is applied to every hidden layer's output except the code and the output. */
void model_forward(const Model *m, Work *w, int B, float dropout, Rng *rng);
/* The encoder alone (layers up to the bottleneck, no dropout): the codes are then
 * in w->out[m->bottleneck_layer]. */
void model_encode(const Model *m, Work *w, int B);
/* The network's output after model_forward. */
const float *model_output(const Model *m, const Work *w);
/* dy = dL/d(output) [B, out] (clobbered); fills m->grads (overwriting). dcode, when
 * non-NULL, is an extra dL/d(code) [B, bottleneck] from a penalty on the latent code,
 * added where the backward pass reaches the bottleneck. The gradient with respect
 * to the input is not computed. */
void model_backward(Model *m, Work *w, int B, float *dy, const float *dcode);

#endif
