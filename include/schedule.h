/* Learning-rate schedules, one value per epoch as torch's epoch-stepped
 * schedulers give it: an optional linear warm-up, then constant, cosine
 * annealing or step decay. */
#ifndef AESWEEP_SCHEDULE_H
#define AESWEEP_SCHEDULE_H

typedef enum { SCHED_CONSTANT, SCHED_COSINE, SCHED_STEP, SCHED_COUNT } ScheduleKind;

extern const char *const schedule_names[SCHED_COUNT];

typedef struct {
    ScheduleKind kind;
    double lr_min;     /* cosine: the rate it anneals to (torch's eta_min) */
    int step_epochs;   /* step: epochs between decays (torch's step_size) */
    double gamma;      /* step: the factor of each decay */
    int warmup_epochs; /* 0: none */
} Schedule;

/* The rate of epoch e (0-based) of `epochs`, from base. Warm-up epochs e < W run
 * at base (e + 1) / (W + 1) (torch's LinearLR, start_factor 1/(W+1), over W
 * epochs); then, with t = e - W and T = epochs - W:
 *   constant  base
 *   cosine    lr_min + (base - lr_min) (1 + cos(pi t / T)) / 2  (CosineAnnealingLR, T_max T)
 *   step      base gamma^floor(t / step_epochs)                 (StepLR)
 * A constant schedule without warm-up returns base itself. */
double schedule_lr(const Schedule *s, double base, int e, int epochs);

#endif
