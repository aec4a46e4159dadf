"""analysis/export_model.py: aesweep models as torch modules and ONNX graphs.

Two real models on Fashion-MNIST: a search over a conv autoencoder with batch
norm, dropout, a variational code and a classifier (tests/mpi/conv.json, every
task's weights kept), and a dense one from `aesweep train --out`. The exported
module, imported from its folder as a user would, must give what the numpy
rebuild of aesweep_results gives on the test images to 1e-5 (codes,
reconstruction, class probabilities); the ONNX graph must pass onnx.checker.

Environment as in test_run.py.
"""
import importlib.util
import subprocess
import sys

import h5py
import numpy as np
import pytest

from jobsets import set_args
from testenv import AESWEEP, ANALYSIS, ENV, FASHION_DIR, PYTHON, SETS, SRC, needs_fashion, scratch

TMP = scratch("export_model")
TOL = 1e-5

sys.path.insert(0, str(ANALYSIS))
import aesweep_results as ar  # noqa: E402

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

pytestmark = needs_fashion


def aesweep(*args):
    r = subprocess.run([AESWEEP, *map(str, args), *set_args(SETS)], env=ENV,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"aesweep {args} failed ({r.returncode}):\n{r.stderr}"


def export(*args, code=0, env=None):
    r = subprocess.run([PYTHON, str(ANALYSIS / "export_model.py"), *map(str, args)],
                       env=env or ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == code, f"export_model.py {args}: {r.returncode}\n{r.stdout}{r.stderr}"
    return r.stdout + r.stderr


def import_exported(folder):
    """The exported model.py, imported from its folder under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"exported_{folder.name}",
                                                  folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def conv_run():
    TMP.mkdir(parents=True, exist_ok=True)
    out = TMP / "conv"
    aesweep("run", SRC / "tests" / "mpi" / "conv.json", "--out", out,
            "--set", "search.trials=2", "--fresh")
    return out / "results.h5"


@pytest.fixture(scope="module")
def dense_file():
    TMP.mkdir(parents=True, exist_ok=True)
    path = TMP / "dense_model.h5"
    aesweep("train", SRC / "tests" / "python" / "jobs" / "model_small.json",
            "--set", "data.test_limit=500", "--out", path)
    return path


def outputs_agree(module, reference, images):
    """torch's outputs of the exported module against the numpy rebuild; returns the
    names compared."""
    m = module.load()
    x = module.preprocess(images)
    with torch.no_grad():
        codes = m.encode(x).double().numpy()
        np.testing.assert_allclose(codes, reference.encode(images), atol=TOL, rtol=0)
        compared = ["codes"]
        if len(m.decoder):
            got = m(x).double().numpy()
            np.testing.assert_allclose(got, reference.reconstruct(images).reshape(got.shape),
                                       atol=TOL, rtol=0)
            compared.append("reconstruction")
        if m.classifier is not None:
            np.testing.assert_allclose(m.predict(x).double().numpy(), reference.predict(images),
                                       atol=TOL, rtol=0)
            compared.append("probabilities")
    return compared


def test_best_conv_model_matches_the_numpy_rebuild(conv_run):
    out = TMP / "conv_best"
    log = export(conv_run, "-o", out, "--onnx")
    r = ar.load(conv_run)
    images, _ = r.test_set()
    kinds = {layer.kind for layer in r.best_model.layers}
    assert {"conv", "conv_transpose", "batchnorm", "variational", "reshape"} <= kinds, kinds
    assert outputs_agree(import_exported(out), r.best_model, images) == \
        ["codes", "reconstruction", "probabilities"]
    graph = onnx.load(str(out / "model.onnx"))
    onnx.checker.check_model(graph)
    assert [o.name for o in graph.graph.output] == ["codes", "reconstruction", "probabilities"]
    assert "onnx.checker: valid" in log and "/best/model" in log


def test_a_trial_and_fold_of_a_results_file(conv_run):
    out = TMP / "conv_t1f1"
    export(conv_run, "-o", out, "--trial", 1, "--fold", 1)
    r = ar.load(conv_run)
    images, _ = r.test_set()
    outputs_agree(import_exported(out), r.model(1, 1), images)
    # not the best's weights (the refit's, with its classifier): the exports differ
    best = torch.load(TMP / "conv_best" / "state_dict.pt")
    this = torch.load(out / "state_dict.pt")
    assert set(this) <= set(best) and any(k.startswith("classifier.") for k in best)
    assert any(not torch.equal(best[k], this[k]) for k in this)


def test_encoder_alone(dense_file):
    out = TMP / "dense_encoder"
    export(dense_file, "-o", out, "--encoder", "--onnx")
    module = import_exported(out)
    m = module.load()
    assert len(m.decoder) == 0 and m.classifier is None
    assert all(k.startswith("encoder.") for k in torch.load(out / "state_dict.pt"))
    with h5py.File(dense_file, "r") as f:
        reference = ar.Model(f["model"])
    images = ar.read_idx(ar.find_idx(FASHION_DIR, "t10k-images-idx3-ubyte"))[:500]
    assert outputs_agree(module, reference, images) == ["codes"]
    assert m(module.preprocess(images[:3])).shape == (3, 16)
    graph = onnx.load(str(out / "model.onnx"))
    onnx.checker.check_model(graph)
    assert [o.name for o in graph.graph.output] == ["codes"]


def test_a_train_file_whole(dense_file):
    out = TMP / "dense_whole"
    export(dense_file, "-o", out)
    with h5py.File(dense_file, "r") as f:
        reference = ar.Model(f["model"])
    images = ar.read_idx(ar.find_idx(FASHION_DIR, "t10k-images-idx3-ubyte"))[:500]
    assert outputs_agree(import_exported(out), reference, images) == \
        ["codes", "reconstruction", "probabilities"]
    assert not (out / "model.onnx").exists()
    assert oct((out / "model.py").stat().st_mode & 0o777) != "0o600"


def test_bad_sources_exit_2_and_say_why(conv_run, dense_file, tmp_path):
    log = export(tmp_path / "missing.h5", "-o", tmp_path / "x", code=2)
    assert "missing.h5: no such file" in log and "Traceback" not in log
    (tmp_path / "text.h5").write_text("not hdf5")
    assert "not an HDF5 file" in export(tmp_path / "text.h5", code=2)
    log = export(conv_run, "-o", tmp_path / "x", "--trial", 7, "--fold", 0, code=2)
    assert "no /models/7/0" in log and "0/0, 0/1, 1/0, 1/1" in log
    log = export(dense_file, "--trial", 0, code=2)
    assert "one model's file" in log
    # an earlier export is left whole when a later one fails
    before = (TMP / "conv_best" / "state_dict.pt").read_bytes()
    export(conv_run, "-o", TMP / "conv_best", "--trial", 7, code=2)
    assert (TMP / "conv_best" / "state_dict.pt").read_bytes() == before
    assert not (tmp_path / "x").exists()


def test_missing_torch_or_onnx_names_the_debian_package(dense_file, tmp_path):
    """A module that fails to import stands in for the package not installed."""
    for module, package in (("torch", "python3-torch"), ("onnx", "python3-onnx")):
        shadow = tmp_path / module
        shadow.mkdir()
        (shadow / f"{module}.py").write_text("raise ImportError('not installed')\n")
        env = dict(ENV, PYTHONPATH=str(shadow))
        log = export(dense_file, "-o", tmp_path / "y", "--onnx", code=2, env=env)
        assert f"install Debian's {package}" in log and "Traceback" not in log, log
