#!/usr/bin/python3
"""A report of an aesweep search from its results file alone.

    analysis/report.py RESULTS.h5 [-o DIR] [--top K] [--tsne] [--follow [SECONDS]]

Writes DIR/index.html (default DIR: report/ beside the results file) and every
figure beside it as a PNG:
  leaderboard (in the HTML), objective against each searched parameter, the
  bisection's intervals per round, loss curves of the top trials, the spread of
  each trial over its folds, and for the best model: test images and their
  reconstructions, the 2-D latent scatter by class (PCA; t-SNE with --tsne; the
  codes themselves when the bottleneck is 2), the prior against the codes (csd),
  the confusion matrix (with a classifier); and the search's timeline per rank;
  Pareto fronts (objective against code width, val_mse against accuracy),
  parallel coordinates and parameter importance (a random forest, sklearn).
What the file cannot show (no /best, no classifier, ...) is left out and said so.
--follow rewrites the report every SECONDS (default 10) while the run's status
is running (the page reloads itself meanwhile) and ends with the final report.
"""
import argparse
import html
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # through bin/ links too
import needs  # noqa: E402

needs.packages("report.py", "numpy", "h5py", "matplotlib")
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import aesweep_results as ar  # noqa: E402
import tradeoffs  # noqa: E402

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]
PARAM_LABELS = {"lr": "learning rate", "batch_size": "batch size", "bottleneck": "bottleneck width",
                "lambda": "penalty weight λ", "sigma": "kernel width σ"}
DPI = 110


def class_names(job):
    data = job.get("data", {})
    if not data.get("path") and data.get("dataset", "fashion-mnist") == "fashion-mnist":
        return FASHION
    return [str(i) for i in range(10)]


def objective_label(r):
    name = r.objective
    return f"{name} ({'higher' if r.maximize else 'lower'} is better)"


class Report:
    """Figures saved as they are made; parts left out recorded with the reason."""

    def __init__(self, results, out, top):
        self.r = results
        self.out = Path(out)
        self.top = top
        self.figures = []  # (file name, title, caption)
        self.left_out = []  # (what, why)
        self.out.mkdir(parents=True, exist_ok=True)

    def save(self, fig, name, title, caption):
        path = self.out / f"{name}.png"
        # through a rename: a browser reloading a followed report never reads half
        replace_with(path, lambda tmp: fig.savefig(tmp, dpi=DPI, bbox_inches="tight",
                                                   format="png"))
        plt.close(fig)
        self.figures.append((path.name, title, caption))

    def skip(self, what, why):
        self.left_out.append((what, why))


def replace_with(path, write):
    """Writes path through a temporary file in its folder renamed into place."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# ---- the search ------------------------------------------------------------------------


def leaderboard_rows(r, top):
    """The top trials, best first (the objective's direction), as dicts for the table."""
    rows = []
    params = r.searched() or list(r.space)
    values = {p: r.param_values(p) for p in params}
    se, tied = r.se, r.tied()
    ranked = r.ranked()
    chosen = r.chosen_over_best
    with_se = len(ranked) > 0 and np.isfinite(se[int(ranked[0]["trial"])])  # as aesweep info
    for t in ranked[:top]:
        row = {"trial": int(t["trial"])}
        if r.strategy == "bisection":
            row["stage"], row["round"] = int(t["stage"]), int(t["round"])
        for p in params:  # /trials is indexed by trial id
            v = values[p][int(t["trial"])]
            row[p] = float(v) if isinstance(v, (float, np.floating)) else v
        row[r.objective] = (float(t["objective_mean"]), float(t["objective_std"]))
        if with_se:  # k >= 2 folds: the standard error and the one-SE band
            row["se"] = float(se[int(t["trial"])])
            row["tied"] = ("*" if tied[int(t["trial"])] else "") + \
                (" chosen" if int(t["trial"]) == chosen else "")
        # How well the codes separate classes (means over folds), when the file has
        # them and they are not the objective already.
        for m in ("val_knn_accuracy", "val_linear_accuracy"):
            if m in t.dtype.names and m != r.objective:
                row[m.replace("val_", "")] = float(t[m])
        row["epochs"] = float(t["epochs"])
        row["seconds"] = float(t["seconds"])
        row["config"] = ar.text(t["config"])
        rows.append(row)
    return rows


def fmt(v):
    if isinstance(v, tuple):
        return f"{v[0]:.5g} ± {v[1]:.2g}"
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def leaderboard_html(r, top):
    rows = leaderboard_rows(r, top)
    if not rows:
        return "<p>No trial finished without diverging or failing: no leaderboard.</p>"
    cols = list(rows[0].keys())
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{fmt(row[c])}</td>" for c in cols) + "</tr>"
                   for row in rows)
    n_ok = len(r.ranked())
    tied = ""
    if "tied" in cols:
        tied = (f" se is the standard error of the mean (the folds' sample std / √folds); "
                f"* marks the {int(np.sum(r.tied()))} trials within one standard error of "
                f"the best, tied with it (Breiman's one-SE rule).")
        chosen = r.chosen_over_best
        if chosen is not None:
            top = int(r.ranked()[0]["trial"])
            tied += (f" search.select is one_se: trial {chosen}, marked chosen, is the one refit"
                     + (": the trial the search.space preferences pick among the tied"
                        if r.tied()[chosen] else
                        ": where the bisection's stages led, each choosing by the rule")
                     + f" (the best mean is trial {top}).")
    note = (f"<p>Top {len(rows)} of {n_ok} ok trials ({len(r.trials)} in all) by "
            f"{html.escape(objective_label(r))}: mean ± std over folds;{tied} knn_accuracy and "
            f"linear_accuracy are the codes' 10-nearest-neighbour and linear-probe "
            f"accuracies (means over folds); epochs is the mean early-stopping epoch, "
            f"seconds the training time summed over folds.</p>")
    return note + f'<table class="board"><tr>{head}</tr>{body}</table>'


def stage_colours(n):
    cmap = plt.get_cmap("tab10")
    return [cmap(i % 10) for i in range(max(n, 1))]


def fig_objective_vs_params(rep):
    r = rep.r
    params = r.searched()
    ok = r.trials[(r.trials["status"] == 0) & np.isfinite(r.trials["objective_mean"])]
    if not params or len(ok) == 0:
        rep.skip("objective against the parameters",
                 "no parameter took more than one value" if len(ok) else "no ok trial")
        return
    fig, axes = plt.subplots(1, len(params), figsize=(4.6 * len(params), 3.9), squeeze=False,
                             constrained_layout=True)
    bisect = r.strategy == "bisection"
    best = r.ranked()[0]
    over = r.chosen_over_best  # the trial search.select one_se refit instead of the best
    chosen = np.flatnonzero(ok["trial"] == over) if over is not None else []
    chosen = int(chosen[0]) if len(chosen) else None
    y = ok["objective_mean"]
    spread = np.nanmax(y) / np.nanmin(y) if np.nanmin(y) > 0 else 1
    stages = sorted(set(int(s) for s in ok["stage"])) if bisect else [None]
    colours = stage_colours(len(stages))
    stage_params = stage_names(r)
    okmask = (r.trials["status"] == 0) & np.isfinite(r.trials["objective_mean"])
    for ax, p in zip(axes[0], params):
        x, labels = r.param_axis(p)
        x = x[okmask]
        for k, s in enumerate(stages):
            m = ok["stage"] == s if bisect else np.ones(len(ok), bool)
            label = (f"stage {s + 1}" + (f": {stage_params[s]}" if s < len(stage_params) else "")
                     if bisect else "trial")
            size = 22 + 22 * np.maximum(ok["round"][m], 0) if bisect else 30
            ax.scatter(x[m], y[m], s=size, color=colours[k], marker="os^Dv<>p*h"[k % 10],
                       edgecolors="black", linewidths=0.4, alpha=0.75, label=label)
        b = int(np.flatnonzero(ok["trial"] == best["trial"])[0])
        tied = r.tied()[okmask]
        tied[b] = False
        if tied.any():
            ax.scatter(x[tied], y[tied], s=120, facecolors="none", edgecolors="darkorange",
                       linewidths=1.3, label=f"tied with the best ({int(tied.sum())}: one SE)")
        ax.scatter([x[b]], [y[b]], s=170, facecolors="none",
                   edgecolors="red", linewidths=1.6, label=f"best (trial {int(best['trial'])})")
        if chosen is not None:  # search.select one_se took another trial than the best
            ax.scatter([x[chosen]], [y[chosen]], s=190, marker="*", color="limegreen",
                       edgecolors="black", linewidths=0.6, zorder=4,
                       label=f"chosen (trial {over}, one_se)")
        if labels:
            ax.set_xticks(range(len(labels)))
            ax.set_xticklabels(labels, fontsize=8)
        elif r.log_scale(p):
            ax.set_xscale("log")
        if spread > 3:
            ax.set_yscale("log")
        ax.set_xlabel(param_label(p) + (" (log scale)" if r.log_scale(p) else ""))
        ax.set_ylabel(f"{r.objective}, mean over folds")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7, loc="best")
    bad = len(r.trials) - len(ok)
    fig.suptitle(f"{r.objective} against each searched parameter"
                 + (f" ({bad} diverged/failed trials not shown)" if bad else ""))
    rep.save(fig, "objective_vs_params", "Objective against the parameters",
             f"Each ok trial's {objective_label(r)}, mean over its folds; the best is circled in"
             " red, the trials within one standard error of it (tied with it) in orange" +
             ("; the green star is the trial search.select one_se chose among them and refit"
              if over is not None else "") + "." + (" Colour and marker: the stage that evaluated it; size: the round (larger"
                         " is later)." if bisect else ""))


def param_label(name):
    return PARAM_LABELS.get(ar.column_of(name) or name, name)


def stage_names(r):
    """'lr', 'lr, bottleneck', ... per bisection stage, from the job."""
    search = r.job.get("search", {})
    stages = search.get("stages") or [[k] for k in search.get("space", {})]
    return [", ".join(s) for s in stages]


def fig_bisection(rep):
    r = rep.r
    rounds = r.rounds
    if r.strategy != "bisection":
        rep.skip("bisection intervals", f"the search is {r.strategy}, not bisection")
        return
    if rounds is None or len(rounds) == 0:
        rep.skip("bisection intervals", "the file has no /rounds (an older aesweep wrote it)")
        return
    panels = []
    for row in rounds:
        key = (int(row["stage"]), ar.text(row["param"]))
        if key not in panels:
            panels.append(key)
    fig, axes = plt.subplots(len(panels), 1, figsize=(7.5, 1.2 + 1.4 * len(panels)),
                             squeeze=False)
    for ax, (stage, param) in zip(axes[:, 0], panels):
        rows = rounds[(rounds["stage"] == stage) & (np.char.decode(rounds["param"].astype("S"))
                                                     == param)]
        x, labels = r.param_axis(param)
        for row in rows:
            y = int(row["round"])
            ax.plot([row["lo"], row["hi"]], [y, y], color="tab:blue" if not row["final"]
                    else "tab:orange", lw=6, alpha=0.6, solid_capstyle="butt")
            pts = (r.trials["stage"] == stage) & (r.trials["round"] == y)
            ax.scatter(x[pts], np.full(int(np.sum(pts)), y), color="black", s=14, zorder=3)
        # the values of this stage tied with its best (one standard error): its own
        # trials and the point of the stage before, where it starts from
        among = (r.trials["stage"] == stage) | (r.trials["trial"] == r.stage_start(stage))
        tied = r.tied(among=among) & np.isfinite(x)
        if tied.any():  # one value alone: a band wide enough to be seen
            lo, hi = np.min(x[tied]), np.max(x[tied])
            shade = dict(color="tab:green", alpha=0.2,
                         label=f"tied with the stage's best ({int(tied.sum())})")
            ax.axvspan(lo, hi, **shade) if hi > lo else ax.axvline(lo, lw=9, **shade)
        chosen = rows["chosen"][np.isfinite(rows["chosen"])]
        if len(chosen):
            c = float(chosen[-1]) + 0.0  # -0.0, an index, reads as 0
            name = labels[int(round(c))] if labels else fmt(c)
            ax.axvline(c, color="red", ls="--", lw=1.2, label=f"chosen {name}")
        if len(chosen) or tied.any():
            ax.legend(fontsize=8, loc="upper right")
        if labels:
            ax.set_xticks(range(len(labels)))
            ax.set_xticklabels(labels, fontsize=8)
        elif r.log_scale(param):
            ax.set_xscale("log")
        ax.set_yticks(sorted(set(int(v) for v in rows["round"])))
        ax.invert_yaxis()
        ax.set_ylabel("round")
        ax.set_xlabel(f"stage {stage + 1}: {param_label(param)}")
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle("Midpoint bisection: the interval of each round, narrowing to the chosen value")
    fig.tight_layout()
    rep.save(fig, "bisection", "Bisection intervals",
             "Bars: each round's interval [lo, hi] (orange: the exhaustive last round); dots: the"
             " points first evaluated in that round; dashed red: the stage's chosen value; green:"
             " the span of the stage's values within one standard error of its best (tied"
             " with it, for k >= 2 folds).")


def fig_curves(rep):
    r = rep.r
    top = r.ranked()[: min(rep.top, 5)]
    if len(top) == 0 or not r.curves:
        rep.skip("loss curves", "no ok trial" if len(top) == 0 else "the file has no /curves")
        return
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    colours = stage_colours(len(top))
    for k, t in enumerate(top):
        trial = int(t["trial"])
        for fold in range(int(t["folds"])):
            c = r.curve(trial, fold)
            if c is None or len(c) == 0:
                continue
            epochs = np.arange(1, len(c) + 1)
            kw = {"label": f"trial {trial}"} if fold == 0 else {}
            # a short curve (1 epoch is one point) needs markers to be seen at all
            kw["marker"], kw["ms"] = ("o", 4) if len(c) < 6 else (None, 0)
            ax.plot(epochs, c[:, 1], color=colours[k], lw=1.0, **kw)
            kw.pop("label", None)
            ax.plot(epochs, c[:, 0], color=colours[k], lw=0.8, ls=":", mfc="none", **kw)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"loss: {r.job.get('train', {}).get('loss', 'mse')} (log scale)")
    ax.set_title(f"Top {len(top)} trials: validation loss (solid) and training loss (dotted),"
                 " every fold", fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    rep.save(fig, "curves", "Loss curves of the top trials",
             "One colour per trial, one line per fold: validation loss solid, training loss"
             " dotted.")


def fig_fold_spread(rep):
    r = rep.r
    ranked = r.ranked()[:20]
    if len(ranked) == 0:
        rep.skip("fold spread", "no ok trial")
        return
    folds = r.folds[r.folds["trial"] >= 0]
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(ranked) + 2), 4))
    for x, t in enumerate(ranked):
        vals = folds["objective"][folds["trial"] == t["trial"]]
        jitter = (np.arange(len(vals)) - (len(vals) - 1) / 2) * 0.08
        ax.errorbar(x, t["objective_mean"], yerr=t["objective_std"], fmt="_", color="gray",
                    ms=14, elinewidth=1, capsize=4, zorder=1,
                    label="mean ± std" if x == 0 else None)
        ax.scatter(x + jitter, vals, s=20, color="tab:blue", zorder=2,
                   label="fold" if x == 0 else None)
    ax.set_xticks(range(len(ranked)))
    ax.set_xticklabels([str(int(t["trial"])) for t in ranked], fontsize=8)
    ax.set_xlabel("trial, best first")
    ax.set_ylabel(f"{r.objective} per fold")
    ax.set_title(f"Spread over folds of the {len(ranked)} best trials", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    rep.save(fig, "fold_spread", "Spread over folds",
             "Each fold's objective (dots) and the trial's mean ± population std (bar).")


def fig_timeline(rep):
    r = rep.r
    folds = r.folds[r.folds["trial"] >= 0]
    if "finished" not in (folds.dtype.names or ()):
        rep.skip("timeline", "the file has no /folds.finished (an older aesweep wrote it)")
        return
    live = folds[np.isfinite(folds["finished"])]
    if len(live) == 0:
        rep.skip("timeline", "every task was kept from an earlier run's files")
        return
    ranks = sorted(set(int(x) for x in live["rank"]))
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.45 * len(ranks)))
    end = float(np.max(live["finished"]))
    colours = {0: "tab:green", 1: "tab:red", 2: "black"}
    for i, rank in enumerate(ranks):
        mine = live[live["rank"] == rank]
        starts = mine["finished"] - mine["seconds"]
        ax.barh(np.full(len(mine), i), mine["seconds"], left=starts, height=0.7,
                color=[colours.get(int(s), "grey") for s in mine["status"]],
                edgecolor="white", linewidth=0.5)
        busy = float(np.sum(mine["seconds"])) / end if end > 0 else 0
        ax.text(end * 1.01, i, f"{100 * busy:.0f}% busy", va="center", fontsize=8)
    ax.set_yticks(range(len(ranks)))
    ax.set_yticklabels([f"rank {k}" for k in ranks])
    ax.set_xlim(0, end * 1.12)
    ax.set_xlabel("seconds since the run started")
    kept = len(folds) - len(live)
    ax.set_title("Tasks per rank over time" + (f" ({kept} kept from an earlier run not shown)"
                                               if kept else ""), fontsize=10)
    ax.grid(alpha=0.3, axis="x")
    rep.save(fig, "timeline", "Timeline",
             "Each bar is one (trial, fold) task on the rank that trained it, from its start"
             " (finished − seconds) to its end; green ok, red diverged, black failed.")


# ---- the best model --------------------------------------------------------------------


def best_model_parts(rep, tsne):
    r = rep.r
    parts = ["reconstructions", "interpolation", "code plane", "latent scatter",
             "prior against the codes", "confusion matrix"]
    if r.best is None or r.best_model is None:
        why = ("the run was " + r.status + ": no /best") if r.best is None else "no /best/model"
        for p in parts:
            rep.skip(p, why)
        return
    try:
        images, labels = r.test_set()
    except (OSError, ValueError) as e:
        for p in parts:
            rep.skip(p, f"the job's test images cannot be read: {e}")
        return
    m = r.best_model
    names = class_names(r.job)
    codes = m.encode(images)
    rep.best_check = (m.mse(images), r.best.get("test_mse"))
    if m.has_decoder:
        fig_reconstructions(rep, m, images, labels, names)
        fig_interpolation(rep, m, images, labels, names)
        fig_code_plane(rep, m, codes)
        if m.variational:
            fig_samples(rep, m)
    else:
        for p in parts[:3]:
            rep.skip(p, "the best model is an encoder alone (train.recon_weight 0): no decoder")
    fig_latent(rep, codes, labels, names, tsne)
    fig_prior(rep, codes, labels)
    fig_confusion(rep, m, images, labels, names)


def show(ax, m, values, pixels=False):
    """One image of the model's input shape: uint8 pixels, or the network's values
    on its input scale ([0, 1] or [-1, 1]); channels first, as the files keep them."""
    c, h, w = m.input_shape
    x = np.asarray(values, np.float64).reshape(c, h, w)
    x = x / 255.0 if pixels else ((x + 1) / 2 if m.signed else x)
    x = np.clip(x, 0, 1)
    if c == 1:
        ax.imshow(x[0], cmap="gray", vmin=0, vmax=1)
    else:
        ax.imshow(np.moveaxis(x[:3], 0, -1))
    ax.set_xticks([])
    ax.set_yticks([])


def fig_samples(rep, m):
    """A variational model's decoder on codes drawn from its prior N(0, I)."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((64, m.bottleneck))
    out = m.decode(z)
    fig, axes = plt.subplots(8, 8, figsize=(6, 6))
    for k, ax in enumerate(axes.flat):
        show(ax, m, out[k])
    fig.suptitle(f"Decoded from z ~ N(0, I) in {m.bottleneck} dimensions", fontsize=9)
    rep.save(fig, "samples", "Samples from the prior",
             "64 codes drawn from the standard normal prior (seed 0), decoded by the best "
             "variational model: what it generates, beside what it reconstructs.")


INTERPOLATION_STEPS = 10
# Pairs of classes to walk between (Fashion-MNIST: T-shirt to trouser, sandal to
# sneaker, shirt to bag), when the test set has them.
INTERPOLATION_PAIRS = [(0, 1), (5, 7), (6, 8)]


def fig_interpolation(rep, m, images, labels, names):
    """Report 004 §3.2.2: the decoder along the straight line between the codes of
    two test images, in INTERPOLATION_STEPS steps, the two images at the ends."""
    pairs = [(int(np.flatnonzero(labels == a)[0]), int(np.flatnonzero(labels == b)[0]))
             for a, b in INTERPOLATION_PAIRS if np.any(labels == a) and np.any(labels == b)]
    if not pairs:
        rep.skip("interpolation", "the test set lacks the classes it walks between")
        return
    t = np.linspace(0.0, 1.0, INTERPOLATION_STEPS)[:, None]
    fig, axes = plt.subplots(len(pairs), INTERPOLATION_STEPS + 2,
                             figsize=(0.9 * (INTERPOLATION_STEPS + 2), 1.0 * len(pairs) + 0.4),
                             squeeze=False)
    for row, (i, j) in enumerate(pairs):
        a, b = m.encode(images[[i, j]])
        out = m.decode((1 - t) * a + t * b)
        show(axes[row, 0], m, images[i], pixels=True)
        for k in range(INTERPOLATION_STEPS):
            show(axes[row, k + 1], m, out[k])
        show(axes[row, -1], m, images[j], pixels=True)
        axes[row, 0].set_title(names[labels[i]], fontsize=7)
        axes[row, -1].set_title(names[labels[j]], fontsize=7)
    rep.save(fig, "interpolation", "Interpolation between codes",
             f"Each row: a test image, the decoder on {INTERPOLATION_STEPS} evenly spaced "
             "points of the straight line from its code to another image's code (ends "
             "included), and that other image.")


CODE_PLANE_SIDE = 12


def fig_code_plane(rep, m, codes):
    """Report 002 §3.2: for a 2-d code, the decoder over a grid of the plane that the
    test codes cover (their 1st to 99th percentiles on each axis)."""
    if m.bottleneck != 2:
        rep.skip("code plane", f"the code is {m.bottleneck}-d; the plane is drawn for 2-d codes")
        return
    lo, hi = np.percentile(codes, 1, axis=0), np.percentile(codes, 99, axis=0)
    xs = np.linspace(lo[0], hi[0], CODE_PLANE_SIDE)
    ys = np.linspace(hi[1], lo[1], CODE_PLANE_SIDE)  # top row: the largest second coordinate
    grid = np.array([[x, y] for y in ys for x in xs])
    out = m.decode(grid)
    fig, axes = plt.subplots(CODE_PLANE_SIDE, CODE_PLANE_SIDE, figsize=(7, 7))
    for k, ax in enumerate(axes.flat):
        show(ax, m, out[k])
    fig.suptitle(f"z1 from {lo[0]:.3g} to {hi[0]:.3g} (left to right), z2 from {hi[1]:.3g} "
                 f"to {lo[1]:.3g} (top to bottom)", fontsize=8)
    rep.save(fig, "code_plane", "The decoder over the code plane",
             f"A {CODE_PLANE_SIDE}x{CODE_PLANE_SIDE} grid of 2-d codes spanning the test "
             "codes' 1st to 99th percentiles on each axis, decoded: how the model lays the "
             "images out in its plane.")


def fig_reconstructions(rep, m, images, labels, names):
    picks = [int(np.flatnonzero(labels == c)[0]) for c in range(10) if np.any(labels == c)]
    out = m.reconstruct(images[picks])
    fig, axes = plt.subplots(2, len(picks), figsize=(1.1 * len(picks), 2.6))
    for k, i in enumerate(picks):
        show(axes[0, k], m, images[i], pixels=True)
        show(axes[1, k], m, out[k])
        axes[0, k].set_title(names[labels[i]], fontsize=7)
        for a in axes[:, k]:
            a.set_xticks([])
            a.set_yticks([])
    axes[0, 0].set_ylabel("test", fontsize=8)
    axes[1, 0].set_ylabel("output", fontsize=8)
    mse = float(np.mean((out - m.inputs(images[picks])) ** 2))
    fig.suptitle(f"Best model: test images and their reconstructions (MSE of these {mse:.4f})",
                 fontsize=9)
    rep.save(fig, "reconstructions", "Reconstructions",
             "Top: the first test image of each class; bottom: the best model's output.")


def pca2(x):
    xc = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(xc, full_matrices=False)
    explained = s[:2] ** 2 / np.sum(s ** 2)
    return vt[:2], explained


def scatter_by_class(ax, xy, labels, names):
    cmap = plt.get_cmap("tab10")
    for c in range(10):
        m = labels == c
        if np.any(m):
            ax.scatter(xy[m, 0], xy[m, 1], s=4, color=cmap(c), label=names[c], alpha=0.7)
    ax.legend(fontsize=7, markerscale=3, loc="best", ncol=2)


def fig_latent(rep, codes, labels, names, tsne):
    n = min(len(codes), 3000)
    codes, labels = codes[:n], labels[:n]
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    if codes.shape[1] == 2:
        xy, how = codes, "the codes themselves (bottleneck 2)"
        ax.set_xlabel("code 1")
        ax.set_ylabel("code 2")
    else:
        basis, ex = pca2(codes)
        xy = (codes - codes.mean(axis=0)) @ basis.T
        how = f"PCA of the {codes.shape[1]}-d codes"
        ax.set_xlabel(f"PC 1 ({100 * ex[0]:.0f}% of variance)")
        ax.set_ylabel(f"PC 2 ({100 * ex[1]:.0f}% of variance)")
    scatter_by_class(ax, xy, labels, names)
    ax.set_title(f"Latent codes of {n} test images: {how}", fontsize=10)
    rep.save(fig, "latent", "Latent space", f"{how}, coloured by true class.")
    if not tsne:
        rep.skip("t-SNE of the codes", "not asked for (--tsne)")
        return
    from sklearn.manifold import TSNE
    m = min(n, 2000)
    emb = TSNE(n_components=2, init="pca", random_state=0, perplexity=30).fit_transform(codes[:m])
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    scatter_by_class(ax, emb, labels[:m], names)
    ax.set_title(f"t-SNE of the codes of {m} test images", fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    rep.save(fig, "latent_tsne", "Latent space (t-SNE)", "t-SNE (perplexity 30), by true class.")


def prior_samples(job, n, d, rng):
    """Samples of the job's csd prior, as aesweep draws them (penalty.c)."""
    pen = job.get("penalty", {})
    kind = pen.get("prior", "onehot")
    if kind == "gaussian":
        return rng.standard_normal((n, d))
    if kind == "swiss_roll":
        t = 1.5 * np.pi * (1 + 2 * rng.random(n))
        out = np.zeros((n, d))
        out[:, 0], out[:, 1] = t * np.cos(t), t * np.sin(t)
        return out
    out = np.zeros((n, d))
    y = rng.integers(0, 10 if d >= 10 else d, n)
    keep = y < d
    out[np.flatnonzero(keep), y[keep]] = 1.0
    noise = float(pen.get("prior_noise", 0))
    return out + noise * rng.standard_normal((n, d)) if noise > 0 else out


PRIOR_PENALTIES = ("csd", "adversarial", "adversarial+csd")


def fig_prior(rep, codes, labels):
    r = rep.r
    pen = r.job.get("penalty", {})
    kind = pen.get("type", "none")
    if kind not in PRIOR_PENALTIES:
        rep.skip("prior against the codes", f"penalty.type is {kind}; only "
                 f"{', '.join(PRIOR_PENALTIES)} have a prior")
        return
    n = min(len(codes), 2000)
    prior = prior_samples(r.job, n, codes.shape[1], np.random.default_rng(0))
    both = np.vstack([codes[:n], prior])
    if codes.shape[1] == 2:
        basis, mean, how = np.eye(2), np.zeros(2), "codes"
    else:
        basis, _ = pca2(both)
        mean, how = both.mean(axis=0), "PCA of codes and prior together"
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    pc = (prior - mean) @ basis.T
    scatter_by_class(ax, (codes[:n] - mean) @ basis.T, labels[:n], class_names(r.job))
    ax.scatter(pc[:, 0], pc[:, 1], s=40, marker="x", color="black", alpha=0.5, zorder=3,
               label=f"prior samples ({pen.get('prior', 'onehot')})")
    ax.legend(fontsize=7, markerscale=2, loc="best", ncol=2)
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
    weights = {"csd": f"σ={pen.get('sigma', 1)}, λ={pen.get('lambda', 0)}",
               "adversarial": f"λ={pen.get('lambda', 0)}",
               "adversarial+csd": f"λ={pen.get('lambda', 0)}, csd λ={pen.get('csd_lambda', 1)}, "
                                  f"σ={pen.get('sigma', 1)}"}[kind]
    ax.set_title(f"Codes against the {kind} prior ({weights}): {how}", fontsize=10)
    pull = {"csd": "the Cauchy–Schwarz divergence pulls the codes toward",
            "adversarial": "the discriminator tells the codes from, and the encoder learns to "
                           "imitate",
            "adversarial+csd": "the discriminator and the Cauchy–Schwarz divergence pull the "
                               "codes toward"}[kind]
    rep.save(fig, "prior", "Codes against the prior",
             f"Black crosses: samples of the prior that {pull}; dots: test codes by true class.")


def confusion(pred, labels, k=10):
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (labels, pred), 1)
    return cm


def fig_confusion(rep, m, images, labels, names):
    probs = m.predict(images)
    if probs is None:
        rep.skip("confusion matrix", "the best model has no classifier (classifier.epochs 0)")
        return
    pred = np.argmax(probs, axis=1)
    cm = confusion(pred, labels)
    acc = float(np.mean(pred == labels))
    fig, ax = plt.subplots(figsize=(6.5, 5.8))
    im = ax.imshow(cm, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.colorbar(im, ax=ax, label="test images")
    what = "Fine-tuned encoder" if m.classifier_input == "image" else "Classifier on the codes"
    ax.set_title(f"{what}: test accuracy {acc:.4f} "
                 f"(file: {rep.r.best.get('test_accuracy', float('nan')):.4f})", fontsize=10)
    rep.save(fig, "confusion", "Confusion matrix",
             "Rows: true class; columns: the classifier's prediction from the best model's codes "
             "(the MLP, or a guided penalty's classifier trained with the encoder), or from "
             "the images for a fine-tuned encoder (classifier.finetune).")


# ---- the page --------------------------------------------------------------------------


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8">{refresh}<title>aesweep report: {title}</title>
<style>
body {{ font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }}
table.board {{ border-collapse: collapse; font-size: 13px; }}
table.board td, table.board th {{ border: 1px solid #ccc; padding: 3px 7px; text-align: right; }}
table.board tr:first-child {{ background: #eee; }}
figure {{ margin: 1.5em 0; }} figcaption {{ font-size: 13px; color: #555; }}
img {{ max-width: 100%; }} .meta td {{ padding: 1px 10px 1px 0; }}
</style></head><body>
<h1>aesweep report: {title}</h1>
<table class="meta">{meta}</table>
<h2>Leaderboard</h2>
{board}
{figures}
<h2>Left out</h2>
{left_out}
</body></html>
"""


def run_title(r):
    """The job's name and the --set overrides that made the run."""
    name = r.job.get("name", r.path.name)
    return f"{name} ({' '.join(r.sets)})" if r.sets else name


def page(rep, refresh=None):
    r = rep.r
    meta = [("results", str(r.path)), ("status", r.status), ("strategy", r.strategy),
            ("overrides", " ".join(r.sets) if r.sets else "none (the job file as it is)"),
            ("objective", objective_label(r)),
            ("trials", f"{len(r.trials)} ({len(r.ranked())} ok)"),
            ("tasks", str(int(np.sum(r.folds["trial"] >= 0))))]
    if r.best is not None:
        meta.append(("best", f"trial {r.best.get('trial')}: test_mse "
                             f"{r.best.get('test_mse', float('nan')):.5g}, test_accuracy "
                             f"{r.best.get('test_accuracy', float('nan')):.4g}"))
    figs = "".join(f'<figure><h2>{html.escape(t)}</h2><img src="{f}" alt="{html.escape(t)}">'
                   f"<figcaption>{html.escape(c)}</figcaption></figure>\n"
                   for f, t, c in rep.figures)
    left = ("<ul>" + "".join(f"<li>{html.escape(w)}: {html.escape(y)}</li>"
                             for w, y in rep.left_out) + "</ul>") if rep.left_out else \
        "<p>Nothing.</p>"
    if refresh:
        meta.append(("updated", time.strftime("%H:%M:%S") + f", every {refresh:g} s while the"
                     " run goes on"))
    return PAGE.format(title=html.escape(run_title(r)),
                       refresh=f'<meta http-equiv="refresh" content="{refresh:g}">'
                       if refresh else "",
                       meta="".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                                    for k, v in meta),
                       board=leaderboard_html(r, rep.top), figures=figs, left_out=left)


SEARCH_FIGURES = (fig_objective_vs_params, fig_bisection, fig_curves, fig_fold_spread,
                  fig_timeline, tradeoffs.fig_pareto, tradeoffs.fig_parallel,
                  tradeoffs.fig_importance)


def make_report(path, out=None, top=10, tsne=False, refresh=None):
    """Writes the report; returns the Report (its figures and what was left out).
    refresh: the page reloads itself every so many seconds (a followed run)."""
    r = ar.load(path)
    rep = Report(r, out or Path(path).parent / "report", top)
    rep.best_check = None
    for fig in SEARCH_FIGURES:
        fig(rep)
    best_model_parts(rep, tsne)
    if not r.models:
        weights = r.job.get("output", {}).get("weights", "best")
        rep.skip("per-task models", f"output.weights is {weights!r}: only /best/model is kept"
                 " (the report draws from /best/model alone)")
    text = page(rep, refresh if r.status == "running" else None)
    replace_with(rep.out / "index.html", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return rep


READ_RETRIES = 20  # a read that meets a batch being flushed succeeds a moment later


def follow(path, out=None, top=10, tsne=False, every=10.0, say=print):
    """Rewrites the report every `every` seconds while the run is running; returns
    the final Report, made once the status is no longer running. Each rewrite is
    said (flushed: a pipe reading the lines sees each as it is written)."""
    while True:
        for attempt in range(READ_RETRIES):
            try:
                rep = make_report(path, out, top, tsne, refresh=every)
                break
            except Exception:  # h5py meeting a flush half-way raises more than OSError
                if attempt == READ_RETRIES - 1 or not Path(path).exists():
                    raise
                time.sleep(0.25)
        done = int(np.sum(rep.r.folds["trial"] >= 0))
        say(f"report: {rep.out / 'index.html'} at {time.strftime('%H:%M:%S')}: "
            f"{rep.r.status}, {done} tasks, {len(rep.figures)} figures", flush=True)
        if rep.r.status != "running":
            return rep
        time.sleep(every)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="an aesweep results file (OUT/results.h5)")
    ap.add_argument("-o", "--out", help="the report folder (default: report/ beside the file)")
    ap.add_argument("--top", type=int, default=10, help="trials in the leaderboard (default 10)")
    ap.add_argument("--tsne", action="store_true", help="also a t-SNE of the codes (slower)")
    ap.add_argument("--follow", nargs="?", type=float, const=10.0, metavar="SECONDS",
                    help="rewrite the report every SECONDS (default 10) while the run goes on")
    a = ap.parse_args(argv)
    if a.follow is not None and not a.follow > 0:
        ap.error(f"--follow: expected seconds > 0, got {a.follow:g}")
    try:
        if a.follow is not None:
            rep = follow(a.results, a.out, a.top, a.tsne, a.follow)
        else:
            rep = make_report(a.results, a.out, a.top, a.tsne)
    except (OSError, ValueError, KeyError) as e:
        print(f"report.py: {a.results}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # --follow of a run that will not end (killed -9): Ctrl-C
        print("report.py: interrupted", file=sys.stderr)
        return 130
    if a.follow is None:  # following, each rewrite said so as it went
        print(f"report: {rep.out / 'index.html'} ({len(rep.figures)} figures)")
    for what, why in rep.left_out:
        print(f"  left out: {what}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
