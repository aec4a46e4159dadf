/* exp(x) in plain float arithmetic, for loops that must vectorise: libm's expf is
 * a call per element, and its bits depend on the libm version, these do not.
 * Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, a degree-6 Taylor polynomial
 * for e^r, and 2^n through the exponent bits. Max relative error 2.5e-7 on
 * [-87, 88] (tests/unit/test_grad.c checks it); inputs are clamped to that range,
 * so the result is never 0 or Inf. Needs -fno-trapping-math to vectorise. */
#ifndef AESWEEP_FASTEXP_H
#define AESWEEP_FASTEXP_H

#include <stdint.h>

static inline float fast_exp(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    /* Adding and subtracting 1.5 * 2^23 rounds to the nearest integer. */
    float k = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
    int n = (int)k;
    float r = x - k * 0.693145752f - k * 1.42860677e-6f;
    float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.6666667e-1f + r * (4.1666668e-2f +
                  r * (8.3333338e-3f + r * 1.3888889e-3f)))));
    union {
        float f;
        int32_t i;
    } scale = {.i = (n + 127) << 23};
    return p * scale.f;
}

#endif
