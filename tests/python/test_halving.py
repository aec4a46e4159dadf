"""strategies hyperband and asha (issue 17), checked from the outside on real
Fashion-MNIST.

tests/mpi/hyperband.json (9 epochs, eta 3, 2 folds: brackets of 9, 5 and 3
configurations starting at 1, 3 and 9 epochs) runs under `mpirun -np 3`. Read back
with h5py: the plan's rungs in /trials (stage = bracket, round = rung), each rung
holding the best of the rung below, each promoted task's curve starting with its
configuration's earlier rung bit for bit (it went on from the checkpoint, it did
not train again), no checkpoint left behind. Then the run is killed at some
moment and resumed: the results equal the uninterrupted run's. The same kill
and resume for tests/mpi/asha.json.

Run with /usr/bin/python3 -m pytest. Environment as test_resume.py.
"""
import json
import re
import shutil
from collections import defaultdict

import h5py
import numpy as np
import pytest

import subprocess

from test_resume import AESWEEP, ENV, MPIRUN, SRC, TEST_TMP, Live, identical, run_to_end

JOB = SRC / "tests" / "mpi" / "hyperband.json"
SPEC = json.loads(JOB.read_text())
FOLDS = SPEC["search"]["folds"]
TMP = TEST_TMP / "hyperband"
# (bracket, rung): (configurations, epochs)
PLAN = {(0, 0): (9, 1), (0, 1): (3, 3), (0, 2): (1, 9), (1, 0): (5, 3), (1, 1): (1, 9),
        (2, 0): (3, 9)}
WENT_ON = re.compile(r"(\d+) checkpoints? written .*; (\d+) tasks? went on from a checkpoint")

pytestmark = pytest.mark.skipif(MPIRUN is None, reason="no mpirun on PATH")


@pytest.fixture(scope="module")
def reference():
    shutil.rmtree(TMP, ignore_errors=True)
    TMP.mkdir(parents=True)
    out = TMP / "reference"
    r = run_to_end(out, job=JOB)
    assert r.rc == 0, f"hyperband run failed ({r.rc}):\n{r.stderr}"
    return out, r.stderr


@pytest.fixture(scope="module")
def trials(reference):
    out, _ = reference
    with h5py.File(out / "results.h5", "r") as f:
        return f["trials"][...]


def rungs_of(trials):
    rungs = defaultdict(list)
    for row in trials:
        rungs[(int(row["stage"]), int(row["round"]))].append(row)
    return rungs


def test_validate_shows_the_rungs():
    r = subprocess.run([AESWEEP, "validate", str(JOB)], capture_output=True, text=True, env=ENV)
    assert r.returncode == 0, r.stderr
    assert "9@1 > 3@3 > 1@9; 5@3 > 1@9; 3@9 (configurations@epochs); at most 69 epochs" \
        in r.stdout, r.stdout
    assert "22 trials x 2 folds = 44 tasks" in r.stdout, r.stdout
    r = subprocess.run([AESWEEP, "validate", str(SRC / "tests" / "mpi" / "asha.json")],
                       capture_output=True, text=True, env=ENV)
    assert r.returncode == 0 and "at 1 3 9 epochs; trial k decided from trials [0, k - 3)" \
        in r.stdout, r.stdout + r.stderr


def test_the_plan(trials):
    rungs = rungs_of(trials)
    assert {k: len(v) for k, v in rungs.items()} == {k: n for k, (n, _) in PLAN.items()}
    # ids are fixed by the plan: bracket by bracket, rung by rung
    order = [(int(r["stage"]), int(r["round"])) for r in trials]
    assert order == sorted(order)


def test_each_rung_holds_the_best_of_the_rung_below(trials):
    rungs = rungs_of(trials)
    for (b, k), rows in rungs.items():
        if k == 0:
            continue
        below = sorted(rungs[(b, k - 1)],
                       key=lambda r: (np.isnan(r["objective_mean"]), r["objective_mean"],
                                      r["trial"]))
        want = [r["config"] for r in below[:len(rows)]]
        assert [r["config"] for r in rows] == want, (b, k)


def test_promoted_tasks_went_on_from_their_checkpoints(reference, trials):
    out, stderr = reference
    rungs = rungs_of(trials)
    promoted = 0
    with h5py.File(out / "results.h5", "r") as f:
        for (b, k), rows in rungs.items():
            epochs = PLAN[(b, k)][1]
            for row in rows:
                t = int(row["trial"])
                parent = None
                if k > 0:
                    parent = next(int(r["trial"]) for r in rungs[(b, k - 1)]
                                  if r["config"] == row["config"])
                for fold in range(FOLDS):
                    c = f[f"curves/{t}/{fold}"][...]
                    assert len(c) <= epochs, (t, fold, len(c))
                    if parent is None:
                        continue
                    p = f[f"curves/{parent}/{fold}"][...]
                    # the earlier rung's epochs, bit for bit, then the new ones
                    assert np.array_equal(c[:len(p)], p, equal_nan=True), (t, parent, fold)
                    assert len(c) == epochs or len(p) < PLAN[(b, k - 1)][1], (t, len(c))
                    promoted += 1
    m = WENT_ON.search(stderr)
    assert m and int(m.group(2)) == promoted == 10, stderr
    # every epoch trained once: the sum over configurations of the epochs they reached
    assert not list((out / "tasks").rglob("*.ckpt")), "checkpoints left after the search"


def killed_and_resumed(job, ref, out, after):
    shutil.rmtree(out, ignore_errors=True)
    live = Live(out, job=job)
    try:
        live.wait_for(f"{after} tasks", lambda: live.done() >= after)
    finally:
        live.kill9()
    r = run_to_end(out, job=job)
    assert r.rc == 0, f"resume failed ({r.rc}):\n{r.stderr}"
    identical(ref, out)
    assert not list((out / "tasks").rglob("*.ckpt")), "checkpoints left after the resume"


def test_killed_and_resumed_equals_the_uninterrupted_run(reference):
    ref, _ = reference
    killed_and_resumed(JOB, ref / "results.h5", TMP / "killed", 20)


def test_asha_killed_and_resumed_equals_the_uninterrupted_run():
    job = SRC / "tests" / "mpi" / "asha.json"
    ref = TMP / "asha_reference"
    shutil.rmtree(ref, ignore_errors=True)
    r = run_to_end(ref, job=job)
    assert r.rc == 0, f"asha run failed ({r.rc}):\n{r.stderr}"
    m = WENT_ON.search(r.stderr)
    assert m and int(m.group(2)) > 0, r.stderr  # promotions went on from checkpoints
    assert not list((ref / "tasks").rglob("*.ckpt")), "checkpoints left after the search"
    killed_and_resumed(job, ref / "results.h5", TMP / "asha_killed", 12)
