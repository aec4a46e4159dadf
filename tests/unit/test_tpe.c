/* strategy tpe (issue 17) on a synthetic objective: no MPI, no training. The
 * search is driven as the coordinator drives it, by a simulated pool of workers
 * that finish their trials in an order of the test's choosing: the points must
 * not depend on that order (the lag rule), the release must wait for exactly
 * the trials the rule names, and TPE must find better points than random
 * search with the same budget. */
#include <stdlib.h>
#include <string.h>

#include "search_fix.h"

/* lr (log), x (real), opt (values: index 1 is the best) */
static double objective(const Point *p) {
    double a = log10(p->v[0]) + 2.5, b = p->v[1] - 0.3;
    return a * a + 4 * b * b + (p->v[2] == 1 ? 0 : 0.3);
}

static int fix_open(Fix *f, const char *strategy, int seed, int trials, int lag) {
    char text[1024];
    snprintf(text, sizeof text,
             "{\"seed\": %d, \"search\": {\"strategy\": \"%s\", \"trials\": %d, \"lag\": %d, "
             "\"startup_trials\": 10, \"space\": {"
             "\"lr\": {\"min\": 1e-4, \"max\": 0.1, \"scale\": \"log\"}, "
             "\"sigma\": {\"min\": 0.001, \"max\": 1}, "
             "\"train.optimizer\": {\"values\": [\"adam\", \"sgd\", \"rmsprop\"]}}}}",
             seed, strategy, trials, lag);
    return fix_from_text(f, text, "tpe.json");
}

enum { IN_ORDER, NEWEST_FIRST, SHUFFLED };

/* Runs the search to its end with `workers` busy at once, finishing first the
 * oldest running trial, the newest, or one drawn by the test's own generator.
 * Returns the best objective found. */
static double drive(Fix *f, int workers, int order, uint64_t draw_seed) {
    Err e = {0};
    int running[64], n_running = 0, next = 0;
    Rng r;
    rng_seed(&r, draw_seed);
    while (!search_done(&f->s)) {
        const int *ids;
        int n = search_release(&f->s, &ids, &e);
        CHECK(n >= 0, "release: %s", e.msg);
        if (n < 0) break;
        while (n_running < workers && next < f->s.n_trials) running[n_running++] = next++;
        if (n_running == 0) {
            CHECK(0, "nothing running, nothing released, the search not done");
            break;
        }
        int k = order == IN_ORDER ? 0 : order == NEWEST_FIRST ? n_running - 1
                                                              : (int)rng_below(&r, n_running);
        int t = running[k];
        memmove(running + k, running + k + 1, sizeof *running * (size_t)(n_running - k - 1));
        n_running--;
        search_complete(&f->s, t, objective(&f->s.trials[t].point), NAN, TRIAL_OK);
    }
    int b = search_best(&f->s);
    return b >= 0 ? f->s.trials[b].objective : NAN;
}

static void test_any_finishing_order_gives_the_same_points(void) {
    Fix a, b;
    if (!fix_open(&a, "tpe", 3, 60, 4)) return;
    drive(&a, 1, IN_ORDER, 0);
    const struct {
        int workers, order;
    } runs[] = {{4, IN_ORDER}, {4, NEWEST_FIRST}, {4, SHUFFLED}, {5, SHUFFLED}, {3, NEWEST_FIRST}};
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        if (!fix_open(&b, "tpe", 3, 60, 4)) break;
        drive(&b, runs[i].workers, runs[i].order, 100 + i);
        int same = a.s.n_trials == b.s.n_trials;
        for (int t = 0; t < a.s.n_trials && same; t++)
            same = !memcmp(&a.s.trials[t].point, &b.s.trials[t].point, sizeof(Point));
        CHECK(same, "tpe: %d workers, order %d: the points differ from one worker's",
              runs[i].workers, runs[i].order);
        fix_close(&b);
    }
    /* past the startup trials, the points are TPE's, not random search's */
    Fix rnd;
    if (fix_open(&rnd, "random", 3, 60, 4)) {
        drive(&rnd, 1, IN_ORDER, 0);
        int same_start = 1, differ_after = 0;
        for (int t = 0; t < 60; t++) {
            int eq = !memcmp(&a.s.trials[t].point, &rnd.s.trials[t].point, sizeof(Point));
            if (t < 14) same_start &= eq; /* startup 10 + lag 4: fewer than 10 observed */
            else differ_after += !eq;
        }
        CHECK(same_start, "tpe: the first 14 trials are random search's");
        CHECK(differ_after == 46, "tpe: %d of the last 46 trials differ from random's",
              differ_after);
        fix_close(&rnd);
    }
    fix_close(&a);
}

static void test_release_waits_for_the_lag(void) {
    Fix f;
    if (!fix_open(&f, "tpe", 1, 30, 3)) return;
    Err e = {0};
    const int *ids;
    CHECK(search_release(&f.s, &ids, &e) == 4 && ids[0] == 0,
          "tpe lag 3: trials 0-3 first (trial k waits for [0, k - 3))");
    for (int t = 1; t < 4; t++) search_complete(&f.s, t, objective(&f.s.trials[t].point), NAN, 0);
    CHECK(search_release(&f.s, &ids, &e) == 0, "tpe: trial 4 waits for trial 0");
    search_complete(&f.s, 0, objective(&f.s.trials[0].point), NAN, TRIAL_OK);
    CHECK(search_release(&f.s, &ids, &e) == 4 && ids[0] == 4,
          "tpe: with 0-3 in, trials 4-7 go (7 reads [0, 4))");
    fix_close(&f);
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Ten seeds, 60 trials each at 4 workers. TPE's median best is far below random
 * search's; its mean is not always: on this objective TPE can settle on a wrong
 * optimizer (0.3 worse) when its small good group (Optuna's min(ceil(n/10), 25))
 * holds only that one early, as measured here in 3 of the 10 seeds. */
static void test_finds_better_points_than_random(void) {
    enum { RUNS = 10 };
    double tpe[RUNS], rnd[RUNS];
    int tpe_wins = 0;
    for (int seed = 1; seed <= RUNS; seed++) {
        Fix t, r;
        if (!fix_open(&t, "tpe", seed, 60, 4)) return;
        if (!fix_open(&r, "random", seed, 60, 4)) {
            fix_close(&t);
            return;
        }
        tpe[seed - 1] = drive(&t, 4, SHUFFLED, (uint64_t)seed);
        rnd[seed - 1] = drive(&r, 4, SHUFFLED, 0);
        tpe_wins += tpe[seed - 1] < rnd[seed - 1];
        fix_close(&t);
        fix_close(&r);
    }
    qsort(tpe, RUNS, sizeof *tpe, by_value);
    qsort(rnd, RUNS, sizeof *rnd, by_value);
    double mt = (tpe[4] + tpe[5]) / 2, mr = (rnd[4] + rnd[5]) / 2;
    fprintf(stderr, "tpe vs random, 60 trials, best over %d seeds: median %.4f vs %.4f, tpe "
            "better in %d\n", RUNS, mt, mr, tpe_wins);
    CHECK(mt < 0.25 * mr, "tpe's median best %.4f is not a quarter of random's %.4f", mt, mr);
    CHECK(tpe_wins >= 7, "tpe better than random in only %d of %d seeds", tpe_wins, RUNS);
}

int main(void) {
    test_any_finishing_order_gives_the_same_points();
    test_release_waits_for_the_lag();
    test_finds_better_points_than_random();
    return test_summary("tpe");
}
