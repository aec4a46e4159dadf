/* Learning-rate schedules (schedule.h) against torch 1.13's schedulers: the rates
 * per epoch below are what tests/unit/schedule_refs.py prints (LinearLR warm-up,
 * CosineAnnealingLR, StepLR; tests/python/test_schedule_refs.py runs it and checks
 * this table still says the same). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "schedule.h"
#include "test.h"

#define MAX_EPOCHS 12

typedef struct {
    const char *kind;
    double base;
    int epochs, warmup;
    double lr_min;
    int step_epochs;
    double gamma;
    double want[MAX_EPOCHS];
} Case;

static const Case cases[] = {
    /* torch-refs begin */
    {"cosine", 0.1, 10, 0, 0.001, 0, 0,
     {0.10000000000000001, 0.097577297556610113, 0.090546341221559898, 0.079595369988477424, 0.065796341221559904, 0.050500000000000003, 0.03520365877844011, 0.021404630011522589, 0.010453658778440109, 0.0034227024433899004}},
    {"cosine", 0.05, 12, 3, 0.0, 0, 0,
     {0.012500000000000001, 0.025000000000000001, 0.037500000000000006, 0.050000000000000003, 0.048492315519647715, 0.044151111077974446, 0.037499999999999999, 0.029341204441673263, 0.020658795558326743, 0.012500000000000006, 0.0058488889220255523, 0.0015076844803522923}},
    {"step", 0.1, 10, 0, 0, 3, 0.5,
     {0.10000000000000001, 0.10000000000000001, 0.10000000000000001, 0.050000000000000003, 0.050000000000000003, 0.050000000000000003, 0.025000000000000001, 0.025000000000000001, 0.025000000000000001, 0.012500000000000001}},
    {"step", 0.02, 9, 2, 0, 2, 0.1,
     {0.0066666666666666662, 0.013333333333333332, 0.02, 0.02, 0.002, 0.002, 0.00020000000000000001, 0.00020000000000000001, 2.0000000000000002e-05}},
    {"constant", 0.001, 8, 4, 0, 0, 0,
     {0.00020000000000000001, 0.00040000000000000002, 0.00060000000000000006, 0.00080000000000000004, 0.001, 0.001, 0.001, 0.001}},
    /* torch-refs end */
};

static ScheduleKind kind_of(const char *name) {
    for (int k = 0; k < SCHED_COUNT; k++)
        if (!strcmp(schedule_names[k], name)) return (ScheduleKind)k;
    CHECK(0, "unknown schedule %s", name);
    return SCHED_CONSTANT;
}

static void test_torch_values(void) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const Case *c = &cases[i];
        Schedule s = {kind_of(c->kind), c->lr_min, c->step_epochs, c->gamma, c->warmup};
        for (int e = 0; e < c->epochs; e++) {
            double got = schedule_lr(&s, c->base, e, c->epochs);
            CHECK(fabs(got - c->want[e]) <= 1e-12 * c->want[e], "%s case %zu epoch %d: %.17g, torch %.17g",
                  c->kind, i, e, got, c->want[e]);
        }
    }
}

/* A constant schedule without warm-up is the base rate itself, bit for bit: jobs
 * that set no schedule train exactly as before schedules existed. */
static void test_constant_is_exact(void) {
    Schedule s = {SCHED_CONSTANT, 0, 10, 0.1, 0};
    const float rates[] = {1e-3f, 6e-4f, 0.00123456789f, 3.0f};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        for (int e = 0; e < 50; e += 7)
            CHECK((float)schedule_lr(&s, rates[i], e, 50) == rates[i], "constant %g at %d", rates[i], e);
}

int main(void) {
    test_torch_values();
    test_constant_is_exact();
    return test_summary("schedule");
}
