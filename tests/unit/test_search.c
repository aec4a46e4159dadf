/* The search strategies of SPEC §4 on synthetic objectives: no MPI, no training,
 * no data. A job is parsed from JSON text, its search.space turned into a Space,
 * and a Search driven round by round with an objective computed from each
 * trial's configuration (the job of its point, so NaN = the job's own value).
 * The expected traces below were worked out by hand from the SPEC's rules (and
 * cross-checked with an independent model of §4); each is explained where used. */
#include <string.h>

#include "rng.h"
#include "search.h"
#include "test.h"

/* ---- fixture: job + space + search, and a driver that records the rounds ---- */

typedef struct {
    int stage, round, final_round;
    int n_points, n_new; /* the round's points; how many became new trials */
    Point *points;
} RoundRec;

/* The effective configuration of a trial: the job fields the searches set. */
enum { C_LR, C_BATCH, C_BOTTLENECK, C_OPTIMIZER, C_LAMBDA, C_SIGMA, C_N };

typedef struct {
    Job job;
    Space space;
    Search s;
    int ready;
    RoundRec rounds[256];
    int n_rounds;
    double (*cfg)[C_N]; /* per trial */
    int cfg_cap;
    double (*se)(const Job *cfg); /* each trial's standard error (NULL: NaN, one fold) */
} Fix;

/* objective of a trial's configuration; *status starts TRIAL_OK */
typedef double (*ObjFn)(const Job *cfg, int *status);

static int fix_open(Fix *f, const char *text) {
    memset(f, 0, sizeof *f);
    Err e = {0};
    int rc = job_parse(text, "test.json", NULL, 0, &f->job, &e);
    CHECK(rc == AE_OK, "job_parse: %s", e.msg);
    if (rc) return 0;
    rc = space_parse(&f->job, &f->space, &e);
    CHECK(rc == AE_OK, "space_parse: %s", e.msg);
    if (rc) {
        job_free(&f->job);
        return 0;
    }
    rc = search_init(&f->s, &f->job, &f->space, &e);
    CHECK(rc == AE_OK, "search_init: %s", e.msg);
    if (rc) {
        search_free(&f->s);
        space_free(&f->space);
        job_free(&f->job);
        return 0;
    }
    f->ready = 1;
    return 1;
}

static void fix_close(Fix *f) {
    if (!f->ready) return;
    for (int i = 0; i < f->n_rounds; i++) free(f->rounds[i].points);
    free(f->cfg);
    search_free(&f->s);
    space_free(&f->space);
    job_free(&f->job);
    f->ready = 0;
}

static void config_of(const Job *j, double *c) {
    c[C_LR] = j->train.lr;
    c[C_BATCH] = j->train.batch_size;
    c[C_BOTTLENECK] = j->model.bottleneck;
    c[C_OPTIMIZER] = j->train.optimizer;
    c[C_LAMBDA] = j->penalty.lambda;
    c[C_SIGMA] = j->penalty.sigma;
}

/* Runs the search to its end. reverse: complete each batch of released trials
 * last first (the result must not depend on it). Every completion checks that
 * the best so far is an ok trial. Returns the number of trials. */
static int drive(Fix *f, ObjFn fn, int reverse) {
    Search *s = &f->s;
    Err e = {0};
    for (int iter = 0; iter < 100000; iter++) {
        const int *ids;
        int n = search_release(s, &ids, &e);
        CHECK(n >= 0, "search_release: %s", e.msg);
        if (n < 0) break;
        int first = n > 0 ? ids[0] : 0;
        for (int k = 0; k < n; k++)
            CHECK(ids[k] == first + k && first + n == s->released,
                  "release ids: %d at %d of %d, released %d", ids[k], k, n, s->released);
        if (n == 0) {
            CHECK(search_done(s), "no trial released and not done (%d trials)", s->n_trials);
            break;
        }
        CHECK(!search_done(s), "done with %d trials pending", n);
        if (s->strategy == STRATEGY_BISECTION && f->n_rounds < 256) {
            RoundRec *r = &f->rounds[f->n_rounds++];
            r->stage = s->bis.stage;
            r->round = s->bis.round;
            r->final_round = s->bis.final_round;
            r->n_points = s->bis.n_round;
            r->n_new = n;
            r->points = malloc(sizeof(Point) * (size_t)r->n_points);
            memcpy(r->points, s->bis.round_points, sizeof(Point) * (size_t)r->n_points);
        }
        if (s->n_trials > f->cfg_cap) {
            f->cfg_cap = 2 * s->n_trials;
            f->cfg = realloc(f->cfg, sizeof *f->cfg * (size_t)f->cfg_cap);
        }
        for (int k = 0; k < n; k++) {
            int t = reverse ? first + n - 1 - k : first + k;
            CHECK(s->trials[t].status == TRIAL_PENDING, "trial %d released twice", t);
            Job cfg;
            int rc = point_job(&f->job, &f->space, &s->trials[t].point, &cfg, &e);
            CHECK(rc == AE_OK, "point_job of trial %d: %s", t, e.msg);
            if (rc) {
                search_complete(s, t, NAN, NAN, TRIAL_FAILED);
                continue;
            }
            config_of(&cfg, f->cfg[t]);
            int status = TRIAL_OK;
            double obj = fn(&cfg, &status), se = f->se ? f->se(&cfg) : NAN;
            job_free(&cfg);
            search_complete(s, t, obj, se, status);
            int best = search_best(s);
            CHECK(best < 0 || (s->trials[best].status == TRIAL_OK &&
                               !isnan(s->trials[best].objective)),
                  "search_best %d is not an ok trial", best);
        }
    }
    CHECK(search_done(s), "search not done");
    return s->n_trials;
}

/* The trial whose effective configuration has value v at c (first one), or -1. */
static int trial_with(const Fix *f, int c, double v) {
    for (int i = 0; i < f->s.n_trials; i++)
        if (f->cfg[i][c] == v) return i;
    return -1;
}

static int near(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b));
}

/* No point trained twice: no two trials with equal points, nor with points equal
 * but for rounding (1e-12 relative), nor with the same effective configuration. */
static void check_no_retraining(const Fix *f, const char *what) {
    const Search *s = &f->s;
    int equal = 0, close = 0, same = 0;
    for (int i = 0; i < s->n_trials; i++)
        for (int j = i + 1; j < s->n_trials; j++) {
            equal += point_equal(&f->space, &s->trials[i].point, &s->trials[j].point);
            int c = 1, g = 1;
            for (int k = 0; k < f->space.n_params; k++)
                c &= near(s->trials[i].point.v[k], s->trials[j].point.v[k]);
            for (int k = 0; k < C_N; k++) g &= near(f->cfg[i][k], f->cfg[j][k]);
            close += c;
            same += g;
            if (g) fprintf(stderr, "  %s: trials %d and %d have one configuration\n", what, i, j);
        }
    CHECK(equal == 0, "%s: %d pairs of trials with equal points", what, equal);
    CHECK(close == 0, "%s: %d pairs of trials with points equal but for rounding", what, close);
    CHECK(same == 0, "%s: %d pairs of trials with the same configuration", what, same);
}

/* ---- objectives ---- */

static const double LR_OPT = 3e-4;

static double sq(double x) { return x * x; }
static double obj_lr(const Job *c, int *st) {
    (void)st;
    return sq(log10(c->train.lr) - log10(LR_OPT));
}
static double obj_bottleneck(const Job *c, int *st) {
    (void)st;
    return sq(c->model.bottleneck - 37);
}
static double obj_bowl(const Job *c, int *st) {
    (void)st;
    return sq(log10(c->train.lr) - log10(LR_OPT)) + sq((c->train.batch_size - 123) / 10.0) +
           sq((c->model.bottleneck - 37) / 50.0);
}
/* 36 beats 38 (0.9 vs 1.1), so the runner-up is unambiguous */
static double skew(int b) { return sq(b - 37) + 0.1 * (b - 37); }
static double obj_diverge_37(const Job *c, int *st) {
    if (c->model.bottleneck == 37) {
        *st = TRIAL_DIVERGED;
        return -1000; /* would win, were it counted */
    }
    return skew(c->model.bottleneck);
}
static double obj_nan_37(const Job *c, int *st) {
    (void)st;
    return c->model.bottleneck == 37 ? NAN : skew(c->model.bottleneck);
}
static double obj_all_nan(const Job *c, int *st) { /* status ok, objective NaN */
    (void)c;
    (void)st;
    return NAN;
}
static double obj_all_diverge(const Job *c, int *st) {
    (void)c;
    *st = TRIAL_DIVERGED;
    return NAN;
}
static double obj_optimizer(const Job *c, int *st) {
    (void)st;
    return c->train.optimizer == OPT_RMSPROP ? 0 : 1 + 0.01 * c->train.optimizer;
}
static double obj_lambda(const Job *c, int *st) {
    (void)st;
    return sq(c->penalty.lambda - 0.3);
}
static double obj_lr_optimizer(const Job *c, int *st) {
    return obj_lr(c, st) + (c->train.optimizer == OPT_ADAM ? 0 : 1);
}
static double obj_const(const Job *c, int *st) {
    (void)c;
    (void)st;
    return 1.0;
}
static double obj_accuracy(const Job *c, int *st) {
    (void)st;
    return 0.9 - sq((c->model.bottleneck - 37) / 400.0);
}
static double obj_grid_mixed(const Job *c, int *st) {
    (void)st;
    return sq(log10(c->train.lr) + 3) + sq(c->model.bottleneck - 3) + c->train.optimizer;
}

static int best_trial(const Fix *f) { return search_best(&f->s); }

/* ---- 1. bisection on a unimodal function of log10(lr) ---- */

#define LR_JOB(rounds)                                                                     \
    "{\"search\": {\"strategy\": \"bisection\", \"max_rounds\": " #rounds ", "             \
    "\"exhaustive_below\": 8, \"space\": {\"lr\": {\"min\": 1e-5, \"max\": 0.1, "           \
    "\"scale\": \"log\"}}, \"stages\": [[\"lr\"]]}}"

static void test_bisection_lr(void) {
    Fix f, g;
    if (!fix_open(&f, LR_JOB(8))) return;
    int n = drive(&f, obj_lr, 0);
    /* log10 interval [-5, -1], width 4; each of the 8 narrowing rounds halves it;
     * the last round puts 5 points on what is left: spacing 4 / 2^8 / 4 = 1/256
     * decade, so the best is within half of that of log10(3e-4). */
    const int max_rounds = f.job.search.max_rounds;
    double width = (log10(0.1) - log10(1e-5)) / pow(2, max_rounds);
    double spacing = width / 4, res = spacing / 2;
    CHECK_CLOSE(res, 1.0 / 512, 1e-12, "final resolution (decades)");
    int best = best_trial(&f);
    CHECK(best >= 0, "no best");
    if (best < 0) { fix_close(&f); return; }
    double lbest = log10(f.s.trials[best].point.v[0]);
    CHECK(fabs(lbest - log10(LR_OPT)) <= res + 1e-12, "best log10(lr) %.9f, optimum %.9f (res %g)",
          lbest, log10(LR_OPT), res);
    /* By hand: log10(3e-4) = -3.5229. Rounds (lo, mid, hi -> best -> next):
     * R0 -5,-3,-1 -> mid -> [-4,-2] (3 new); R1 mid -3 reused -> lo -> [-4,-3] (2 new);
     * R2 -3.5 new -> mid (1); R3..R5 mid each time (2 new each); R6 -> lo (2);
     * R7 -> mid (1); last round: 5 points of [-3.5234375, -3.5078125], its
     * middle -3.515625 reused (4 new). 3+2+1+2+2+2+2+1+4 = 19 trials. */
    CHECK(n == 19, "bisection trials %d, expected 19", n);
    CHECK_CLOSE(lbest, -3.5234375, 1e-12, "best log10(lr)");
    const int new_per_round[] = {3, 2, 1, 2, 2, 2, 2, 1, 4};
    CHECK(f.n_rounds == 9, "rounds %d, expected 9", f.n_rounds);
    for (int r = 0; r < f.n_rounds && r < 9; r++) {
        CHECK(f.rounds[r].round == r && f.rounds[r].stage == 0, "round %d numbering", r);
        CHECK(f.rounds[r].final_round == (r == 8), "round %d final flag", r);
        CHECK(f.rounds[r].n_points == (r == 8 ? 5 : 3), "round %d has %d points", r,
              f.rounds[r].n_points);
        CHECK(f.rounds[r].n_new == new_per_round[r], "round %d: %d new, expected %d", r,
              f.rounds[r].n_new, new_per_round[r]);
    }
    /* The round log (what /rounds holds): the intervals by hand above, in lr, and
     * the chosen value on the last round only. */
    const double lo10[] = {-5, -4, -4}, hi10[] = {-1, -2, -3};
    CHECK(f.s.n_rounds == 9, "round log: %d rounds, expected 9", f.s.n_rounds);
    for (int r = 0; r < f.s.n_rounds && r < 9; r++) {
        const RoundLog *l = &f.s.rounds[r];
        CHECK(l->stage == 0 && l->round == r && l->final == (r == 8) && l->n_params == 1 &&
                  l->param[0] == 0 && isnan(l->chosen[0]) == (r < 8),
              "round log %d: stage %d round %d final %d chosen %g", r, l->stage, l->round,
              l->final, l->chosen[0]);
        if (r < 3)
            CHECK(near(log10(l->lo[0]), lo10[r]) && near(log10(l->hi[0]), hi10[r]),
                  "round log %d: [%g, %g]", r, l->lo[0], l->hi[0]);
    }
    if (f.s.n_rounds == 9) {
        const RoundLog *l = &f.s.rounds[8];
        CHECK(near(log10(l->lo[0]), -3.5234375) && near(log10(l->hi[0]), -3.5078125) &&
                  near(log10(l->chosen[0]), -3.5234375),
              "round log, last: [%g, %g] chosen %g", l->lo[0], l->hi[0], l->chosen[0]);
    }
    if (f.n_rounds == 9) { /* the last round: 5 evenly spaced points in log10 */
        for (int k = 0; k < 5; k++)
            CHECK_CLOSE(log10(f.rounds[8].points[k].v[0]), -3.5234375 + k / 256.0, 1e-12,
                        "last round point");
    }
    /* The grid of the same final resolution: 4 decades at 1/256 -> 4*256+1 points
     * (more than a grid may hold: points <= 1000). */
    long grid_equiv = (long)floor((log10(0.1) - log10(1e-5)) / spacing + 0.5) + 1;
    CHECK(grid_equiv == 1025, "equivalent grid %ld", grid_equiv);
    CHECK(n * 50 < grid_equiv, "bisection %d trials is not far fewer than the grid's %ld", n,
          grid_equiv);
    fprintf(stderr, "bisection lr (max_rounds 8): %d trials; grid of the same resolution: %ld\n",
            n, grid_equiv);

    /* Reversed completion order changes nothing. */
    if (fix_open(&g, LR_JOB(8))) {
        drive(&g, obj_lr, 1);
        CHECK(g.s.n_trials == f.s.n_trials, "reverse order: %d trials", g.s.n_trials);
        for (int i = 0; i < g.s.n_trials && i < f.s.n_trials; i++)
            CHECK(point_equal(&f.space, &f.s.trials[i].point, &g.s.trials[i].point),
                  "reverse order: trial %d differs", i);
        fix_close(&g);
    }
    fix_close(&f);

    /* max_rounds 7, run against an actual grid of the same resolution:
     * 4 / 2^7 / 4 = 1/128 decade -> 513 points; both find -3.5234375. */
    if (!fix_open(&f, LR_JOB(7))) return;
    int n7 = drive(&f, obj_lr, 0);
    CHECK(n7 == 17, "max_rounds 7: %d trials, expected 17", n7);
    int b7 = best_trial(&f);
    const char *grid =
        "{\"search\": {\"strategy\": \"grid\", \"space\": {\"lr\": {\"min\": 1e-5, \"max\": 0.1, "
        "\"scale\": \"log\", \"points\": 513}}}}";
    if (fix_open(&g, grid)) {
        CHECK(grid_size(&g.space) == 513, "grid size %ld", grid_size(&g.space));
        int ng = drive(&g, obj_lr, 0);
        CHECK(ng == 513, "grid trials %d", ng);
        int bg = best_trial(&g);
        CHECK(b7 >= 0 && bg >= 0, "bests");
        if (b7 >= 0 && bg >= 0)
            CHECK_CLOSE(f.s.trials[b7].point.v[0], g.s.trials[bg].point.v[0], 1e-12,
                        "bisection and grid agree");
        fprintf(stderr, "bisection lr (max_rounds 7): %d trials; grid of the same resolution: %d\n",
                n7, ng);
        fix_close(&g);
    }
    fix_close(&f);
}

/* ---- 2. integers: rounding half up after the log scale; the exhaustive round ---- */

static int has_value(const RoundRec *r, int param, double v) {
    for (int i = 0; i < r->n_points; i++)
        if (r->points[i].v[param] == v) return 1;
    return 0;
}

static void test_bisection_int(void) {
    Fix f;
    const char *job =
        "{\"search\": {\"strategy\": \"bisection\", \"exhaustive_below\": 8, \"max_rounds\": 8, "
        "\"space\": {\"bottleneck\": {\"min\": 1, \"max\": 400, \"type\": \"int\"}}}}";
    if (!fix_open(&f, job)) return;
    int n = drive(&f, obj_bottleneck, 0);
    /* By hand, (b-37)^2 on [1, 400]:
     * R0 1, 200.5->201, 400 -> 1 -> [1, 200.5]          new 1 201 400
     * R1 1, 100.75->101, 200.5->201 -> 1 -> [1, 100.75]  new 101
     * R2 1, 50.875->51, 101 -> 51 -> [25.9375, 75.8125] new 51
     * R3 26, 51, 76 -> 26 -> [25.9375, 50.875]          new 26 76
     * R4 26, 38.40625->38, 51 -> 38 -> [32.171875, 44.640625] new 38 (12 integers)
     * R5 32, 38, 45 -> 38 -> [35.2890625, 41.5234375]    new 32 45 (6 integers <= 8)
     * last: 36 37 38 39 40 41 (38 reused) -> 37.  15 trials. */
    CHECK(n == 15, "int bisection: %d trials, expected 15", n);
    const int sizes[] = {3, 3, 3, 3, 3, 3, 6}, news[] = {3, 1, 1, 2, 1, 2, 5};
    CHECK(f.n_rounds == 7, "int bisection: %d rounds", f.n_rounds);
    for (int r = 0; r < f.n_rounds && r < 7; r++) {
        CHECK(f.rounds[r].n_points == sizes[r] && f.rounds[r].n_new == news[r],
              "round %d: %d points %d new, expected %d %d", r, f.rounds[r].n_points,
              f.rounds[r].n_new, sizes[r], news[r]);
        CHECK(f.rounds[r].final_round == (r == 6), "round %d final flag", r);
    }
    if (f.n_rounds == 7) {
        const double r0[] = {1, 201, 400}, r1[] = {1, 101, 201}, r4[] = {26, 38, 51},
                     r5[] = {32, 38, 45};
        for (int k = 0; k < 3; k++) {
            CHECK(has_value(&f.rounds[0], 0, r0[k]), "R0 lacks %g (200.5 rounds up to 201)",
                  r0[k]);
            CHECK(has_value(&f.rounds[1], 0, r1[k]), "R1 lacks %g", r1[k]);
            CHECK(has_value(&f.rounds[4], 0, r4[k]), "R4 lacks %g", r4[k]);
            CHECK(has_value(&f.rounds[5], 0, r5[k]), "R5 lacks %g", r5[k]);
        }
        /* the last round is exactly the integers 36..41 */
        CHECK(f.rounds[6].n_points == 6, "last round size %d", f.rounds[6].n_points);
        for (int x = 36; x <= 41; x++)
            CHECK(has_value(&f.rounds[6], 0, x), "last round lacks %d", x);
        for (int i = 0; i < f.rounds[6].n_points; i++) {
            double v = f.rounds[6].points[i].v[0];
            CHECK(v >= 36 && v <= 41 && v == floor(v), "last round has %g", v);
        }
        CHECK(f.rounds[6].round == 6, "narrowing stopped after %d rounds, expected 6",
              f.rounds[6].round);
    }
    int best = best_trial(&f);
    CHECK(best >= 0 && f.s.trials[best].point.v[0] == 37, "best bottleneck %g",
          best >= 0 ? f.s.trials[best].point.v[0] : NAN);
    for (int i = 0; i < f.s.n_trials; i++)
        CHECK(f.s.trials[i].point.v[0] == floor(f.s.trials[i].point.v[0]), "trial %d not integral",
              i);
    check_no_retraining(&f, "int bisection");
    fix_close(&f);

    /* A log-scale integer is rounded after leaving the log scale: on [1, 60] the
     * first mid is 10^(log10(60)/2) = 7.746 -> 8 (7 would be truncation, and a
     * rounding in log10 would give 10^1 = 10). By hand, exhaustive_below 2:
     * R0 1 8 60 -> 60 -> [0.889, 1.778] (log10); R1 8 22 60 -> 22 (mid) ->
     * [1.111, 1.556] = [12.9, 35.96]; R2 13 22 36 -> 36 (hi) -> [21.6, 35.96];
     * R3 22 28 36 -> 36; R4 28 32 36 -> 36; R5 32 34 36 -> 36 -> [33.7, 35.96]:
     * 2 integers; last round 34 35. 10 trials. */
    const char *logjob =
        "{\"search\": {\"strategy\": \"bisection\", \"exhaustive_below\": 2, "
        "\"space\": {\"bottleneck\": {\"min\": 1, \"max\": 60, \"type\": \"int\", "
        "\"scale\": \"log\"}}}}";
    if (!fix_open(&f, logjob)) return;
    n = drive(&f, obj_bottleneck, 0);
    CHECK(f.n_rounds >= 1 && f.rounds[0].n_points == 3 && has_value(&f.rounds[0], 0, 1) &&
              has_value(&f.rounds[0], 0, 8) && has_value(&f.rounds[0], 0, 60),
          "log int R0 should be {1, 8, 60}");
    const double seq[] = {1, 8, 60, 22, 13, 36, 28, 32, 34, 35};
    CHECK(n == 10, "log int: %d trials, expected 10", n);
    for (int i = 0; i < n && i < 10; i++)
        CHECK(f.s.trials[i].point.v[0] == seq[i], "log int trial %d: %g, expected %g", i,
              f.s.trials[i].point.v[0], seq[i]);
    CHECK(f.n_rounds == 7 && f.rounds[6].final_round && f.rounds[6].n_points == 2 &&
              has_value(&f.rounds[6], 0, 34) && has_value(&f.rounds[6], 0, 35),
          "log int: last round {34, 35}");
    /* 36, the rounded hi of the last intervals, is the best trial (though not an
     * integer of the last interval) */
    best = best_trial(&f);
    CHECK(best >= 0 && f.s.trials[best].point.v[0] == 36, "log int best %g",
          best >= 0 ? f.s.trials[best].point.v[0] : NAN);
    check_no_retraining(&f, "log int bisection");
    fix_close(&f);
}

/* ---- 3. a 2-parameter stage, then a stage that holds its best ---- */

static void test_bisection_2d(void) {
    Fix f;
    const char *job =
        "{\"search\": {\"strategy\": \"bisection\", \"exhaustive_below\": 8, \"max_rounds\": 8, "
        "\"space\": {\"lr\": {\"min\": 1e-5, \"max\": 0.1, \"scale\": \"log\"}, "
        "\"batch_size\": {\"min\": 100, \"max\": 140, \"type\": \"int\"}, "
        "\"bottleneck\": {\"min\": 1, \"max\": 400, \"type\": \"int\"}}, "
        "\"stages\": [[\"lr\", \"batch_size\"], [\"bottleneck\"]]}}";
    if (!fix_open(&f, job)) return;
    int n = drive(&f, obj_bowl, 0);
    int ilr = space_find(&f.space, "lr"), ibs = space_find(&f.space, "batch_size"),
        ibn = space_find(&f.space, "bottleneck");
    CHECK(ilr == 0 && ibs == 1 && ibn == 2, "space order");
    if (ilr != 0 || ibs != 1 || ibn != 2) { fix_close(&f); return; }
    /* Stage 0, separable bowl: lr narrows as in test 1, batch_size [100, 140]
     * towards 123: R0 100,120,140 -> 120 -> [110,130]; R1 110,120,130 -> 120 ->
     * [115,125]; R2 115,120,125 -> 125 -> [120,125]; R3 120,122.5->123,125 ->
     * [121.25,123.75]; R4 121,123 (122.5),124 -> [121.875,123.125]; from R5 on the
     * 3 values round to 2 (122, 123, 123 ...) so rounds hold 6 points; the last
     * round: 5 lr points x the one integer left (123). Sizes 9 9 9 9 9 6 6 6 5 =
     * 68, of which 9 8 7 7 8 5 4 2 4 = 54 are new. */
    const int sizes[] = {9, 9, 9, 9, 9, 6, 6, 6, 5}, news[] = {9, 8, 7, 7, 8, 5, 4, 2, 4};
    int stage0 = 0, trials0 = 0;
    for (int r = 0; r < f.n_rounds; r++)
        if (f.rounds[r].stage == 0) stage0++, trials0 += f.rounds[r].n_new;
    CHECK(stage0 == 9, "stage 0: %d rounds, expected 9", stage0);
    CHECK(trials0 == 54, "stage 0: %d trials, expected 54", trials0);
    for (int r = 0; r < stage0 && r < 9; r++) {
        const RoundRec *rr = &f.rounds[r];
        CHECK(rr->n_points == sizes[r] && rr->n_new == news[r],
              "stage 0 round %d: %d points %d new, expected %d %d", r, rr->n_points, rr->n_new,
              sizes[r], news[r]);
        /* a non-final round is the full product of its distinct lr and batch values */
        double lrs[8], bss[8];
        int nl = 0, nb = 0;
        for (int i = 0; i < rr->n_points; i++) {
            int seen = 0;
            for (int k = 0; k < nl; k++) seen |= lrs[k] == rr->points[i].v[ilr];
            if (!seen && nl < 8) lrs[nl++] = rr->points[i].v[ilr];
            seen = 0;
            for (int k = 0; k < nb; k++) seen |= bss[k] == rr->points[i].v[ibs];
            if (!seen && nb < 8) bss[nb++] = rr->points[i].v[ibs];
            /* bottleneck held at the job's own value (225) in stage 0 */
            double bn = rr->points[i].v[ibn];
            CHECK(isnan(bn) || bn == 225, "stage 0 holds bottleneck %g", bn);
        }
        CHECK(nl * nb == rr->n_points, "round %d: %d lr x %d batch != %d points", r, nl, nb,
              rr->n_points);
        if (r < 8) CHECK(nl == 3 && nb == (r < 5 ? 3 : 2), "round %d: %d lr, %d batch", r, nl, nb);
    }
    if (stage0 >= 1) { /* R0 = {1e-5, 1e-3, 0.1} x {100, 120, 140} */
        const double l0[] = {-5, -3, -1}, b0[] = {100, 120, 140};
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++) {
                int found = 0;
                for (int i = 0; i < f.rounds[0].n_points; i++)
                    found |= near(log10(f.rounds[0].points[i].v[ilr]), l0[a]) &&
                             f.rounds[0].points[i].v[ibs] == b0[b];
                CHECK(found, "R0 lacks lr 1e%g batch %g", l0[a], b0[b]);
            }
    }
    /* Stage 0's best, held in every point of stage 1. */
    int best0 = -1;
    for (int i = 0; i < f.s.n_trials; i++)
        if (f.s.trials[i].stage == 0 &&
            (best0 < 0 || f.s.trials[i].objective < f.s.trials[best0].objective))
            best0 = i;
    CHECK(best0 >= 0, "no stage 0 trial");
    if (best0 < 0) { fix_close(&f); return; }
    const Point *h = &f.s.trials[best0].point;
    CHECK_CLOSE(log10(h->v[ilr]), -3.5234375, 1e-12, "stage 0 best lr");
    CHECK(h->v[ibs] == 123, "stage 0 best batch %g", h->v[ibs]);
    int stage1 = 0, trials1 = 0;
    for (int r = 0; r < f.n_rounds; r++) {
        if (f.rounds[r].stage != 1) continue;
        stage1++, trials1 += f.rounds[r].n_new;
        for (int i = 0; i < f.rounds[r].n_points; i++) {
            const Point *p = &f.rounds[r].points[i];
            CHECK(p->v[ilr] == h->v[ilr] && p->v[ibs] == h->v[ibs],
                  "stage 1 point lr %g batch %g, held %g %g", p->v[ilr], p->v[ibs], h->v[ilr],
                  h->v[ibs]);
        }
    }
    for (int i = 0; i < f.s.n_trials; i++)
        if (f.s.trials[i].stage == 1)
            CHECK(f.cfg[i][C_LR] == h->v[ilr] && f.cfg[i][C_BATCH] == 123,
                  "stage 1 trial %d trains lr %g batch %g", i, f.cfg[i][C_LR], f.cfg[i][C_BATCH]);
    /* stage 1 is test 2's bottleneck search (none of its points is 225): 15 trials */
    CHECK(stage1 == 7 && trials1 == 15, "stage 1: %d rounds %d trials, expected 7 15", stage1,
          trials1);
    CHECK(n == 69, "2-stage search: %d trials, expected 69", n);
    int best = best_trial(&f);
    CHECK(best >= 0 && f.s.trials[best].point.v[ibn] == 37 &&
              f.s.trials[best].point.v[ibs] == 123 &&
              fabs(log10(f.s.trials[best].point.v[ilr]) - log10(LR_OPT)) <= 1.0 / 512,
          "final best");
    check_no_retraining(&f, "2-d bisection");
    fix_close(&f);
}

/* ---- 4. values parameters: searched over indices ---- */

static void test_bisection_values(void) {
    Fix f;
    const char *job =
        "{\"search\": {\"strategy\": \"bisection\", \"exhaustive_below\": 8, "
        "\"space\": {\"train.optimizer\": {\"values\": [\"adam\", \"sgd\", \"rmsprop\", "
        "\"adagrad\"]}}}}";
    if (!fix_open(&f, job)) return;
    int n = drive(&f, obj_optimizer, 0);
    /* 4 values <= 8: the first round is already the exhaustive one, indices 0..3 */
    CHECK(n == 4, "optimizer: %d trials", n);
    CHECK(f.n_rounds == 1 && f.rounds[0].final_round && f.rounds[0].round == 0 &&
              f.rounds[0].n_points == 4,
          "optimizer: one exhaustive round of 4");
    for (int i = 0; i < n; i++)
        CHECK(f.s.trials[i].point.v[0] == i, "trial %d index %g", i, f.s.trials[i].point.v[0]);
    int best = best_trial(&f);
    CHECK(best >= 0 && f.s.trials[best].point.v[0] == 2, "optimizer best index");
    if (best >= 0) {
        Job j;
        Err e = {0};
        int rc = point_job(&f.job, &f.space, &f.s.trials[best].point, &j, &e);
        CHECK(rc == AE_OK && j.train.optimizer == OPT_RMSPROP, "best job's optimizer: %s", e.msg);
        if (rc == AE_OK) job_free(&j);
    }
    fix_close(&f);

    /* 10 values, exhaustive_below 3: bisection over indices [0, 9].
     * R0 0, 4.5->5, 9 (lambda 0, .5, .9) -> 5 -> [2.25, 6.75];
     * R1 2, 5, 7 (5 reused) -> 2 -> [2.25, 4.5]: 2 integers <= 3;
     * last: 3, 4 -> index 3 (lambda 0.3). 3 + 2 + 2 = 7 trials. */
    const char *lam =
        "{\"search\": {\"strategy\": \"bisection\", \"exhaustive_below\": 3, "
        "\"space\": {\"lambda\": {\"values\": [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, "
        "0.9]}}}}";
    if (!fix_open(&f, lam)) return;
    n = drive(&f, obj_lambda, 0);
    CHECK(n == 7, "lambda values: %d trials, expected 7", n);
    const double idx[] = {0, 5, 9, 2, 7, 3, 4};
    for (int i = 0; i < n && i < 7; i++)
        CHECK(f.s.trials[i].point.v[0] == idx[i], "lambda trial %d: index %g, expected %g", i,
              f.s.trials[i].point.v[0], idx[i]);
    CHECK(f.n_rounds == 3 && f.rounds[2].final_round && f.rounds[2].n_points == 2,
          "lambda: 3 rounds, the last of 2");
    best = best_trial(&f);
    CHECK(best >= 0 && f.s.trials[best].point.v[0] == 3 && f.cfg[best][C_LAMBDA] == 0.3,
          "lambda best");
    fix_close(&f);
}

/* ---- 5. no point trained twice ---- */

static void test_no_retraining(void) {
    Fix f;
    if (!fix_open(&f, LR_JOB(8))) return;
    int n = drive(&f, obj_lr, 0);
    /* the round sizes, from the strategy alone */
    Bisection b;
    Point start;
    space_defaults(&f.job, &f.space, &start);
    Err be = {0};
    CHECK(bisect_init(&b, &f.space, &start, 8, 8, 0, 0, &be) == AE_OK, "%s", be.msg);
    int sum = 0, rounds = 0, m;
    while ((m = bisect_round(&b)) > 0 && rounds < 1000) {
        double obj[512];
        for (int i = 0; i < m; i++) {
            Job j;
            Err e = {0};
            obj[i] = NAN;
            if (point_job(&f.job, &f.space, &b.round_points[i], &j, &e) == AE_OK) {
                int st = TRIAL_OK;
                obj[i] = obj_lr(&j, &st);
                job_free(&j);
            }
        }
        bisect_advance(&b, obj, NULL, NULL);
        sum += m, rounds++;
    }
    bisect_free(&b);
    CHECK(rounds == 9 && sum == 8 * 3 + 5, "strategy: %d rounds, %d points", rounds, sum);
    CHECK(f.s.released == n && n < sum, "released %d, round points %d", f.s.released, sum);
    fprintf(stderr, "bisection lr: %d trials released for %d round points\n", n, sum);
    /* R1's mid (lr 1e-3) is R0's mid: R1 has 3 points, 2 new */
    CHECK(f.n_rounds > 1 && f.rounds[1].n_points == 3 && f.rounds[1].n_new == 2 &&
              has_value(&f.rounds[1], 0, f.s.trials[1].point.v[0]),
          "R1 reuses R0's mid");
    check_no_retraining(&f, "lr bisection");
    fix_close(&f);

    /* Across stages: tune lr, then the optimizer with lr held. The job does not
     * write train.optimizer: its value is adam, values[0]. Stage 1's point
     * (lr*, adam) is stage 0's best configuration and must be reused: stage 1
     * trains 3 optimizers, not 4. */
    const char *two =
        "{\"search\": {\"strategy\": \"bisection\", \"exhaustive_below\": 8, \"max_rounds\": 8, "
        "\"space\": {\"lr\": {\"min\": 1e-5, \"max\": 0.1, \"scale\": \"log\"}, "
        "\"train.optimizer\": {\"values\": [\"adam\", \"sgd\", \"rmsprop\", \"adagrad\"]}}, "
        "\"stages\": [[\"lr\"], [\"train.optimizer\"]]}}";
    const char *two_explicit =
        "{\"train\": {\"optimizer\": \"adam\"}, "
        "\"search\": {\"strategy\": \"bisection\", \"exhaustive_below\": 8, \"max_rounds\": 8, "
        "\"space\": {\"lr\": {\"min\": 1e-5, \"max\": 0.1, \"scale\": \"log\"}, "
        "\"train.optimizer\": {\"values\": [\"adam\", \"sgd\", \"rmsprop\", \"adagrad\"]}}, "
        "\"stages\": [[\"lr\"], [\"train.optimizer\"]]}}";
    const char *jobs[2] = {two_explicit, two};
    const char *names[2] = {"lr then optimizer (adam written)", "lr then optimizer (adam default)"};
    for (int k = 0; k < 2; k++) {
        if (!fix_open(&f, jobs[k])) continue;
        n = drive(&f, obj_lr_optimizer, 0);
        CHECK(n == 19 + 3, "%s: %d trials, expected 22", names[k], n);
        check_no_retraining(&f, names[k]);
        int best = best_trial(&f);
        CHECK(best >= 0 && f.cfg[best][C_OPTIMIZER] == OPT_ADAM &&
                  near(log10(f.cfg[best][C_LR]), -3.5234375),
              "%s: best", names[k]);
        fix_close(&f);
    }

    /* Real parameters whose ends are not dyadic (log10 of 3e-5 and 0.07, and a
     * linear sigma interval around 1): the last round's ends and middle are the
     * earlier lo/mid/hi and must be recognised as such, not trained again. */
    const char *odd[] = {
        "{\"search\": {\"strategy\": \"bisection\", \"max_rounds\": 8, "
        "\"space\": {\"lr\": {\"min\": 3e-5, \"max\": 0.07, \"scale\": \"log\"}}}}",
        "{\"search\": {\"strategy\": \"bisection\", \"max_rounds\": 8, "
        "\"space\": {\"lr\": {\"min\": 0.03, \"max\": 7, \"scale\": \"log\"}}}}",
    };
    for (int k = 0; k < 2; k++) {
        if (!fix_open(&f, odd[k])) continue;
        drive(&f, obj_lr, 0);
        check_no_retraining(&f, k ? "lr bisection [0.03, 7]" : "lr bisection [3e-5, 0.07]");
        fix_close(&f);
    }
}

/* ---- 5b. validate's plan: the most points a stage's last round can hold ---- */

/* The objective pulls every stage parameter toward the same fraction t of its
 * range, in its scale: over many t the last interval lands everywhere. */
static double toward(const Space *s, const Point *p, double t) {
    double sum = 0;
    for (int j = 0; j < s->n_params; j++) {
        const Param *q = &s->param[j];
        double lo = q->kind == PARAM_VALUES ? 0 : q->log ? log10(q->min) : q->min;
        double hi = q->kind == PARAM_VALUES ? q->n_values - 1 : q->log ? log10(q->max) : q->max;
        double x = q->kind != PARAM_VALUES && q->log ? log10(p->v[j]) : p->v[j];
        if (!isnan(x)) sum += sq((x - lo) / (hi - lo) - t);
    }
    return sum;
}

static void test_last_round_bound(void) {
    const char *values = "\"batch_size\": {\"values\": [8, 16, 32, 64, 128, 256, 512]}";
    struct { const char *space, *stages; int exhaustive_below, max_rounds; long tight; } cases[] = {
        /* [8, 64] halved twice holds 15 integers (jobs/quickstart.json's stage 1) */
        {"\"bottleneck\": {\"min\": 8, \"max\": 64, \"type\": \"int\"}", "", 4, 2, 15},
        {"\"bottleneck\": {\"min\": 2, \"max\": 512, \"type\": \"int\", \"scale\": \"log\"}", "",
         8, 3, 0},
        {values, "", 2, 1, 0},
        {"\"bottleneck\": {\"min\": 8, \"max\": 64, \"type\": \"int\"}, "
         "\"lr\": {\"min\": 1e-4, \"max\": 1e-2, \"scale\": \"log\"}",
         ", \"stages\": [[\"bottleneck\", \"lr\"]]", 4, 2, 0},
        {"\"bottleneck\": {\"min\": 1, \"max\": 100, \"type\": \"int\"}, "
         "\"batch_size\": {\"min\": 16, \"max\": 1024, \"type\": \"int\", \"scale\": \"log\"}",
         ", \"stages\": [[\"bottleneck\", \"batch_size\"]]", 8, 1, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char job[1024];
        snprintf(job, sizeof job,
                 "{\"search\": {\"strategy\": \"bisection\", \"exhaustive_below\": %d, "
                 "\"max_rounds\": %d, \"space\": {%s}%s}}",
                 cases[k].exhaustive_below, cases[k].max_rounds, cases[k].space, cases[k].stages);
        Fix f;
        if (!fix_open(&f, job)) continue;
        long bound = bisect_last_round_max(&f.space, 0, cases[k].exhaustive_below,
                                           cases[k].max_rounds);
        int most = 0;
        for (int t = 0; t <= 40; t++) {
            Bisection b;
            Point start;
            space_defaults(&f.job, &f.space, &start);
            Err be = {0};
            if (bisect_init(&b, &f.space, &start, cases[k].exhaustive_below, cases[k].max_rounds,
                            0, 0, &be))
                break;
            int m, rounds = 0;
            while ((m = bisect_round(&b)) > 0 && rounds++ < 100) {
                if (b.final_round && m > most) most = m;
                double obj[512];
                for (int i = 0; i < m; i++) obj[i] = toward(&f.space, &b.round_points[i], t / 40.0);
                bisect_advance(&b, obj, NULL, NULL);
            }
            bisect_free(&b);
        }
        CHECK(most <= bound, "case %zu: a last round of %d points, over the bound %ld", k, most,
              bound);
        CHECK(!cases[k].tight || (most == cases[k].tight && bound == cases[k].tight),
              "case %zu: last round at most %d, bound %ld, expected both %ld", k, most, bound,
              cases[k].tight);
        fix_close(&f);
    }
}

/* ---- 6. a diverged trial never wins ---- */

static void test_diverged(void) {
    Fix f;
    const char *job =
        "{\"search\": {\"strategy\": \"bisection\", \"exhaustive_below\": 8, \"max_rounds\": 8, "
        "\"space\": {\"bottleneck\": {\"min\": 1, \"max\": 400, \"type\": \"int\"}}}}";
    ObjFn fns[2] = {obj_diverge_37, obj_nan_37};
    const char *what[2] = {"status diverged", "NaN objective"};
    for (int k = 0; k < 2; k++) {
        if (!fix_open(&f, job)) return;
        int n = drive(&f, fns[k], 0);
        /* the same 15 trials as test 2 (37 is only met in the last round) */
        CHECK(n == 15, "%s: %d trials", what[k], n);
        int t37 = trial_with(&f, C_BOTTLENECK, 37);
        CHECK(t37 >= 0, "%s: 37 was evaluated", what[k]);
        if (t37 >= 0) {
            CHECK(isnan(f.s.trials[t37].objective), "%s: objective %g", what[k],
                  f.s.trials[t37].objective);
            if (k == 0) CHECK(f.s.trials[t37].status == TRIAL_DIVERGED, "status kept");
        }
        int best = best_trial(&f);
        CHECK(best >= 0 && best != t37 && f.s.trials[best].point.v[0] == 36,
              "%s: best bottleneck %g, expected 36", what[k],
              best >= 0 ? f.s.trials[best].point.v[0] : NAN);
        fix_close(&f);
    }
    /* every trial diverges: no best, and the search still ends */
    if (!fix_open(&f, job)) return;
    int n = drive(&f, obj_all_diverge, 0);
    CHECK(n == 3 && search_best(&f.s) == -1, "all diverged: %d trials, best %d", n,
          search_best(&f.s));
    fix_close(&f);
    /* every trial ok but NaN (latent_accuracy of a narrow code): still no best,
     * whichever finished first (it used to be that one) */
    for (int reverse = 0; reverse < 2; reverse++) {
        if (!fix_open(&f, job)) return;
        n = drive(&f, obj_all_nan, reverse);
        CHECK(n == 3 && search_best(&f.s) == -1, "all NaN (reverse %d): %d trials, best %d",
              reverse, n, search_best(&f.s));
        fix_close(&f);
    }
    /* grid: the optimum is trial 0 and diverges */
    const char *grid = "{\"search\": {\"strategy\": \"grid\", \"space\": {\"bottleneck\": "
                       "{\"min\": 37, \"max\": 41, \"type\": \"int\", \"points\": 5}}}}";
    if (!fix_open(&f, grid)) return;
    drive(&f, obj_diverge_37, 0);
    CHECK(f.s.n_trials == 5 && search_best(&f.s) == 1, "grid: best %d, expected 1 (38)",
          search_best(&f.s));
    fix_close(&f);
}

/* ---- 7. random ---- */

static char *random_job(char *buf, size_t n, int seed, int trials) {
    snprintf(buf, n,
             "{\"seed\": %d, \"search\": {\"strategy\": \"random\", \"trials\": %d, \"space\": {"
             "\"lr\": {\"min\": 1e-5, \"max\": 0.1, \"scale\": \"log\"}, "
             "\"bottleneck\": {\"min\": 1, \"max\": 400, \"type\": \"int\"}, "
             "\"batch_size\": {\"min\": 16, \"max\": 1024, \"type\": \"int\", \"scale\": \"log\"}, "
             "\"sigma\": {\"min\": 0.5, \"max\": 3}, "
             "\"train.optimizer\": {\"values\": [\"adam\", \"sgd\", \"rmsprop\", \"adagrad\"]}}}}",
             seed, trials);
    return buf;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_random(void) {
    char t1[1024], t2[1024];
    Fix a, b;
    if (!fix_open(&a, random_job(t1, sizeof t1, 7, 10))) return;
    if (!fix_open(&b, random_job(t2, sizeof t2, 7, 10))) { fix_close(&a); return; }
    drive(&a, obj_const, 0);
    drive(&b, obj_const, 1);
    CHECK(a.s.n_trials == 10 && b.s.n_trials == 10, "random: %d %d trials", a.s.n_trials,
          b.s.n_trials);
    for (int i = 0; i < 10; i++)
        CHECK(point_equal(&a.space, &a.s.trials[i].point, &b.s.trials[i].point),
              "random: two searches differ at %d", i);
    fix_close(&b);
    /* 20 trials: the first 10 are the same */
    if (fix_open(&b, random_job(t2, sizeof t2, 7, 20))) {
        drive(&b, obj_const, 0);
        CHECK(b.s.n_trials == 20, "random: %d trials", b.s.n_trials);
        for (int i = 0; i < 10; i++)
            CHECK(point_equal(&a.space, &a.s.trials[i].point, &b.s.trials[i].point),
                  "random: trials 10 vs 20 differ at %d", i);
        /* trial i is random_point(seed, i) */
        for (int i = 0; i < 20; i++) {
            Point p;
            random_point(&b.space, 7, i, &p);
            CHECK(point_equal(&b.space, &p, &b.s.trials[i].point), "random_point(7, %d)", i);
        }
        fix_close(&b);
    }
    /* another seed, other points */
    if (fix_open(&b, random_job(t2, sizeof t2, 8, 10))) {
        drive(&b, obj_const, 0);
        int same = 0, lr_same = 0;
        for (int i = 0; i < 10; i++) {
            same += point_equal(&a.space, &a.s.trials[i].point, &b.s.trials[i].point);
            lr_same += a.s.trials[i].point.v[0] == b.s.trials[i].point.v[0];
        }
        CHECK(same == 0 && lr_same == 0, "random: seed 8 repeats %d points of seed 7", same);
        fix_close(&b);
    }
    fix_close(&a);

    /* 2000 draws: ranges, integers, log-uniform lr and batch size */
    if (!fix_open(&a, random_job(t1, sizeof t1, 3, 2000))) return;
    int n = drive(&a, obj_const, 0);
    CHECK(n == 2000, "random: %d trials", n);
    int ilr = space_find(&a.space, "lr"), ibn = space_find(&a.space, "bottleneck"),
        ibs = space_find(&a.space, "batch_size"), isg = space_find(&a.space, "sigma"),
        iop = space_find(&a.space, "train.optimizer");
    CHECK(ilr == 0 && ibn == 1 && ibs == 2 && isg == 3 && iop == 4, "space order");
    double *llr = malloc(sizeof(double) * (size_t)n), *lbs = malloc(sizeof(double) * (size_t)n);
    int bad = 0, count_opt[4] = {0}, first_decade = 0;
    double sum_bn = 0, sum_sg = 0;
    for (int i = 0; i < n; i++) {
        const double *v = a.s.trials[i].point.v;
        bad += !(v[ilr] >= 1e-5 && v[ilr] <= 0.1);
        bad += !(v[ibn] >= 1 && v[ibn] <= 400 && v[ibn] == floor(v[ibn]));
        bad += !(v[ibs] >= 16 && v[ibs] <= 1024 && v[ibs] == floor(v[ibs]));
        bad += !(v[isg] >= 0.5 && v[isg] <= 3);
        bad += !(v[iop] >= 0 && v[iop] <= 3 && v[iop] == floor(v[iop]));
        for (int k = 5; k < SEARCH_MAX_PARAMS; k++) bad += !isnan(v[k]);
        if (v[iop] >= 0 && v[iop] <= 3) count_opt[(int)v[iop]]++;
        llr[i] = log10(v[ilr]);
        lbs[i] = log10(v[ibs]);
        first_decade += v[ilr] < 1e-4;
        sum_bn += v[ibn];
        sum_sg += v[isg];
    }
    CHECK(bad == 0, "random: %d values out of range or not integral", bad);
    qsort(llr, (size_t)n, sizeof *llr, cmp_double);
    qsort(lbs, (size_t)n, sizeof *lbs, cmp_double);
    /* median of log10(lr) ~ U(-5, -1): -3 (its standard error is 0.045) */
    double med = (llr[n / 2 - 1] + llr[n / 2]) / 2;
    CHECK(fabs(med + 3) < 0.2, "random: median log10(lr) %g, expected -3", med);
    CHECK(abs(first_decade - 500) < 100, "random: %d of 2000 lr in the first decade", first_decade);
    double medbs = (lbs[n / 2 - 1] + lbs[n / 2]) / 2; /* log10(sqrt(16 * 1024)) = log10(128) */
    CHECK(fabs(medbs - log10(128)) < 0.1, "random: median log10(batch) %g", medbs);
    CHECK(fabs(sum_bn / n - 200.5) < 15, "random: mean bottleneck %g", sum_bn / n);
    CHECK(fabs(sum_sg / n - 1.75) < 0.1, "random: mean sigma %g", sum_sg / n);
    for (int k = 0; k < 4; k++)
        CHECK(abs(count_opt[k] - 500) < 100, "random: optimizer %d drawn %d times", k,
              count_opt[k]);
    free(llr);
    free(lbs);
    fix_close(&a);
}

/* ---- 8. grid ---- */

static void test_grid(void) {
    const char *job =
        "{\"search\": {\"strategy\": \"grid\", \"space\": {"
        "\"lr\": {\"min\": 1e-4, \"max\": 1e-2, \"scale\": \"log\", \"points\": 3}, "
        "\"bottleneck\": {\"min\": 1, \"max\": 4, \"type\": \"int\", \"points\": 7}, "
        "\"train.optimizer\": {\"values\": [\"adam\", \"sgd\"]}}}}";
    Fix f, g;
    if (!fix_open(&f, job)) return;
    /* lr 1e-4 1e-3 1e-2; bottleneck 1, 1.5->2, 2, 2.5->3, 3, 3.5->4, 4 -> 1 2 3 4;
     * 2 optimizers: 3 * 4 * 2 = 24, first parameter slowest */
    CHECK(grid_size(&f.space) == 24, "grid size %ld", grid_size(&f.space));
    int n = drive(&f, obj_grid_mixed, 0);
    CHECK(n == 24, "grid: %d trials", n);
    const double lrs[] = {1e-4, 1e-3, 1e-2};
    for (int i = 0; i < n && i < 24; i++) {
        const double *v = f.s.trials[i].point.v;
        CHECK(fabs(v[0] - lrs[i / 8]) <= 1e-12 * lrs[i / 8], "grid %d: lr %.17g", i, v[0]);
        CHECK(v[1] == (i / 2) % 4 + 1, "grid %d: bottleneck %g", i, v[1]);
        CHECK(v[2] == i % 2, "grid %d: optimizer %g", i, v[2]);
        CHECK(f.s.trials[i].stage == -1 && f.s.trials[i].round == -1, "grid %d: stage/round", i);
    }
    /* best: lr 1e-3, bottleneck 3, adam = 8 + 2*2 + 0 */
    CHECK(search_best(&f.s) == 12, "grid best %d", search_best(&f.s));
    check_no_retraining(&f, "grid");
    if (fix_open(&g, job)) {
        drive(&g, obj_grid_mixed, 1);
        for (int i = 0; i < n && i < g.s.n_trials; i++)
            CHECK(point_equal(&f.space, &f.s.trials[i].point, &g.s.trials[i].point),
                  "grid differs between runs at %d", i);
        fix_close(&g);
    }
    fix_close(&f);

    /* a log-scale integer: 10^(k/9) on [1, 10] -> 1 1 2 2 3 4 5 6 8 10 -> 8 values;
     * a linear real: 0.5 1 1.5 2 */
    const char *job2 =
        "{\"search\": {\"strategy\": \"grid\", \"space\": {"
        "\"bottleneck\": {\"min\": 1, \"max\": 10, \"type\": \"int\", \"scale\": \"log\", "
        "\"points\": 10}, \"sigma\": {\"min\": 0.5, \"max\": 2, \"points\": 4}}}}";
    if (!fix_open(&f, job2)) return;
    CHECK(grid_size(&f.space) == 32, "grid 2 size %ld", grid_size(&f.space));
    const double bns[] = {1, 2, 3, 4, 5, 6, 8, 10}, sgs[] = {0.5, 1, 1.5, 2};
    for (long i = 0; i < grid_size(&f.space) && i < 32; i++) {
        Point p;
        grid_point(&f.space, i, &p);
        CHECK(p.v[0] == bns[i / 4] && fabs(p.v[1] - sgs[i % 4]) <= 1e-12,
              "grid 2 point %ld: %g %g", i, p.v[0], p.v[1]);
    }
    fix_close(&f);

    /* Counts that overflowed 64 bits stop at SEARCH_MAX_TRIALS + 1: 64^11 wrapped
     * to 0, 1000^7 to a garbage count. 10^6 exactly is still counted. */
    const struct { int params, values; long size; } big[] = {
        {11, 64, SEARCH_MAX_TRIALS + 1}, {7, 1000, SEARCH_MAX_TRIALS + 1},
        {6, 10, SEARCH_MAX_TRIALS}, {16, 1000, SEARCH_MAX_TRIALS + 1}};
    for (size_t k = 0; k < sizeof big / sizeof big[0]; k++) {
        Space sp;
        memset(&sp, 0, sizeof sp);
        sp.n_params = big[k].params;
        for (int i = 0; i < sp.n_params; i++)
            sp.param[i] = (Param){.kind = PARAM_VALUES, .n_values = big[k].values};
        CHECK(grid_size(&sp) == big[k].size, "%d x %d values: grid size %ld, expected %ld",
              big[k].params, big[k].values, grid_size(&sp), big[k].size);
    }
}

/* ---- 9. ties ---- */

static double obj_tie_mod3(const Job *c, int *st) {
    (void)st;
    return c->model.bottleneck % 3 == 2 ? 0 : 1; /* bottleneck 2, 5, 8 ... tie */
}

static void test_ties(void) {
    Fix f;
    const char *grid = "{\"search\": {\"strategy\": \"grid\", \"space\": {\"bottleneck\": "
                       "{\"min\": 1, \"max\": 9, \"type\": \"int\", \"points\": 9}}}}";
    if (fix_open(&f, grid)) {
        drive(&f, obj_const, 1); /* completed last first */
        CHECK(search_best(&f.s) == 0, "constant objective: best %d", search_best(&f.s));
        fix_close(&f);
    }
    if (fix_open(&f, grid)) {
        drive(&f, obj_tie_mod3, 1);
        CHECK(search_best(&f.s) == 1, "ties at 1, 4, 7: best %d", search_best(&f.s));
        fix_close(&f);
    }
    /* bisection with a flat objective: deterministic, lowest id best */
    Fix g;
    g.ready = 0;
    if (fix_open(&f, LR_JOB(8)) && fix_open(&g, LR_JOB(8))) {
        drive(&f, obj_const, 0);
        drive(&g, obj_const, 1);
        CHECK(f.s.n_trials == g.s.n_trials, "flat bisection: %d vs %d trials", f.s.n_trials,
              g.s.n_trials);
        for (int i = 0; i < f.s.n_trials && i < g.s.n_trials; i++)
            CHECK(point_equal(&f.space, &f.s.trials[i].point, &g.s.trials[i].point),
                  "flat bisection differs at %d", i);
        CHECK(search_best(&f.s) == 0 && search_best(&g.s) == 0, "flat bisection best %d",
              search_best(&f.s));
        check_no_retraining(&f, "flat bisection");
    }
    fix_close(&f);
    fix_close(&g);
    CHECK(!objective_better(1, 1, 0) && !objective_better(1, 1, 1), "equal is not better");
    CHECK(!objective_better(NAN, 1, 0) && objective_better(1, NAN, 0), "NaN never better");
}

/* ---- 10. maximize ---- */

static void test_maximize(void) {
    Fix f;
    const char *job =
        "{\"classifier\": {\"epochs\": 5}, "
        "\"search\": {\"strategy\": \"bisection\", \"objective\": \"val_accuracy\", "
        "\"exhaustive_below\": 8, \"max_rounds\": 8, "
        "\"space\": {\"bottleneck\": {\"min\": 1, \"max\": 400, \"type\": \"int\"}}}}";
    if (!fix_open(&f, job)) return;
    CHECK(f.s.maximize == 1, "val_accuracy maximizes");
    int n = drive(&f, obj_accuracy, 0);
    /* the mirror of test 2: the same 15 trials */
    CHECK(n == 15, "maximize: %d trials", n);
    int best = best_trial(&f);
    CHECK(best >= 0 && f.s.trials[best].point.v[0] == 37, "maximize: best %g",
          best >= 0 ? f.s.trials[best].point.v[0] : NAN);
    fix_close(&f);

    const char *rnd = "{\"classifier\": {\"epochs\": 5}, \"search\": {\"strategy\": \"random\", "
                      "\"objective\": \"latent_accuracy\", \"trials\": 50, \"space\": "
                      "{\"bottleneck\": {\"min\": 1, \"max\": 400, \"type\": \"int\"}}}}";
    if (!fix_open(&f, rnd)) return;
    CHECK(f.s.maximize == 1, "latent_accuracy maximizes");
    drive(&f, obj_accuracy, 0);
    best = best_trial(&f);
    int arg = 0;
    for (int i = 1; i < f.s.n_trials; i++)
        if (f.s.trials[i].objective > f.s.trials[arg].objective) arg = i;
    CHECK(best == arg, "random maximize: best %d, argmax %d", best, arg);
    fix_close(&f);
}

/* ---- space_parse errors ---- */

static void expect_space_error(const char *search, const char *frag1, const char *frag2) {
    char text[2048];
    snprintf(text, sizeof text, "{\"search\": %s}", search);
    Job j;
    Err e = {0};
    int rc = job_parse(text, "test.json", NULL, 0, &j, &e);
    CHECK(rc == AE_OK, "job_parse of %s: %s", search, e.msg);
    if (rc) return;
    Space s;
    memset(&e, 0, sizeof e);
    rc = space_parse(&j, &s, &e);
    CHECK(rc == AE_EINPUT, "space_parse accepted %s", search);
    if (rc == AE_OK) {
        space_free(&s);
    } else {
        CHECK(strstr(e.msg, "test.json") != NULL, "'%s' lacks the file", e.msg);
        CHECK(strstr(e.msg, frag1) != NULL, "'%s' lacks '%s'", e.msg, frag1);
        if (frag2) CHECK(strstr(e.msg, frag2) != NULL, "'%s' lacks '%s'", e.msg, frag2);
    }
    job_free(&j);
}

static void test_space_errors(void) {
    expect_space_error("{\"space\": {\"train.optimizer\": {\"values\": [\"adam\", \"sgd\"], "
                       "\"prefer\": \"low\"}}}",
                       "search.space.train.optimizer.prefer", "values[0] is \"adam\", not a number");
    expect_space_error("{\"space\": {\"model.hidden\": {\"values\": [[800, 400], [256]], "
                       "\"prefer\": \"low\"}}}",
                       "search.space.model.hidden.prefer", "without an order");
    expect_space_error("{\"space\": {\"bottleneck\": {\"min\": 2, \"max\": 9, "
                       "\"prefer\": \"small\"}}}",
                       "search.space.bottleneck.prefer", "\"low\" or \"high\"");
    expect_space_error("{\"select\": \"one_se\", \"space\": {\"bottleneck\": {\"min\": 2, "
                       "\"max\": 9, \"prefer\": \"low\"}}}",
                       "search.select", "folds >= 2");
    expect_space_error("{\"space\": {\"lr\": {\"min\": 0.1, \"max\": 0.01}}}", "search.space.lr",
                       "min < max");
    expect_space_error("{\"space\": {\"sigma\": {\"min\": 0, \"max\": 2, \"scale\": \"log\"}}}",
                       "search.space.sigma", "log");
    expect_space_error(
        "{\"space\": {\"lambda\": {\"min\": -1, \"max\": 2, \"scale\": \"log\"}}}",
        "search.space.lambda", NULL);
    expect_space_error("{\"space\": {\"lambda\": {\"values\": []}}}", "search.space.lambda.values",
                       NULL);
    expect_space_error("{\"space\": {\"learning_rate\": {\"min\": 0.1, \"max\": 1}}}",
                       "search.space.learning_rate", NULL);
    expect_space_error("{\"space\": {\"lr\": {\"min\": 0.001, \"max\": 0.1, \"step\": 2}}}",
                       "search.space.lr.step", NULL);
    expect_space_error(
        "{\"strategy\": \"bisection\", \"space\": {\"lr\": {\"min\": 0.001, \"max\": 0.1}, "
        "\"sigma\": {\"min\": 1, \"max\": 2}, \"lambda\": {\"min\": 0, \"max\": 1}}, "
        "\"stages\": [[\"lr\", \"sigma\", \"lambda\"]]}",
        "search.stages[0]", NULL);
    expect_space_error(
        "{\"strategy\": \"bisection\", \"space\": {\"lr\": {\"min\": 0.001, \"max\": 0.1}}, "
        "\"stages\": [[\"lr\"], [\"sigma\"]]}",
        "search.stages[1]", "sigma");
    expect_space_error(
        "{\"strategy\": \"grid\", \"space\": {\"lr\": {\"min\": 0.001, \"max\": 0.1}}}",
        "search.space.lr", "grid");
    expect_space_error("{\"space\": {\"train.optimizer\": {\"values\": [\"adam\", \"adamw\"]}}}",
                       "search.space.train.optimizer.values[1]", NULL);
    expect_space_error("{\"space\": {\"lr\": {\"min\": -1, \"max\": 0.1}}}", "search.space.lr.min",
                       NULL);
    expect_space_error("{\"space\": {\"lr\": {\"min\": 0.001, \"max\": 1e12}}}",
                       "search.space.lr.max", NULL);
    expect_space_error("{\"space\": {\"batch_size\": {\"min\": 0, \"max\": 64, \"type\": \"int\"}}}",
                       "search.space.batch_size.min", NULL);
    expect_space_error("{\"space\": {\"lr\": {\"min\": 0.001, \"max\": 0.1, \"type\": \"float\"}}}",
                       "search.space.lr.type", NULL);
    expect_space_error("{\"space\": {\"lr\": {\"min\": 0.001, \"max\": 0.1, \"scale\": \"ln\"}}}",
                       "search.space.lr.scale", NULL);
    expect_space_error("{\"space\": {\"lr\": {\"min\": 0.001}}}", "search.space.lr.max", NULL);
    expect_space_error("{\"space\": {\"lr\": {\"min\": 0.001, \"max\": 0.1, \"points\": 0}}}",
                       "search.space.lr.points", NULL);
    expect_space_error("{\"space\": {}}", "search.space", NULL);
    expect_space_error(
        "{\"strategy\": \"bisection\", \"space\": {\"lr\": {\"min\": 0.001, \"max\": 0.1}}, "
        "\"stages\": [[\"lr\", \"lr\"]]}",
        "search.stages[0]", "lr");
    expect_space_error(
        "{\"space\": {\"lr\": {\"min\": 0.001, \"max\": 0.1}, \"train.lr\": {\"min\": 0.01, "
        "\"max\": 0.1}}}",
        "search.space.train.lr", NULL);
    expect_space_error(
        "{\"space\": {\"classifier.hidden\": {\"min\": 1, \"max\": 400, \"type\": \"real\"}}}",
        "search.space.classifier.hidden.type", "[x]");
    expect_space_error("{\"space\": {\"model.hidden\": {\"min\": 0, \"max\": 400}}}",
                       "search.space.model.hidden.min", NULL);

    /* and the valid forms parse */
    Job j;
    Space s;
    Err e = {0};
    /* A range over a list of widths sets a one-element list. */
    const char *widths = "{\"search\": {\"space\": {\"classifier.hidden\": "
                         "{\"min\": 1, \"max\": 400, \"type\": \"int\"}}}}";
    if (job_parse(widths, "test.json", NULL, 0, &j, &e) == AE_OK) {
        int rc = space_parse(&j, &s, &e);
        CHECK(rc == AE_OK && s.param[0].kind == PARAM_INT && s.param[0].list, "widths: %s", e.msg);
        if (rc == AE_OK) {
            Point p = {.v = {150.4}};
            char buf[256];
            const char *sets[4];
            Job pj;
            CHECK(point_overrides(&s, &p, buf, sizeof buf, sets, 4) == 1 &&
                      !strcmp(sets[0], "classifier.hidden=[150]"),
                  "widths override: %s", sets[0]);
            p.v[0] = 150;
            rc = point_job(&j, &s, &p, &pj, &e);
            CHECK(rc == AE_OK && pj.classifier.hidden.n == 1 && pj.classifier.hidden.v[0] == 150,
                  "widths job: %s", e.msg);
            if (rc == AE_OK) job_free(&pj);
            space_free(&s);
        }
        job_free(&j);
    } else {
        CHECK(0, "widths job: %s", e.msg);
    }
    const char *ok =
        "{\"search\": {\"strategy\": \"bisection\", \"space\": {"
        "\"lr\": {\"min\": 1e-5, \"max\": 0.1, \"scale\": \"log\"}, "
        "\"bottleneck\": {\"min\": 1, \"max\": 400, \"type\": \"int\"}, "
        "\"lambda\": {\"values\": [0.001, 0.25, 2, 10]}, \"sigma\": {\"min\": 1, \"max\": 20}}, "
        "\"stages\": [[\"bottleneck\"], [\"lr\", \"sigma\"], [\"lambda\"]]}}";
    if (job_parse(ok, "test.json", NULL, 0, &j, &e) == AE_OK) {
        int rc = space_parse(&j, &s, &e);
        CHECK(rc == AE_OK, "valid space: %s", e.msg);
        if (rc == AE_OK) {
            CHECK(s.n_params == 4 && s.n_stages == 3, "params %d stages %d", s.n_params,
                  s.n_stages);
            CHECK(s.stage_size[1] == 2 && s.stage[1][0] == space_find(&s, "lr") &&
                      s.stage[1][1] == space_find(&s, "sigma"),
                  "stage 1");
            int il = space_find(&s, "lambda"), ib = space_find(&s, "bottleneck");
            CHECK(il >= 0 && s.param[il].kind == PARAM_VALUES && s.param[il].n_values == 4,
                  "lambda values");
            CHECK(ib >= 0 && s.param[ib].kind == PARAM_INT && !strcmp(s.param[ib].key,
                                                                      "model.bottleneck"),
                  "bottleneck int");
            space_free(&s);
        }
        job_free(&j);
    } else {
        CHECK(0, "valid job: %s", e.msg);
    }
}

/* ---- 11. search.select one_se: the preferred point within one standard error ---- */

/* A shallow bowl in the bottleneck (least at 40) and in log10(lr) (at 1e-3), plus
 * noise that is a fixed function of the configuration and of noise_seed: many
 * points are tied with the best, as in the quickstart's bottleneck stage. Every
 * trial's standard error is NOISE_SE. */
static const double NOISE = 0.004, NOISE_SE = 0.002;
static uint64_t noise_seed;

static double noise_at(const Job *c) {
    uint64_t h = seed_mix(seed_mix(noise_seed, (uint64_t)c->model.bottleneck),
                          (uint64_t)(c->train.lr * 1e12) ^ (uint64_t)c->train.batch_size << 40);
    return NOISE * ((double)(h >> 11) / 9007199254740992.0 * 2 - 1);
}
static double obj_noisy(const Job *c, int *st) {
    (void)st;
    return 1e-5 * sq(c->model.bottleneck - 40) + 0.01 * sq(log10(c->train.lr) + 3) +
           1e-6 * sq(log2(c->train.batch_size) - 7) + noise_at(c);
}
static double se_const(const Job *c) {
    (void)c;
    return NOISE_SE;
}

/* The rule worked out here from the trials, independently of select_point: among
 * the ok trials whose objective is within the best's standard error of the best
 * (ties to the lower id; the search's direction) and that pass `among` (NULL:
 * all), the one with the least (sign -1: greatest) configuration value at c, then
 * the better objective, then the lowest id; -1 for none. *best_out: the best. */
static int reference_pick(const Fix *f, int (*among)(const Fix *, int), int c, int sign,
                          int *best_out) {
    const Search *s = &f->s;
    double dir = s->maximize ? -1 : 1; /* dir * objective: smaller is better */
    int best = -1, pick = -1;
    for (int i = 0; i < s->n_trials; i++) {
        const Trial *t = &s->trials[i];
        if (t->status != TRIAL_OK || isnan(t->objective) || (among && !among(f, i))) continue;
        if (best < 0 || dir * t->objective < dir * s->trials[best].objective) best = i;
    }
    *best_out = best;
    if (best < 0) return -1;
    double limit = dir * s->trials[best].objective + s->trials[best].se;
    for (int i = 0; i < s->n_trials; i++) {
        const Trial *t = &s->trials[i];
        if (t->status != TRIAL_OK || !(dir * t->objective <= limit) || (among && !among(f, i)))
            continue;
        double a = sign * f->cfg[i][c], b = pick < 0 ? 0 : sign * f->cfg[pick][c];
        if (pick < 0 || a < b ||
            (a == b && dir * t->objective < dir * s->trials[pick].objective))
            pick = i;
    }
    return pick;
}

static int in_first_stage(const Fix *f, int i) { return f->s.trials[i].stage == 0; }

#define NOISY_SPACE                                                                        \
    "\"bottleneck\": {\"min\": 8, \"max\": 64, \"type\": \"int\", \"prefer\": \"low\"}, "    \
    "\"lr\": {\"min\": 1e-4, \"max\": 1e-2, \"scale\": \"log\"}"

/* The noisy bowl as an accuracy: larger is better. */
static double obj_noisy_accuracy(const Job *c, int *st) { return 0.9 - obj_noisy(c, st); }

/* Runs `search` (the job's search object, text) on fn for 12 noise seeds; the
 * chosen trial must be the reference's (the preferred end of c inside the band)
 * and inside the band. Returns how many seeds chose a trial other than the best
 * (the rule did something). */
static int check_one_se(const char *search, ObjFn fn, int (*among)(const Fix *, int), int c,
                        int sign) {
    int moved = 0;
    for (noise_seed = 1; noise_seed <= 12; noise_seed++) {
        char text[1024];
        snprintf(text, sizeof text, "{\"search\": %s}", search);
        Fix f;
        if (!fix_open(&f, text)) return moved;
        f.se = se_const;
        drive(&f, fn, (int)(noise_seed & 1));
        int best, want = reference_pick(&f, among, c, sign, &best), got = search_chosen(&f.s);
        CHECK(got == want, "%s, noise %d: chose trial %d, the rule says %d", search,
              (int)noise_seed, got, want);
        if (got >= 0 && best >= 0) {
            const Trial *g = &f.s.trials[got], *b = &f.s.trials[best];
            double gap = f.s.maximize ? b->objective - g->objective : g->objective - b->objective;
            CHECK(g->status == TRIAL_OK && gap <= b->se,
                  "noise %d: trial %d (%g) is outside the band of the best %d (%g, se %g)",
                  (int)noise_seed, got, g->objective, best, b->objective, b->se);
        }
        moved += got != search_best(&f.s);
        fix_close(&f);
    }
    return moved;
}

static void test_one_se(void) {
    /* random: the least bottleneck tied with the best; lr has no preference */
    int moved = check_one_se("{\"strategy\": \"random\", \"trials\": 40, \"folds\": 3, "
                             "\"select\": \"one_se\", \"space\": {" NOISY_SPACE "}}",
                             obj_noisy, NULL, C_BOTTLENECK, 1);
    CHECK(moved >= 3, "random: the rule moved off the best on %d of 12 noise seeds", moved);
    /* maximised (an accuracy): the band is below the best */
    moved = check_one_se("{\"strategy\": \"random\", \"trials\": 40, \"folds\": 3, "
                         "\"objective\": \"val_accuracy\", \"select\": \"one_se\", "
                         "\"space\": {" NOISY_SPACE "}}",
                         obj_noisy_accuracy, NULL, C_BOTTLENECK, 1);
    CHECK(moved >= 3, "maximised: the rule moved off the best on %d of 12 noise seeds", moved);
    /* grid over a values list given out of order: "high" is the largest number */
    moved = check_one_se("{\"strategy\": \"grid\", \"folds\": 2, \"select\": \"one_se\", "
                         "\"space\": {\"batch_size\": {\"values\": [128, 32, 256, 64, 512], "
                         "\"prefer\": \"high\"}, \"lr\": {\"min\": 1e-4, \"max\": 1e-2, "
                         "\"scale\": \"log\", \"points\": 5}}}",
                         obj_noisy, NULL, C_BATCH, -1);
    CHECK(moved >= 3, "grid: the rule moved off the best on %d of 12 noise seeds", moved);
    /* tpe (hyperband and asha: test_halving) */
    moved = check_one_se("{\"strategy\": \"tpe\", \"trials\": 30, \"lag\": 3, \"folds\": 3, "
                         "\"select\": \"one_se\", \"space\": {" NOISY_SPACE "}}",
                         obj_noisy, NULL, C_BOTTLENECK, 1);
    CHECK(moved >= 3, "tpe: the rule moved off the best on %d of 12 noise seeds", moved);
    /* bisection, one stage: every trial is a point of the stage */
    moved = check_one_se("{\"strategy\": \"bisection\", \"folds\": 3, \"select\": \"one_se\", "
                         "\"exhaustive_below\": 4, \"max_rounds\": 3, \"space\": {" NOISY_SPACE
                         "}, \"stages\": [[\"bottleneck\"]]}",
                         obj_noisy, NULL, C_BOTTLENECK, 1);
    CHECK(moved >= 3, "bisection: the rule moved off the best on %d of 12 noise seeds", moved);
    /* one_se with no "prefer": the best, for a search over trials and for a bisection
     * of two stages (each stage may keep the point it started from) */
    const char *unpreferred[2] = {
        "{\"search\": {\"strategy\": \"random\", \"trials\": 40, \"folds\": 3, \"select\": "
        "\"one_se\", \"space\": {\"bottleneck\": {\"min\": 8, \"max\": 64, \"type\": \"int\"}, "
        "\"lr\": {\"min\": 1e-4, \"max\": 1e-2, \"scale\": \"log\"}}}}",
        "{\"search\": {\"strategy\": \"bisection\", \"folds\": 3, \"select\": \"one_se\", "
        "\"exhaustive_below\": 4, \"max_rounds\": 3, \"space\": {\"bottleneck\": {\"min\": 8, "
        "\"max\": 64, \"type\": \"int\"}, \"lr\": {\"min\": 2e-4, \"max\": 2e-2, \"scale\": "
        "\"log\"}}, \"stages\": [[\"bottleneck\"], [\"lr\"]]}}"};
    for (int k = 0; k < 2; k++)
        for (noise_seed = 1; noise_seed <= 12; noise_seed++) {
            Fix f;
            if (!fix_open(&f, unpreferred[k])) break;
            f.se = se_const;
            drive(&f, obj_noisy, 0);
            CHECK(search_chosen(&f.s) == search_best(&f.s) && search_best(&f.s) >= 0,
                  "%s without prefer, noise %d: chose %d, the best is %d",
                  k ? "bisection" : "random", (int)noise_seed, search_chosen(&f.s),
                  search_best(&f.s));
            fix_close(&f);
        }
}

/* Two stages: the bottleneck's value is the rule's choice among the first stage's
 * points; the second stage (lr, no preference) holds it and takes the best of its
 * points and the one it started from (the first stage's choice at the job's lr,
 * which its first round evaluates again here: 1e-3 is its mid). */
static void test_one_se_stages(void) {
    int moved = 0;
    for (noise_seed = 1; noise_seed <= 12; noise_seed++) {
        Fix f;
        if (!fix_open(&f, "{\"search\": {\"strategy\": \"bisection\", \"folds\": 3, \"select\": "
                          "\"one_se\", \"exhaustive_below\": 4, \"max_rounds\": 3, \"space\": {"
                          NOISY_SPACE "}, \"stages\": [[\"bottleneck\"], [\"lr\"]]}}"))
            return;
        f.se = se_const;
        drive(&f, obj_noisy, 0);
        int best, first = reference_pick(&f, in_first_stage, C_BOTTLENECK, 1, &best);
        CHECK(first >= 0, "no first-stage choice");
        if (first < 0) { fix_close(&f); return; }
        double b = f.cfg[first][C_BOTTLENECK];
        moved += first != best;
        int chosen = search_chosen(&f.s), want = -1;
        for (int i = 0; i < f.s.n_trials; i++) {
            if (f.s.trials[i].stage == 1)
                CHECK(f.cfg[i][C_BOTTLENECK] == b, "noise %d: stage 2 trial %d at bottleneck %g, "
                      "the first stage chose %g", (int)noise_seed, i, f.cfg[i][C_BOTTLENECK], b);
            if (f.cfg[i][C_BOTTLENECK] == b &&
                (want < 0 || f.s.trials[i].objective < f.s.trials[want].objective))
                want = i;
        }
        CHECK(chosen == want, "noise %d: chose trial %d, the second stage's best is %d",
              (int)noise_seed, chosen, want);
        CHECK(f.s.n_rounds > 0 && f.s.rounds[f.s.n_rounds - 1].chosen[0] ==
                  f.s.trials[chosen].point.v[1], "the log's last stage value is not the chosen lr");
        fix_close(&f);
    }
    CHECK(moved >= 3, "stage 1 chose other than its best on %d of 12 noise seeds", moved);
}

/* A round's narrowing follows the chosen point: lambda {0, 32, 64} scoring
 * {1.0, 0.99, 1.5} with standard error 0.05 ties 0 with the best (32);
 * preferring low takes 0 and keeps [0, 32]; the best (32) would keep [16, 48]. */
static void test_one_se_narrowing(void) {
    Fix f;
    if (!fix_open(&f, "{\"search\": {\"strategy\": \"bisection\", \"folds\": 2, \"space\": "
                      "{\"lambda\": {\"min\": 0, \"max\": 64, \"prefer\": \"low\"}}}}"))
        return;
    for (int one_se = 0; one_se < 2; one_se++) {
        Bisection b;
        Point start;
        Err e = {0};
        space_defaults(&f.job, &f.space, &start);
        if (bisect_init(&b, &f.space, &start, 4, 8, 0, one_se, &e)) break;
        int m = bisect_round(&b);
        double obj[3] = {1.0, 0.99, 1.5}, se[3] = {0.05, 0.05, 0.05};
        CHECK(m == 3 && b.round_points[0].v[0] == 0 && b.round_points[1].v[0] == 32,
              "round 0: %d points", m);
        bisect_advance(&b, obj, se, NULL);
        double lo, hi;
        bisect_interval(&b, 0, &lo, &hi);
        CHECK(one_se ? lo == 0 && hi == 32 : lo == 16 && hi == 48,
              "%s: narrowed to [%g, %g]", one_se ? "one_se" : "best", lo, hi);
        /* just outside the band (1.0 > 0.99 + 0.0099): the best */
        double tight[3] = {0.0099, 0.0099, 0.0099};
        Bisection c;
        if (bisect_init(&c, &f.space, &start, 4, 8, 0, one_se, &e) == AE_OK) {
            bisect_round(&c);
            bisect_advance(&c, obj, tight, NULL);
            bisect_interval(&c, 0, &lo, &hi);
            CHECK(lo == 16 && hi == 48, "outside the band: narrowed to [%g, %g]", lo, hi);
            bisect_free(&c);
        }
        bisect_free(&b);
    }
    fix_close(&f);
}

int main(void) {
    test_bisection_lr();
    test_bisection_int();
    test_bisection_2d();
    test_bisection_values();
    test_no_retraining();
    test_last_round_bound();
    test_diverged();
    test_random();
    test_grid();
    test_ties();
    test_maximize();
    test_space_errors();
    test_one_se();
    test_one_se_stages();
    test_one_se_narrowing();
    return test_summary("search");
}
