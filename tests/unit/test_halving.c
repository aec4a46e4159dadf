/* strategies hyperband and asha (issue 17) on a synthetic objective: no MPI,
 * no training. hyperband: the plan (brackets, rungs, budgets) against Li et
 * al.'s table; each rung's promotions against a sort of its results. asha:
 * every decision against the rule recomputed here from the trials it may see.
 * Both: promoted trials go on with their configuration's lineage, every
 * lineage ends once, and driven by a simulated pool of workers finishing in
 * any order, the same trials with the same ids (SPEC §6). */
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "search_fix.h"

/* The objective at a budget: better with more epochs, by the configuration. */
static double objective(const Trial *t, int max_epochs) {
    double a = log10(t->point.v[0]) + 2.5, b = t->point.v[1] - 0.3;
    int epochs = t->budget ? t->budget : max_epochs;
    return (a * a + 4 * b * b + 0.01) * (1 + 3.0 / epochs);
}

/* asha with trials and lag when brackets < 0, else hyperband; new
 * configurations from `sampler`. */
static int fix_sampled(Fix *f, int seed, int epochs, int eta, int min_epochs, int brackets,
                       int trials, int lag, const char *sampler) {
    char text[1024], extra[160];
    if (brackets < 0)
        snprintf(extra, sizeof extra, "\"asha\", \"trials\": %d, \"lag\": %d", trials, lag);
    else
        snprintf(extra, sizeof extra, "\"hyperband\", \"brackets\": %d", brackets);
    snprintf(text, sizeof text,
             "{\"seed\": %d, \"train\": {\"epochs\": %d}, \"search\": {\"strategy\": %s, "
             "\"sampler\": \"%s\", \"startup_trials\": 8, "
             "\"eta\": %d, \"min_epochs\": %d, \"space\": {"
             "\"lr\": {\"min\": 1e-4, \"max\": 0.1, \"scale\": \"log\"}, "
             "\"sigma\": {\"min\": 0.001, \"max\": 1}}}}",
             seed, epochs, extra, sampler, eta, min_epochs);
    return fix_from_text(f, text, "halving.json");
}

static int fix_strategy(Fix *f, int epochs, int eta, int min_epochs, int brackets, int trials,
                        int lag) {
    return fix_sampled(f, 3, epochs, eta, min_epochs, brackets, trials, lag, "random");
}

static int fix_open(Fix *f, int epochs, int eta, int min_epochs, int brackets) {
    return fix_strategy(f, epochs, eta, min_epochs, brackets, 0, 0);
}

static int fix_asha(Fix *f, int epochs, int trials, int lag) {
    return fix_strategy(f, epochs, 3, 1, -1, trials, lag);
}

static int ended_early; /* lineages drive() saw end before the search did */
static double drive_se = NAN; /* the standard error drive() gives every trial */

/* Runs the search with `workers` busy at once, finishing a running trial drawn
 * by the test's generator (workers 1: in release order). Counts each ended
 * lineage into ended[]. Returns the trials run. */
static int drive(Fix *f, int workers, uint64_t draw_seed, int *ended) {
    Err e = {0};
    Search *s = &f->s;
    int *running = malloc(sizeof *running * (size_t)(s->total + 1)), n_running = 0, ran = 0;
    int *queue = malloc(sizeof *queue * (size_t)(s->total + 1)), q_head = 0, q_tail = 0;
    Rng r;
    rng_seed(&r, draw_seed);
    while (!search_done(s)) {
        const int *ids;
        int n = search_release(s, &ids, &e);
        CHECK(n >= 0, "release: %s", e.msg);
        if (n < 0) break;
        for (int i = 0; i < n; i++) queue[q_tail++] = ids[i];
        const int *gone;
        int m = search_ended(s, &gone);
        for (int i = 0; i < m; i++) ended[gone[i]]++;
        ended_early += m;
        while (n_running < workers && q_head < q_tail) running[n_running++] = queue[q_head++];
        if (n_running == 0) {
            CHECK(0, "nothing running, nothing released, the search not done");
            break;
        }
        int k = workers == 1 ? 0 : (int)rng_below(&r, n_running);
        int t = running[k];
        running[k] = running[--n_running];
        search_complete(s, t, objective(&s->trials[t], s->max_epochs), drive_se, TRIAL_OK);
        ran++;
    }
    const int *gone;
    int m = search_ended(s, &gone);
    for (int i = 0; i < m; i++) ended[gone[i]]++;
    free(running), free(queue);
    return ran;
}

/* R = 27, eta = 3: Li et al.'s table, scaled (n_i configurations at r_i epochs). */
static void test_plan(void) {
    Fix f;
    if (!fix_open(&f, 27, 3, 1, 0)) return;
    static const int want[][4] = {/* bracket, rung, n, budget (0: all) */
                                  {0, 0, 27, 1}, {0, 1, 9, 3}, {0, 2, 3, 9}, {0, 3, 1, 0},
                                  {1, 0, 12, 3}, {1, 1, 4, 9}, {1, 2, 1, 0},
                                  {2, 0, 6, 9},  {2, 1, 2, 0},
                                  {3, 0, 4, 0}};
    int n = (int)(sizeof want / sizeof want[0]), total = 0;
    for (int i = 0; i < n; i++) total += want[i][2];
    CHECK(f.s.total == total, "hyperband R 27 eta 3: %ld trials, want %d", f.s.total, total);
    int *ended = calloc((size_t)f.s.total, sizeof *ended);
    drive(&f, 1, 1, ended);
    CHECK(f.s.n_rungs == n, "%d rungs, want %d", f.s.n_rungs, n);
    for (int i = 0; i < n && i < f.s.n_rungs; i++) {
        const Rung *g = &f.s.rungs[i];
        CHECK(g->bracket == want[i][0] && g->rung == want[i][1] && g->n == want[i][2] &&
                  g->budget == want[i][3],
              "rung %d: bracket %d rung %d n %d budget %d", i, g->bracket, g->rung, g->n,
              g->budget);
        for (int j = 0; j < g->n; j++) {
            const Trial *t = &f.s.trials[g->first + j];
            CHECK(t->stage == g->bracket && t->round == g->rung && t->budget == g->budget &&
                      t->status == TRIAL_OK,
                  "trial %d: bracket %d rung %d budget %d status %d", g->first + j, t->stage,
                  t->round, t->budget, t->status);
        }
    }
    free(ended);
    fix_close(&f);
}

/* Each rung above the first holds the best of the rung below, in order, each
 * going on with its configuration's lineage; every lineage ends exactly once. */
static void test_promotions(void) {
    Fix f;
    if (!fix_open(&f, 27, 3, 1, 5)) return; /* 5 brackets: the first comes round again */
    int *ended = calloc((size_t)f.s.total, sizeof *ended);
    drive(&f, 3, 7, ended);
    const Search *s = &f.s;
    CHECK(s->n_rungs == 14 && s->rungs[10].bracket == 4 && s->rungs[10].n == 27,
          "bracket 4 is bracket 0 again: %d rungs", s->n_rungs);
    for (int i = 1; i < s->n_rungs; i++) {
        const Rung *g = &s->rungs[i], *below = &s->rungs[i - 1];
        if (g->rung == 0) continue;
        /* the rung below, best first, ties to the lower id */
        int *order = malloc(sizeof *order * (size_t)below->n);
        for (int j = 0; j < below->n; j++) order[j] = below->first + j;
        for (int a = 0; a < below->n; a++)
            for (int b = a + 1; b < below->n; b++) {
                double x = s->trials[order[a]].objective, y = s->trials[order[b]].objective;
                if (y < x || (y == x && order[b] < order[a])) {
                    int tmp = order[a];
                    order[a] = order[b], order[b] = tmp;
                }
            }
        for (int j = 0; j < g->n; j++) {
            const Trial *t = &s->trials[g->first + j], *p = &s->trials[order[j]];
            CHECK(!memcmp(&t->point, &p->point, sizeof(Point)) && t->lineage == p->lineage,
                  "bracket %d rung %d place %d: not the %d-th best of the rung below", g->bracket,
                  g->rung, j, j);
            CHECK(s->trials[t->lineage].round == 0 && s->trials[t->lineage].stage == g->bracket,
                  "trial %d: lineage %d is not a first-rung trial of its bracket", g->first + j,
                  t->lineage);
        }
        free(order);
    }
    int bad = 0;
    for (int i = 0; i < s->n_trials; i++) {
        int first_rung = s->trials[i].round == 0;
        bad += first_rung ? ended[i] != 1 : ended[i] != 0;
    }
    CHECK(bad == 0, "%d lineages did not end exactly once", bad);
    free(ended);
    fix_close(&f);
}

/* 1 to 6 simulated workers finishing in random orders: the same trials. */
static void test_any_finishing_order(void) {
    Fix a, b;
    if (!fix_open(&a, 20, 3, 1, 4)) return;
    int *ended = calloc((size_t)a.s.total, sizeof *ended);
    drive(&a, 1, 0, ended);
    for (int workers = 2; workers <= 6; workers++) {
        if (!fix_open(&b, 20, 3, 1, 4)) break;
        memset(ended, 0, sizeof *ended * (size_t)a.s.total);
        int ran = drive(&b, workers, 100 + workers, ended);
        int same = ran == a.s.n_trials && b.s.n_trials == a.s.n_trials;
        for (int t = 0; t < a.s.n_trials && same; t++) {
            const Trial *x = &a.s.trials[t], *y = &b.s.trials[t];
            same = !memcmp(&x->point, &y->point, sizeof(Point)) && x->budget == y->budget &&
                   x->lineage == y->lineage && x->objective == y->objective;
        }
        CHECK(same, "hyperband with %d workers: the trials differ from one worker's", workers);
        CHECK(search_best(&a.s) == search_best(&b.s), "best %d vs %d", search_best(&a.s),
              search_best(&b.s));
        fix_close(&b);
    }
    free(ended);
    fix_close(&a);
}

/* Budgets below min_epochs never appear; min_epochs = train.epochs is random search. */
static void test_min_epochs(void) {
    Fix f;
    if (!fix_open(&f, 20, 3, 4, 0)) return;
    int *ended = calloc((size_t)f.s.total, sizeof *ended);
    drive(&f, 2, 5, ended);
    for (int i = 0; i < f.s.n_trials; i++)
        CHECK(f.s.trials[i].budget == 0 || f.s.trials[i].budget >= 4, "trial %d: budget %d", i,
              f.s.trials[i].budget);
    CHECK(f.s.n_rungs == 3 && f.s.rungs[0].budget == 7, "20/4: one halving (7, 20): %d rungs, "
          "first budget %d", f.s.n_rungs, f.s.rungs[0].budget);
    free(ended);
    fix_close(&f);
    if (!fix_open(&f, 20, 3, 20, 3)) return;
    CHECK(f.s.total == 3, "min_epochs = train.epochs: one configuration per bracket, %ld",
          f.s.total);
    fix_close(&f);
}

/* Same trials, by id, with 1 worker and with `workers` finishing at random. */
static int same_trials(const Fix *a, const Fix *b) {
    int same = b->s.n_trials == a->s.n_trials;
    for (int t = 0; t < a->s.n_trials && same; t++) {
        const Trial *x = &a->s.trials[t], *y = &b->s.trials[t];
        same = !memcmp(&x->point, &y->point, sizeof(Point)) && x->budget == y->budget &&
               x->round == y->round && x->lineage == y->lineage && x->objective == y->objective;
    }
    return same;
}

/* asha: decision k, recomputed from trials [0, k - lag) and decisions [0, k). */
static void check_asha_rule(const Search *s, int lag) {
    int top = s->top_rung, configs = 0, bad = 0;
    int *went_on = calloc((size_t)s->n_trials, sizeof *went_on);
    for (int k = 0; k < s->n_trials; k++) {
        int seen = k - lag > 0 ? k - lag : 0, want = -1;
        for (int rung = top - 1; rung >= 0 && want < 0; rung--) {
            int n = 0;
            for (int i = 0; i < seen; i++) n += s->trials[i].round == rung;
            /* the n / eta best of the rung, best first, ties to the lower id */
            for (int place = 0; place < n / s->eta && want < 0; place++) {
                int best = -1;
                for (int i = 0; i < seen; i++) {
                    if (s->trials[i].round != rung) continue;
                    int rank = 0; /* how many come before i */
                    for (int j = 0; j < seen; j++)
                        rank += s->trials[j].round == rung &&
                                (s->trials[j].objective < s->trials[i].objective ||
                                 (s->trials[j].objective == s->trials[i].objective && j < i));
                    if (rank == place) best = i;
                }
                if (best >= 0 && !went_on[best]) want = best;
            }
        }
        const Trial *t = &s->trials[k];
        if (want >= 0) {
            went_on[want] = 1;
            bad += t->round != s->trials[want].round + 1 || t->lineage != s->trials[want].lineage ||
                   memcmp(&t->point, &s->trials[want].point, sizeof(Point));
        } else {
            Point p;
            random_point(s->space, s->seed, configs++, &p);
            bad += t->round != 0 || t->lineage != k || memcmp(&t->point, &p, sizeof(Point));
        }
    }
    CHECK(bad == 0, "asha lag %d: %d of %d decisions differ from the rule", lag, bad,
          s->n_trials);
    free(went_on);
}

static void test_asha(void) {
    for (int lag = 0; lag <= 8; lag += 4) {
        Fix a, b;
        if (!fix_asha(&a, 27, 120, lag)) return;
        int *ended = calloc(120, sizeof *ended);
        ended_early = 0;
        drive(&a, 1, 0, ended);
        check_asha_rule(&a.s, lag);
        CHECK(ended_early >= 40, "asha lag %d: only %d lineages gave up their checkpoints "
              "before the search ended", lag, ended_early);
        int bad = 0, climbed = 0, top = 0;
        for (int i = 0; i < a.s.n_trials; i++) {
            const Trial *t = &a.s.trials[i];
            bad += t->round == 0 ? ended[i] != 1 : ended[i] != 0;
            bad += t->budget != (t->round == 3 ? 0 : (int[]){1, 3, 9}[t->round]);
            climbed += t->round > 0;
            top += t->round == 3;
        }
        CHECK(bad == 0, "asha lag %d: %d lineages or budgets wrong", lag, bad);
        CHECK(climbed >= 20 && top >= 1, "asha lag %d: %d promotions, %d at the top", lag,
              climbed, top);
        for (int workers = 2; workers <= 6 && lag > 0; workers++) {
            if (!fix_asha(&b, 27, 120, lag)) break;
            memset(ended, 0, 120 * sizeof *ended);
            drive(&b, workers, 200 + workers, ended);
            CHECK(same_trials(&a, &b), "asha lag %d, %d workers: the trials differ from one "
                  "worker's", lag, workers);
            fix_close(&b);
        }
        fprintf(stderr, "asha lag %d: 120 trials, %d promotions, %d at 27 epochs\n", lag,
                climbed, top);
        free(ended);
        fix_close(&a);
    }
}

static double best_of(const Fix *f) {
    int b = search_best(&f->s);
    return b >= 0 ? f->s.trials[b].objective : NAN;
}

static int by_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* search.sampler tpe (BOHB's idea): new configurations from TPE on what the
 * decision may see. Still the same trials whatever the finishing order, and
 * over 10 seeds a better median than random sampling with the same budget. */
static void test_tpe_sampler(void) {
    for (int asha = 0; asha <= 1; asha++) {
        double best[2][10];
        int *ended = calloc(4096, sizeof *ended);
        for (int seed = 0; seed < 10; seed++)
            for (int tpe = 0; tpe <= 1; tpe++) {
                Fix a, b;
                const char *sampler = tpe ? "tpe" : "random";
                if (!fix_sampled(&a, seed, 27, 3, 1, asha ? -1 : 6, 150, 4, sampler)) return;
                drive(&a, 1, 0, ended);
                best[tpe][seed] = best_of(&a);
                if (tpe && seed < 3) {
                    for (int workers = 2; workers <= 6; workers += 2) {
                        if (!fix_sampled(&b, seed, 27, 3, 1, asha ? -1 : 6, 150, 4, sampler))
                            break;
                        drive(&b, workers, 300 + workers, ended);
                        CHECK(same_trials(&a, &b), "%s, sampler tpe, %d workers: the trials "
                              "differ from one worker's", asha ? "asha" : "hyperband", workers);
                        fix_close(&b);
                    }
                }
                fix_close(&a);
            }
        qsort(best[0], 10, sizeof(double), by_double);
        qsort(best[1], 10, sizeof(double), by_double);
        double mr = (best[0][4] + best[0][5]) / 2, mt = (best[1][4] + best[1][5]) / 2;
        fprintf(stderr, "%s: median best over 10 seeds, random sampler %.5f, tpe sampler %.5f\n",
                asha ? "asha" : "hyperband", mr, mt);
        CHECK(mt < mr, "%s: tpe sampler median %.5f not below random's %.5f",
              asha ? "asha" : "hyperband", mt, mr);
        free(ended);
    }
}

/* search.select one_se: the chosen trial is, among the trials trained as long as
 * the best (its rung's epochs) and within the standard error of it, the one with
 * the largest sigma ("prefer": "high"), then the better objective, the lower id;
 * whatever the finishing order. */
static void test_one_se(void) {
    for (int asha = 0; asha <= 1; asha++) {
        char text[1024];
        snprintf(text, sizeof text,
                 "{\"seed\": 3, \"train\": {\"epochs\": 27}, \"search\": {\"strategy\": %s, "
                 "\"folds\": 2, \"select\": \"one_se\", \"eta\": 3, "
                 "\"min_epochs\": 1, \"space\": {\"lr\": {\"min\": 1e-4, \"max\": 0.1, "
                 "\"scale\": \"log\"}, \"sigma\": {\"min\": 0.001, \"max\": 1, "
                 "\"prefer\": \"high\"}}}}",
                 asha ? "\"asha\", \"trials\": 80, \"lag\": 4" : "\"hyperband\"");
        int chosen = -2;
        for (int workers = 1; workers <= 4; workers += 3) {
            Fix f;
            if (!fix_from_text(&f, text, "halving.json")) return;
            int *ended = calloc((size_t)f.s.total + 1, sizeof *ended);
            drive_se = 0.3;
            drive(&f, workers, 500 + workers, ended);
            drive_se = NAN;
            const Trial *t = f.s.trials;
            int best = search_best(&f.s), got = search_chosen(&f.s), want = -1;
            for (int i = 0; best >= 0 && i < f.s.n_trials; i++) {
                if (t[i].status != TRIAL_OK || t[i].budget != t[best].budget ||
                    t[i].objective > t[best].objective + 0.3)
                    continue;
                if (want < 0 || t[i].point.v[1] > t[want].point.v[1] ||
                    (t[i].point.v[1] == t[want].point.v[1] && t[i].objective < t[want].objective))
                    want = i;
            }
            CHECK(best >= 0 && got == want && got != best,
                  "%s, %d workers: chose %d, the rule says %d (the best: %d)",
                  asha ? "asha" : "hyperband", workers, got, want, best);
            CHECK(chosen == -2 || got == chosen, "%s: chose %d with 4 workers, %d with 1",
                  asha ? "asha" : "hyperband", got, chosen);
            chosen = got;
            if (workers == 1 && got >= 0 && best >= 0)
                fprintf(stderr, "%s one_se: trial %d (sigma %.3g, %.4g) over the best %d "
                        "(sigma %.3g, %.4g), both at %d epochs\n", asha ? "asha" : "hyperband",
                        got, t[got].point.v[1], t[got].objective, best, t[best].point.v[1],
                        t[best].objective, t[got].budget ? t[got].budget : 27);
            free(ended);
            fix_close(&f);
        }
    }
}

int main(void) {
    test_plan();
    test_promotions();
    test_any_finishing_order();
    test_min_epochs();
    test_asha();
    test_tpe_sampler();
    test_one_se();
    return test_summary("halving");
}
