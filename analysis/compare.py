#!/usr/bin/python3
"""Compares searches on one page: how fast each found its best, their leaderboards
side by side, their best models' test metrics, and what differs between their jobs.

    analysis/compare.py A.h5 B.h5 [...] [-o DIR] [--label NAME]... [--top K]

Writes DIR/index.html (default ./compare) with two figures beside it: the best
objective so far against tasks done, and against training time (the tasks'
seconds summed, the CPU the search spent). Tasks count in the order rank 0
received them (/folds.finished; by trial and fold for tasks kept from an earlier
run); a trial counts once all its folds are in. Each run is labelled by --label
(one per file, in order), else by its job's name and --set overrides. The page
lists every job key that differs between the runs and warns when they measured
the objective on different data (data.*, search.folds).
"""
import argparse
import html
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # through bin/ links too
import needs  # noqa: E402

needs.packages("compare.py", "numpy", "h5py", "matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import aesweep_results as ar  # noqa: E402
from report import replace_with, run_title  # noqa: E402

DPI = 110
DATA_KEYS = ("data.", "search.folds")  # what the objective is measured on
# The job keys' defaults (README's table of keys) that decide the data: a job that
# leaves one out has this value
DEFAULTS = {"data.dataset": "fashion-mnist", "data.pad": 0, "data.range": [0, 1],
            "data.train_limit": 0, "data.test_limit": 0, "data.validation": 0.1,
            "search.folds": 1}
TEST_METRICS = ("test_mse", "test_accuracy", "test_knn_accuracy", "test_linear_accuracy")


def best_so_far(r):
    """(tasks done, training seconds so far, best objective so far) after each task,
    in the order the tasks finished."""
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
    seconds = np.cumsum(np.nan_to_num(folds["seconds"][order].astype(np.float64)))
    return np.arange(1, len(out) + 1), seconds, np.array(out)


def flatten(d, prefix=""):
    """{"a": {"b": 1}} -> {"a.b": 1}; lists stay values."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def job_differences(runs):
    """The job keys whose values are not the same in every run: {key: [value per run]}
    (None where a run's job has no such key)."""
    flat = [flatten(r.job) for r in runs]
    keys = sorted(set().union(*flat))
    values = {k: [f.get(k, DEFAULTS.get(k)) for f in flat] for k in keys}
    return {k: v for k, v in values.items()
            if len({json.dumps(x, sort_keys=True) for x in v}) > 1}


def data_warning(diff):
    keys = [k for k in diff if k.startswith(DATA_KEYS) and k != "data.path"]
    if not keys:
        return None
    return ("The runs measured their objective on different data (" + "; ".join(
        f"{k}: {' vs '.join(json.dumps(v) for v in diff[k])}" for k in keys) +
        "): their objectives are not directly comparable.")


LABEL_MAX = 60  # the page's first table has each run's whole --set list


def shorten(text):
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 2].rstrip() + "…)"


def labels_for(runs, paths, given):
    if given:
        return list(given)
    labels = [shorten(run_title(r)) for r in runs]
    if len(set(labels)) < len(labels):  # same job, same overrides: tell them by folder
        labels = [f"{lab} [{Path(p).resolve().parent.name}]" for lab, p in zip(labels, paths)]
    return labels


def fig_progress(runs, labels, out):
    """Best so far against tasks and against training seconds, one panel each."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    finals = []
    for r, label in zip(runs, labels):
        x, secs, y = best_so_far(r)
        final = np.nanmax(y) if r.maximize and np.isfinite(y).any() else \
            np.nanmin(y) if np.isfinite(y).any() else np.nan
        finals.append(final)
        text = f"{label} ({r.strategy}, {len(x)} tasks): best {final:.5g}"
        line = axes[0].step(x, y, where="post", label=text)[0]
        axes[1].step(secs, y, where="post", color=line.get_color())
    axes[0].set_xlabel("tasks done")
    axes[1].set_xlabel("training time so far (seconds, summed over tasks)")
    for ax in axes:
        ax.set_ylabel(f"best {runs[0].objective} so far")
        ax.grid(alpha=0.3)
    fig.suptitle(f"Best {runs[0].objective} so far", fontsize=11)
    fig.tight_layout()
    # below the panels: labels with their overrides are long
    fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center",
               bbox_to_anchor=(0.5, 0.0), fontsize=8, frameon=False)
    path = Path(out) / "progress.png"
    replace_with(path, lambda tmp: fig.savefig(tmp, dpi=DPI, bbox_inches="tight", format="png"))
    plt.close(fig)
    return path.name, finals


def fmt(v):
    if isinstance(v, float):
        return "" if np.isnan(v) else f"{v:.5g}"
    return html.escape(str(v))


def table(header, rows):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def leaderboard(r, top):
    params = r.searched()
    values = {p: r.param_values(p) for p in params}
    rows = []
    for t in r.ranked()[:top]:
        i = int(t["trial"])
        rows.append([i, f"{t['objective_mean']:.5g} ± {t['objective_std']:.2g}",
                     *[float(values[p][i]) if isinstance(values[p][i], (float, np.floating))
                       else values[p][i] for p in params]])
    return table(["trial", r.objective, *params], rows) if rows else "<p>No ok trial.</p>"


def best_table(runs, labels):
    rows = []
    for r, label in zip(runs, labels):
        b = r.best or {}
        rows.append([label, b.get("trial", "-"), float(b.get("objective", np.nan)),
                     *[float(b.get(m, np.nan)) for m in TEST_METRICS],
                     float(b.get("bottleneck", np.nan)), r.status])
    return table(["run", "best trial", "objective", *TEST_METRICS, "bottleneck", "status"], rows)


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>aesweep compare: {title}</title>
<style>
body {{ font-family: sans-serif; max-width: 1250px; margin: 2em auto; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; margin: 0.5em 0; }}
td, th {{ border: 1px solid #ccc; padding: 3px 7px; text-align: right; }}
tr:first-child {{ background: #eee; }}
.side {{ display: flex; gap: 2em; flex-wrap: wrap; align-items: flex-start; }}
.warn {{ background: #fff3cd; border: 1px solid #e0c060; padding: 0.6em; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>aesweep compare: {title}</h1>
{runs}
{warning}
<h2>What differs between the jobs</h2>
{diff}
<h2>Best so far</h2>
<img src="{figure}" alt="best objective so far against tasks and training time">
<p>Left: against tasks done, in the order rank 0 received them; right: against the training
time spent so far (the tasks' seconds summed: the CPU a search used, whatever its rank count).</p>
<h2>Best models on the test set</h2>
{best}
<h2>Leaderboards (top {top})</h2>
<div class="side">{boards}</div>
</body></html>
"""


def write_page(runs, paths, labels, out, top):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figure, _ = fig_progress(runs, labels, out)
    diff = job_differences(runs)
    warning = data_warning(diff)
    run_rows = [[label, str(p), r.strategy, " ".join(r.sets) or "none",
                 int(np.sum(r.folds["trial"] >= 0)), r.status]
                for label, p, r in zip(labels, paths, runs)]
    diff_html = table(["job key", *labels], [[k, *[json.dumps(v) if v is not None else "(unset)"
                                                  for v in vals]] for k, vals in diff.items()]) \
        if diff else "<p>Nothing: the runs ran the same job.</p>"
    boards = "".join(f"<div><h3>{html.escape(label)}</h3>{leaderboard(r, top)}</div>"
                     for r, label in zip(runs, labels))
    text = PAGE.format(
        title=html.escape(" vs ".join(labels)),
        runs=table(["run", "file", "strategy", "--set overrides", "tasks", "status"], run_rows),
        warning=f'<p class="warn">{html.escape(warning)}</p>' if warning else "",
        diff=diff_html, figure=figure, best=best_table(runs, labels), top=top, boards=boards)
    replace_with(out / "index.html", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return out / "index.html", diff, warning


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", help="aesweep results files")
    ap.add_argument("-o", "--out", default="compare", help="the page's folder (default ./compare)")
    ap.add_argument("--label", action="append", help="a run's name on the page, once per file")
    ap.add_argument("--top", type=int, default=5, help="leaderboard rows per run (default 5)")
    a = ap.parse_args(argv)
    if a.label and len(a.label) != len(a.results):
        ap.error(f"{len(a.label)} --label for {len(a.results)} files: give one per file")
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
    labels = labels_for(runs, a.results, a.label)
    try:
        page, diff, warning = write_page(runs, a.results, labels, a.out, a.top)
    except OSError as e:
        print(f"compare.py: {a.out}: cannot write ({e.strerror or e})", file=sys.stderr)
        return 2
    if warning:
        print(f"compare.py: warning: {warning}", file=sys.stderr)
    print(f"compare: {page} ({len(runs)} runs; {len(diff)} job keys differ)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
