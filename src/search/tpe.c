/* The Tree-structured Parzen Estimator (Bergstra et al. 2011), as Optuna's
 * independent TPE sampler does it: the observed trials split into the good
 * (the best min(ceil(n/10), 25)) and the rest; each parameter gets a Parzen
 * estimator of each group in its scale (log10 for scale "log"); the new point
 * is the one of `candidates` draws from the good estimator with the largest
 * sum over the parameters of log l(x) - log g(x). A plain function of the
 * observations and (seed, trial): no state, so that it is deterministic. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "search.h"

#define TPE_MAX_OBS 4096 /* the most recent observations an estimator reads */

typedef struct {
    int n;        /* components: the observations, then the prior */
    double lo, hi; /* the parameter's interval in its scale */
    double mu[TPE_MAX_OBS + 1], sigma[TPE_MAX_OBS + 1];
} Parzen;

static double scaled(const Param *p, double v) { return p->log ? log10(v) : v; }

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Components at each observation, plus a prior at the interval's middle as wide
 * as the interval; each observation's width is the larger gap to its
 * neighbours (the interval's ends beyond the last), clipped to
 * [(hi - lo) / min(100, n + 1), hi - lo]. */
static void parzen_fit(Parzen *z, const Param *p, const double *v, int n) {
    z->lo = p->log ? log10(p->min) : p->min;
    z->hi = p->log ? log10(p->max) : p->max;
    double range = z->hi - z->lo > 0 ? z->hi - z->lo : 1.0;
    double sorted[TPE_MAX_OBS];
    for (int i = 0; i < n; i++) sorted[i] = scaled(p, v[i]);
    qsort(sorted, (size_t)n, sizeof *sorted, by_value);
    double min_sigma = range / (n + 1 < 100 ? n + 1 : 100);
    for (int i = 0; i < n; i++) {
        double left = sorted[i] - (i > 0 ? sorted[i - 1] : z->lo);
        double right = (i + 1 < n ? sorted[i + 1] : z->hi) - sorted[i];
        double s = left > right ? left : right;
        z->mu[i] = sorted[i];
        z->sigma[i] = s < min_sigma ? min_sigma : s > range ? range : s;
    }
    z->mu[n] = (z->lo + z->hi) / 2;
    z->sigma[n] = range;
    z->n = n + 1;
}

static double phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

/* log of the mixture's density at x, each component truncated to [lo, hi]. */
static double parzen_logpdf(const Parzen *z, double x) {
    double sum = 0;
    for (int i = 0; i < z->n; i++) {
        double s = z->sigma[i], u = (x - z->mu[i]) / s;
        double mass = phi((z->hi - z->mu[i]) / s) - phi((z->lo - z->mu[i]) / s);
        if (mass > 0) sum += exp(-0.5 * u * u) / (s * 2.5066282746310002 /* sqrt(2 pi) */ * mass);
    }
    return log(sum / z->n + 1e-300);
}

/* A draw from the mixture, within [lo, hi] (redrawn when outside; clamped after
 * 100 tries). */
static double parzen_draw(const Parzen *z, Rng *r) {
    int i = (int)rng_below(r, (uint64_t)z->n);
    double x = z->mu[i];
    for (int t = 0; t < 100; t++) {
        x = z->mu[i] + z->sigma[i] * rng_normal(r);
        if (x >= z->lo && x <= z->hi) return x;
    }
    return x < z->lo ? z->lo : z->hi;
}

/* A values list: the group's counts with one observation's weight spread evenly
 * over the values (Optuna's prior weight 1). */
static double values_logpmf(const Param *p, const double *v, int n, double x) {
    int count = 0;
    for (int i = 0; i < n; i++) count += v[i] == x;
    return log((count + 1.0 / p->n_values) / (n + 1.0));
}

static int values_draw(const Param *p, const double *v, int n, Rng *r) {
    double u = rng_uniform(r) * (n + 1.0);
    for (int c = 0; c < p->n_values; c++) {
        int count = 0;
        for (int i = 0; i < n; i++) count += v[i] == c;
        u -= count + 1.0 / p->n_values;
        if (u < 0) return c;
    }
    return p->n_values - 1;
}

/* The ids best first (rank_by_objective); returns how many make the good group. */
static int rank_trials(const double *obj, int n, int maximize, int *order) {
    if (rank_by_objective(obj, n, maximize, order)) return -1;
    int good = (n + 9) / 10;
    return good > 25 ? 25 : good;
}

int tpe_point(const Space *s, uint64_t seed, long i, const Point *obs, const double *obj, int n,
              int maximize, int startup, int candidates, Point *out) {
    if (n < startup || n < 2) {
        random_point(s, seed, i, out);
        return AE_OK;
    }
    if (n > TPE_MAX_OBS) { /* the most recent ones */
        obs += n - TPE_MAX_OBS;
        obj += n - TPE_MAX_OBS;
        n = TPE_MAX_OBS;
    }
    int *order = malloc(sizeof *order * (size_t)n);
    double *good = malloc(sizeof *good * (size_t)n), *bad = malloc(sizeof *bad * (size_t)n);
    Parzen *l = malloc(sizeof *l), *g = malloc(sizeof *g);
    int n_good = order ? rank_trials(obj, n, maximize, order) : -1;
    if (n_good < 0 || !good || !bad || !l || !g) {
        free(order), free(good), free(bad), free(l), free(g);
        return AE_ERUN;
    }
    int n_bad = n - n_good;
    Rng r;
    rng_seed(&r, seed_mix(seed_mix(seed, RNG_TPE), (uint64_t)i));
    double score[256] = {0};
    Point cand[256];
    if (candidates > 256) candidates = 256;
    for (int c = 0; c < candidates; c++)
        for (int k = 0; k < SEARCH_MAX_PARAMS; k++) cand[c].v[k] = NAN;
    for (int k = 0; k < s->n_params; k++) {
        const Param *p = &s->param[k];
        for (int j = 0; j < n; j++) {
            double v = obs[order[j]].v[k];
            if (j < n_good) good[j] = v;
            else bad[j - n_good] = v;
        }
        if (p->kind == PARAM_VALUES) {
            for (int c = 0; c < candidates; c++) {
                double x = values_draw(p, good, n_good, &r);
                cand[c].v[k] = x;
                score[c] += values_logpmf(p, good, n_good, x) - values_logpmf(p, bad, n_bad, x);
            }
            continue;
        }
        parzen_fit(l, p, good, n_good);
        parzen_fit(g, p, bad, n_bad);
        for (int c = 0; c < candidates; c++) {
            double u = parzen_draw(l, &r);
            score[c] += parzen_logpdf(l, u) - parzen_logpdf(g, u);
            double x = p->log ? pow(10.0, u) : u;
            cand[c].v[k] = p->kind == PARAM_INT ? floor(x + 0.5) : x;
        }
    }
    int best = 0;
    for (int c = 1; c < candidates; c++)
        if (score[c] > score[best]) best = c;
    *out = cand[best];
    free(order), free(good), free(bad), free(l), free(g);
    return AE_OK;
}
