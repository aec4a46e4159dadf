"""analysis/ on results files of real short searches on Fashion-MNIST.

Three files: a 2-stage bisection under mpirun -np 3 with a csd penalty, a
classifier and every task's weights (every part of the report); a random search
with no classifier and output.weights "none"; and a run interrupted by SIGUSR1
(no /best). The report must draw every figure the file allows and name each part
it leaves out; the leaderboard follows the objective's direction; the rebuilt
best model reproduces /best's test_mse on the images it was scored on; the CSV
holds /trials row for row; compare.py draws the best so far.

Environment as in test_run.py.
"""
import csv
import math
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from jobsets import set_args

SRC = Path(os.environ.get("AESWEEP_SRC", Path(__file__).resolve().parents[2]))
AESWEEP = os.environ.get("AESWEEP", "/work/main/build/aesweep")
DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"
FASHION_DIR = os.environ.get("FASHION_DIR", DEBIAN_FASHION)
TMP = Path(os.environ.get("TEST_TMP", "/tmp/aesweep_test")) / "analysis"
JOBS = SRC / "tests" / "python" / "jobs"
ANALYSIS = SRC / "analysis"
PYTHON = "/usr/bin/python3"
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
SETS = [] if os.path.realpath(FASHION_DIR) == DEBIAN_FASHION else [f"data.path={FASHION_DIR}"]
MPIRUN = shutil.which("mpirun")

sys.path.insert(0, str(ANALYSIS))
import aesweep_results as ar  # noqa: E402
import report  # noqa: E402

FULL = {"objective_vs_params", "bisection", "curves", "fold_spread", "timeline",
        "reconstructions", "interpolation", "latent", "latent_tsne", "prior", "confusion"}

pytestmark = pytest.mark.skipif(
    not (Path(FASHION_DIR) / "t10k-images-idx3-ubyte.gz").is_file()
    and not (Path(FASHION_DIR) / "t10k-images-idx3-ubyte").is_file(),
    reason=f"no Fashion-MNIST under {FASHION_DIR}")


def run_search(job, out, ranks=1, extra=()):
    cmd = [AESWEEP, "run", str(JOBS / job), "--out", str(out), *set_args(SETS), *extra]
    if ranks > 1:
        cmd = [MPIRUN, "-np", str(ranks), "--oversubscribe", *cmd]
    r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr}"
    return out / "results.h5"


def script(name, *args):
    r = subprocess.run([PYTHON, str(ANALYSIS / name), *map(str, args)], env=ENV,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{name} failed ({r.returncode}):\n{r.stdout}{r.stderr}"
    return r.stdout


@pytest.fixture(scope="module")
def bisect():
    shutil.rmtree(TMP, ignore_errors=True)
    TMP.mkdir(parents=True)
    if MPIRUN is None:
        pytest.skip("no mpirun on PATH")
    return run_search("analysis_bisect.json", TMP / "bisect", ranks=3)


@pytest.fixture(scope="module")
def plain(bisect):
    return run_search("analysis_plain.json", TMP / "plain")


@pytest.fixture(scope="module")
def interrupted(bisect):
    """analysis_plain with many more trials, stopped by SIGUSR1 after its fourth task
    (two whole trials: they have objectives, the run has no /best)."""
    out = TMP / "interrupted"
    cmd = [AESWEEP, "run", str(JOBS / "analysis_plain.json"), "--out", str(out),
           *set_args(SETS), "--set", "search.trials=200"]
    p = subprocess.Popen(cmd, env=ENV, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         text=True)
    seen = []
    for line in p.stderr:
        seen.append(line)
        if re.match(r"\[4/", line):
            p.send_signal(signal.SIGUSR1)
            break
    rest = p.stderr.read()
    assert p.wait(60) == 3, "".join(seen) + rest
    return out / "results.h5"


def figures_of(rep):
    return {Path(f).stem for f, _, _ in rep.figures}


def check_pngs(rep):
    page = (rep.out / "index.html").read_text()
    for name in figures_of(rep):
        png = rep.out / f"{name}.png"
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, f"{png}: {len(data)} bytes"
        assert f'src="{name}.png"' in page, f"{name}.png not in index.html"
    return page


def test_full_report_draws_every_figure(bisect):
    out = script("report.py", bisect, "-o", TMP / "report_full", "--tsne")
    assert "index.html (11 figures)" in out, out
    rep = report.make_report(bisect, TMP / "report_full2")
    assert figures_of(rep) == FULL - {"latent_tsne"}, figures_of(rep)
    assert [w for w, _ in rep.left_out] == ["code plane", "t-SNE of the codes"], rep.left_out
    page = check_pngs(rep)
    assert "Leaderboard" in page and "<table" in page
    for name in FULL:
        assert (TMP / "report_full" / f"{name}.png").stat().st_size > 5000, name


def test_leaderboard_follows_the_direction(bisect):
    r = ar.load(bisect)
    rows = report.leaderboard_rows(r, 100)
    values = [row["val_mse"][0] for row in rows]
    assert len(values) == len(r.ranked()) > 3 and values == sorted(values), values
    # The same file told to maximise: the order turns round.
    flipped = TMP / "flipped.h5"
    shutil.copy(bisect, flipped)
    with h5py.File(flipped, "r+") as f:
        f.attrs["objective_direction"] = "max"
    up = [row["val_mse"][0] for row in report.leaderboard_rows(ar.load(flipped), 100)]
    assert up == sorted(values, reverse=True), up
    # The page lists the trials in that order.
    page = report.leaderboard_html(r, 5)
    trials = [int(t) for t in re.findall(r"<tr><td>(\d+)</td>", page)]
    assert trials == [row["trial"] for row in rows[:5]], (trials, rows[:5])
    # Beside the objective, the codes' k-NN and linear-probe accuracies of each trial.
    for row in rows:
        t = r.trials[row["trial"]]
        assert row["knn_accuracy"] == float(t["val_knn_accuracy"])
        assert row["linear_accuracy"] == float(t["val_linear_accuracy"])
        assert 0 < row["knn_accuracy"] <= 1 and 0 < row["linear_accuracy"] <= 1, row
    assert "<th>knn_accuracy</th>" in page and "<th>linear_accuracy</th>" in page


def test_best_model_reproduces_test_mse(bisect):
    r = ar.load(bisect)
    assert r.test_index is not None and len(r.test_index) == 300  # data.test_limit
    images, labels = r.test_set()
    m = r.best_model
    codes = m.encode(images)
    assert codes.shape == (300, int(r.best["bottleneck"]))
    out = m.decode(codes)
    mse = float(np.mean((out - m.inputs(images)) ** 2))
    assert mse == pytest.approx(r.best["test_mse"], rel=1e-5), (mse, r.best["test_mse"])
    accuracy = float(np.mean(np.argmax(m.classify(codes), axis=1) == labels))
    assert abs(accuracy - r.best["test_accuracy"]) <= 2 / len(labels)


def test_csv_rows_equal_trials(bisect):
    path = TMP / "trials.csv"
    script("export.py", bisect, "--csv", path, "--folds", TMP / "folds.csv")
    with h5py.File(bisect, "r") as f:
        trials, folds = f["trials"][...], f["folds"][...]
    for table, csv_path in ((trials, path), (folds, TMP / "folds.csv")):
        with open(csv_path, newline="") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == list(table.dtype.names)
        assert len(rows) - 1 == len(table)
        for got, want in zip(rows[1:], table):
            for name, cell in zip(table.dtype.names, got):
                v = want[name]
                if isinstance(v, bytes):
                    assert cell == v.decode(), name
                elif isinstance(v, np.floating):
                    assert (math.isnan(v) and cell == "nan") or float(cell) == float(v), name
                else:
                    assert int(cell) == int(v), name


def test_plain_run_leaves_parts_out_and_says_so(plain):
    rep = report.make_report(plain, TMP / "report_plain")
    assert figures_of(rep) == {"objective_vs_params", "curves", "fold_spread", "timeline",
                               "reconstructions", "interpolation", "latent"}, figures_of(rep)
    why = dict(rep.left_out)
    assert "random" in why["bisection intervals"]
    assert "classifier" in why["confusion matrix"]
    assert "csd" in why["prior against the codes"]
    assert "none" in why["per-task models"]
    page = check_pngs(rep)
    for what, reason in rep.left_out:
        assert f"{what}: {reason}" in page.replace("&#x27;", "'"), what


def test_interrupted_run_has_no_best_and_says_so(interrupted):
    r = ar.load(interrupted)
    assert r.status == "interrupted" and r.best is None
    rep = report.make_report(interrupted, TMP / "report_interrupted")
    why = dict(rep.left_out)
    for part in ("reconstructions", "latent scatter", "confusion matrix"):
        assert "interrupted" in why[part], (part, why.get(part))
    assert len(r.ranked()) >= 2
    assert figures_of(rep) == {"objective_vs_params", "curves", "fold_spread", "timeline"}, \
        figures_of(rep)
    check_pngs(rep)


def test_compare_draws_best_so_far(bisect, plain):
    png = TMP / "compare.png"
    out = script("compare.py", bisect, plain, "-o", png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "compare:" in out
    for path in (bisect, plain):
        r = ar.load(path)
        x, y = compare_module().best_so_far(r)
        assert len(x) == int(np.sum(r.folds["trial"] >= 0))
        done = y[np.isfinite(y)]
        assert len(done) and np.all(np.diff(done) <= 0), "best so far must not get worse"
        assert done[-1] == pytest.approx(r.ranked()[0]["objective_mean"])


def compare_module():
    import compare
    return compare


def test_a_values_parameter_without_a_column(bisect):
    """train.optimizer has no /trials column: its values come from /trials.config and
    sit at their index in the job's list."""
    space = ('search.space={"lr": {"min": 1e-3, "max": 1e-2, "scale": "log"}, '
             '"train.optimizer": {"values": ["adam", "sgd", "rmsprop"]}, '
             '"classifier.hidden": {"min": 1, "max": 400, "type": "int"}}')
    path = run_search("analysis_plain.json", TMP / "optimizer",
                      extra=("--set", space, "--set", "search.trials=6",
                             "--set", "classifier.epochs=1"))
    r = ar.load(path)
    assert r.searched() == ["lr", "train.optimizer", "classifier.hidden"]
    # a range over a list of widths: the trial sets [x], the analysis reads x
    widths = r.param_values("classifier.hidden")
    for t, w in zip(r.trials, widths):
        assert 1 <= w <= 400 and f"classifier.hidden=[{int(w)}]" in ar.text(t["config"])
    with h5py.File(path, "r") as f:
        best = int(f["best"].attrs["trial"])
        assert f["best/model/classifier/layer_00/W"].shape[0] == int(widths[best])
    x, labels = r.param_axis("train.optimizer")
    assert labels == ["adam", "sgd", "rmsprop"]
    for t, i in zip(r.trials, x):
        assert f'train.optimizer="{labels[int(i)]}"' in ar.text(t["config"])
    rows = report.leaderboard_rows(r, 3)
    assert all(row["train.optimizer"] in labels for row in rows)
    rep = report.make_report(path, TMP / "report_optimizer")
    assert "objective_vs_params" in figures_of(rep)


def test_variational_model_adds_samples_from_the_prior(bisect):
    """A variational /best: the report decodes codes drawn from N(0, I) beside the
    reconstructions, and the numpy rebuild still reproduces test_mse."""
    path = run_search("analysis_vae.json", TMP / "vae")
    rep = report.make_report(path, TMP / "report_vae")
    assert {"samples", "reconstructions", "latent", "interpolation",
            "code_plane"} <= figures_of(rep), figures_of(rep)
    check_pngs(rep)
    mse, file_mse = rep.best_check
    assert mse == pytest.approx(file_mse, rel=1e-5)
