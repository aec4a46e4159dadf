"""Numerical hazards in real runs on Fashion-MNIST (issue 9, part 4); the kernels'
own checks are in tests/unit (test_learn: divergence with a finite loss;
test_penalty: csd at the ends of sigma's range, bce at outputs of 0 and 1).

- A learning rate of 1e6 diverges: its tasks record status 1 (diverged) with NaN
  metrics, the search goes on to the end, and a diverged trial never wins, in a
  grid and in a bisection that has to narrow away from it.
- csd with sigma at the ends of its range trains to finite numbers.
- An objective that is NaN (latent_accuracy of a code narrower than the class
  count) never wins, at any rank count; a search where every trial is NaN ends
  "failed" (exit 1) with no /best, instead of refitting whichever trial came first.

Run with /usr/bin/python3 -m pytest; environment as in test_spec_errors.py.
"""
import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from test_spec_errors import AESWEEP, FASHION_DIR, aesweep

TMP = Path(os.environ.get("TEST_TMP", "/tmp/aesweep_test")) / "hazards"
DIVERGED = 1

JOB = {
    "name": "hazards",
    "seed": 11,
    "data": {"path": FASHION_DIR, "train_limit": 600, "test_limit": 200},
    "model": {"hidden": [32], "bottleneck": 4},
    "train": {"epochs": 2, "batch_size": 32},
    "classifier": {"hidden": [8], "epochs": 1},
    "search": {"strategy": "grid", "folds": 2, "objective": "val_mse",
               "space": {"lr": {"values": [1e-3, 1e6, 3e-3]}}},
    "output": {"weights": "best"},
}


def run_job(name, job):
    folder = TMP / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    path = folder / "job.json"
    path.write_text(json.dumps(job, indent=2))
    r = aesweep(["run", path, "--out", folder / "out"], cwd=folder, timeout=600)
    assert r.returncode == 0, r.stderr
    with h5py.File(folder / "out" / "results.h5", "r") as f:
        return ({k: f[k][()] for k in ("trials", "folds")}, dict(f.attrs),
                dict(f["best"].attrs), r.stderr)


def test_lr_1e6_in_a_grid_is_recorded_diverged_and_the_search_goes_on():
    (tables, attrs, best, log) = run_job("grid", JOB)
    trials, folds = tables["trials"], tables["folds"]
    assert attrs["status"] == "complete"
    assert len(trials) == 3 and len(folds) == 6, "every task ran, the later ones too"
    huge = trials["lr"] == 1e6
    assert huge.sum() == 1
    assert trials["status"][huge][0] == DIVERGED, trials["status"]
    assert np.isnan(trials["objective_mean"][huge][0])
    assert (trials["status"][~huge] == 0).all(), trials["status"]
    assert np.isfinite(trials["objective_mean"][~huge]).all()
    diverged_trial = trials["trial"][huge][0]
    mine = folds["trial"] == diverged_trial
    assert (folds["status"][mine] == DIVERGED).all(), folds["status"]
    assert np.isnan(folds["val_mse"][mine]).all()
    assert best["lr"] in (1e-3, 3e-3) and math.isfinite(best["test_mse"]), best
    assert "diverged" in log, "the progress line says so"


def test_lr_1e6_in_a_bisection_is_narrowed_away():
    job = json.loads(json.dumps(JOB))
    job["search"].update(strategy="bisection", max_rounds=2,
                         space={"lr": {"min": 1e-4, "max": 1e6, "scale": "log"}})
    (tables, attrs, best, _) = run_job("bisection", job)
    trials = tables["trials"]
    assert attrs["status"] == "complete"
    diverged = trials["status"] == DIVERGED
    assert diverged.any() and trials["lr"][diverged].max() == 1e6, trials[["lr", "status"]]
    assert (trials["round"] == 1).any(), "a second round ran after the first met divergence"
    assert not diverged[trials["trial"] == best["trial"]].any()
    assert best["lr"] < 1e6 and math.isfinite(best["objective"]), best


@pytest.mark.parametrize("sigma", [1e-6, 1e6])
def test_csd_with_sigma_at_its_ends_stays_finite(sigma):
    job = json.loads(json.dumps(JOB))
    job["penalty"] = {"type": "csd", "lambda": 1, "sigma": sigma, "prior": "gaussian"}
    job["search"]["space"] = {"lr": {"values": [1e-3]}}
    (tables, attrs, best, _) = run_job(f"csd_sigma_{sigma:g}", job)
    folds = tables["folds"]
    assert attrs["status"] == "complete"
    assert (folds["status"] == 0).all(), folds["status"]
    assert np.isfinite(folds["val_mse"]).all() and np.isfinite(folds["train_mse"]).all()
    assert math.isfinite(best["test_mse"]), best


MPIRUN = shutil.which("mpirun")
MPI_ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
# latent_accuracy needs a 10-unit code: 4 and 6 score NaN, 10 does not.
LATENT = dict(JOB, search={"strategy": "grid", "folds": 2, "objective": "latent_accuracy",
                           "space": {"bottleneck": {"values": [4, 10, 6]}}})


def mpirun_job(name, job, ranks):
    folder = TMP / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    path = folder / "job.json"
    path.write_text(json.dumps(job, indent=2))
    cmd = [MPIRUN, "-np", str(ranks), "--oversubscribe", AESWEEP, "run",
           str(path), "--out", str(folder / "out")]
    return subprocess.run(cmd, env=MPI_ENV, capture_output=True, text=True, timeout=600), folder


@pytest.mark.skipif(MPIRUN is None, reason="no mpirun on PATH")
@pytest.mark.parametrize("ranks", [1, 3])
def test_a_nan_objective_never_wins(ranks):
    r, folder = mpirun_job(f"latent_nan_np{ranks}", LATENT, ranks)
    assert r.returncode == 0, r.stderr
    with h5py.File(folder / "out" / "results.h5", "r") as f:
        trials, best = f["trials"][()], dict(f["best"].attrs)
        assert f.attrs["status"] == "complete"
    narrow = trials["bottleneck"] != 10
    assert np.isnan(trials["objective_mean"][narrow]).all(), trials["objective_mean"]
    assert np.isfinite(trials["objective_mean"][~narrow]).all(), trials["objective_mean"]
    assert best["bottleneck"] == 10 and best["trial"] == 1, best


@pytest.mark.skipif(MPIRUN is None, reason="no mpirun on PATH")
def test_a_search_with_no_finite_objective_fails():
    job = dict(LATENT, search=dict(LATENT["search"], space={"bottleneck": {"values": [4, 6]}}))
    job["search"]["space"]["bottleneck"]["values"].append(10)  # so the job may run ...
    job["search"]["strategy"] = "random"  # ... but no trial of this seed draws 10
    job["search"]["trials"] = 3
    r, folder = mpirun_job("latent_all_nan", job, 3)
    with h5py.File(folder / "out" / "results.h5", "r") as f:
        trials = f["trials"][()]
        assert f.attrs["status"] == "failed", f.attrs["status"]
        assert "best" not in f, "a /best of a NaN trial"
    assert 10 not in trials["bottleneck"], "the seed drew 10: choose another"
    assert np.isnan(trials["objective_mean"]).all()
    assert r.returncode == 1, f"exit {r.returncode}:\n{r.stderr}"
    assert "no trial has a finite latent_accuracy" in r.stderr, r.stderr
