/* Successive halving over epochs: hyperband and asha.
 *
 * hyperband (Li et al., JMLR 2018): brackets of successive halving over epochs.
 * Bracket s starts n configurations at train.epochs * eta^-s epochs and keeps
 * the best 1/eta of each rung for the next, eta times longer, until
 * train.epochs; the brackets go from the most aggressive (s_max) to plain
 * random search (s = 0), then around again for search.brackets brackets.
 *
 * Every trial id is fixed by the plan: bracket by bracket, rung by rung, each
 * rung a block. A rung is decided when all its trials are in, from their
 * results alone, and its block of ids filled in objective order (ties to the
 * lower id): whatever order results arrive in, at any rank count, the trials
 * and their ids are the same (SPEC §6). A promoted trial goes on from its
 * configuration's checkpoints (Trial.lineage); it never trains from epoch 0.
 * Brackets overlap: bracket b starts once bracket b - 1's first rung is in,
 * so workers train the next bracket while a rung's last trials finish.
 *
 * asha (Li et al., MLSys 2020): one bracket, asynchronous: each free slot goes
 * to the best trial of the highest rung that is in the top 1/eta of its rung
 * and not yet promoted, else to a new configuration at the first rung. Made
 * deterministic by the lag rule: trial k is decided once trials [0, k - L)
 * are complete, from exactly their results and decisions [0, k). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

/* The most halvings from train.epochs down to no less than min_epochs. */
static int most_halvings(int eta, int min_epochs, int epochs) {
    int s = 0;
    for (double r = epochs; r / eta >= min_epochs; r /= eta) s++;
    return s;
}

static long power(int eta, int k) {
    long p = 1;
    while (k-- > 0) p *= eta;
    return p;
}

/* Rung k of a bracket with s halvings: its epochs (0: all of them). */
static int rung_budget(const Search *s, int halvings, int k) {
    if (k == halvings) return 0;
    double r = floor(s->max_epochs * pow(s->eta, k - halvings) + 0.5);
    return r < s->min_epochs ? s->min_epochs : (int)r;
}

/* Configurations a bracket with s halvings starts: ceil((s_max+1)/(s+1) eta^s). */
static long bracket_size(int s_max, int halvings, int eta) {
    return ((long)(s_max + 1) * power(eta, halvings) + halvings) / (halvings + 1);
}

static int n_brackets(const Search *s, int s_max) {
    return s->brackets > 0 ? s->brackets : s_max + 1;
}

/* Walks the plan: fills out[] (when given) with every rung in id order and
 * sets n_rungs; returns the trial count. */
static long plan(Search *s, Rung *out) {
    int s_max = s->top_rung;
    long id = 0, configs = 0;
    int g = 0;
    for (int b = 0; b < n_brackets(s, s_max); b++) {
        int halvings = s_max - b % (s_max + 1);
        long n0 = bracket_size(s_max, halvings, s->eta);
        for (int k = 0; k <= halvings; k++) {
            long n = n0 / power(s->eta, k);
            if (n < 1) n = 1;
            if (out)
                out[g] = (Rung){.bracket = b, .rung = k, .rungs = halvings + 1, .first = (int)id,
                                .n = (int)n, .budget = rung_budget(s, halvings, k),
                                .config0 = (int)configs};
            g++;
            id += n;
            if (id > SEARCH_MAX_TRIALS) return id;
        }
        configs += n0;
    }
    s->n_rungs = g;
    return id;
}

/* What both take from the job. */
static void halving_init(Search *s, const Job *job) {
    s->eta = job->search.eta;
    s->min_epochs = job->search.min_epochs;
    s->max_epochs = job->train.epochs;
    s->sampler = job->search.sampler;
    s->startup = job->search.startup_trials;
    s->candidates = job->search.candidates;
    s->top_rung = most_halvings(s->eta, s->min_epochs, s->max_epochs);
}

static int hyperband_init(Search *s, const Job *job, Err *e) {
    (void)e;
    halving_init(s, job);
    s->brackets = job->search.brackets; /* 0: one round of every bracket */
    s->total = plan(s, NULL);
    return AE_OK;
}

static int find_rung(const Search *s, int trial) {
    int lo = 0, hi = s->n_rungs - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (s->rungs[mid].first <= trial) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* Does trial i rank before trial j, as rank_by_objective ranks them? */
static int ranks_before(const Search *s, int i, int j) {
    double x = s->trials[i].objective, y = s->trials[j].objective;
    if (objective_better(x, y, s->maximize)) return 1;
    if (objective_better(y, x, s->maximize)) return 0;
    return i < j;
}

static int epochs_of(const Search *s, const Trial *t) {
    return t->budget > 0 ? t->budget : s->max_epochs;
}

/* One observation per configuration for TPE: its trial at the largest budget
 * seen, ranked as Optuna ranks pruned trials: the further a configuration got,
 * the better; then by its objective there (NaN last), then by id. */
typedef struct {
    int failed, budget, id;
    double key;
} Seen;

static int seen_before(const void *pa, const void *pb) {
    const Seen *a = pa, *b = pb;
    if (a->failed != b->failed) return a->failed - b->failed;
    if (a->budget != b->budget) return b->budget - a->budget;
    if (!a->failed && a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->id - b->id;
}

/* Configuration `config`'s point: random search's, or with search.sampler tpe
 * TPE's over every configuration seen[0..n) reached, at any rung: a dropped
 * configuration tells where not to look as much as a promoted one tells where
 * to. (BOHB fits on the largest budget alone; with few trials at the top that
 * left TPE with a handful of points for most of a search.) seen must be fixed
 * by the job, never by which results came first; NULL: trials [0, n). */
static int new_point(const Search *s, int config, const int *seen, int n, Point *out, Err *e) {
    if (s->sampler != SAMPLER_TPE) {
        random_point(s->space, s->seed, config, out);
        return AE_OK;
    }
    int *at = malloc(sizeof *at * (size_t)(s->n_trials + 1)); /* lineage -> its Seen */
    Seen *obs = malloc(sizeof *obs * (size_t)(n + 1));
    Point *pts = malloc(sizeof *pts * (size_t)(n + 1));
    double *rank = malloc(sizeof *rank * (size_t)(n + 1));
    int m = 0, rc = at && obs && pts && rank ? AE_OK : AE_ERUN;
    for (int i = 0; i < s->n_trials && !rc; i++) at[i] = -1;
    for (int i = 0; i < n && !rc; i++) {
        int id = seen ? seen[i] : i;
        const Trial *t = &s->trials[id];
        Seen o = {t->status != TRIAL_OK || isnan(t->objective), epochs_of(s, t), t->lineage,
                  s->maximize ? -t->objective : t->objective};
        int *slot = &at[t->lineage];
        if (*slot < 0) *slot = m++;
        else if (obs[*slot].budget > o.budget) continue;
        obs[*slot] = o;
    }
    if (!rc) {
        qsort(obs, (size_t)m, sizeof *obs, seen_before);
        /* back in lineage order (TPE keeps the newest when it trims), the rank
         * as the objective */
        for (int j = 0; j < m; j++) at[obs[j].id] = j;
        for (int i = 0, k = 0; i < s->n_trials && k < m; i++)
            if (at[i] >= 0 && s->trials[i].lineage == i) {
                pts[k] = s->trials[i].point;
                rank[k++] = at[i];
            }
        rc = tpe_point(s->space, s->seed, config, pts, rank, m, 0, s->startup, s->candidates,
                       out);
    }
    free(at), free(obs), free(pts), free(rank);
    return rc ? err_set(e, AE_ERUN, "tpe: out of memory") : AE_OK;
}

/* hyperband with a sampler: bracket b draws from every trial of brackets
 * [0, b - 1) and the first rung of bracket b - 1, all complete when it starts. */
static int bracket_seen(const Search *s, const Rung *g, int **seen, int *n) {
    int upto = 0; /* the first id past brackets [0, b - 1) */
    const Rung *prev0 = NULL;
    for (const Rung *r = s->rungs; r < g; r++) {
        if (r->bracket < g->bracket - 1) upto = r->first + r->n;
        if (r->bracket == g->bracket - 1 && r->rung == 0) prev0 = r;
    }
    int count = upto + (prev0 ? prev0->n : 0);
    *seen = malloc(sizeof **seen * (size_t)(count + 1));
    if (!*seen) return -1;
    for (int i = 0; i < upto; i++) (*seen)[i] = i;
    for (int i = 0; prev0 && i < prev0->n; i++) (*seen)[upto + i] = prev0->first + i;
    *n = count;
    return 0;
}

static int release_first_rung(Search *s, const Rung *g, Err *e) {
    int *seen = NULL, n = 0;
    if (s->sampler == SAMPLER_TPE && bracket_seen(s, g, &seen, &n))
        return err_set(e, AE_ERUN, "out of memory");
    int rc = AE_OK;
    for (int j = 0; j < g->n && !rc; j++) {
        Point p;
        rc = new_point(s, g->config0 + j, seen, n, &p, e);
        if (!rc) rc = search_place(s, g->first + j, &p, g->bracket, 0, g->budget, g->first + j, e);
    }
    free(seen);
    return rc;
}

/* With a sampler, bracket b also waits for brackets [0, b - 1) to be complete. */
static int brackets_done_below(const Search *s, const Rung *g) {
    if (s->sampler != SAMPLER_TPE) return 1;
    for (const Rung *r = s->rungs; r < g; r++)
        if (r->bracket < g->bracket - 1 && r->done < r->n) return 0;
    return 1;
}

/* The best n of the rung below go on; the others' lineages end. */
static int promote(Search *s, const Rung *below, const Rung *g, Err *e) {
    int *order = malloc(sizeof *order * (size_t)below->n);
    double *obj = malloc(sizeof *obj * (size_t)below->n);
    int ranked = order && obj;
    for (int j = 0; ranked && j < below->n; j++) obj[j] = s->trials[below->first + j].objective;
    if (ranked) ranked = rank_by_objective(obj, below->n, s->maximize, order) == 0;
    free(obj);
    if (!ranked) {
        free(order);
        return err_set(e, AE_ERUN, "out of memory");
    }
    int rc = AE_OK;
    for (int j = 0; j < below->n && !rc; j++) {
        const Trial *t = &s->trials[below->first + order[j]];
        rc = j < g->n ? search_place(s, g->first + j, &t->point, g->bracket, g->rung, g->budget,
                                     t->lineage, e)
                      : search_end_lineage(s, t->lineage, e);
    }
    free(order);
    return rc;
}

static int hyperband_release(Search *s, Err *e) {
    if (!s->rungs) {
        s->rungs = calloc((size_t)s->n_rungs, sizeof *s->rungs);
        if (!s->rungs || search_reserve(s, (int)s->total, e))
            return err_set(e, AE_ERUN, "out of memory");
        plan(s, s->rungs);
    }
    for (int i = 0; i < s->n_rungs; i++) {
        Rung *g = &s->rungs[i];
        if (g->released) continue;
        const Rung *before = i > 0 ? &s->rungs[i - 1] : NULL;
        if (g->rung > 0 && before->done == before->n) {
            if (promote(s, before, g, e)) return AE_ERUN;
        } else if (g->rung == 0) {
            /* the previous bracket's first rung: its rung 0 lies rungs-1 blocks back */
            int ready = 1;
            if (g->bracket > 0) {
                const Rung *p = before - (before->rungs - 1);
                ready = p->done == p->n && brackets_done_below(s, g);
            }
            if (!ready) continue;
            if (release_first_rung(s, g, e)) return AE_ERUN;
        } else {
            continue;
        }
        g->released = 1;
    }
    return AE_OK;
}

static void hyperband_complete(Search *s, int trial) {
    Rung *g = &s->rungs[find_rung(s, trial)];
    g->done++;
    if (g->rung == g->rungs - 1) { /* the top rung: nothing goes on from it */
        Err ignored = {0};
        search_end_lineage(s, s->trials[trial].lineage, &ignored);
    }
}

static int hyperband_done(const Search *s) {
    if (!s->rungs) return s->total == 0;
    for (int i = 0; i < s->n_rungs; i++)
        if (!s->rungs[i].released) return 0;
    return 1;
}

/* The budget is train.epochs, so it is not searched. */
static int budget_check(const Job *job, Space *sp, Err *e) {
    const char *name = strategy_names[job->search.strategy];
    if (space_find_key(sp, "train.epochs") >= 0)
        return err_set(e, AE_EINPUT, "%s: search.space: %s spends train.epochs as its budget; "
                       "it cannot also search it", job->source, name);
    if (job->search.min_epochs > job->train.epochs)
        return err_set(e, AE_EINPUT, "%s: search.min_epochs: %d is more than train.epochs (%d)",
                       job->source, job->search.min_epochs, job->train.epochs);
    return AE_OK;
}

/* And the brackets, not search.trials, say how many configurations start. */
static int hyperband_check(const Job *job, Space *sp, Err *e) {
    if (budget_check(job, sp, e)) return e->code;
    if (job_key_given(job, "search.trials"))
        return err_set(e, AE_EINPUT, "%s: search.trials: hyperband starts its configurations by "
                       "brackets; set search.brackets (default: one round of all %d)",
                       job->source,
                       most_halvings(job->search.eta, job->search.min_epochs, job->train.epochs) +
                           1);
    return AE_OK;
}

const StrategyOps hyperband_ops = {hyperband_check, hyperband_init, hyperband_release,
                                   hyperband_complete, hyperband_done,
                                   search_chosen_among_trials, 1, 0, 1};

/* ---- asha ---- */

static int asha_init(Search *s, const Job *job, Err *e) {
    (void)e;
    halving_init(s, job);
    s->total = job->search.trials;
    s->lag = job->search.lag;
    return AE_OK;
}

/* Does trial i come before trial j in s->ranked: a higher rung, or the same
 * rung and a better result? */
static int ranked_before(const Search *s, int i, int j) {
    int a = s->trials[i].round, b = s->trials[j].round;
    return a != b ? a > b : ranks_before(s, i, j);
}

/* Trial i (complete) joins the ranking the decisions read. */
static void see(Search *s, int i) {
    int k = s->n_ranked++;
    for (; k > 0 && ranked_before(s, i, s->ranked[k - 1]); k--) s->ranked[k] = s->ranked[k - 1];
    s->ranked[k] = i;
}

/* The trial to promote: the best of the highest rung below the top that is in
 * its rung's top 1/eta (of the trials seen there), has a finite objective and
 * has not gone on yet; -1 for none. */
static int asha_promotable(const Search *s) {
    for (int at = 0; at < s->n_ranked;) {
        int rung = s->trials[s->ranked[at]].round, n = 0;
        while (at + n < s->n_ranked && s->trials[s->ranked[at + n]].round == rung) n++;
        for (int j = 0; j < n / s->eta && rung < s->top_rung; j++) {
            const Trial *t = &s->trials[s->ranked[at + j]];
            if (t->promoted == 0 && t->status == TRIAL_OK && !isnan(t->objective))
                return s->ranked[at + j];
        }
        at += n;
    }
    return -1;
}

/* Lineages that can never climb again give up their checkpoints now, not at
 * the end (an asha search would otherwise hold one per configuration and
 * fold): a rung's top 1/eta can grow to at most (its trials seen + every trial
 * not yet seen) / eta, and a trial's place in it only falls as more are seen;
 * one that failed or has no number never goes on. */
static int drop_dead(Search *s, Err *e) {
    for (int at = 0; at < s->n_ranked;) {
        int rung = s->trials[s->ranked[at]].round, n = 0;
        while (at + n < s->n_ranked && s->trials[s->ranked[at + n]].round == rung) n++;
        long most = ((long)n + s->total - s->n_ranked) / s->eta;
        for (int j = 0; j < n && rung < s->top_rung; j++) {
            Trial *t = &s->trials[s->ranked[at + j]];
            if (t->promoted == 0 &&
                (j >= most || t->status != TRIAL_OK || isnan(t->objective))) {
                t->promoted = -1;
                if (search_end_lineage(s, t->lineage, e)) return AE_ERUN;
            }
        }
        at += n;
    }
    return AE_OK;
}

static int asha_release(Search *s, Err *e) {
    if (!s->ranked && !(s->ranked = malloc(sizeof *s->ranked * (size_t)(s->total + 1))))
        return err_set(e, AE_ERUN, "out of memory");
    while (s->n_trials < s->total && s->n_trials - s->lag <= s->complete_prefix) {
        int k = s->n_trials;
        while (s->n_ranked < k - s->lag) see(s, s->n_ranked); /* exactly [0, k - L) */
        if (search_reserve(s, k + 1, e) || drop_dead(s, e)) return AE_ERUN;
        int parent = asha_promotable(s), rc;
        if (parent >= 0) {
            Trial *p = &s->trials[parent];
            p->promoted = 1;
            int rung = p->round + 1;
            rc = search_place(s, k, &p->point, 0, rung, rung_budget(s, s->top_rung, rung),
                              p->lineage, e);
        } else {
            /* S_k: trials [0, k - L), in id order (NULL) */
            Point pt;
            rc = new_point(s, s->configs++, NULL, s->n_ranked, &pt, e);
            if (!rc) rc = search_place(s, k, &pt, 0, 0, rung_budget(s, s->top_rung, 0), k, e);
        }
        if (rc) return rc;
    }
    return AE_OK;
}

/* A lineage ends at the top rung, when it can no longer climb (drop_dead),
 * and every other one when the search does. */
static void asha_complete(Search *s, int trial) {
    Err ignored = {0};
    search_complete_prefix(s);
    if (s->trials[trial].round == s->top_rung)
        search_end_lineage(s, s->trials[trial].lineage, &ignored);
    if (s->complete_prefix < s->total) return;
    for (int i = 0; i < s->n_trials; i++) {
        const Trial *t = &s->trials[i];
        if (t->promoted == 0 && t->round < s->top_rung)
            search_end_lineage(s, t->lineage, &ignored);
    }
}

static int asha_done(const Search *s) { return s->n_trials >= s->total; }

const StrategyOps asha_ops = {budget_check, asha_init, asha_release, asha_complete, asha_done,
                              search_chosen_among_trials, 1, 0, 1};

/* ---- what validate shows ---- */

void halving_describe(const Search *s, char *buf, size_t n) {
    size_t at = 0;
#define PUT(...) (at += (size_t)snprintf(buf + at, at < n ? n - at : 0, __VA_ARGS__))
    buf[0] = 0;
    if (s->strategy == STRATEGY_ASHA) {
        PUT("at");
        for (int k = 0; k <= s->top_rung; k++) {
            int b = rung_budget(s, s->top_rung, k);
            PUT(" %d", b ? b : s->max_epochs);
        }
        PUT(" epochs; trial k decided from trials [0, k - %d)", s->lag);
    } else if (s->strategy == STRATEGY_HYPERBAND) {
        Search copy = *s;
        Rung *r = calloc((size_t)s->n_rungs, sizeof *r);
        if (!r) return;
        plan(&copy, r);
        long epochs = 0;
        for (int g = 0; g < s->n_rungs; g++) {
            int b = r[g].budget ? r[g].budget : s->max_epochs;
            int before = r[g].rung ? (r[g - 1].budget ? r[g - 1].budget : s->max_epochs) : 0;
            epochs += (long)r[g].n * (b - before);
            if (g < 12) PUT("%s%d@%d", r[g].rung ? " > " : g ? "; " : "", r[g].n, b);
        }
        if (s->n_rungs > 12) PUT("; ...");
        PUT(" (configurations@epochs); at most %ld epochs a fold", epochs);
        free(r);
    }
#undef PUT
}
