"""The report's figures over all trials at once: Pareto fronts (what a trial
trades for what), parallel coordinates and parameter importance, as Optuna draws
them. Each fig_* takes the report (report.Report) and saves a figure or says
why it left it out.
"""
import matplotlib.pyplot as plt
import numpy as np

import aesweep_results as ar
import needs

MIN_IMPORTANCE_TRIALS = 8  # a forest over fewer trials says little


def ok_trials(r):
    return r.trials[(r.trials["status"] == 0) & np.isfinite(r.trials["objective_mean"])]


def accuracy_column(r, ok):
    """The accuracy to trade reconstruction against: the classifier's when known,
    else the linear probe's on the codes; (column, label) or None."""
    for col, label in (("val_accuracy", "classifier val_accuracy"),
                       ("val_linear_accuracy", "linear-probe accuracy of the codes")):
        if col in ok.dtype.names and np.isfinite(ok[col]).any():
            return col, label
    return None


def draw_front(ax, ok, front, x, y, note):
    ax.scatter(ok[x], ok[y], s=22, color="0.7", edgecolors="0.4", linewidths=0.3,
               label=f"trial ({len(ok)})")
    ax.plot(front[x], front[y], color="tab:red", lw=1.2, drawstyle="steps-post", alpha=0.7)
    ax.scatter(front[x], front[y], s=46, color="tab:red", edgecolors="black", linewidths=0.5,
               zorder=3, label=f"Pareto front ({len(front)})")
    for t in front:
        ax.annotate(note(t), (t[x], t[y]), textcoords="offset points", xytext=(5, 4),
                    fontsize=7)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)


def fig_pareto(rep):
    """Report 001's compression against error, report 003's error against accuracy."""
    r = rep.r
    ok = ok_trials(r)
    widths = np.unique(ok["bottleneck"][np.isfinite(ok["bottleneck"])]) if len(ok) else []
    acc = accuracy_column(r, ok) if len(ok) else None
    panels = []
    if len(widths) > 1:
        panels.append("width")
    else:
        rep.skip("Pareto front over the code width",
                 "no ok trial" if len(ok) == 0 else "every ok trial has the same code width")
    if acc and "val_mse" in ok.dtype.names and \
            (np.isfinite(ok[acc[0]]) & np.isfinite(ok["val_mse"])).any():
        panels.append("accuracy")
    elif len(ok):
        rep.skip("Pareto front over val_mse and accuracy",
                 "no trial has a classifier or linear-probe accuracy")
    if not panels:
        return
    dim = r.input_dim
    fig, axes = plt.subplots(1, len(panels), figsize=(5.6 * len(panels), 4.3), squeeze=False,
                             constrained_layout=True)
    captions = []
    for ax, panel in zip(axes[0], panels):
        if panel == "width":
            front = r.pareto()
            draw_front(ax, ok, front, "bottleneck", "objective_mean",
                       lambda t: f"{int(t['trial'])}: {dim / t['bottleneck']:.0f}x")
            if any(ar.column_of(p) == "bottleneck" and r.log_scale(p) for p in r.space):
                ax.set_xscale("log")  # as it was searched
            ax.set_xlabel("code width (bottleneck)")
            ax.set_ylabel(f"{r.objective}, mean over folds")
            ax.set_title(f"{r.objective} against code width", fontsize=10)
            captions.append(f"Left: every ok trial's {ar.text(r.objective)} against its code "
                            f"width; red: the trials no other beats on both, labelled "
                            f"'trial: compression ratio' ({dim} input values / width).")
        else:
            col, label = acc
            sub = ok[np.isfinite(ok[col]) & np.isfinite(ok["val_mse"])]
            front = r.pareto(x="val_mse", y=col, y_max=True)
            draw_front(ax, sub, front, "val_mse", col,
                       lambda t: f"{int(t['trial'])}: {dim / t['bottleneck']:.0f}x")
            ax.set_xlabel("val_mse (lower is better)")
            ax.set_ylabel(f"{label} (higher is better)")
            ax.set_title("Reconstruction against accuracy", fontsize=10)
            captions.append(f"{'Right' if len(panels) > 1 else 'The figure'}: val_mse against "
                            f"the {label}; red: the trials no other beats on both (with their "
                            f"compression ratios).")
    rep.save(fig, "pareto", "Trade-offs: Pareto fronts", " ".join(captions))


def param_matrix(r, params, rows):
    """One column per parameter for the given trials: its value (log10 on a log
    scale, the index in a values list), and for each column a function giving
    a coordinate's value as text."""
    cols, shown = [], []
    for p in params:
        x, labels = r.param_axis(p)
        x = x[rows]
        if labels is not None:
            shown.append(lambda v, labels=labels: labels[int(round(v))])
        elif r.log_scale(p):
            x = np.log10(x)
            shown.append(lambda v: f"{10 ** v:.3g}")
        else:
            shown.append(lambda v: f"{v:.3g}")
        cols.append(x)
    return np.column_stack(cols) if cols else np.empty((int(np.sum(rows)), 0)), shown


def fig_parallel(rep):
    r = rep.r
    params = r.searched()
    okmask = (r.trials["status"] == 0) & np.isfinite(r.trials["objective_mean"])
    if not params or int(np.sum(okmask)) < 2:
        rep.skip("parallel coordinates", "no parameter took more than one value"
                 if int(np.sum(okmask)) >= 2 else "fewer than 2 ok trials")
        return
    X, shown = param_matrix(r, params, okmask)
    shown.append(lambda v: f"{v:.3g}")
    names = [p + (" (log)" if r.log_scale(p) else "") for p in params]
    y = r.trials["objective_mean"][okmask]
    data = np.column_stack([X, y])
    lo, hi = np.nanmin(data, axis=0), np.nanmax(data, axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    norm = (data - lo) / span
    fig, ax = plt.subplots(figsize=(max(6.5, 1.9 * (len(names) + 1)), 4.4))
    order = np.argsort(-y if not r.maximize else y)  # the best drawn last, on top
    cmap = plt.get_cmap("viridis_r" if not r.maximize else "viridis")
    colour = (y - y.min()) / (np.ptp(y) or 1.0)
    for i in order:
        ax.plot(range(data.shape[1]), norm[i], color=cmap(colour[i]), lw=1.0, alpha=0.75)
    ax.set_xticks(range(data.shape[1]))
    ax.set_xticklabels(names + [r.objective], fontsize=8)
    for j in range(data.shape[1]):
        ax.axvline(j, color="0.3", lw=0.8)
        ax.annotate(shown[j](lo[j]), (j, 0), xytext=(3, -12), textcoords="offset points",
                    fontsize=7)
        ax.annotate(shown[j](hi[j]), (j, 1), xytext=(3, 4), textcoords="offset points",
                    fontsize=7)
    ax.set_yticks([])
    ax.set_ylim(-0.08, 1.08)
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(y.min(), y.max()))
    fig.colorbar(sm, ax=ax, label=f"{r.objective}")
    ax.set_title(f"Parallel coordinates of {len(y)} ok trials", fontsize=10)
    rep.save(fig, "parallel", "Parallel coordinates",
             "One line per ok trial through its value of each searched parameter (each axis "
             "from its smallest to its largest value, on a log scale for log-scaled "
             "parameters, a values list in its order) to its objective; colour: the objective, "
             "the best the brightest and drawn on top.")


def importance(r, params, seed=0):
    """(importance per parameter, out-of-bag R^2, trials used) from a random forest
    regressing the objective on the parameters: each parameter's share of the
    variance the forest's splits explain (mean decrease in impurity)."""
    from sklearn.ensemble import RandomForestRegressor
    okmask = (r.trials["status"] == 0) & np.isfinite(r.trials["objective_mean"])
    X, _ = param_matrix(r, params, okmask)
    y = r.trials["objective_mean"][okmask]
    X = np.where(np.isfinite(X), X, np.nanmean(np.where(np.isfinite(X), X, np.nan), axis=0))
    forest = RandomForestRegressor(n_estimators=200, min_samples_leaf=2, oob_score=True,
                                   random_state=seed).fit(X, y)
    return forest.feature_importances_, float(forest.oob_score_), len(y)


def fig_importance(rep):
    r = rep.r
    params = r.searched()
    n_ok = len(ok_trials(r))
    if len(params) < 2:
        rep.skip("parameter importance", "fewer than 2 parameters took more than one value")
        return
    if n_ok < MIN_IMPORTANCE_TRIALS:
        rep.skip("parameter importance", f"{n_ok} ok trials: a forest needs at least "
                 f"{MIN_IMPORTANCE_TRIALS}")
        return
    if needs.missing("sklearn"):
        rep.skip("parameter importance", "needs scikit-learn: install Debian's python3-sklearn")
        return
    share, r2, n = importance(r, params)
    order = np.argsort(share)
    fig, ax = plt.subplots(figsize=(6.5, 0.8 + 0.45 * len(params)))
    ax.barh([params[i] for i in order], share[order], color="tab:blue")
    for k, i in enumerate(order):
        ax.annotate(f"{share[i]:.2f}", (share[i], k), xytext=(3, -3), textcoords="offset points",
                    fontsize=8)
    ax.set_xlim(0, max(1.0, share.max() * 1.15))
    ax.set_xlabel("share of the explained variance")
    ax.set_title(f"Parameter importance for {r.objective}: a random forest over {n} trials "
                 f"(out-of-bag R² {r2:.2f})", fontsize=9)
    rep.save(fig, "importance", "Parameter importance",
             f"A random forest (200 trees, scikit-learn) regresses {r.objective} on the searched "
             f"parameters over the {n} ok trials; each bar is a parameter's share of the variance "
             f"its splits explain (mean decrease in impurity). Out-of-bag R² {r2:.2f}: how much "
             f"of the objective's variance the forest predicts on trials it did not see; near 0 "
             f"or below, the shares mean little.")
