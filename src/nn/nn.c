#include <cblas.h>
#include <math.h>
#include <string.h>

#include "fastexp.h"
#include "nn.h"

const char *const act_names[ACT_COUNT] = {"linear", "relu", "leaky_relu", "sigmoid", "tanh"};
const char *const loss_names[LOSS_COUNT] = {"mse", "bce", "mae", "mse+mae"};

static inline float sigmoidf(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

void act_forward(Act a, float slope, float *y, size_t n) {
    switch (a) {
    case ACT_LINEAR: break;
    case ACT_RELU:
        for (size_t i = 0; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        break;
    case ACT_LEAKY_RELU:
        /* Two selects and an unconditional multiply-add (exact: one term is 0);
         * a conditional multiply would not vectorise. */
        for (size_t i = 0; i < n; i++) {
            float pos = y[i] > 0.0f ? y[i] : 0.0f, neg = y[i] > 0.0f ? 0.0f : y[i];
            y[i] = pos + slope * neg;
        }
        break;
    case ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) y[i] = sigmoidf(y[i]);
        break;
    case ACT_TANH:
        for (size_t i = 0; i < n; i++) y[i] = tanhf(y[i]);
        break;
    default: break;
    }
}

/* leaky_relu's derivative from its output needs slope > 0 (the sign of y is the
 * sign of x then); the spec validator enforces it. */
void act_backward(Act a, float slope, const float *y, float *dy, size_t n) {
    switch (a) {
    case ACT_LINEAR: break;
    case ACT_RELU:
        for (size_t i = 0; i < n; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) {
            float keep = y[i] > 0.0f ? dy[i] : 0.0f, leak = y[i] > 0.0f ? 0.0f : dy[i];
            dy[i] = keep + slope * leak;
        }
        break;
    case ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) dy[i] *= y[i] * (1.0f - y[i]);
        break;
    case ACT_TANH:
        for (size_t i = 0; i < n; i++) dy[i] *= 1.0f - y[i] * y[i];
        break;
    default: break;
    }
}

/* Bias add and activation in one pass over each row while it is in cache. */
static void bias_act_rows(float *y, const float *b, Act a, float slope, int B, int out) {
    for (int r = 0; r < B; r++) {
        float *row = y + (size_t)r * out;
        for (int j = 0; j < out; j++) row[j] += b[j];
        act_forward(a, slope, row, (size_t)out);
    }
}

void dense_forward(const float *x, const float *W, const float *b, Act a, float slope, float *y,
                   int B, int in, int out) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, out, in, 1.0f, x, in, W, in, 0.0f, y,
                out);
    bias_act_rows(y, b, a, slope, B, out);
}

void dense_backward(const float *x, const float *W, const float *y, Act a, float slope, float *dy,
                    float *dW, float *db, float *dx, int B, int in, int out) {
    memset(db, 0, sizeof *db * (size_t)out);
    for (int r = 0; r < B; r++) {
        float *row = dy + (size_t)r * out;
        act_backward(a, slope, y + (size_t)r * out, row, (size_t)out);
        for (int j = 0; j < out; j++) db[j] += row[j];
    }
    /* dW[out,in] = dz^T[out,B] x[B,in] */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, B, 1.0f, dy, out, x, in, 0.0f,
                dW, in);
    /* dx[B,in] = dz[B,out] W[out,in] */
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, in, out, 1.0f, dy, out, W, in,
                    0.0f, dx, in);
}

#define BCE_CLAMP 1e-7f

double loss_forward_backward(Loss l, const float *y, const float *t, float *dy, int B, int D) {
    return loss_weighted(l, 1.0f, y, t, dy, B, D);
}

double loss_weighted(Loss l, float mae_weight, const float *y, const float *t, float *dy, int B,
                     int D) {
    size_t n = (size_t)B * D;
    float inv = 1.0f / (float)n;
    double sum = 0;
    switch (l) {
    case LOSS_MSE:
        for (size_t i = 0; i < n; i++) {
            float d = y[i] - t[i];
            sum += d * d;
            if (dy) dy[i] = 2.0f * d * inv;
        }
        break;
    case LOSS_BCE:
        for (size_t i = 0; i < n; i++) {
            float p = fminf(fmaxf(y[i], BCE_CLAMP), 1.0f - BCE_CLAMP);
            sum -= t[i] * logf(p) + (1.0f - t[i]) * logf(1.0f - p);
            if (dy) dy[i] = (p - t[i]) / (p * (1.0f - p)) * inv;
        }
        break;
    case LOSS_MAE:
        for (size_t i = 0; i < n; i++) {
            float d = y[i] - t[i];
            sum += fabsf(d);
            if (dy) dy[i] = (d > 0.0f ? inv : d < 0.0f ? -inv : 0.0f);
        }
        break;
    case LOSS_MSE_MAE: {
        /* The weight multiplies exactly when it is 1: the same bits as before it. */
        const float w = mae_weight, winv = w * inv;
        for (size_t i = 0; i < n; i++) {
            float d = y[i] - t[i];
            sum += d * d + w * fabsf(d);
            if (dy) dy[i] = 2.0f * d * inv + (d > 0.0f ? winv : d < 0.0f ? -winv : 0.0f);
        }
        break;
    }
    default: break;
    }
    return sum / (double)n;
}

int argmax(const float *x, int n) {
    int best = 0;
    for (int j = 1; j < n; j++)
        if (x[j] > x[best]) best = j;
    return best;
}

double softmax_xent_forward_backward(const float *logits, const unsigned char *labels, float *dlogits,
                                     int B, int C, int *correct) {
    double sum = 0;
    int right = 0;
    for (int i = 0; i < B; i++) {
        const float *z = logits + (size_t)i * C;
        int top = argmax(z, C);
        right += top == labels[i];
        double se = 0;
        for (int j = 0; j < C; j++) se += exp((double)z[j] - z[top]);
        double lse = z[top] + log(se);
        sum += lse - z[labels[i]];
        if (!dlogits) continue;
        float *d = dlogits + (size_t)i * C;
        for (int j = 0; j < C; j++)
            d[j] = (float)((exp((double)z[j] - lse) - (j == labels[i])) / B);
    }
    if (correct) *correct = right;
    return sum / B;
}

double sq_error_sum(const float *y, const float *t, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        float d = y[i] - t[i];
        sum += d * d;
    }
    return sum;
}
