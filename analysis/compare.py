#!/usr/bin/python3
"""Compares searches: the best objective so far against tasks done, one line per file.

    analysis/compare.py A.h5 B.h5 [...] [-o compare.png]

Tasks are counted in the order rank 0 received them (/folds.finished; by trial and
fold for tasks kept from an earlier run or files without it). A trial counts once
all its folds are in. The best is the objective's best (its direction).
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # through bin/ links too
import aesweep_results as ar  # noqa: E402


def best_so_far(r):
    """(tasks done, best objective so far) after each task, in the order they finished."""
    folds = r.folds[r.folds["trial"] >= 0]
    when = folds["finished"] if "finished" in (folds.dtype.names or ()) else \
        np.full(len(folds), np.nan)
    # kept tasks (NaN) first, by trial and fold; then the rest as they came in
    order = np.lexsort((folds["fold"], folds["trial"], np.nan_to_num(when, nan=-np.inf)))
    objective = {int(t["trial"]): float(t["objective_mean"]) for t in r.trials
                 if t["trial"] >= 0 and t["status"] == 0}
    need = {int(t["trial"]): int(t["folds"]) for t in r.trials if t["trial"] >= 0}
    seen, best, out = {}, np.nan, []
    for i in order:
        t = int(folds["trial"][i])
        seen[t] = seen.get(t, 0) + 1
        if seen[t] == need.get(t) and t in objective:
            v = objective[t]
            if np.isnan(best) or (v > best if r.maximize else v < best):
                best = v
        out.append(best)
    return np.arange(1, len(out) + 1), np.array(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", nargs="+", help="aesweep results files")
    ap.add_argument("-o", "--out", default="compare.png", help="the figure (default compare.png)")
    a = ap.parse_args(argv)
    try:
        runs = [ar.load(p) for p in a.results]
    except (OSError, ValueError, KeyError) as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2
    objectives = {r.objective for r in runs}
    if len(objectives) > 1:
        print(f"compare.py: the files optimise different objectives: {sorted(objectives)}",
              file=sys.stderr)
        return 2
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for path, r in zip(a.results, runs):
        x, y = best_so_far(r)
        final = np.nanmax(y) if r.maximize else np.nanmin(y)
        label = f"{r.job.get('name', path)} ({r.strategy}, {len(x)} tasks): best {final:.5g}"
        ax.step(x, y, where="post", label=label)
    ax.set_xlabel("tasks done")
    ax.set_ylabel(f"best {runs[0].objective} so far")
    ax.set_title("Best objective so far against tasks done", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.savefig(a.out, dpi=110, bbox_inches="tight")
    print(f"compare: {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
