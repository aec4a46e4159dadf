/* The driver: the strategies' points become trials, released as they are ready. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "search.h"

int search_init(Search *s, const Job *job, const Space *space, Err *e) {
    memset(s, 0, sizeof *s);
    s->space = space;
    s->strategy = (Strategy)job->search.strategy;
    s->ops = strategy_ops[s->strategy];
    s->maximize = job->search.objective != OBJ_VAL_MSE;
    s->one_se = job->search.select == SELECT_ONE_SE;
    s->seed = (uint64_t)job->seed;
    s->best = -1;
    if (s->ops->init(s, job, e)) return e->code;
    if (s->total > SEARCH_MAX_TRIALS) /* space_parse refuses such a grid first */
        return err_set(e, AE_EINPUT, "%s: search: more than %d trials", job->source,
                       SEARCH_MAX_TRIALS);
    return AE_OK;
}

void search_free(Search *s) {
    free(s->trials);
    free(s->rounds);
    free(s->fresh);
    free(s->ended);
    free(s->rungs);
    free(s->ranked);
    bisect_free(&s->bis);
    memset(s, 0, sizeof *s);
}

int search_push(int **a, int *n, int *cap, int v, Err *e) {
    if (*n == *cap) {
        int c = *cap ? 2 * *cap : 64;
        int *m = realloc(*a, sizeof *m * (size_t)c);
        if (!m) return err_set(e, AE_ERUN, "out of memory");
        *a = m;
        *cap = c;
    }
    (*a)[(*n)++] = v;
    return AE_OK;
}

int search_reserve(Search *s, int n, Err *e) {
    if (n > s->cap) {
        int cap = s->cap ? s->cap : 64;
        while (cap < n) cap *= 2;
        Trial *t = realloc(s->trials, sizeof *t * (size_t)cap);
        if (!t) return err_set(e, AE_ERUN, "out of memory");
        s->trials = t;
        s->cap = cap;
    }
    for (; s->n_trials < n; s->n_trials++)
        s->trials[s->n_trials] = (Trial){.stage = -1, .round = -1, .lineage = s->n_trials,
                                         .objective = NAN, .se = NAN,
                                         .status = TRIAL_UNRELEASED};
    return AE_OK;
}

int search_place(Search *s, int id, const Point *p, int stage, int round, int budget,
                 int lineage, Err *e) {
    s->trials[id] = (Trial){.point = *p, .stage = stage, .round = round, .budget = budget,
                            .lineage = lineage, .objective = NAN, .se = NAN,
                            .status = TRIAL_PENDING};
    s->pending++;
    return search_push(&s->fresh, &s->n_fresh, &s->fresh_cap, id, e);
}

int search_end_lineage(Search *s, int lineage, Err *e) {
    return search_push(&s->ended, &s->n_ended, &s->ended_cap, lineage, e);
}

static int add_trial(Search *s, const Point *p, int stage, int round, Err *e) {
    int id = s->n_trials;
    if (search_reserve(s, id + 1, e) || search_place(s, id, p, stage, round, 0, id, e)) return -1;
    return id;
}

static int find_trial(const Search *s, const Point *p) {
    for (int i = 0; i < s->n_trials; i++)
        if (point_equal(s->space, &s->trials[i].point, p)) return i;
    return -1;
}

/* A round into the log, as it starts: its stage, its intervals. */
static int log_round(Search *s, Err *e) {
    const Bisection *b = &s->bis;
    if (s->n_rounds == s->rounds_cap) {
        int cap = s->rounds_cap ? 2 * s->rounds_cap : 16;
        RoundLog *r = realloc(s->rounds, sizeof *r * (size_t)cap);
        if (!r) return err_set(e, AE_ERUN, "out of memory");
        s->rounds = r;
        s->rounds_cap = cap;
    }
    RoundLog *r = &s->rounds[s->n_rounds++];
    *r = (RoundLog){.stage = b->stage, .round = b->round, .final = b->final_round,
                    .n_params = s->space->stage_size[b->stage],
                    .chosen = {NAN, NAN}};
    for (int j = 0; j < r->n_params; j++) {
        r->param[j] = s->space->stage[b->stage][j];
        bisect_interval(b, j, &r->lo[j], &r->hi[j]);
    }
    return AE_OK;
}

/* The round is complete: the strategy takes its best point. When that ends the
 * stage, the log's last round gets the stage's chosen values. */
static void advance(Search *s) {
    Bisection *b = &s->bis;
    int stage = b->stage;
    double obj[512], se[512];
    for (int i = 0; i < s->n_round; i++) {
        obj[i] = s->trials[s->round_trial[i]].objective;
        se[i] = s->trials[s->round_trial[i]].se;
    }
    bisect_advance(b, obj, se, s->round_trial);
    if (b->stage != stage && s->n_rounds > 0) {
        RoundLog *r = &s->rounds[s->n_rounds - 1];
        for (int j = 0; j < r->n_params; j++) r->chosen[j] = b->held.v[r->param[j]];
    }
}

/* The next bisection round whose points are not all known: new points become
 * trials, known ones are reused, and rounds answered entirely by earlier trials
 * advance at once. */
static int release_round(Search *s, Err *e) {
    while (bisect_round(&s->bis) > 0) {
        Bisection *b = &s->bis;
        if (log_round(s, e)) return AE_ERUN;
        int start = b->n_seen == 0 && s->one_se ? find_trial(s, &b->held) : -1;
        if (start >= 0) /* a stage's first round: one_se may keep where it started */
            bisect_consider(b, &b->held, s->trials[start].objective, s->trials[start].se, start);
        s->n_round = b->n_round;
        s->round_pending = 0;
        for (int i = 0; i < b->n_round; i++) {
            int t = find_trial(s, &b->round_points[i]);
            if (t < 0 && (t = add_trial(s, &b->round_points[i], b->stage, b->round, e)) < 0)
                return AE_ERUN;
            s->round_trial[i] = t;
            s->round_pending += s->trials[t].status == TRIAL_PENDING;
        }
        if (s->round_pending > 0) return AE_OK;
        advance(s);
    }
    s->n_round = 0;
    return AE_OK;
}

int search_release(Search *s, const int **ids, Err *e) {
    s->n_fresh = 0;
    if (s->ops->release(s, e)) return -1;
    s->released += s->n_fresh;
    *ids = s->fresh;
    return s->n_fresh;
}

int search_ended(Search *s, const int **ids) {
    int n = s->n_ended;
    *ids = s->ended;
    s->n_ended = 0;
    return n;
}

void search_complete(Search *s, int trial, double objective, double se, int status) {
    Trial *t = &s->trials[trial];
    int was_pending = t->status == TRIAL_PENDING;
    t->status = status;
    t->objective = status == TRIAL_OK ? objective : NAN;
    t->se = status == TRIAL_OK ? se : NAN;
    s->pending -= was_pending;
    /* NaN never wins: a trial can finish OK with an objective that has no value
     * (latent_accuracy of a code narrower than the class count). */
    if (status == TRIAL_OK && !isnan(t->objective)) {
        const Trial *b = s->best >= 0 ? &s->trials[s->best] : NULL;
        if (!b || objective_better(t->objective, b->objective, s->maximize) ||
            (t->objective == b->objective && trial < s->best))
            s->best = trial;
    }
    if (was_pending) s->ops->complete(s, trial);
}

int search_done(const Search *s) { return s->pending == 0 && s->ops->done(s); }

int search_best(const Search *s) { return s->best; }

int search_chosen(const Search *s) {
    return s->one_se && s->best >= 0 ? s->ops->chosen(s) : s->best;
}

typedef struct {
    const Search *s;
    int epochs; /* the best's: trials trained for other epochs are not compared with it */
} AmongTrials;

/* The epochs a trial trains to (hyperband, asha: its rung's; 0 for the others). */
static int epochs_of(const Search *s, const Trial *t) { return t->budget ? t->budget : s->max_epochs; }

static int trial_at(const void *ctx, int i, Scored *out) {
    const AmongTrials *a = ctx;
    const Trial *t = &a->s->trials[i];
    *out = (Scored){&t->point, t->objective, t->se, i};
    return t->status == TRIAL_OK && epochs_of(a->s, t) == a->epochs;
}

int search_chosen_among_trials(const Search *s) {
    int params[SEARCH_MAX_PARAMS];
    for (int k = 0; k < s->space->n_params; k++) params[k] = k;
    AmongTrials a = {s, epochs_of(s, &s->trials[s->best])};
    return select_point(s->space, params, s->space->n_params, 0, s->n_trials, trial_at, &a,
                        s->maximize, 1);
}

/* ---- the strategies as the driver sees them ---- */

/* grid and random: every trial is known from the start. */
static int grid_init(Search *s, const Job *job, Err *e) {
    (void)job, (void)e;
    s->total = grid_size(s->space);
    return AE_OK;
}

static int random_init(Search *s, const Job *job, Err *e) {
    (void)e;
    s->total = job->search.trials;
    return AE_OK;
}

/* Trials [n_trials, total) from point(s, i). */
static int fixed_release(Search *s, void (*point)(const Search *, long, Point *), Err *e) {
    for (long i = s->n_trials; i < s->total; i++) {
        Point p;
        point(s, i, &p);
        if (add_trial(s, &p, -1, -1, e) < 0) return AE_ERUN;
    }
    return AE_OK;
}

static void grid_at(const Search *s, long i, Point *p) { grid_point(s->space, i, p); }
static void random_at(const Search *s, long i, Point *p) { random_point(s->space, s->seed, i, p); }
static int grid_release(Search *s, Err *e) { return fixed_release(s, grid_at, e); }
static int random_release(Search *s, Err *e) { return fixed_release(s, random_at, e); }

static void fixed_complete(Search *s, int trial) { (void)s, (void)trial; }

static int fixed_done(const Search *s) { return s->n_trials >= s->total; }

/* bisection: a round at a time, the next once the last is in. */
static int bisection_init(Search *s, const Job *job, Err *e) {
    Point start;
    space_defaults(job, s->space, &start);
    return bisect_init(&s->bis, s->space, &start, job->search.exhaustive_below,
                       job->search.max_rounds, s->maximize, s->one_se, e);
}

/* The configuration the stages arrived at: each stage's value chosen by the rule. */
static int bisection_chosen(const Search *s) {
    int t = find_trial(s, &s->bis.held);
    return t >= 0 && s->trials[t].status == TRIAL_OK && !isnan(s->trials[t].objective) ? t
                                                                                        : s->best;
}

static int bisection_release(Search *s, Err *e) {
    return s->round_pending == 0 && release_round(s, e) ? AE_ERUN : AE_OK;
}

static void bisection_complete(Search *s, int trial) {
    for (int i = 0; i < s->n_round; i++)
        if (s->round_trial[i] == trial) {
            if (--s->round_pending == 0) advance(s);
            break;
        }
}

static int bisection_done(const Search *s) { return s->bis.stage >= s->space->n_stages; }

/* tpe: trial k is released once trials [0, k - lag) are complete, and its point
 * reads exactly those: which results came first never matters (SPEC §6). */
static int tpe_init(Search *s, const Job *job, Err *e) {
    (void)e;
    s->total = job->search.trials;
    s->startup = job->search.startup_trials;
    s->lag = job->search.lag;
    s->candidates = job->search.candidates;
    return AE_OK;
}

#define TPE_WINDOW 4096 /* tpe_point reads at most the last this many */

static int tpe_release(Search *s, Err *e) {
    while (s->n_trials < s->total && s->n_trials - s->lag <= s->complete_prefix) {
        int n = s->n_trials - s->lag > 0 ? s->n_trials - s->lag : 0;
        int from = n > TPE_WINDOW ? n - TPE_WINDOW : 0;
        Point *obs = malloc(sizeof *obs * (size_t)(n - from + 1));
        double *obj = malloc(sizeof *obj * (size_t)(n - from + 1));
        Point p;
        int rc = obs && obj ? AE_OK : AE_ERUN;
        for (int i = from; i < n && !rc; i++) {
            obs[i - from] = s->trials[i].point;
            obj[i - from] = s->trials[i].objective;
        }
        if (!rc)
            rc = tpe_point(s->space, s->seed, s->n_trials, obs, obj, n - from, s->maximize,
                           s->startup, s->candidates, &p);
        free(obs);
        free(obj);
        if (rc || add_trial(s, &p, -1, -1, e) < 0)
            return rc ? err_set(e, AE_ERUN, "tpe: out of memory") : AE_ERUN;
    }
    return AE_OK;
}

void search_complete_prefix(Search *s) {
    while (s->complete_prefix < s->n_trials &&
           s->trials[s->complete_prefix].status != TRIAL_PENDING)
        s->complete_prefix++;
}

static const StrategyOps grid_ops = {space_check_grid, grid_init, grid_release, fixed_complete,
                                     fixed_done, search_chosen_among_trials, 0, 0, 0};
static const StrategyOps random_ops = {space_check_none, random_init, random_release,
                                       fixed_complete, fixed_done, search_chosen_among_trials,
                                       0, 0, 0};
static const StrategyOps bisection_ops = {space_parse_stages, bisection_init, bisection_release,
                                          bisection_complete, bisection_done, bisection_chosen,
                                          1, 1, 0};

static void tpe_complete(Search *s, int trial) {
    (void)trial;
    search_complete_prefix(s);
}

static const StrategyOps tpe_ops = {space_check_none, tpe_init, tpe_release, tpe_complete,
                                    fixed_done, search_chosen_among_trials, 1, 0, 0};

const StrategyOps *const strategy_ops[STRATEGY_COUNT] = {
    [STRATEGY_GRID] = &grid_ops, [STRATEGY_RANDOM] = &random_ops,
    [STRATEGY_BISECTION] = &bisection_ops, [STRATEGY_TPE] = &tpe_ops,
    [STRATEGY_HYPERBAND] = &hyperband_ops, [STRATEGY_ASHA] = &asha_ops};
