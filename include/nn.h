/* Layers and losses as forward/backward pairs over flat row-major float buffers.
 * A batch is B rows; a dense layer's weights W are [out, in] (torch.nn.Linear's
 * layout), so y = act(x W^T + b). All GEMMs go through cblas_sgemm. */
#ifndef AESWEEP_NN_H
#define AESWEEP_NN_H

#include <stddef.h>

typedef enum { ACT_LINEAR, ACT_RELU, ACT_LEAKY_RELU, ACT_SIGMOID, ACT_TANH, ACT_COUNT } Act;
typedef enum { LOSS_MSE, LOSS_BCE, LOSS_MAE, LOSS_MSE_MAE, LOSS_COUNT } Loss;

extern const char *const act_names[ACT_COUNT];
extern const char *const loss_names[LOSS_COUNT];

/* y = act(y) in place. */
void act_forward(Act a, float slope, float *y, size_t n);
/* dy *= act'(x) where y = act(x): every activation here has a derivative that is a
 * function of its output, so the pre-activation need not be kept. */
void act_backward(Act a, float slope, const float *y, float *dy, size_t n);

/* y[B,out] = act(x[B,in] W^T + b), bias and activation fused into one pass. */
void dense_forward(const float *x, const float *W, const float *b, Act a, float slope, float *y,
                   int B, int in, int out);

/* Given y from dense_forward and dy = dL/dy (overwritten with dL/dz), writes
 * dW = dz^T x, db = column sums of dz and, when dx is non-NULL, dx = dz W. */
void dense_backward(const float *x, const float *W, const float *y, Act a, float slope, float *dy,
                    float *dW, float *db, float *dx, int B, int in, int out);

/* Mean over all B*D elements of the loss between output y and target t; when dy is
 * non-NULL also writes dL/dy. bce clamps y into [1e-7, 1-1e-7] so that outputs of
 * exactly 0 or 1 give a large but finite loss and gradient. */
double loss_forward_backward(Loss l, const float *y, const float *t, float *dy, int B, int D);
/* The same with mse+mae weighted as mse + mae_weight * mae (report 004's 0.5). */
double loss_weighted(Loss l, float mae_weight, const float *y, const float *t, float *dy, int B,
                     int D);

/* Softmax cross-entropy of logits [B, C] against labels, mean over the batch,
 * through log-sum-exp. When dlogits is non-NULL it receives (softmax - onehot)/B;
 * when correct is non-NULL, the count of rows whose argmax is the label. */
double softmax_xent_forward_backward(const float *logits, const unsigned char *labels, float *dlogits,
                                     int B, int C, int *correct);

/* Index of the largest of x[0..n) (the first on ties). */
int argmax(const float *x, int n);

/* Sum over the batch of the squared error (for MSE reported with any loss). */
double sq_error_sum(const float *y, const float *t, size_t n);

#endif
