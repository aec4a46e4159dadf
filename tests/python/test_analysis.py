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
import time
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
        "reconstructions", "interpolation", "latent", "latent_tsne", "prior", "confusion",
        "pareto", "parallel", "importance"}

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
    assert f"index.html ({len(FULL)} figures)" in out, out
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


STATUS = {0: "ok", 1: "diverged", 2: "failed"}


def check_csv_rows(rows, table):
    """CSV rows against a table: its columns with status_name after status; text as
    text, whole numbers as integers, other numbers exact, NaN as an empty cell."""
    names = list(table.dtype.names)
    header = [h for n in names for h in ([n, "status_name"] if n == "status" else [n])]
    assert rows[0] == header
    assert len(rows) - 1 == len(table)
    for got, want in zip(rows[1:], table):
        cells = dict(zip(header, got))
        assert cells["status_name"] == STATUS[int(want["status"])]
        for name in names:
            v, cell = want[name], cells[name]
            if isinstance(v, bytes):
                assert cell == v.decode(), name
            elif isinstance(v, np.floating) and math.isnan(v):
                assert cell == "", name
            elif isinstance(v, np.floating) and float(v).is_integer():
                assert cell == str(int(v)), (name, cell)
            elif isinstance(v, np.floating):
                assert float(cell) == float(v), name
            else:
                assert int(cell) == int(v), name


def test_csv_rows_equal_trials(bisect):
    path = TMP / "trials.csv"
    script("export.py", bisect, "--csv", path, "--folds", TMP / "folds.csv")
    with h5py.File(bisect, "r") as f:
        trials, folds = f["trials"][...], f["folds"][...]
    for table, csv_path in ((trials, path), (folds, TMP / "folds.csv")):
        with open(csv_path, newline="") as fh:
            check_csv_rows(list(csv.reader(fh)), table)
    assert "bottleneck" in trials.dtype.names and ",10," in path.read_text()  # not 10.0


def test_csv_to_stdout_ranked_with_best(bisect, tmp_path):
    """'-' is stdout; --ranked follows the objective; --best is /best's row; a path
    that cannot be written is named, not the input."""
    r = ar.load(bisect)
    out = script("export.py", bisect, "--csv", "-", "--ranked")
    rows = list(csv.reader(out.splitlines()))
    ranked = [int(t) for t in r.ranked()["trial"]]
    assert [int(row[0]) for row in rows[1:1 + len(ranked)]] == ranked
    with h5py.File(bisect, "r") as f:
        table = f["trials"][...]
    check_csv_rows([rows[0]] + sorted(rows[1:], key=lambda row: int(row[0])), table)
    assert not (Path.cwd() / "-").exists()
    best = list(csv.reader(script("export.py", bisect, "--csv", tmp_path / "t.csv",
                                  "--best", "-").splitlines()))
    got = dict(zip(best[0], best[1]))
    assert int(got["trial"]) == int(r.best["trial"])
    assert float(got["test_mse"]) == r.best["test_mse"]
    bad = subprocess.run([PYTHON, str(ANALYSIS / "export.py"), str(bisect), "--csv",
                          str(tmp_path / "no" / "such" / "dir.csv")], capture_output=True,
                         text=True, env=ENV)
    assert bad.returncode == 2 and "no/such/dir.csv: cannot write" in bad.stderr, bad.stderr
    assert str(bisect) not in bad.stderr


def test_plain_run_leaves_parts_out_and_says_so(plain):
    rep = report.make_report(plain, TMP / "report_plain")
    assert figures_of(rep) == {"objective_vs_params", "curves", "fold_spread", "timeline",
                               "reconstructions", "interpolation", "latent", "pareto",
                               "parallel"}, figures_of(rep)
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
    assert figures_of(rep) == {"objective_vs_params", "curves", "fold_spread", "timeline",
                               "pareto", "parallel"}, figures_of(rep)
    check_pngs(rep)


def test_compare_page(bisect, plain):
    """Two runs of different jobs on one page: labels, what differs, a warning for
    different data, the best-so-far figure against tasks and training time."""
    out = script("compare.py", bisect, plain, "-o", TMP / "compare", "--label", "bisect",
                 "--label", "plain")
    page = (TMP / "compare" / "index.html").read_text()
    png = (TMP / "compare" / "progress.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and "compare:" in out
    assert "<h3>bisect</h3>" in page and "<h3>plain</h3>" in page
    diff = compare_module().job_differences([ar.load(bisect), ar.load(plain)])
    assert diff["data.train_limit"] == [1200, 1000] and diff["search.strategy"] == \
        ["bisection", "random"]
    assert "name" in diff and "data.dataset" not in diff  # both the default
    for key in ("data.train_limit", "search.strategy", "penalty.type"):
        assert f"<td>{key}</td>" in page, key
    assert "measured their objective on different data" in page
    assert "data.train_limit: 1200 vs 1000" in page
    for path in (bisect, plain):
        r = ar.load(path)
        x, secs, y = compare_module().best_so_far(r)
        assert len(x) == len(secs) == int(np.sum(r.folds["trial"] >= 0))
        assert np.all(np.diff(secs) >= 0)
        done = y[np.isfinite(y)]
        assert len(done) and np.all(np.diff(done) <= 0), "best so far must not get worse"
        assert done[-1] == pytest.approx(r.ranked()[0]["objective_mean"])
        assert f"{r.best['test_mse']:.5g}" in page


def test_compare_labels_runs_by_their_overrides(plain, tmp_path):
    """Without --label, a run is its job's name and --set overrides; the same job run
    twice with the same overrides is told apart by its folder."""
    other = run_search("analysis_plain.json", TMP / "plain_lr",
                       extra=("--set", "train.epochs=1"))
    out = script("compare.py", plain, other, "-o", tmp_path / "c")
    page = (tmp_path / "c" / "index.html").read_text()
    assert re.search(r"analysis_plain \([^)]*train\.epochs=1", page) and \
        "<td>train.epochs</td>" in page
    assert "different data" not in page  # epochs are not the data
    assert "2 runs; " in out
    bad = subprocess.run([PYTHON, str(ANALYSIS / "compare.py"), str(plain), str(other),
                          "--label", "one"], capture_output=True, text=True, env=ENV)
    assert bad.returncode == 2 and "1 --label for 2 files" in bad.stderr


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


# ---- issue 19: trade-offs, the Optuna-style figures, rough edges ------------------------


def test_pareto_front_is_info_pareto(bisect):
    """report's front over (objective, code width) is the trials `aesweep info --pareto`
    lists, and no ok trial beats one of them on both."""
    r = ar.load(bisect)
    front = r.pareto()
    assert len(front) >= 2
    ok = r.trials[(r.trials["status"] == 0) & np.isfinite(r.trials["objective_mean"])]
    for t in front:
        beaten = (ok["objective_mean"] <= t["objective_mean"]) & \
            (ok["bottleneck"] <= t["bottleneck"]) & \
            ((ok["objective_mean"] < t["objective_mean"]) | (ok["bottleneck"] < t["bottleneck"]))
        assert not beaten.any(), int(t["trial"])
    assert list(front["bottleneck"]) == sorted(front["bottleneck"])
    info = subprocess.run([AESWEEP, "info", str(bisect), "--pareto", "--top", "0"], env=ENV,
                          capture_output=True, text=True, timeout=60)
    assert info.returncode == 0, info.stderr
    table = info.stdout.split("Pareto front over", 1)[1].splitlines()[2:]
    listed = [int(line.split()[0]) for line in table if line.strip()[:1].isdigit()]
    assert listed == [int(t) for t in front["trial"]], (listed, info.stdout)
    ratio = 784 / float(front[0]["bottleneck"])
    assert f"{ratio:.1f}" in info.stdout
    rep = report.make_report(bisect, TMP / "report_pareto")
    assert {"pareto", "parallel"} <= figures_of(rep)


def test_importance_needs_trials_and_says_how_many(plain, tmp_path):
    """A forest over the trials: each parameter's share, summing to 1, with the
    number of trials it rests on; too few trials leave it out, saying so."""
    import tradeoffs
    path = run_search("analysis_plain.json", TMP / "importance",
                      extra=("--set", "search.trials=10", "--set", "train.epochs=1"))
    r = ar.load(path)
    share, r2, n = tradeoffs.importance(r, r.searched())
    assert n == 10 and len(share) == 2 and abs(share.sum() - 1) < 1e-9 and r2 <= 1
    rep = report.make_report(path, tmp_path / "rep")
    assert "importance" in figures_of(rep)
    assert any("over the 10 ok trials" in c for _, _, c in rep.figures)
    few = report.make_report(plain, tmp_path / "few")
    assert "4 ok trials: a forest needs at least 8" in dict(few.left_out)["parameter importance"]


def test_one_epoch_curves_are_drawn_with_markers(tmp_path):
    """A 1-epoch curve is one point: a line alone would draw nothing."""
    path = run_search("analysis_plain.json", TMP / "one_epoch",
                      extra=("--set", "train.epochs=1"))
    rep = report.Report(ar.load(path), tmp_path, 10)
    drawn = []
    rep.save = lambda fig, *args: drawn.append(fig)
    report.fig_curves(rep)
    lines = drawn[0].axes[0].get_lines()
    assert lines and all(len(line.get_xdata()) == 1 for line in lines)
    assert all(line.get_marker() == "o" for line in lines)


def test_report_names_the_overrides_and_load_says_what_is_wrong(tmp_path):
    path = run_search("analysis_plain.json", TMP / "overrides",
                      extra=("--set", "train.epochs=1", "--set", "search.trials=2"))
    r = ar.load(path)
    assert r.sets[-2:] == ["train.epochs=1", "search.trials=2"]
    assert all(isinstance(c, str) for c in r.trials["config"])  # not bytes
    assert r.input_dim == 784
    page = (report.make_report(path, tmp_path / "rep").out / "index.html").read_text()
    assert "train.epochs=1 search.trials=2" in page
    assert re.search(r"<title>aesweep report: analysis_plain \([^<]*train.epochs=1", page)
    for bad, why in ((tmp_path / "missing.h5", "no such file"), (tmp_path, "a folder")):
        with pytest.raises(ValueError, match=why):
            ar.load(bad)
    (tmp_path / "text.h5").write_text("no")
    with pytest.raises(ValueError, match="not a readable HDF5 file"):
        ar.load(tmp_path / "text.h5")
    r = subprocess.run([PYTHON, str(ANALYSIS / "report.py"), str(tmp_path / "missing.h5")],
                       capture_output=True, text=True, env=ENV)
    assert r.returncode == 2 and "missing.h5: no such file" in r.stderr
    assert "Traceback" not in r.stderr


def test_follow_and_watch_a_running_search(tmp_path):
    """`report.py --follow` and `aesweep info --watch` while a search runs under mpirun:
    both redraw while the status is running (the page reloads itself), and both end
    by themselves with the final state once the run stops (here by SIGUSR1, so that
    the run lasts until the watchers have seen it run, on any machine)."""
    if MPIRUN is None:
        pytest.skip("no mpirun on PATH")
    out = tmp_path / "live"
    cmd = [MPIRUN, "-np", "3", "--oversubscribe", AESWEEP, "run", str(JOBS / "analysis_plain.json"),
           "--out", str(out), *set_args(SETS), "--set", "search.trials=100000"]
    run = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
    watchers = []
    try:
        results = out / "results.h5"
        deadline = time.monotonic() + 120
        while not results.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert results.exists(), "the run wrote no results.h5"
        watch = subprocess.Popen([AESWEEP, "info", str(results), "--watch", "0.3", "--top", "3"],
                                 env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        follow = subprocess.Popen([PYTHON, str(ANALYSIS / "report.py"), str(results), "-o",
                                   str(tmp_path / "rep"), "--follow", "0.5"], env=ENV,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watchers = [watch, follow]
        # the report has redrawn twice while running, with tasks done: stop the run
        page = tmp_path / "rep" / "index.html"
        seen = []
        while time.monotonic() < deadline and len(seen) < 2:
            line = follow.stdout.readline()
            if not line:
                break
            m = re.search(r": running, (\d+) tasks", line)
            if m and (seen or int(m.group(1)) > 0):
                seen.append(line)
        assert len(seen) == 2, (seen, follow.poll(),
                                follow.stderr.read() if follow.poll() is not None else "")
        assert 'http-equiv="refresh" content="0.5"' in page.read_text()
        run.send_signal(signal.SIGUSR1)
        assert run.wait(120) == 3, run.stderr.read()
        rest, err = follow.communicate(timeout=120)
        assert follow.returncode == 0, err
        assert re.search(r"^report: .*: interrupted, \d+ tasks", rest, re.M), rest
        assert "refresh" not in page.read_text()  # the final page stays still
        text, err = watch.communicate(timeout=60)
        assert watch.returncode == 0, err
        frames = text.split("aesweep info --watch: ")[1:]
        assert len(frames) >= 2 and "status:     running" in frames[0], text[:2000]
        assert "status:     interrupted" in frames[-1]
        done = int(re.search(r"^folds: +(\d+) done", frames[-1], re.M).group(1))
        assert done == int(np.sum(ar.load(results).folds["trial"] >= 0)) > 0
    finally:
        for p in [run, *watchers]:
            if p.poll() is None:
                p.kill()
                p.wait()
    # a run that has ended: --follow writes the report once and returns
    again = script("report.py", results, "-o", tmp_path / "rep2", "--follow", "5")
    assert again.count("report: ") == 1 and "interrupted" in again


@pytest.mark.parametrize("module,package", [("matplotlib", "python3-matplotlib"),
                                            ("h5py", "python3-h5py"),
                                            ("sklearn", "python3-sklearn")])
def test_a_missing_package_is_named_not_traced(bisect, tmp_path, module, package):
    """A module that fails to import stands in for a Debian package not installed:
    the scripts that need it exit 2 naming the package; the report leaves out the
    importance figure without sklearn, saying which package it wants."""
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / f"{module}.py").write_text("raise ImportError('not installed')\n")
    env = dict(ENV, PYTHONPATH=str(shadow))
    for name, args in (("report.py", ["-o", tmp_path / "rep"]), ("compare.py", [bisect, "-o", tmp_path / "cmp"]),
                       ("export.py", ["--csv", tmp_path / "t.csv"])):
        r = subprocess.run([PYTHON, str(ANALYSIS / name), str(bisect), *map(str, args)],
                           env=env, capture_output=True, text=True, timeout=300)
        assert "Traceback" not in r.stderr, (name, r.stderr)
        if module == "sklearn" and name == "report.py":
            assert r.returncode == 0 and f"install Debian's {package}" in r.stdout, r.stdout
        elif module == "sklearn" or (module == "matplotlib" and name == "export.py"):
            assert r.returncode == 0, (name, r.stderr)
        else:
            assert r.returncode == 2 and f"apt-get install {package}" in r.stderr, (name, r.stderr)


# ---- issue 20 item 1: the standard error, and the trials tied with the best -------------


def test_standard_error_and_the_trials_tied_with_the_best(bisect):
    """/trials.objective_se is the folds' sample std / sqrt(folds), from /folds; the
    trials within one SE of the best are marked the same by aesweep info, the
    module and the report's leaderboard."""
    r = ar.load(bisect)
    folds = r.folds[r.folds["trial"] >= 0]
    for t in r.trials[r.trials["status"] == 0]:
        obj = folds["objective"][folds["trial"] == t["trial"]]
        want = np.std(obj, ddof=1) / math.sqrt(len(obj))
        assert t["objective_se"] == pytest.approx(want, rel=1e-12, abs=1e-15)
    tied = r.tied()
    best = r.ranked()[0]
    mean = r.trials["objective_mean"]
    assert tied[int(best["trial"])]
    assert np.array_equal(tied, (r.trials["status"] == 0) &
                          (mean - best["objective_mean"] <= best["objective_se"]))
    info = subprocess.run([AESWEEP, "info", str(bisect), "--top", "100"], env=ENV,
                          capture_output=True, text=True, timeout=60)
    assert f"tied: {int(tied.sum())} trial" in info.stdout, info.stdout
    marked = [int(line.split()[1]) for line in info.stdout.splitlines()
              if re.match(r"^\s+\d+\s+\d+\s", line) and " * " in line]
    assert sorted(marked) == sorted(int(t) for t in r.trials["trial"][tied]), info.stdout
    rows = report.leaderboard_rows(r, 100)
    assert [row["trial"] for row in rows if row["tied"] == "*"] == \
        [int(t["trial"]) for t in r.ranked() if tied[int(t["trial"])]]


# ---- issue 20 item 2: search.select one_se in the report ------------------------------


def test_one_se_bisection_in_the_report(tmp_path):
    """A bisection under search.select one_se with "prefer": "low" on the bottleneck:
    the stage after starts from the first stage's chosen value (/rounds), which is the
    smallest stage value tied with the stage's best; the leaderboard marks the refit
    trial `chosen` when it is not the best mean, and the report is drawn."""
    if MPIRUN is None:
        pytest.skip("no mpirun on PATH")
    results = run_search("analysis_bisect.json", tmp_path / "one_se", ranks=3, extra=(
        "--set", "search.select=one_se", "--set", 'search.stages=[["bottleneck"], ["lr"]]',
        "--set", 'search.space.bottleneck.prefer="low"'))
    r = ar.load(results)
    assert r.select == "one_se" and r.chosen is not None
    first = r.rounds[(r.rounds["stage"] == 0) & np.isfinite(r.rounds["chosen"])]
    value = float(first["chosen"][-1])
    start = r.stage_start(1)
    assert start >= 0 and r.trials["bottleneck"][start] == value
    stage0 = (r.trials["stage"] == 0) & (r.trials["status"] == 0)
    tied0 = r.tied(among=stage0)
    assert value == np.min(r.trials["bottleneck"][tied0]), (value, r.trials[tied0])
    assert np.all(r.trials["bottleneck"][r.trials["stage"] == 1] == value)
    rows = report.leaderboard_rows(r, 100)
    best = int(r.ranked()[0]["trial"])
    marked = [row["trial"] for row in rows if row["tied"].endswith("chosen")]
    assert marked == ([] if r.chosen == best else [r.chosen]), (marked, r.chosen, best)
    script("report.py", results, "-o", tmp_path / "report")
    page = (tmp_path / "report" / "index.html").read_text()
    assert "bisection.png" in page and "objective_vs_params.png" in page
    print(f"\n[figure] one_se bisection: stage 1 chose bottleneck {value:.0f} of "
          f"{int(tied0.sum())} tied; refit trial {r.chosen}, best mean trial {best}")
