/* The search: its space (search.space, search.stages), the three strategies as
 * plain functions of their state (SPEC §4), and the driver that turns them into
 * trials. No MPI and no HDF5 here: tests drive it with synthetic objectives. */
#ifndef AESWEEP_SEARCH_H
#define AESWEEP_SEARCH_H

#include <stdint.h>

#include "err.h"
#include "spec.h"

#define SEARCH_MAX_PARAMS 16
#define SEARCH_MAX_VALUES 64
#define SEARCH_MAX_STAGES 16
#define SEARCH_MAX_TRIALS 1000000 /* a grid's points, search.trials */

typedef enum { PARAM_REAL, PARAM_INT, PARAM_VALUES } ParamKind;

typedef struct {
    char name[64]; /* as written in search.space: "lr", or a dotted key "train.optimizer" */
    char key[64];  /* the job key it sets: "train.lr" */
    ParamKind kind;
    double min, max; /* PARAM_REAL, PARAM_INT */
    int log;         /* scale: "log": intervals and means are taken in log10 */
    int list;        /* the key is a list of widths (model.hidden, classifier.hidden): a
                        range sets a one-element list, [x] */
    int points;      /* grid: evenly spaced points in its scale (0: not given) */
    int prefer;      /* the simpler end, for search.select one_se: -1 "low", +1 "high", 0 */
    int n_values;
    char *values[SEARCH_MAX_VALUES]; /* PARAM_VALUES: compact JSON text of each (owned) */
} Param;

typedef struct {
    int n_params;
    Param param[SEARCH_MAX_PARAMS];
    int n_stages;
    int stage_size[SEARCH_MAX_STAGES]; /* 1 or 2 */
    int stage[SEARCH_MAX_STAGES][2];   /* parameter indices */
} Space;

/* One coordinate per parameter: the value (REAL, INT) or the index into values
 * (VALUES); NaN leaves the job's own value. */
typedef struct {
    double v[SEARCH_MAX_PARAMS];
} Point;

/* Reads job->space and job->stages; every fault is AE_EINPUT naming
 * "FILE: search.space.NAME.FIELD". Values are checked by applying them to the job. */
int space_parse(const Job *job, Space *s, Err *e);
void space_free(Space *s);
/* What space_parse asks of a strategy (its row's parse_space): the grid needs
 * values or points for every parameter and at most SEARCH_MAX_TRIALS points;
 * bisection reads search.stages (default: one stage per parameter). */
int space_check_grid(const Job *job, Space *s, Err *e);
int space_parse_stages(const Job *job, Space *s, Err *e);
int space_check_none(const Job *job, Space *s, Err *e);
/* Index of the parameter called name, or -1. */
int space_find(const Space *s, const char *name);
/* The parameter that sets the job key (train.batch_size), however it is named; or -1. */
int space_find_key(const Space *s, const char *key);
/* The largest number a parameter can set: its largest value (a values list read as
 * numbers), or its max (rounded for an integer range). */
double param_largest(const Param *p);
/* Can the parameter set a value in [lo, hi]? A range that reaches into it (an
 * integer range: an integer in it), or a values list holding a number in it. */
int param_can_take(const Param *p, double lo, double hi);

/* The --set overrides of a point ("train.lr=0.001"), written into buf; sets[i]
 * point into buf. Returns the count, or -1 when buf is too small. */
int point_overrides(const Space *s, const Point *p, char *buf, size_t n, const char **sets,
                    int max);
/* "lr=0.001 batch_size=128" for progress lines. */
void point_describe(const Space *s, const Point *p, char *buf, size_t n);
/* The job of a point: job_parse of the base job's JSON with the point's overrides. */
int point_job(const Job *base, const Space *s, const Point *p, Job *out, Err *e);
int point_equal(const Space *s, const Point *a, const Point *b);
/* A coordinate as a number: the value, or a values list's entry read as one. */
double param_number(const Param *p, double v);
/* Which of a and b the parameters params[0..n) prefer ("prefer": low or high),
 * the first parameter that tells them apart deciding: -1 a, +1 b, 0 neither. */
int point_prefer(const Space *s, const int *params, int n, const Point *a, const Point *b);
/* The job's own value of every parameter as a point (so that a point that sets a
 * parameter to the job's value is recognised as the same configuration); NaN
 * where the job's value is not one of a values list. */
void space_defaults(const Job *job, const Space *s, Point *out);

/* ---- strategies ---- */

/* grid: the product of each parameter's values, or `points` evenly spaced in its
 * scale (integers rounded half up, duplicates dropped), first parameter slowest.
 * grid_size stops counting past SEARCH_MAX_TRIALS (it returns SEARCH_MAX_TRIALS + 1),
 * so that it cannot overflow; space_parse refuses such a grid. */
long grid_size(const Space *s);
void grid_point(const Space *s, long i, Point *out);

/* random: trial i from a generator seeded by (seed, i) alone: uniform in each
 * parameter's scale (integers rounded half up), uniform over values. */
void random_point(const Space *s, uint64_t seed, long i, Point *out);

/* tpe (Bergstra et al. 2011; Optuna's independent TPE sampler): trial i's point
 * from the n observed trials obs[0..n) and their objectives (NaN: failed; they
 * count among the bad): random_point(seed, i) below `startup` observations;
 * then the best min(ceil(n/10), 25) make the good group, each parameter gets a
 * Parzen estimator per group in its scale (a values list: smoothed counts), and
 * the point is the one of `candidates` draws from the good estimators (from
 * (seed, i) alone) that maximises the sum of log l(x) - log g(x). AE_ERUN when
 * memory runs out. */
int tpe_point(const Space *s, uint64_t seed, long i, const Point *obs, const double *obj, int n,
              int maximize, int startup, int candidates, Point *out);

/* ---- choosing among evaluated points ---- */

/* A point a strategy can choose: its mean over folds, the standard error of that
 * mean, and its tie-break key (the trial id). */
typedef struct {
    const Point *point;
    double objective, se;
    int key;
} Scored;

/* Fills *out with candidate i; 0 leaves i out (failed, or not comparable). */
typedef int (*ScoredAt)(const void *ctx, int i, Scored *out);

/* Is a within one standard error (se, the best's) of the best objective? */
int objective_tied(double a, double best, double se, int maximize);

/* The chosen one of candidates [from, to) (SPEC §4 with search.select): the best
 * objective, ties to the lower key; with one_se, among the candidates tied with
 * that best (objective_tied, the best's se), the one the parameters params[0..np)
 * prefer (point_prefer), then the better objective, then the lower key. Returns
 * its index, -1 when none has an objective. */
int select_point(const Space *s, const int *params, int np, int from, int to, ScoredAt at,
                 const void *ctx, int maximize, int one_se);

/* bisection (SPEC §4): stages in order; each round evaluates {lo, mid, hi}^d of
 * the stage's parameters with all others at their best so far, then narrows;
 * a last round evaluates what is left. */
typedef struct {
    const Space *space;
    int exhaustive_below, max_rounds, maximize, one_se;
    int stage;       /* current stage; = n_stages when done */
    int round;       /* rounds evaluated in this stage */
    int final_round; /* the current round is the stage's last (exhaustive) one */
    double lo[2], hi[2]; /* the stage's intervals, in scale */
    Point held;      /* every parameter at its chosen value so far (NaN: the job's value) */
    int n_round;
    Point round_points[512];
    /* every point this stage has evaluated, its rounds in order (and under one_se
     * first the point it started from): the stage's value is chosen among them all
     * (owned; room for that point, max_rounds narrowing rounds of 9 points and a
     * last round of 512: never full) */
    struct BisectSeen {
        Point point;
        double objective, se;
        int key;
    } *seen;
    int n_seen, seen_cap;
} Bisection;

/* AE_ERUN when memory runs out; bisect_free releases what it took. */
int bisect_init(Bisection *b, const Space *s, const Point *start, int exhaustive_below,
                int max_rounds, int maximize, int one_se, Err *e);
void bisect_free(Bisection *b);
/* The points of the current round (duplicates dropped) in b->round_points;
 * returns their count, 0 when the search is over. */
int bisect_round(Bisection *b);
/* objective[i] and se[i] of round_points[i] (NaN: diverged or failed, never
 * chosen; se may be NULL for the rule "best"): the round's chosen point
 * (select_point over the round) narrows the intervals, or the stage ends. Ties
 * go to the lower key[i] (the trial id; NULL: the round's order). The stage's
 * value is chosen among every point it evaluated in any of its rounds, so it is
 * the last round's choice unless an earlier round saw a better point outside
 * the last interval. */
void bisect_advance(Bisection *b, const double *objective, const double *se, const int *key);
/* One more candidate for the stage's value that no round of it evaluates: the
 * point the stage started from (the driver adds it under one_se, so that a
 * stage keeps its start when nothing it tries is as good). Before its first
 * bisect_advance. */
void bisect_consider(Bisection *b, const Point *p, double objective, double se, int key);
/* The interval of stage parameter j this round, in value units (unrounded). */
void bisect_interval(const Bisection *b, int j, double *lo, double *hi);
/* The most points the last round of a stage can hold (what `validate` plans for). */
long bisect_last_round_max(const Space *s, int stage, int exhaustive_below, int max_rounds);

/* ---- the driver: strategies as trials ---- */

typedef enum {
    TRIAL_UNRELEASED = -2, /* hyperband: an id its plan holds for a later rung */
    TRIAL_PENDING = -1,
    TRIAL_OK = 0,
    TRIAL_DIVERGED = 1,
    TRIAL_FAILED = 2
} TrialStatus;

typedef struct {
    Point point;
    int stage, round; /* bisection: stage and round; hyperband: bracket and rung; else -1 */
    int budget;       /* epochs to train to (a hyperband rung); 0: all of train.epochs */
    int lineage;      /* the trial whose checkpoints it goes on from (a hyperband
                         configuration's first rung); itself otherwise */
    double objective; /* mean over folds; NaN unless TRIAL_OK */
    double se;        /* the standard error of that mean (NaN with one fold) */
    int status;
    int promoted;     /* asha: a later trial goes on from this one */
} Trial;

/* hyperband: one rung of one bracket, a block of trial ids fixed by the plan. */
typedef struct {
    int bracket, rung, rungs; /* rungs: of its bracket */
    int first, n;             /* its trials: ids [first, first + n) */
    int budget;               /* epochs */
    int config0;              /* rung 0: the index of its first configuration */
    int released, done;
} Rung;

/* One bisection round as it started: the stage's parameters (indices into the
 * space) and their intervals in value units (indices for values lists); chosen:
 * the stage's value of each, on its last round once the stage has ended (NaN
 * before). */
typedef struct {
    int stage, round, final, n_params;
    int param[2];
    double lo[2], hi[2], chosen[2];
} RoundLog;

typedef struct Search Search;

/* A strategy as the driver sees it (one row per spec.h Strategy, as hpc/ior
 * tables its backends): its state starts from the job, it adds the trials that
 * are ready when asked, it hears of each pending trial's result (after the
 * driver has recorded it), and it says when it has no more to add. */
typedef struct {
    int (*parse_space)(const Job *job, Space *s, Err *e); /* its checks of search.space */
    int (*init)(Search *s, const Job *job, Err *e);
    int (*release)(Search *s, Err *e);
    void (*complete)(Search *s, int trial);
    int (*done)(const Search *s);
    int (*chosen)(const Search *s); /* the trial search.select one_se takes at the end */
    int adaptive; /* adds trials as results arrive: the total is not known ahead */
    int rounds;   /* keeps a RoundLog (bisection), written to the results file */
    int continues; /* trials go on from earlier trials' checkpoints (Trial.lineage) */
} StrategyOps;

extern const StrategyOps *const strategy_ops[STRATEGY_COUNT];

struct Search {
    const Space *space;
    Strategy strategy;
    const StrategyOps *ops;
    int maximize, one_se;
    uint64_t seed;
    int startup, lag, candidates; /* tpe */
    int complete_prefix;          /* trials [0, complete_prefix) are all complete */
    long total;       /* grid/random/hyperband: the number of trials; bisection: grows */
    Trial *trials;
    int n_trials, cap;
    int released;     /* trials handed out so far */
    int *fresh;       /* the ids the last search_release handed out */
    int n_fresh, fresh_cap;
    int *ended;       /* lineages no later trial goes on from (their checkpoints can go) */
    int n_ended, ended_cap;
    int eta, min_epochs, max_epochs, brackets; /* hyperband, asha */
    Rung *rungs;
    int n_rungs;
    int configs;      /* asha: configurations started so far */
    int sampler;      /* hyperband, asha: Sampler of new configurations */
    int top_rung;     /* asha: the rung at train.epochs */
    int *ranked;      /* asha: the trials its decisions have seen, by rung (highest
                         first), best first within a rung */
    int n_ranked;
    int pending;      /* trials not complete yet */
    int best;         /* the best complete trial so far, or -1: kept as trials complete,
                         so that the coordinator's work per result is O(1) */
    Bisection bis;
    int round_trial[512]; /* bisection: the trial of each round point */
    int n_round, round_pending;
    RoundLog *rounds;     /* bisection: every round so far, in order */
    int n_rounds, rounds_cap;
};

int search_init(Search *s, const Job *job, const Space *space, Err *e);
void search_free(Search *s);
/* Trials ready to run: their ids in *ids (valid until the next call), in the
 * order to run them; returns their count (0 when none is ready until more
 * complete, or the search is over), -1 on failure. */
int search_release(Search *s, const int **ids, Err *e);
/* Lineages that have ended since the last call (*ids valid until the next). */
int search_ended(Search *s, const int **ids);
/* A trial's result: its mean and the standard error of the mean (NaN with one
 * fold); bisection moves on once its whole round is in. */
void search_complete(Search *s, int trial, double objective, double se, int status);
int search_done(const Search *s);
/* The best trial so far (status ok; ties to the lower id), or -1. */
int search_best(const Search *s);
/* The trial the search chooses once it is over, the one refit: search_best under
 * search.select "best"; under "one_se", bisection's final configuration (each
 * stage's value chosen by the rule), and for the other strategies the rule over
 * every trial trained as long as the best (hyperband, asha: its rung's epochs),
 * the parameters in the order of search.space. -1 when none is ok. */
int search_chosen(const Search *s);
/* hyperband and asha: their rungs in words, for validate ("" for others). */
void halving_describe(const Search *s, char *buf, size_t n);
/* Is a better than b under the search's direction? NaN is never better. */
int objective_better(double a, double b, int maximize);
/* order[0..n): the indices of obj best first (a NaN last, ties to the lower
 * index), as every strategy ranks trials; -1 when memory runs out. */
int rank_by_objective(const double *obj, int n, int maximize, int *order);

#endif
