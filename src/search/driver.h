/* What the strategies' own files share with the driver (src/search only). */
#ifndef AESWEEP_SEARCH_DRIVER_H
#define AESWEEP_SEARCH_DRIVER_H

#include "search.h"

int search_push(int **a, int *n, int *cap, int v, Err *e);
/* Ids [n_trials, n) exist, unreleased, for search_place to fill. */
int search_reserve(Search *s, int n, Err *e);
/* Trial id becomes pending with these values and goes out with this release. */
int search_place(Search *s, int id, const Point *p, int stage, int round, int budget,
                 int lineage, Err *e);
/* Moves complete_prefix past every complete trial at its end (the lag rule). */
void search_complete_prefix(Search *s);
/* No later trial goes on from lineage's checkpoints. */
int search_end_lineage(Search *s, int lineage, Err *e);

/* search.select one_se over every complete trial trained as long as the best:
 * StrategyOps.chosen of the strategies without rounds. */
int search_chosen_among_trials(const Search *s);

extern const StrategyOps hyperband_ops, asha_ops;

#endif
