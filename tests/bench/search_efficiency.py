"""The search-efficiency benchmark (issue 17, item 6): best val_mse found against
training epochs spent, for aesweep's strategies and for Optuna driving
`aesweep train --progress json`, on one fixed problem and one epoch budget.

The problem: 784-256-B-256-784 on 6000 Fashion-MNIST training images (a 10%
holdout validates), at most MAX_EPOCHS epochs per configuration, no early
stopping; the space: lr log [1e-4, 1e-1], batch_size log-int [16, 512],
bottleneck int [2, 64], train.dropout [0, 0.5], train.weight_decay log
[1e-7, 1e-2]. The budget: BUDGET training epochs (an epoch of a promoted trial
counts once: it goes on from its checkpoint).

aesweep strategies run under `mpirun -np NP` (NP - 1 training workers); the
curve is read from results.h5: tasks in the order rank 0 got them (/folds
finished), each adding the epochs it trained beyond its configuration's
earlier rung, the best val_mse so far after each. Optuna 3.1 (Debian's
python3-optuna) runs NP - 1 trials at a time (n_jobs), each an `aesweep train`
subprocess whose per-epoch JSON lines are reported to the trial; a pruned trial
is stopped with SIGTERM. Its curve: every epoch line, in arrival order, the best
val_mse so far. A curve is cut at BUDGET epochs.

Usage: python3 search_efficiency.py OUTDIR [--seeds N] [--only NAME,...]
Environment: AESWEEP (./build/aesweep), NP (3), BUDGET (400), MAX_EPOCHS (20).
Prints a table (median and spread of the final best over the seeds; the median
epochs each needed to reach Optuna TPE+Hyperband's final median) and writes
OUTDIR/search_efficiency.png and OUTDIR/curves.json.
"""
import argparse
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import h5py
import numpy as np

AESWEEP = os.path.abspath(os.environ.get("AESWEEP", "./build/aesweep"))
NP = int(os.environ.get("NP", "3"))
BUDGET = int(os.environ.get("BUDGET", "400"))
MAX_EPOCHS = int(os.environ.get("MAX_EPOCHS", "20"))
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")

BASE = {
    "name": "search_efficiency",
    "data": {"dataset": "fashion-mnist", "train_limit": 6000, "test_limit": 1000,
             "validation": 0.1},
    "model": {"hidden": [256], "bottleneck": 16},
    "train": {"optimizer": "adam", "lr": 0.001, "batch_size": 64, "epochs": MAX_EPOCHS,
              "early_stopping": {"patience": 0}},
    "classifier": {"epochs": 0},
    "output": {"weights": "none"},
}
SPACE = {
    "lr": {"min": 1e-4, "max": 1e-1, "scale": "log"},
    "batch_size": {"min": 16, "max": 512, "type": "int", "scale": "log"},
    "bottleneck": {"min": 2, "max": 64, "type": "int"},
    "train.dropout": {"min": 0, "max": 0.5},
    "train.weight_decay": {"min": 1e-7, "max": 1e-2, "scale": "log"},
}
PER_TRIAL = BUDGET // MAX_EPOCHS  # full trainings the budget pays for

# Each aesweep strategy: its search block (sized to spend about the budget).
STRATEGIES = {
    "random": {"strategy": "random", "trials": PER_TRIAL},
    "grid": {"strategy": "grid",
             "space": {"lr": {"min": 1e-4, "max": 1e-1, "scale": "log", "points": 5},
                       "bottleneck": {"values": [4, 16, 32, 64]}}},
    "bisection": {"strategy": "bisection", "max_rounds": 1, "exhaustive_below": 2},
    "tpe": {"strategy": "tpe", "trials": PER_TRIAL, "startup_trials": 6, "lag": 2},
    "hyperband": {"strategy": "hyperband", "eta": 3, "min_epochs": 1, "brackets": 9},
    "asha": {"strategy": "asha", "eta": 3, "min_epochs": 1, "trials": 180, "lag": 4},
    "hyperband+tpe": {"strategy": "hyperband", "eta": 3, "min_epochs": 1, "brackets": 9,
                      "sampler": "tpe", "startup_trials": 6},
    "asha+tpe": {"strategy": "asha", "eta": 3, "min_epochs": 1, "trials": 180, "lag": 4,
                 "sampler": "tpe", "startup_trials": 6},
}
OPTUNA = ["optuna_tpe", "optuna_tpe+hyperband"]


def job_for(name, seed):
    job = json.loads(json.dumps(BASE))
    job["seed"] = seed
    search = {"folds": 1, "objective": "val_mse", "space": SPACE}
    search.update(STRATEGIES[name])
    job["search"] = search
    return job


# ---- aesweep strategies -------------------------------------------------------------


def aesweep_curve(path):
    """(epochs spent, best val_mse so far) after each task, in the order rank 0
    got them; a promoted task counts only the epochs beyond its configuration's
    earlier rung."""
    with h5py.File(path, "r") as f:
        trials = f["trials"][...]
        folds = f["folds"][...]
        folds = folds[folds["epochs"] > 0]  # rows a stopped run never wrote are zeros
        lengths = {int(r["trial"]): len(f[f"curves/{int(r['trial'])}/0"]) for r in folds}
    config = {int(t["trial"]): (t["config"], int(t["stage"])) for t in trials}
    rnd = {int(t["trial"]): int(t["round"]) for t in trials}
    order = np.argsort(folds["finished"], kind="stable")
    reached = {}  # (config, bracket) -> epochs its checkpoint holds
    spent, best, curve = 0, math.inf, []
    for i in order:
        row = folds[i]
        t = int(row["trial"])
        key = config[t] if rnd[t] >= 0 else (config[t][0], t)
        new = lengths[t] - reached.get(key, 0)
        reached[key] = max(reached.get(key, 0), lengths[t])
        spent += max(new, 0)
        if np.isfinite(row["val_mse"]):
            best = min(best, float(row["val_mse"]))
        curve.append((spent, best))
    return curve


def run_aesweep(name, seed, out):
    """One search; bisection, whose size no key sets (its last rounds evaluate
    every integer left), is stopped with SIGUSR1 (exit 3, results.h5 kept) once
    it has finished the tasks the budget pays for."""
    folder = out / f"{name}_s{seed}"
    job = folder.with_suffix(".json")
    job.write_text(json.dumps(job_for(name, seed)))
    p = subprocess.Popen(["mpirun", "-np", str(NP), "--oversubscribe", AESWEEP, "run", str(job),
                          "--out", str(folder), "--fresh"], env=ENV, stderr=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, text=True)
    log, stopped = [], False
    for line in p.stderr:
        log.append(line)
        m = re.match(r"^(?:\r\x1b\[K)?\[(\d+)/", line)
        if name == "bisection" and m and int(m.group(1)) >= PER_TRIAL and not stopped:
            p.send_signal(signal.SIGUSR1)
            stopped = True
    rc = p.wait()
    (folder.parent / f"{name}_s{seed}.log").write_text("".join(log))
    if rc != 0 and not (stopped and rc == 3):
        raise RuntimeError(f"{name} seed {seed}: exit {rc}\n{''.join(log)[-2000:]}")
    return aesweep_curve(folder / "results.h5")


# ---- Optuna -----------------------------------------------------------------------------


def run_optuna(name, seed, out):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    job = out / f"{name}_s{seed}.json"
    base = json.loads(json.dumps(BASE))
    base["seed"] = seed
    job.write_text(json.dumps(base))
    lock = threading.Lock()
    events = []  # (epochs spent so far, val_mse), in arrival order
    state = {"spent": 0}

    def objective(trial):
        sets = {
            "train.lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
            "train.batch_size": trial.suggest_int("batch_size", 16, 512, log=True),
            "model.bottleneck": trial.suggest_int("bottleneck", 2, 64),
            "train.dropout": trial.suggest_float("dropout", 0.0, 0.5),
            "train.weight_decay": trial.suggest_float("weight_decay", 1e-7, 1e-2, log=True),
        }
        args = [AESWEEP, "train", str(job), "--progress", "json"]
        for k, v in sets.items():
            args += ["--set", f"{k}={v}"]
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, env=ENV)
        best = math.inf
        try:
            for line in p.stdout:
                msg = json.loads(line)
                if msg.get("event") != "epoch":
                    continue
                v = msg["val_mse"]
                v = math.inf if v is None else float(v)
                best = min(best, v)
                with lock:
                    state["spent"] += 1
                    events.append((state["spent"], v))
                trial.report(best, msg["epoch"])
                if trial.should_prune():
                    p.send_signal(signal.SIGTERM)
                    raise optuna.TrialPruned()
        finally:
            p.stdout.close()
            p.wait()
        return best

    def stop_at_budget(study, trial):
        if state["spent"] >= BUDGET:
            study.stop()

    sampler = optuna.samplers.TPESampler(seed=seed)
    pruner = (optuna.pruners.HyperbandPruner(min_resource=1, max_resource=MAX_EPOCHS,
                                             reduction_factor=3)
              if name.endswith("hyperband") else optuna.pruners.NopPruner())
    study = optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner)
    study.optimize(objective, n_trials=10 * BUDGET, n_jobs=NP - 1, callbacks=[stop_at_budget])
    curve, best = [], math.inf
    for spent, v in events:
        best = min(best, v)
        curve.append((spent, best))
    return curve


# ---- the report ---------------------------------------------------------------------------


def best_at(curve, epochs):
    """The best found within `epochs` epochs spent."""
    best = math.inf
    for spent, b in curve:
        if spent > epochs:
            break
        best = b
    return best


def epochs_to_reach(curve, target):
    for spent, b in curve:
        if spent > BUDGET:
            return math.inf
        if b <= target:
            return spent
    return math.inf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(STRATEGIES) + OPTUNA
    if a.only:
        names = [n for n in names if n in a.only.split(",")]
    store = out / "curves.json"
    curves = json.loads(store.read_text()) if store.exists() else {}
    for name in names:
        for seed in range(1, a.seeds + 1):
            key = f"{name}/{seed}"
            if key in curves:
                continue
            run = run_optuna if name in OPTUNA else run_aesweep
            curves[key] = run(name, seed, out)
            store.write_text(json.dumps(curves))
            print(f"{key}: best {best_at(curves[key], BUDGET):.6f} after "
                  f"{min(curves[key][-1][0], BUDGET)} epochs", file=sys.stderr, flush=True)
    ref_name = "optuna_tpe+hyperband"
    ref = [best_at(curves[f"{ref_name}/{s}"], BUDGET) for s in range(1, a.seeds + 1)
           if f"{ref_name}/{s}" in curves]
    target = float(np.median(ref)) if ref else math.nan
    print(f"\nbudget {BUDGET} epochs, at most {MAX_EPOCHS} per configuration, {a.seeds} seeds, "
          f"{NP - 1} training workers; target: {ref_name}'s final median {target:.6f}")
    print(f"{'strategy':<22} {'median best':>12} {'min':>10} {'max':>10} "
          f"{'epochs to target (median)':>26}")
    for name in names:
        cs = [curves[f"{name}/{s}"] for s in range(1, a.seeds + 1) if f"{name}/{s}" in curves]
        finals = [best_at(c, BUDGET) for c in cs]
        reach = sorted(epochs_to_reach(c, target) for c in cs)
        med_reach = reach[len(reach) // 2] if reach else math.inf
        print(f"{name:<22} {np.median(finals):>12.6f} {min(finals):>10.6f} {max(finals):>10.6f} "
              f"{med_reach:>26}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(8, 5))
        grid = np.arange(1, BUDGET + 1)
        for name in names:
            cs = [curves[f"{name}/{s}"] for s in range(1, a.seeds + 1) if f"{name}/{s}" in curves]
            med = np.median([[best_at(c, e) for e in grid] for c in cs], axis=0)
            ax.plot(grid, med, label=name, ls="--" if name in OPTUNA else "-")
        ax.set_xlabel("training epochs spent")
        ax.set_ylabel("best val_mse found (median over seeds)")
        ax.set_yscale("log")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "search_efficiency.png", dpi=120)
    except ImportError:
        pass


if __name__ == "__main__":
    main()
