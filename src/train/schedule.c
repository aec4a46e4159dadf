#include <math.h>

#include "schedule.h"

#define PI 3.14159265358979323846

const char *const schedule_names[SCHED_COUNT] = {"constant", "cosine", "step"};

double schedule_lr(const Schedule *s, double base, int e, int epochs) {
    int W = s->warmup_epochs;
    if (e < W) return base * (double)(e + 1) / (double)(W + 1);
    int t = e - W, T = epochs - W;
    switch (s->kind) {
    case SCHED_COSINE:
        return T <= 0 ? base : s->lr_min + (base - s->lr_min) * (1.0 + cos(PI * t / T)) / 2.0;
    case SCHED_STEP:
        return base * pow(s->gamma, (double)(t / s->step_epochs));
    default:
        return base;
    }
}
