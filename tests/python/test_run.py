"""`aesweep run` against SPEC §2 and §5, checked from the outside.

A real (tiny) random search on the real Fashion-MNIST, in one process (rank 0
trains too; several ranks are tested under tests/mpi). OUT/results.h5 is then read
with h5py alone: the root attributes, /trials and /folds as numpy structured
arrays whose summaries are recomputed here, /curves, /models (output.weights
"all"), /best, and /best/model rebuilt with numpy from the file alone, whose MSE
over the whole 10000-image test set (data.test_limit 0) must be the file's
test_mse. Then `aesweep info`.

Run with /usr/bin/python3 -m pytest (Debian's h5py/numpy). Environment:
AESWEEP (the binary), FASHION_DIR (the IDX folder), TEST_TMP (scratch folder),
AESWEEP_SRC (the source tree, for the job file).
"""
import gzip
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from jobsets import apply_sets, set_args
from modelgroup import activation, forward, layers_of

SRC = Path(os.environ.get("AESWEEP_SRC", Path(__file__).resolve().parents[2]))
AESWEEP = os.environ.get("AESWEEP", "/work/main/build/aesweep")
DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"
FASHION_DIR = os.environ.get("FASHION_DIR", DEBIAN_FASHION)
TMP = Path(os.environ.get("TEST_TMP", "/tmp/aesweep_test")) / "run"
JOB = SRC / "tests" / "python" / "jobs" / "run_small.json"
TEST_IMAGES = Path(FASHION_DIR) / "t10k-images-idx3-ubyte.gz"
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")

# The job names no data source, so it reads Debian's Fashion-MNIST; another
# FASHION_DIR is passed with --set (and is then part of the recorded job).
SETS = [] if os.path.realpath(FASHION_DIR) == DEBIAN_FASHION else [f"data.path={FASHION_DIR}"]

# SPEC §5, in its order. The writer may add columns (today: /trials.config, the
# trial's overrides as text; /folds.objective, the fold's objective value).
TRIAL_FIELDS = ["trial", "stage", "round", "lr", "batch_size", "bottleneck", "lambda", "sigma",
                "folds", "objective_mean", "objective_std", "train_mse", "val_mse",
                "val_accuracy", "epochs", "seconds", "status", "val_knn_accuracy",
                "val_linear_accuracy"]
FOLD_FIELDS = ["trial", "fold", "rank", "epochs", "train_mse", "val_mse", "val_accuracy",
               "seconds", "status", "val_knn_accuracy", "val_linear_accuracy"]
PARAMS = ["lr", "batch_size", "bottleneck", "lambda", "sigma"]

pytestmark = pytest.mark.skipif(
    not TEST_IMAGES.is_file(), reason=f"no Fashion-MNIST test images at {TEST_IMAGES}"
)


def aesweep(*args, timeout=120):
    return subprocess.run([AESWEEP, *map(str, args)], env=ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def job():
    return apply_sets(json.loads(JOB.read_text()), SETS)


@pytest.fixture(scope="module")
def run(job):
    """Runs the search once; yields OUT/results.h5 and the run's stderr."""
    out = TMP / "out"
    shutil.rmtree(out, ignore_errors=True)
    TMP.mkdir(parents=True, exist_ok=True)
    r = aesweep("run", JOB, "--out", out, *set_args(SETS), timeout=300)
    assert r.returncode == 0, f"aesweep run failed ({r.returncode}):\n{r.stderr}"
    path = out / "results.h5"
    assert path.is_file(), f"no {path}; stderr:\n{r.stderr}"
    return path, r.stderr


@pytest.fixture(scope="module")
def tables(run):
    path, _ = run
    with h5py.File(path, "r") as f:
        return f["trials"][...], f["folds"][...]


@pytest.fixture(scope="module")
def test_pixels():
    """The whole t10k image set as uint8 [10000, 784], read with gzip + numpy."""
    with gzip.open(TEST_IMAGES, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = np.frombuffer(raw[:16], dtype=">u4")
    assert magic == 2051, f"{TEST_IMAGES}: not an IDX images file"
    return np.frombuffer(raw[16:], dtype=np.uint8).reshape(int(n), int(rows * cols))


@pytest.fixture(scope="module")
def test_labels():
    with gzip.open(Path(FASHION_DIR) / "t10k-labels-idx1-ubyte.gz", "rb") as f:
        raw = f.read()
    magic, n = np.frombuffer(raw[:8], dtype=">u4")
    assert magic == 2049
    return np.frombuffer(raw[8:], dtype=np.uint8)[: int(n)]


# ---- the model layout of SPEC §5, rebuilt with numpy -------------------------------


def check_model(model, job, bottleneck):
    """A model group as SPEC §5 lays it out, for this job's architecture."""
    m = job["model"]
    assert int(model.attrs["input_dim"]) == 784
    assert float(model.attrs["input_scale"]) == pytest.approx(1 / 255, rel=1e-15)
    hidden = m["hidden"]
    widths = [784, *hidden, bottleneck, *reversed(hidden), 784]
    layers = layers_of(model)
    assert int(model.attrs["layers"]) == len(layers) == len(widths) - 1
    assert int(model.attrs["bottleneck_layer"]) == len(hidden)
    acts = [m["activation"]] * len(layers)
    acts[len(hidden)] = m["latent_activation"]
    acts[-1] = m["output_activation"]
    for i, g in enumerate(layers):
        assert g["W"].dtype == np.float32 and g["b"].dtype == np.float32
        assert g["W"].shape == (widths[i + 1], widths[i]), f"layer {i}: W is [out, in]"
        assert g["b"].shape == (widths[i + 1],)
        assert g.attrs["activation"] == acts[i], f"layer {i}"
        assert float(g.attrs["leaky_slope"]) == pytest.approx(m["leaky_slope"], rel=1e-6)
        assert np.all(np.isfinite(g["W"][...])) and np.all(np.isfinite(g["b"][...]))


def best_trial(trials):
    """argmin of objective_mean over the ok trials (val_mse: smaller is better);
    a tie goes to the lower trial id (np.argmin returns the first minimum)."""
    ok = np.flatnonzero(trials["status"] == 0)
    assert ok.size, "no ok trial"
    return int(ok[np.argmin(trials["objective_mean"][ok])])


# ---- tests ----------------------------------------------------------------------------


@pytest.mark.skipif(os.environ.get("AESWEEP_SANITIZED") == "1",
                    reason="a thousand tasks: the Release build's ctest runs it")
def test_task_files_fan_out_at_most_1000_a_folder():
    """501 trials x 2 folds of near-empty tasks (the throughput benchmark's job): task
    numbers i = trial * 2 + fold 0..999 fill tasks/000/000/, the last two begin
    tasks/000/001/; no folder holds more than 1000 entries."""
    out = TMP / "fanout"
    shutil.rmtree(out, ignore_errors=True)
    r = aesweep("run", SRC / "jobs" / "bench_throughput.json", "--out", out,
                "--set", "search.trials=501", "--set", "search.folds=2", *set_args(SETS),
                timeout=600)
    assert r.returncode == 0, r.stderr
    tasks = out / "tasks"
    where = {}
    for p in tasks.rglob("t*_f*.h5"):
        trial, fold = int(p.name[1:7]), int(p.name[9:11])
        where[(trial, fold)] = p.relative_to(tasks).parent.as_posix()
    assert len(where) == 1002
    for (trial, fold), folder in where.items():
        i = 2 * trial + fold
        assert folder == f"{i // 10**6:03d}/{i // 1000 % 1000:03d}", (trial, fold, folder)
    sizes = {d.relative_to(tasks).as_posix(): len(list(d.iterdir()))
             for d in [tasks, *tasks.rglob("*")] if d.is_dir()}
    assert sizes == {".": 2, "000": 2, "000/000": 1000, "000/001": 2}, sizes


def test_validate_prints_the_plan():
    r = aesweep("validate", JOB, *set_args(SETS))
    assert r.returncode == 0, r.stderr
    assert "6 tasks" in r.stdout, r.stdout  # 3 trials x 2 folds
    assert "10000 test images" in r.stdout, r.stdout  # test_limit 0: all of t10k


def test_run_leaves_no_temporary_files(run):
    path, stderr = run
    left = [str(p) for p in path.parent.rglob("*") if ".tmp" in p.name]
    assert not left, f"temporary files left behind: {left}"
    assert re.search(r"\b6/6\b", stderr), f"no progress line with done/total:\n{stderr}"


def test_root_attributes(run, job):
    path, _ = run
    with h5py.File(path, "r") as f:
        a = f.attrs
        assert a["format"] == "aesweep-results"
        assert int(a["format_version"]) == 1
        version = a["aesweep_version"]
        assert isinstance(version, str) and version
        assert version in aesweep("--version").stdout
        text = a["job"]
        assert isinstance(text, str)
        assert json.loads(text) == job
        assert a["job_sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
        assert a["strategy"] == "random"
        assert a["objective"] == "val_mse"
        assert a["objective_direction"] == "min"
        assert a["status"] == "complete"


def test_table_fields(run):
    path, _ = run
    with h5py.File(path, "r") as f:
        for name, fields in (("trials", TRIAL_FIELDS), ("folds", FOLD_FIELDS)):
            d = f[name]
            assert isinstance(d, h5py.Dataset) and d.ndim == 1
            assert d.dtype.names is not None, f"/{name} is not a compound dataset"
            missing = [k for k in fields if k not in d.dtype.names]
            assert not missing, f"/{name} lacks {missing}; has {d.dtype.names}"
            rows = d[...]
            assert isinstance(rows, np.ndarray) and rows.dtype.names == d.dtype.names


def test_trials_rows(tables, job):
    trials, folds = tables
    s = job["search"]
    k = s["folds"]
    assert len(trials) == s["trials"]
    assert list(trials["trial"]) == list(range(len(trials)))
    assert np.all(trials["status"] == 0)
    assert np.all(trials["folds"] == k)
    lr = s["space"]["lr"]
    assert np.all((trials["lr"] >= lr["min"]) & (trials["lr"] <= lr["max"]))
    assert set(trials["batch_size"]) <= set(s["space"]["batch_size"]["values"])
    assert np.all(trials["bottleneck"] == job["model"]["bottleneck"])
    assert np.all(trials["lambda"] == 0) and np.all(trials["sigma"] == 1)  # the defaults
    assert len(set(trials["lr"])) == len(trials), "random trials drew the same lr"
    for i, row in enumerate(trials):
        mine = folds[folds["trial"] == i]
        assert len(mine) == k
        obj = mine["val_mse"]  # the objective is val_mse
        assert row["objective_mean"] == pytest.approx(np.mean(obj), rel=1e-12, abs=0)
        assert row["objective_std"] == pytest.approx(np.std(obj), rel=1e-9, abs=1e-15)
        assert row["val_mse"] == pytest.approx(np.mean(mine["val_mse"]), rel=1e-12)
        assert row["train_mse"] == pytest.approx(np.mean(mine["train_mse"]), rel=1e-12)
        for key in ("val_knn_accuracy", "val_linear_accuracy"):  # measured in every task
            assert row[key] == pytest.approx(np.mean(mine[key]), rel=1e-12), key
        # No classifier in the folds: the objective (val_mse) does not need one, though
        # the job has one (classifier.epochs > 0, for the refit). So NaN, fold and trial.
        assert job["search"]["objective"] == "val_mse" and job["classifier"]["epochs"] > 0
        assert np.all(np.isnan(mine["val_accuracy"])), mine["val_accuracy"]
        assert math.isnan(row["val_accuracy"]), row["val_accuracy"]
        assert 1 <= row["epochs"] <= job["train"]["epochs"]
        assert row["seconds"] >= 0


def test_folds_rows(tables, job):
    trials, folds = tables
    k = job["search"]["folds"]
    assert len(folds) == len(trials) * k
    assert list(folds["trial"]) == [i // k for i in range(len(folds))]
    assert list(folds["fold"]) == [i % k for i in range(len(folds))]
    assert np.all(folds["status"] == 0)
    assert np.all(folds["rank"] == 0)  # one process: rank 0 trains
    # patience 0: training never stops early.
    assert np.all(folds["epochs"] == job["train"]["epochs"])
    for key in ("train_mse", "val_mse"):
        assert np.all(np.isfinite(folds[key]) & (folds[key] > 0) & (folds[key] < 1)), key
    # The codes' k-NN and linear-probe accuracies, in every task: some of these
    # 2-epoch trials at a high lr barely separate the classes (0.22 seen), the
    # better ones are well above chance (0.1).
    for key in ("val_knn_accuracy", "val_linear_accuracy"):
        assert np.all((folds[key] > 0) & (folds[key] <= 1)), (key, folds[key])
        assert folds[key].max() > 0.4, (key, folds[key])
    if "objective" in folds.dtype.names:
        assert np.array_equal(folds["objective"], folds["val_mse"])
    assert np.all(folds["seconds"] >= 0)


def test_curves(run, tables):
    """float64 [epochs, 3] per task; a fold's val_mse is the val metric of its best
    epoch, and a trial's epochs is the mean of its folds' best epochs."""
    path, _ = run
    trials, folds = tables
    with h5py.File(path, "r") as f:
        best_epochs = {}
        for row in folds:
            t, k = int(row["trial"]), int(row["fold"])
            c = f[f"curves/{t}/{k}"]
            assert c.dtype == np.float64
            assert c.shape == (int(row["epochs"]), 3)
            c = c[...]
            assert np.all(np.isfinite(c))
            gap = np.abs(c[:, 2] - row["val_mse"])
            assert gap.min() <= 1e-9 * row["val_mse"], (t, k, c[:, 2], row["val_mse"])
            best_epochs.setdefault(t, []).append(int(np.argmin(gap)) + 1)
        assert sorted(f["curves"].keys(), key=int) == [str(t) for t in range(len(trials))]
    for t, eps in best_epochs.items():
        assert trials["epochs"][t] == pytest.approx(np.mean(eps), rel=1e-12), (t, eps)


def test_models_all(run, tables, job):
    """output.weights "all": every task's model, in the model layout."""
    path, _ = run
    trials, folds = tables
    with h5py.File(path, "r") as f:
        assert sorted(f["models"].keys(), key=int) == [str(t) for t in range(len(trials))]
        first_layers = []
        for row in folds:
            t, k = int(row["trial"]), int(row["fold"])
            model = f[f"models/{t}/{k}"]
            assert isinstance(model, h5py.Group)
            check_model(model, job, int(trials["bottleneck"][t]))
            first_layers.append(model["layer_00/W"][...])
        for i in range(1, len(first_layers)):
            assert not np.array_equal(first_layers[0], first_layers[i]), "tasks share weights"


def test_best_attributes(run, tables):
    path, _ = run
    trials, _ = tables
    b = best_trial(trials)
    with h5py.File(path, "r") as f:
        a = f["best"].attrs
        assert int(a["trial"]) == b
        assert float(a["objective"]) == trials["objective_mean"][b]
        for p in PARAMS:
            assert float(a[p]) == trials[p][b], p
        # The refit ran for the mean early-stopping epoch of the folds, half up.
        assert int(a["epochs"]) == max(1, math.floor(trials["epochs"][b] + 0.5))
        test_mse = float(a["test_mse"])
        assert math.isfinite(test_mse) and 0 < test_mse < 1
        acc = float(a["test_accuracy"])  # the refit always trains the classifier
        assert 0.1 < acc <= 1, acc
        for key in ("test_knn_accuracy", "test_linear_accuracy"):
            assert 0.3 < float(a[key]) <= 1, (key, float(a[key]))


def test_best_model_reproduces_test_mse(run, tables, job, test_pixels):
    path, _ = run
    trials, _ = tables
    with h5py.File(path, "r") as f:
        model = f["best/model"]
        check_model(model, job, int(trials["bottleneck"][best_trial(trials)]))
        y, x, _ = forward(model, test_pixels)
        file_mse = float(f["best"].attrs["test_mse"])
    assert y.shape == x.shape == (10000, 784)
    mse = float(np.mean((y - x) ** 2))
    assert mse == pytest.approx(file_mse, rel=1e-5), (
        f"numpy test MSE {mse!r} vs /best test_mse {file_mse!r} "
        f"(relative difference {abs(mse - file_mse) / file_mse:.3g})")


def test_best_classifier_reproduces_test_accuracy(run, job, test_pixels, test_labels):
    """/best/model/classifier on the codes, rebuilt with numpy. float64 here vs
    float32 in C may flip the argmax of a sample on a decision boundary: allow 2."""
    path, _ = run
    with h5py.File(path, "r") as f:
        _, _, code = forward(f["best/model"], test_pixels)
        layers = layers_of(f["best/model/classifier"])
        assert layers[-1].attrs["activation"] == "softmax"
        widths = [layers[0]["W"].shape[1]] + [g["W"].shape[0] for g in layers]
        assert widths == [code.shape[1], *job["classifier"]["hidden"], 10]
        x = code
        for g in layers[:-1]:
            x = activation(g.attrs["activation"], float(g.attrs["leaky_slope"]))(
                x @ g["W"][...].astype(np.float64).T + g["b"][...])
        logits = x @ layers[-1]["W"][...].astype(np.float64).T + layers[-1]["b"][...]
        accuracy = float(np.mean(np.argmax(logits, axis=1) == test_labels))
        file_accuracy = float(f["best"].attrs["test_accuracy"])
    assert abs(accuracy - file_accuracy) <= 2 / len(test_labels), (accuracy, file_accuracy)


def test_info(run, tables):
    path, _ = run
    trials, _ = tables
    r = aesweep("info", path)
    assert r.returncode == 0, r.stderr
    assert re.search(r"\bcomplete\b", r.stdout), r.stdout
    b = best_trial(trials)
    best_lines = [ln for ln in r.stdout.splitlines() if re.match(r"\s*best\b", ln)]
    assert any(re.search(rf"\btrial\s+{b}\b", ln) for ln in best_lines), (
        f"no line starting 'best' names trial {b}:\n{r.stdout}")


@pytest.mark.parametrize("kind", ["text", "other_hdf5", "missing", "fifo", "folder"])
def test_info_on_a_non_results_file_exits_2(kind):
    """...and at once: a FIFO would block HDF5's open for ever (the timeout fails it)."""
    TMP.mkdir(parents=True, exist_ok=True)
    path = TMP / f"not_results_{kind}.h5"
    if path.is_dir():
        path.rmdir()
    elif path.exists():
        path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "text":
        path.write_text("not HDF5 at all\n")
    elif kind == "other_hdf5":
        with h5py.File(path, "w") as f:
            f.attrs["format"] = "something-else"
            f["trials"] = np.arange(3)
    r = aesweep("info", path)
    assert r.returncode == 2, f"exit {r.returncode}; stdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert str(path) in r.stderr, r.stderr


@pytest.mark.parametrize("objective", ["val_knn_accuracy", "val_linear_accuracy"])
def test_code_measures_as_objectives(objective):
    """A search can rank trials by either measure of the codes: the objective of
    each fold is its measure, maximised, and /best is the trial with the highest
    mean; no classifier is needed for them."""
    out = TMP / objective
    shutil.rmtree(out, ignore_errors=True)
    sets = SETS + [f"search.objective={objective}", "classifier.epochs=0", "search.trials=2"]
    r = aesweep("run", JOB, "--out", out, *set_args(sets), timeout=300)
    assert r.returncode == 0, r.stderr
    with h5py.File(out / "results.h5", "r") as f:
        assert f.attrs["objective"] == objective and f.attrs["objective_direction"] == "max"
        folds, trials = f["folds"][...], f["trials"][...]
        assert np.array_equal(folds["objective"], folds[objective])
        assert np.all(np.isnan(folds["val_accuracy"]))
        assert int(f["best"].attrs["trial"]) == int(np.argmax(trials["objective_mean"]))


def one_se_reference(trials, prefer_column):
    """Breiman's rule as the README states it, worked out here from /trials alone:
    the best ok mean (val_mse: smallest; ties to the lower id), the trials within
    the best's objective_se of it, and of those the lowest prefer_column ("prefer":
    "low"), then the smallest mean, then the lowest id."""
    ok = np.flatnonzero((trials["status"] == 0) & np.isfinite(trials["objective_mean"]))
    best = int(ok[np.lexsort((ok, trials["objective_mean"][ok]))[0]])
    band = [int(t) for t in ok if trials["objective_mean"][t]
            <= trials["objective_mean"][best] + trials["objective_se"][best]]
    pick = min(band, key=lambda t: (trials[prefer_column][t], trials["objective_mean"][t], t))
    return best, pick, band


def test_one_se_random_search_on_fashion_mnist():
    """search.select one_se end to end on the real data (issue 20): /trials.objective_se
    is the folds' sample std / sqrt(folds), the refit trial (/best) is the rule's
    choice recomputed here, and the run's last line, `aesweep info` and the report
    say which trial was chosen and which has the best mean."""
    out = TMP / "one_se"
    shutil.rmtree(out, ignore_errors=True)
    sets = SETS + ["search.trials=10", "search.folds=3", "search.select=one_se",
                   "classifier.epochs=0", "train.lr=0.007",
                   'search.space={"bottleneck": {"min": 12, "max": 48, "type": "int", '
                   '"prefer": "low"}}']
    r = aesweep("run", JOB, "--out", out, *set_args(sets), timeout=300)
    assert r.returncode == 0, r.stderr
    with h5py.File(out / "results.h5", "r") as f:
        trials, folds = f["trials"][...], f["folds"][...]
        refit = int(f["best"].attrs["trial"])
    obj = folds["objective"].reshape(len(trials), 3)
    assert np.allclose(trials["objective_se"], obj.std(axis=1, ddof=1) / np.sqrt(3), rtol=1e-12)
    best, pick, band = one_se_reference(trials, "bottleneck")
    assert refit == pick, (refit, pick, band)
    word = "chosen" if pick != best else "best"
    assert re.search(rf"^(?:\r\x1b\[K)?{word}: trial {pick} ", r.stderr, re.M), r.stderr
    info = aesweep("info", out / "results.h5")
    assert info.returncode == 0, info.stderr
    if pick != best:
        assert (f"refit (chosen by search.select one_se among the trials tied with the best "
                f"mean, trial {best})") in info.stdout, info.stdout
        row = next(line for line in info.stdout.splitlines()
                   if re.match(rf"\s+\d+\s+{pick}\s", line))
        assert "* chosen" in row, row
    print(f"\n[figure] one_se on Fashion-MNIST: {len(band)} of {len(trials)} trials tied with "
          f"trial {best} (bottleneck {trials['bottleneck'][best]:.0f}); chosen trial {pick} "
          f"(bottleneck {trials['bottleneck'][pick]:.0f})")
