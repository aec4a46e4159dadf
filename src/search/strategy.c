/* The three strategies of SPEC §4, as plain functions of their state. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"

/* ---- scales ---- */

static int integral(const Param *p) { return p->kind != PARAM_REAL; }

/* The interval of a parameter in its scale: log10 for scale "log", indices for values. */
static void full_interval(const Param *p, double *lo, double *hi) {
    if (p->kind == PARAM_VALUES) {
        *lo = 0;
        *hi = p->n_values - 1;
    } else {
        *lo = p->log ? log10(p->min) : p->min;
        *hi = p->log ? log10(p->max) : p->max;
    }
}

/* Leaves the scale, unrounded. */
static double unscale(const Param *p, double u) { return p->log ? pow(10.0, u) : u; }

/* Leaves the scale; integers rounded half up. */
static double value_at(const Param *p, double u) {
    double x = unscale(p, u);
    return integral(p) ? floor(x + 0.5) : x;
}

/* k of n evenly spaced positions in [lo, hi] (the middle one when n = 1). */
static double spaced(double lo, double hi, int k, int n) {
    return n == 1 ? (lo + hi) / 2 : lo + (hi - lo) * k / (n - 1);
}

/* ---- grid ---- */

/* The distinct grid values of parameter p, in order; returns their count. */
static int grid_values(const Param *p, double *out, int max) {
    if (p->kind == PARAM_VALUES) {
        for (int i = 0; i < p->n_values && i < max; i++) out[i] = i;
        return p->n_values < max ? p->n_values : max;
    }
    double lo, hi;
    full_interval(p, &lo, &hi);
    int n = 0;
    for (int k = 0; k < p->points && n < max; k++) {
        double v = value_at(p, spaced(lo, hi, k, p->points));
        if (n == 0 || out[n - 1] != v) out[n++] = v; /* monotone: duplicates are adjacent */
    }
    return n;
}

long grid_size(const Space *s) {
    long n = 1;
    double v[1000];
    for (int i = 0; i < s->n_params; i++) {
        long k = grid_values(&s->param[i], v, 1000);
        if (n > (SEARCH_MAX_TRIALS + 1) / k) return SEARCH_MAX_TRIALS + 1; /* no overflow */
        n *= k;
    }
    return n;
}

void grid_point(const Space *s, long i, Point *out) {
    double v[1000];
    for (int k = s->n_params - 1; k >= 0; k--) { /* the last parameter varies fastest */
        int n = grid_values(&s->param[k], v, 1000);
        out->v[k] = v[i % n];
        i /= n;
    }
    for (int k = s->n_params; k < SEARCH_MAX_PARAMS; k++) out->v[k] = NAN;
}

/* ---- random ---- */

void random_point(const Space *s, uint64_t seed, long i, Point *out) {
    Rng r;
    rng_seed(&r, seed_mix(seed_mix(seed, RNG_SEARCH), (uint64_t)i));
    for (int k = 0; k < SEARCH_MAX_PARAMS; k++) out->v[k] = NAN;
    for (int k = 0; k < s->n_params; k++) {
        const Param *p = &s->param[k];
        if (p->kind == PARAM_VALUES) {
            out->v[k] = (double)rng_below(&r, (uint64_t)p->n_values);
        } else {
            double lo, hi;
            full_interval(p, &lo, &hi);
            out->v[k] = value_at(p, lo + (hi - lo) * rng_uniform(&r));
        }
    }
}

/* ---- bisection ---- */

int bisect_init(Bisection *b, const Space *s, const Point *start, int exhaustive_below,
                int max_rounds, int maximize, int one_se, Err *e) {
    memset(b, 0, sizeof *b);
    b->space = s;
    b->exhaustive_below = exhaustive_below;
    b->max_rounds = max_rounds;
    b->maximize = maximize;
    b->one_se = one_se;
    b->held = *start;
    b->seen_cap = 1 + 9 * max_rounds + 512; /* the start, 3^2 a narrowing round, the last */
    b->seen = malloc(sizeof *b->seen * (size_t)b->seen_cap);
    if (!b->seen) {
        b->seen_cap = 0;
        return err_set(e, AE_ERUN, "bisection: out of memory");
    }
    return AE_OK;
}

void bisect_free(Bisection *b) {
    free(b->seen);
    b->seen = NULL;
    b->n_seen = b->seen_cap = 0;
}

static const Param *stage_param(const Bisection *b, int j) {
    return &b->space->param[b->space->stage[b->stage][j]];
}

/* Integers in the interval [lo, hi] (in scale) of an integral parameter. */
static double integers_in(const Param *p, double lo, double hi) {
    return floor(unscale(p, hi) + 1e-9) - ceil(unscale(p, lo) - 1e-9) + 1;
}

/* The most candidates per parameter a round of a d-parameter stage holds: the
 * product must fit round_points (22^2 < 512). */
static int round_cap(int d) { return d == 1 ? 512 : 22; }

/* The candidate values of stage parameter j for this round. */
static int candidates(const Bisection *b, int j, double *out, int max) {
    const Param *p = stage_param(b, j);
    double lo = b->lo[j], hi = b->hi[j];
    int n = 0;
    if (!b->final_round) {
        double u[3] = {lo, (lo + hi) / 2, hi};
        for (int k = 0; k < 3; k++) {
            double v = value_at(p, u[k]);
            if (n == 0 || out[n - 1] != v) out[n++] = v;
        }
        return n;
    }
    if (!integral(p)) { /* 5 evenly spaced points of the interval, in its scale */
        for (int k = 0; k < 5; k++) out[n++] = unscale(p, spaced(lo, hi, k, 5));
        return n;
    }
    double first = ceil(unscale(p, lo) - 1e-9), last = floor(unscale(p, hi) + 1e-9);
    double count = last - first + 1;
    if (count < 1) { /* no integer strictly inside: the nearest one */
        out[0] = value_at(p, (lo + hi) / 2);
        return 1;
    }
    if (count <= max) {
        for (double x = first; x <= last; x++) out[n++] = x;
        return n;
    }
    /* More integers than a round can hold (max_rounds ended the narrowing early):
     * evenly spaced integers of the interval. */
    for (int k = 0; k < max; k++) {
        double x = floor(first + (last - first) * k / (max - 1) + 0.5);
        if (n == 0 || out[n - 1] != x) out[n++] = x;
    }
    return n;
}

void bisect_interval(const Bisection *b, int j, double *lo, double *hi) {
    const Param *p = stage_param(b, j);
    *lo = unscale(p, b->lo[j]);
    *hi = unscale(p, b->hi[j]);
}

long bisect_last_round_max(const Space *s, int stage, int exhaustive_below, int max_rounds) {
    int d = s->stage_size[stage];
    long most = 1;
    for (int j = 0; j < d; j++) {
        const Param *p = &s->param[s->stage[stage][j]];
        double n = 5, lo, hi;
        if (integral(p)) {
            /* Each narrowing round halves the interval in scale; narrowing stops
             * early only with <= exhaustive_below integers left. An interval of
             * log width w holds the most integers at the top of the range. */
            full_interval(p, &lo, &hi);
            double w = (hi - lo) / pow(2, max_rounds);
            double after = integers_in(p, hi - w, hi);
            n = fmin(integers_in(p, lo, hi), fmax(exhaustive_below, after));
            n = fmin(fmax(n, 1), round_cap(d));
        }
        most *= (long)n;
    }
    return most;
}

static void start_stage(Bisection *b) {
    b->round = 0;
    for (int j = 0; j < b->space->stage_size[b->stage]; j++)
        full_interval(stage_param(b, j), &b->lo[j], &b->hi[j]);
}

/* Narrowing ends when every parameter is integral with few integers left, or
 * after max_rounds narrowing rounds. */
static int narrowing_over(const Bisection *b) {
    if (b->round >= b->max_rounds) return 1;
    for (int j = 0; j < b->space->stage_size[b->stage]; j++) {
        const Param *p = stage_param(b, j);
        if (!integral(p) || integers_in(p, b->lo[j], b->hi[j]) > b->exhaustive_below) return 0;
    }
    return 1;
}

int bisect_round(Bisection *b) {
    const Space *s = b->space;
    if (b->stage >= s->n_stages) return 0;
    if (b->round == 0 && !b->final_round) start_stage(b);
    b->final_round = narrowing_over(b);
    int d = s->stage_size[b->stage];
    int cap = round_cap(d);
    double c[2][512];
    int n[2] = {1, 1};
    for (int j = 0; j < d; j++) n[j] = candidates(b, j, c[j], cap);
    b->n_round = 0;
    for (int a = 0; a < n[0]; a++)
        for (int k = 0; k < n[1]; k++) {
            Point p = b->held;
            p.v[s->stage[b->stage][0]] = c[0][a];
            if (d == 2) p.v[s->stage[b->stage][1]] = c[1][k];
            b->round_points[b->n_round++] = p;
        }
    return b->n_round;
}

int objective_better(double a, double b, int maximize) {
    if (isnan(a)) return 0;
    if (isnan(b)) return 1;
    return maximize ? a > b : a < b;
}

typedef struct {
    double key; /* the objective, negated when maximised: smaller is better */
    int id;
} Ranked;

static int by_key(const void *a, const void *b) {
    const Ranked *x = a, *y = b;
    int nx = isnan(x->key), ny = isnan(y->key);
    if (nx != ny) return nx - ny; /* failed trials last */
    if (!nx && x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int rank_by_objective(const double *obj, int n, int maximize, int *order) {
    Ranked *r = malloc(sizeof *r * (size_t)(n ? n : 1));
    if (!r) return -1;
    for (int i = 0; i < n; i++) r[i] = (Ranked){maximize ? -obj[i] : obj[i], i};
    qsort(r, (size_t)n, sizeof *r, by_key);
    for (int i = 0; i < n; i++) order[i] = r[i].id;
    free(r);
    return 0;
}

int objective_tied(double a, double best, double se, int maximize) {
    if (isnan(a) || isnan(best)) return 0;
    return (maximize ? best - a : a - best) <= (isnan(se) ? 0 : se);
}

/* a before b: the better objective, ties to the lower key. */
static int better(const Scored *a, const Scored *b, int maximize) {
    if (objective_better(a->objective, b->objective, maximize)) return 1;
    return a->objective == b->objective && a->key < b->key;
}

int select_point(const Space *s, const int *params, int np, int from, int to, ScoredAt at,
                 const void *ctx, int maximize, int one_se) {
    int best = -1;
    Scored b = {0}, c;
    for (int i = from; i < to; i++)
        if (at(ctx, i, &c) && !isnan(c.objective) && (best < 0 || better(&c, &b, maximize)))
            best = i, b = c;
    if (best < 0 || !one_se) return best;
    /* Breiman's rule: the simplest of the points the noise cannot tell from the best */
    int pick = best;
    Scored p = b;
    for (int i = from; i < to; i++) {
        if (!at(ctx, i, &c) || !objective_tied(c.objective, b.objective, b.se, maximize)) continue;
        int pref = point_prefer(s, params, np, c.point, p.point);
        if (pref < 0 || (pref == 0 && better(&c, &p, maximize))) pick = i, p = c;
    }
    return pick;
}

/* The stage's points seen so far, as candidates. */
static int seen_at(const void *ctx, int i, Scored *out) {
    const struct BisectSeen *p = &((const Bisection *)ctx)->seen[i];
    *out = (Scored){&p->point, p->objective, p->se, p->key};
    return 1;
}

static int stage_pick(const Bisection *b, int from) {
    const int *params = b->space->stage[b->stage];
    return select_point(b->space, params, b->space->stage_size[b->stage], from, b->n_seen,
                        seen_at, b, b->maximize, b->one_se);
}

/* The stage's value is chosen among all it has seen; the next stage starts from it. */
static void next_stage(Bisection *b) {
    int pick = stage_pick(b, 0);
    if (pick >= 0) b->held = b->seen[pick].point;
    b->stage++;
    b->round = 0;
    b->final_round = 0;
    b->n_seen = 0;
}

void bisect_consider(Bisection *b, const Point *p, double objective, double se, int key) {
    if (b->n_seen < b->seen_cap) /* seen_cap is the most a stage can see: always true */
        b->seen[b->n_seen++] = (struct BisectSeen){*p, objective, se, key};
}

void bisect_advance(Bisection *b, const double *objective, const double *se, const int *key) {
    int from = b->n_seen;
    for (int i = 0; i < b->n_round; i++)
        bisect_consider(b, &b->round_points[i], objective[i], se ? se[i] : NAN, key ? key[i] : i);
    int pick = stage_pick(b, from);
    if (pick < 0 || b->final_round) { /* the last round, or every point diverged or failed */
        next_stage(b);
        return;
    }
    const Space *s = b->space;
    const Point *bp = &b->seen[pick].point;
    for (int j = 0; j < s->stage_size[b->stage]; j++) {
        const Param *p = stage_param(b, j);
        double lo = b->lo[j], hi = b->hi[j], mid = (lo + hi) / 2;
        double v = bp->v[s->stage[b->stage][j]];
        double vlo = value_at(p, lo), vmid = value_at(p, mid), vhi = value_at(p, hi);
        if (v == vlo && v != vmid) b->hi[j] = mid;
        else if (v == vhi && v != vmid) b->lo[j] = mid;
        else b->lo[j] = (lo + mid) / 2, b->hi[j] = (mid + hi) / 2;
    }
    b->round++;
}
