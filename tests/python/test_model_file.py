"""`aesweep train --out FILE.h5` against SPEC §5, checked from the outside.

The real binary trains a small autoencoder on the real Fashion-MNIST; the file is
then read with h5py alone, and the forward pass is rebuilt with numpy from the
file alone (nothing from the C side): its MSE over the whole 10000-image test set
must reproduce the file's test_mse.

Run with /usr/bin/python3 -m pytest (Debian's h5py/numpy). Environment:
AESWEEP (the binary), FASHION_DIR (the IDX folder), TEST_TMP (scratch folder),
AESWEEP_SRC (the source tree, for the job file).
"""
import gzip
import json
import math
import os
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest

from jobsets import apply_sets, set_args
from modelgroup import forward, layers_of

SRC = Path(os.environ.get("AESWEEP_SRC", Path(__file__).resolve().parents[2]))
AESWEEP = os.environ.get("AESWEEP", "/work/main/build/aesweep")
FASHION_DIR = os.environ.get("FASHION_DIR", "/usr/share/datasets/fashion-mnist")
TEST_TMP = Path(os.environ.get("TEST_TMP", "/tmp/aesweep_test")) / "model_file"
JOB = SRC / "tests" / "python" / "jobs" / "model_small.json"
TEST_IMAGES = Path(FASHION_DIR) / "t10k-images-idx3-ubyte.gz"

# Each configuration: an id and the --set overrides applied on top of JOB.
CONFIGS = {
    "relu_linear_sigmoid": [],
    "leaky_tanh_sigmoid": [
        "model.activation=leaky_relu",
        "model.leaky_slope=0.2",
        "model.latent_activation=tanh",
    ],
}

pytestmark = pytest.mark.skipif(
    not TEST_IMAGES.is_file(), reason=f"no Fashion-MNIST test images at {TEST_IMAGES}"
)


def run_aesweep(*args, timeout=300):
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return subprocess.run(
        [AESWEEP, *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )


def all_sets(config_sets):
    # data.path: the job file names no dataset, so the test follows FASHION_DIR.
    return [f"data.path={FASHION_DIR}", *config_sets]


@pytest.fixture(scope="module")
def test_pixels():
    """The whole t10k image set as uint8 [10000, 784], read with gzip + numpy."""
    with gzip.open(TEST_IMAGES, "rb") as f:
        raw = f.read()
    magic, n, rows, cols = np.frombuffer(raw[:16], dtype=">u4")
    assert magic == 2051, f"{TEST_IMAGES}: not an IDX images file"
    pixels = np.frombuffer(raw[16:], dtype=np.uint8)
    assert pixels.size == n * rows * cols
    return pixels.reshape(int(n), int(rows * cols))


@pytest.fixture(scope="module")
def test_labels():
    """The t10k labels as uint8 [10000]."""
    with gzip.open(Path(FASHION_DIR) / "t10k-labels-idx1-ubyte.gz", "rb") as f:
        raw = f.read()
    magic, n = np.frombuffer(raw[:8], dtype=">u4")
    assert magic == 2049
    return np.frombuffer(raw[8:], dtype=np.uint8)[: int(n)]


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def trained(request):
    """Trains one configuration once per module; yields (path, expected job, sets)."""
    name = request.param
    sets = all_sets(CONFIGS[name])
    TEST_TMP.mkdir(parents=True, exist_ok=True)
    out = TEST_TMP / f"{name}.h5"
    if out.exists():
        out.unlink()
    r = run_aesweep("train", JOB, *set_args(sets), "--out", out)
    assert r.returncode == 0, f"aesweep train failed ({r.returncode}):\n{r.stderr}"
    assert out.is_file()
    leftovers = [p.name for p in TEST_TMP.iterdir() if p.name.startswith(out.name + ".tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"
    expected = apply_sets(json.loads(JOB.read_text()), sets)
    return out, expected


def expected_activations(job):
    m = job["model"]
    n_hidden = len(m["hidden"])
    acts = [m.get("activation", "relu")] * (2 * (n_hidden + 1))
    acts[n_hidden] = m.get("latent_activation", "linear")
    acts[-1] = m.get("output_activation", "sigmoid")
    return acts


# ---- tests -----------------------------------------------------------------------


def test_root_attributes(trained):
    path, job = trained
    with h5py.File(path, "r") as f:
        a = f.attrs
        assert a["format"] == "aesweep-model"
        assert int(a["format_version"]) == 1
        assert isinstance(a["aesweep_version"], str) and a["aesweep_version"]
        assert a["status"] == "ok"
        recorded = json.loads(a["job"])
        assert recorded == job
        for key in ("train_mse", "val_mse", "test_mse"):
            v = float(a[key])
            assert math.isfinite(v) and 0.0 < v < 1.0, f"{key} = {v}"
        # Every parameter, as run.
        assert float(a["lr"]) == pytest.approx(job["train"]["lr"], rel=1e-12)
        assert int(a["batch_size"]) == job["train"]["batch_size"]
        assert int(a["bottleneck"]) == job["model"]["bottleneck"]
        assert int(a["seed"]) == job["seed"]
        # The classifier ran: accuracies well above chance (10 classes).
        for key in ("val_accuracy", "test_accuracy"):
            assert 0.3 < float(a[key]) <= 1.0, f"{key} = {a[key]}"
        # The bottleneck (16) is not the class count: no latent accuracy.
        assert math.isnan(float(a["latent_accuracy"]))


def test_curve(trained):
    path, job = trained
    with h5py.File(path, "r") as f:
        curve = f["curve"]
        epochs = job["train"]["epochs"]
        assert curve.dtype == np.float64
        assert curve.shape == (epochs, 3)  # patience 0: never stops early
        assert int(f.attrs["epochs"]) == epochs
        c = curve[...]
        assert np.all(np.isfinite(c))
        best = int(f.attrs["best_epoch"])
        assert 1 <= best <= epochs
        # val_mse is the val metric (MSE) of the restored best epoch's weights.
        assert float(f.attrs["val_mse"]) == pytest.approx(c[best - 1, 2], rel=1e-9)


def test_model_layout(trained):
    path, job = trained
    with h5py.File(path, "r") as f:
        model = f["model"]
        input_dim = int(model.attrs["input_dim"])
        assert input_dim == 784
        assert float(model.attrs["input_scale"]) == pytest.approx(1.0 / 255.0, rel=1e-15)
        hidden = job["model"]["hidden"]
        bn = job["model"]["bottleneck"]
        widths = [input_dim, *hidden, bn, *reversed(hidden), input_dim]
        layers = layers_of(model)
        assert int(model.attrs["layers"]) == len(widths) - 1 == len(layers)
        acts = expected_activations(job)
        slope = job["model"].get("leaky_slope", 0.01)
        for i, g in enumerate(layers):
            W, b = g["W"], g["b"]
            assert W.dtype == np.float32 and b.dtype == np.float32
            assert W.shape == (widths[i + 1], widths[i]), f"layer {i}: W is [out, in]"
            assert b.shape == (widths[i + 1],)
            assert g.attrs["activation"] == acts[i], f"layer {i}"
            assert float(g.attrs["leaky_slope"]) == pytest.approx(slope, rel=1e-6)
            assert np.all(np.isfinite(W[...])) and np.all(np.isfinite(b[...]))


def test_code_layer_width(trained, test_pixels):
    path, job = trained
    with h5py.File(path, "r") as f:
        model = f["model"]
        k = int(model.attrs["bottleneck_layer"])
        layers = layers_of(model)
        assert 0 <= k < len(layers) - 1
        assert layers[k]["W"].shape[0] == job["model"]["bottleneck"]
        _, _, code = forward(model, test_pixels[:100])
        assert code.shape == (100, job["model"]["bottleneck"])


def test_numpy_forward_reproduces_test_mse(trained, test_pixels):
    path, job = trained
    with h5py.File(path, "r") as f:
        y, t, _ = forward(f["model"], test_pixels)
        file_mse = float(f.attrs["test_mse"])
    assert y.shape == t.shape == test_pixels.shape
    mse = float(np.mean((y - t) ** 2))
    assert mse == pytest.approx(file_mse, rel=1e-5), (
        f"numpy test MSE {mse!r} vs file test_mse {file_mse!r} "
        f"(relative difference {abs(mse - file_mse) / file_mse:.3g})"
    )


@pytest.mark.parametrize(
    "bad_set, names",
    [
        ("train.lr=-1", "train.lr"),
        ("model.activation=softmax", "model.activation"),
        ("train.epochs=0", "train.epochs"),
        ("data.path=/nonexistent/fashion", "/nonexistent/fashion"),
    ],
)
@pytest.mark.parametrize("existing", [True, False], ids=["existing", "absent"])
def test_bad_job_exits_2_and_writes_nothing(bad_set, names, existing):
    folder = TEST_TMP / "bad"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "model.h5"
    if out.exists():
        out.unlink()
    before = b"not an HDF5 file: must survive a bad job\n"
    if existing:
        out.write_bytes(before)
    sets = [f"data.path={FASHION_DIR}", bad_set]  # the later --set wins
    r = run_aesweep("train", JOB, *set_args(sets), "--out", out, timeout=60)
    assert r.returncode == 2, f"exit {r.returncode}, stderr:\n{r.stderr}"
    assert names in r.stderr, f"the message does not name {names!r}:\n{r.stderr}"
    assert "train_loss" not in r.stderr, "trained before rejecting the job"
    if existing:
        assert out.read_bytes() == before
    else:
        assert not out.exists()
    assert sorted(p.name for p in folder.iterdir()) == (["model.h5"] if existing else [])


def test_numpy_classifier_reproduces_test_accuracy(trained, test_pixels, test_labels):
    """/model/classifier on the codes, rebuilt with numpy: its test accuracy and
    confusion matrix are the file's. float64 here vs float32 in C may flip the
    argmax of a sample lying on a decision boundary, so allow 2 of 10000."""
    path, job = trained
    with h5py.File(path, "r") as f:
        _, _, code = forward(f["model"], test_pixels)
        cls = f["model"]["classifier"]
        layers = layers_of(cls)
        assert layers[-1].attrs["activation"] == "softmax"
        widths = [layers[0]["W"].shape[1]] + [g["W"].shape[0] for g in layers]
        assert widths == [job["model"]["bottleneck"], *job["classifier"]["hidden"], 10]
        x = code
        for g in layers[:-1]:
            assert g.attrs["activation"] == "relu"
            x = np.maximum(x @ g["W"][...].astype(np.float64).T + g["b"][...], 0.0)
        logits = x @ layers[-1]["W"][...].astype(np.float64).T + layers[-1]["b"][...]
        predicted = np.argmax(logits, axis=1)
        accuracy = float(np.mean(predicted == test_labels))
        file_accuracy = float(f.attrs["test_accuracy"])
        confusion = f["confusion"][...]
    assert abs(accuracy - file_accuracy) <= 2 / len(test_labels)
    assert confusion.shape == (10, 10) and confusion.dtype == np.int32
    assert confusion.sum() == len(test_labels)
    assert np.trace(confusion) / confusion.sum() == pytest.approx(file_accuracy, rel=1e-12)
    mine = np.zeros((10, 10), dtype=np.int64)
    np.add.at(mine, (test_labels, predicted), 1)
    assert np.abs(mine - confusion).sum() <= 4  # the same 2 samples, moved


# ---- layered models (issue 15): every layer kind rebuilt from the file ------------------

LAYERED = {
    # report 002's conv autoencoder, smaller
    "conv": {"encoder": [{"conv": 4, "kernel": 3, "stride": 2, "padding": 1},
                         {"conv": 8, "kernel": 3, "stride": 2},
                         {"dense": 32}], "bottleneck": 8},
    # report 004's: batch norm, tanh output, inputs in [-1, 1] padded to 32 x 32
    "batchnorm_tanh_pad": {"encoder": [{"conv": 4, "kernel": 4, "stride": 2, "padding": 1,
                                        "batchnorm": True},
                                       {"conv": 8, "kernel": 4, "stride": 2, "padding": 1,
                                        "batchnorm": True, "activation": "leaky_relu"}],
                           "bottleneck": 12, "output_activation": "tanh"},
    # a variational code: evaluation decodes the mean
    "variational": {"encoder": [{"conv": 4, "kernel": 3, "stride": 2, "padding": 1},
                                {"dense": 24, "dropout": 0.1}],
                    "bottleneck": 3, "variational": True},
}


@pytest.mark.parametrize("name", sorted(LAYERED))
def test_numpy_rebuild_of_layered_models_reproduces_test_mse(name):
    import sys
    sys.path.insert(0, str(SRC / "analysis"))
    import aesweep_results as ar

    job = {"name": f"layered-{name}", "seed": 2,
           "data": {"path": FASHION_DIR, "train_limit": 2000},
           "model": LAYERED[name],
           "train": {"epochs": 2, "batch_size": 64, "lr": 0.003},
           "classifier": {"epochs": 0}}
    if name == "batchnorm_tanh_pad":
        job["data"].update(pad=2, range=[-1, 1])
        job["train"]["loss"] = "mse+mae"
    TEST_TMP.mkdir(parents=True, exist_ok=True)
    path, out = TEST_TMP / f"layered_{name}.json", TEST_TMP / f"layered_{name}.h5"
    path.write_text(json.dumps(job))
    r = run_aesweep("train", path, "--out", out)
    assert r.returncode == 0, r.stderr
    images, _ = ar.load_test_images(job)
    with h5py.File(out, "r") as f:
        m = ar.Model(f["model"])
        kinds = {str(f["model"][k].attrs["kind"]) for k in f["model"] if k.startswith("layer_")}
        mse, file_mse = m.mse(images), float(f.attrs["test_mse"])
    assert "conv_transpose" in kinds and "dropout" not in kinds, kinds
    if name == "batchnorm_tanh_pad":
        assert "batchnorm" in kinds and m.signed and m.input_dim == 1024
    if name == "variational":
        assert "variational" in kinds and m.bottleneck == 3
        with h5py.File(out, "r") as f:
            kl, elbo = float(f.attrs["test_kl"]), float(f.attrs["test_elbo"])
        # ELBO per image = -(sum of squared errors / (2c) + KL), c = 1, mse loss
        assert kl > 0 and elbo == pytest.approx(-(784 / 2 * file_mse + kl), rel=1e-5), (kl, elbo)
    else:
        with h5py.File(out, "r") as f:
            assert "test_kl" not in f.attrs
    assert mse == pytest.approx(file_mse, rel=1e-5), (mse, file_mse)


# ---- classifier.finetune (issue 16): the encoder trained into the classifier ------------

FINETUNE = {
    # model_small's dense 784-128-2: the classifier is 784-128-32-10
    "dense": {"hidden": [128], "bottleneck": 2},
    # report 002's shape, smaller: conv, conv, dense, then the code the classifier replaces
    "conv": {"encoder": LAYERED["conv"]["encoder"], "bottleneck": 2},
}


def train_with(name, finetune):
    import sys
    sys.path.insert(0, str(SRC / "analysis"))
    import aesweep_results as ar

    job = apply_sets(json.loads(JOB.read_text()), [f"data.path={FASHION_DIR}"])
    job["model"].pop("hidden")
    job["model"].update(FINETUNE[name])
    job["classifier"]["finetune"] = finetune
    TEST_TMP.mkdir(parents=True, exist_ok=True)
    stem = TEST_TMP / f"finetune_{name}_{str(finetune).lower()}"
    path, out = stem.with_suffix(".json"), stem.with_suffix(".h5")
    path.write_text(json.dumps(job))
    r = run_aesweep("train", path, "--out", out)
    assert r.returncode == 0, r.stderr
    with h5py.File(out, "r") as f:
        m = ar.Model(f["model"])
        ae = {f"{g.name}/{a}": g[a][...] for g in layers_of(f["model"]) for a in ("W", "b")
              if a in g}
        cls = layers_of(f["model"]["classifier"])
        kinds = [str(g.attrs.get("kind", "dense")) for g in cls]
        widths = [g["W"].shape[0] for g in cls if "W" in g]
        attrs = {k: float(f.attrs[k]) for k in ("test_mse", "test_accuracy")}
    return m, ae, kinds, widths, attrs


@pytest.mark.parametrize("name", sorted(FINETUNE))
def test_finetuned_classifier_reads_the_images(name, test_pixels, test_labels):
    """The classifier is the encoder's layers before its code, started from the
    autoencoder's weights and trained with the MLP (report 002 section 2.3): it reads
    the images, and numpy's forward pass from the file alone reproduces its test
    accuracy. The autoencoder is the one trained, bit for bit as without fine-tuning;
    on a 2-wide code the tuned encoder classifies far better than an MLP on the
    frozen codes can (measured: 0.65 against 0.41, dense; 0.48 against 0.10, conv)."""
    tuned, ae_tuned, kinds, widths, tuned_attrs = train_with(name, True)
    frozen, ae_frozen, _, frozen_widths, frozen_attrs = train_with(name, False)
    assert tuned.classifier_input == "image" and frozen.classifier_input == "code"
    assert ae_tuned.keys() == ae_frozen.keys() and all(
        np.array_equal(ae_tuned[k], ae_frozen[k]) for k in ae_tuned), "the autoencoder moved"
    assert tuned_attrs["test_mse"] == frozen_attrs["test_mse"]
    assert widths[-2:] == [32, 10] and 2 not in widths, widths  # the code layer is replaced
    assert frozen_widths == [32, 10]
    if name == "conv":
        assert kinds[:3] == ["reshape", "conv", "conv"], kinds
    # the file alone reproduces what aesweep measured
    for m, attrs in ((tuned, tuned_attrs), (frozen, frozen_attrs)):
        accuracy = float(np.mean(np.argmax(m.predict(test_pixels), axis=1) == test_labels))
        assert abs(accuracy - attrs["test_accuracy"]) <= 2 / len(test_labels), (accuracy, attrs)
    assert tuned.classify(np.zeros((1, 2))) is None  # it reads images, never codes
    assert tuned_attrs["test_accuracy"] > frozen_attrs["test_accuracy"] + 0.05, (
        tuned_attrs, frozen_attrs)
