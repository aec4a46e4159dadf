"""The train command as a user meets it: signals end it with exit code 3 and
leave nothing half-written; a finished run leaves exactly its model file; a
diverging configuration is reported, not crashed on.

Run with /usr/bin/python3 -m pytest. Environment as in test_model_file.py.
"""
import os
import re
import signal
import subprocess
from pathlib import Path

import h5py
import pytest

SRC = Path(os.environ.get("AESWEEP_SRC", Path(__file__).resolve().parents[2]))
AESWEEP = os.environ.get("AESWEEP", "/work/main/build/aesweep")
FASHION_DIR = os.environ.get("FASHION_DIR", "/usr/share/datasets/fashion-mnist")
TMP = Path(os.environ.get("TEST_TMP", "/tmp/aesweep_test")) / "cli"
JOB = SRC / "tests" / "python" / "jobs" / "model_small.json"
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")


def train_cmd(out, *sets):
    cmd = [AESWEEP, "train", str(JOB), "--set", f"data.path={FASHION_DIR}", "--out", str(out)]
    for s in sets:
        cmd += ["--set", s]
    return cmd


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGUSR1])
def test_signal_exits_3_and_keeps_existing_file(sig):
    TMP.mkdir(parents=True, exist_ok=True)
    out = TMP / f"signal_{sig.name}.h5"
    out.write_bytes(b"an older result")
    # Many epochs, so the signal lands mid-training.
    p = subprocess.Popen(train_cmd(out, "train.epochs=500", "data.train_limit=20000"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, text=True)
    line = p.stderr.readline()  # the data summary: training starts right after
    assert "train" in line, line
    p.stderr.readline()  # the first epoch ended
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 3, err
    assert "interrupted" in err
    assert out.read_bytes() == b"an older result"
    assert not list(TMP.glob(f"{out.name}.tmp*"))


def test_diverged_run_is_reported():
    TMP.mkdir(parents=True, exist_ok=True)
    out = TMP / "diverged.h5"
    r = subprocess.run(train_cmd(out, "train.optimizer=sgd", "train.lr=10000",
                                 "model.output_activation=linear", "data.test_limit=1000"),
                       capture_output=True, text=True, env=ENV, timeout=120)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^status +diverged$", r.stdout, re.M), r.stdout
    with h5py.File(out, "r") as f:
        assert f.attrs["status"] == "diverged"
        assert f.attrs["val_mse"] != f.attrs["val_mse"]  # NaN: a diverged run never wins
        assert f.attrs["test_mse"] != f.attrs["test_mse"]


def test_bench_of_a_job_and_its_layers_as_json():
    """`aesweep bench --job` times a job's own model (here model E of issue 15, on
    CIFAR-10's shape), and --layers-json gives the layers torch_bench.py builds:
    the kinds, shapes and loss of the job. No timing is asserted."""
    import json
    job = SRC / "tests" / "bench" / "models" / "model_E.json"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([AESWEEP, "bench", "--job", job, "--set", "data.dataset=cifar10",
                        "--set", "data.path=/nonexistent", "--layers-json"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    spec = json.loads(r.stdout)
    kinds = [L["kind"] for L in spec["layers"]]
    assert spec["input"] == [3, 32, 32] and spec["loss"] == "mse+mae" and spec["signed_range"] == 1
    assert kinds.count("conv") == 3 and kinds.count("conv_transpose") == 3, kinds
    assert kinds.count("batchnorm") == 6 and spec["layers"][-2]["activation"] == "tanh", kinds
    r = subprocess.run([AESWEEP, "bench", "--job", job, "--input", "3x32x32", "--batch", "8",
                        "--seconds", "0.05"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    line = json.loads(r.stdout.strip().splitlines()[-1])
    assert line["input"] == [3, 32, 32] and line["batch"] == 8 and line["samples_per_s"] > 0
    # --profile: a row per layer on stderr (kind and output shape), then the rest
    # of the step; stdout still ends in the JSON line.
    r = subprocess.run([AESWEEP, "bench", "--job", job, "--input", "3x32x32", "--batch", "8",
                        "--seconds", "0.05", "--profile"], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().splitlines()[-1])["batch"] == 8
    rows = [ln.split() for ln in r.stderr.splitlines()]
    assert rows[0][:3] == ["layer", "kind", "output"], r.stderr
    layers = [row for row in rows[1:] if row and row[0].isdigit()]
    assert [row[1] for row in layers] == kinds, r.stderr
    assert layers[1][2] == "32x16x16" and layers[-1][2] == "3072", r.stderr
    assert all(float(row[3]) >= 0 and float(row[4]) >= 0 for row in layers)
    assert rows[-1][0] == "rest", r.stderr
    r = subprocess.run([AESWEEP, "bench", "--layers-json"], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 2 and "--job" in r.stderr


def test_progress_json_lines_are_the_curve():
    """--progress json (issue 17): stdout is JSON lines only, one per epoch then the
    summary; each epoch's numbers are the model file's /curve row to the last bit
    (%.17g round-trips a double); null where nothing was measured (NaN in the file)."""
    import json

    TMP.mkdir(parents=True, exist_ok=True)
    out = TMP / "progress.h5"
    r = subprocess.run(train_cmd(out, "train.epochs=3", "classifier.epochs=0") + ["--progress", "json"],
                       capture_output=True, text=True, env=ENV, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    epochs, done = lines[:-1], lines[-1]
    assert [e["event"] for e in epochs] == ["epoch"] * 3 and done["event"] == "done", lines
    assert [e["epoch"] for e in epochs] == [1, 2, 3] and {e["epochs"] for e in epochs} == {3}
    with h5py.File(out, "r") as f:
        curve = f["curve"][...]
        assert done["test_mse"] == float(f.attrs["test_mse"]) and done["status"] == "ok"
    for e, row in zip(epochs, curve):
        assert [e["train_loss"], e["val_loss"], e["val_mse"]] == list(row), (e, row)
        assert e["seconds"] > 0
    assert done["model"] == str(out)
    assert done["val_accuracy"] is None and done["test_accuracy"] is None  # no classifier
    assert "epoch" not in r.stderr  # the text lines are not repeated


def test_progress_json_lets_a_driver_stop_the_training():
    """A driver reads each line as the epoch ends (flushed, not at exit) and can
    stop the run: SIGTERM after the second epoch's line ends it with exit 3 and no
    model file, long before its 1000 epochs."""
    import json

    TMP.mkdir(parents=True, exist_ok=True)
    out = TMP / "progress_stopped.h5"
    out.unlink(missing_ok=True)
    p = subprocess.Popen(train_cmd(out, "train.epochs=1000") + ["--progress", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, text=True)
    first, second = json.loads(p.stdout.readline()), json.loads(p.stdout.readline())
    assert (first["epoch"], second["epoch"]) == (1, 2) and second["val_mse"] > 0
    p.send_signal(signal.SIGTERM)
    rest, err = p.communicate(timeout=60)
    assert p.returncode == 3, err
    assert all(json.loads(line)["event"] == "epoch" for line in rest.splitlines())
    assert not out.exists() and not list(TMP.glob(f"{out.name}.tmp*"))


def test_progress_other_than_text_or_json_exits_2():
    r = subprocess.run([AESWEEP, "train", str(JOB), "--progress", "xml"], capture_output=True,
                       text=True, env=ENV, timeout=60)
    assert r.returncode == 2 and "--progress" in r.stderr and "xml" in r.stderr, r.stderr
