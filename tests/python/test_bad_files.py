"""Bad data files and paths, seen from the outside: the file half of the bad-input
suite (test_spec_errors.py has the malformed job specs).

Each case is a valid job whose data folder, job path or output path has one fault:
IDX files with a bad magic, cut short, with wrong counts, an out-of-range label,
no images, images of another size than their test set, a damaged gzip stream; a
data file that is a folder, a FIFO or unreadable; an output path that is a file.
`aesweep validate` and `aesweep run` (and `aesweep train` for its own --out) must
exit 2 with a message that names the file and the place, train nothing, and write
nothing: no OUT/results.h5, nothing in the working folder, an older results file
in OUT left byte for byte. A subprocess timeout turns a hang into a failure.

The data is a small real Fashion-MNIST folder (300 training, 100 test images)
written by the test; each case changes one file of it. Run with
/usr/bin/python3 -m pytest; environment as in test_spec_errors.py.
"""
import gzip
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from test_spec_errors import AESWEEP, BASE, ENV, FASHION_DIR, OLD_RESULTS, aesweep, listing

TMP = Path(os.environ.get("TEST_TMP", "/tmp/aesweep_test")) / "bad_files"
N_TRAIN, N_TEST = 300, 100
TRAIN_IMAGES, TRAIN_LABELS = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TEST_IMAGES, TEST_LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"


def read_fashion(name, n):
    """The first n images (n x 28 x 28) or labels of a real Fashion-MNIST file."""
    raw = gzip.open(Path(FASHION_DIR) / f"{name}.gz", "rb").read()
    if "images" in name:
        return np.frombuffer(raw, np.uint8, offset=16)[: n * 784].reshape(n, 28, 28)
    return np.frombuffer(raw, np.uint8, offset=8)[:n]


def images_idx(px, count=None, magic=0x803):
    n, rows, cols = px.shape
    return struct.pack(">IIII", magic, n if count is None else count, rows, cols) + px.tobytes()


def labels_idx(lab, count=None, magic=0x801):
    return struct.pack(">II", magic, len(lab) if count is None else count) + lab.tobytes()


def good_files():
    ti, tl = read_fashion(TRAIN_IMAGES, N_TRAIN), read_fashion(TRAIN_LABELS, N_TRAIN)
    si, sl = read_fashion(TEST_IMAGES, N_TEST), read_fashion(TEST_LABELS, N_TEST)
    return {TRAIN_IMAGES: images_idx(ti), TRAIN_LABELS: labels_idx(tl),
            TEST_IMAGES: images_idx(si), TEST_LABELS: labels_idx(sl)}


def damaged_gzip(data):
    """A gzip stream whose compressed middle is overwritten: zlib must report it."""
    z = bytearray(gzip.compress(data, mtime=0))
    mid = len(z) // 2
    z[mid:mid + 64] = bytes(64)
    return bytes(z)


def data_cases():
    """id -> (the files to change: name -> bytes, or None to delete, or a callable
    making the thing at that path; the file the message must name; what else it must
    hold)."""
    g = good_files()
    ti, tl = read_fashion(TRAIN_IMAGES, N_TRAIN), read_fashion(TRAIN_LABELS, N_TRAIN)
    si = read_fashion(TEST_IMAGES, N_TEST)
    bad_label = tl.copy()
    bad_label[137] = 64  # labels must be below 64 (AE_MAX_CLASSES)
    return {
        "images_bad_magic": ({TRAIN_IMAGES: images_idx(ti, magic=0x804)}, TRAIN_IMAGES,
                             ["magic", "0x00000804"]),
        "labels_bad_magic": ({TRAIN_LABELS: labels_idx(tl, magic=0x802)}, TRAIN_LABELS,
                             ["magic"]),
        "labels_file_as_images": ({TRAIN_IMAGES: g[TRAIN_LABELS]}, TRAIN_IMAGES,
                                  ["magic", "label file"]),
        "images_cut_short": ({TRAIN_IMAGES: g[TRAIN_IMAGES][:-1000]}, TRAIN_IMAGES,
                             ["truncated", "235200", "234200"]),
        "header_cut_short": ({TEST_IMAGES: g[TEST_IMAGES][:10]}, TEST_IMAGES,
                             ["truncated", "header"]),
        "labels_cut_short": ({TEST_LABELS: g[TEST_LABELS][:-7]}, TEST_LABELS, ["truncated"]),
        "image_count_too_big": ({TRAIN_IMAGES: images_idx(ti, count=N_TRAIN + 1)}, TRAIN_IMAGES,
                                ["truncated"]),
        "image_count_too_small": ({TRAIN_IMAGES: images_idx(ti, count=N_TRAIN - 1)}, TRAIN_IMAGES,
                                  ["trailing"]),
        "image_count_huge": ({TRAIN_IMAGES: images_idx(ti, count=2**31 - 1)}, TRAIN_IMAGES,
                             ["truncated"]),
        "fewer_labels_than_images": ({TRAIN_LABELS: labels_idx(tl[:-1])}, TRAIN_LABELS,
                                     ["299 labels", "300 images"]),
        "label_out_of_range": ({TRAIN_LABELS: labels_idx(bad_label)}, TRAIN_LABELS,
                               ["label 64", "item 137", "range"]),
        "zero_training_images": ({TRAIN_IMAGES: images_idx(ti[:0]),
                                  TRAIN_LABELS: labels_idx(tl[:0])}, TRAIN_IMAGES, ["count", "0"]),
        "zero_test_images": ({TEST_IMAGES: images_idx(si[:0])}, TEST_IMAGES, ["count"]),
        "empty_file": ({TEST_LABELS: b""}, TEST_LABELS, ["empty"]),
        "zero_rows": ({TRAIN_IMAGES: struct.pack(">IIII", 0x803, N_TRAIN, 0, 28)}, TRAIN_IMAGES,
                      ["dimensions"]),
        "train_20x20_test_28x28": ({TRAIN_IMAGES: images_idx(np.ascontiguousarray(ti[:, :20, :20]))},
                                   "", ["20 x 20", "28 x 28"]),
        "gzip_damaged": ({TRAIN_IMAGES: None, TRAIN_IMAGES + ".gz": damaged_gzip(g[TRAIN_IMAGES])},
                         TRAIN_IMAGES + ".gz", ["gzip"]),
        "gzip_cut_short": ({TRAIN_IMAGES: None,
                            TRAIN_IMAGES + ".gz": gzip.compress(g[TRAIN_IMAGES])[:5000]},
                           TRAIN_IMAGES + ".gz", ["gzip"]),
        "gzip_header_only": ({TEST_LABELS: None, TEST_LABELS + ".gz": b"\x1f\x8b\x08\x00garbage"},
                             TEST_LABELS + ".gz", ["gzip"]),
        "missing_labels_file": ({TEST_LABELS: None}, "", ["no file", TEST_LABELS]),
        "data_file_is_a_folder": ({TRAIN_IMAGES: os.mkdir}, TRAIN_IMAGES, ["is a folder"]),
        "data_file_is_a_fifo": ({TEST_LABELS: os.mkfifo}, TEST_LABELS, ["not a regular file"]),
    }


DATA_CASES = data_cases()


def make_data(folder, changes):
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in {**good_files(), **changes}.items():
        if data is None:
            continue
        if callable(data):
            data(folder / name)
        else:
            (folder / name).write_bytes(data)


def job_for(data_dir, **output):
    job = json.loads(json.dumps(BASE))
    job["data"] = {"path": str(data_dir)}
    job["output"].update(output)
    return job


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def check_refused(r, needles, what):
    assert r.returncode == 2, f"{what}: exit {r.returncode}, expected 2; stderr:\n{r.stderr}"
    for s in needles:
        assert s in r.stderr, f"{what}: the message does not name {s!r}:\n{r.stderr}"
    assert "trial 0 fold" not in r.stderr and "epoch " not in r.stderr, f"{what}: trained"


@pytest.fixture(scope="module")
def good_data():
    folder = TMP / "good_data"
    make_data(folder, {})
    return folder


@pytest.mark.parametrize("existing", [False, True], ids=["no_results", "old_results"])
@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_exits_2(case, existing):
    changes, bad_file, needles = DATA_CASES[case]
    base = TMP / case / ("old" if existing else "new")
    data, cwd, out = base / "data", base / "cwd", base / "out"
    shutil.rmtree(base, ignore_errors=True)
    make_data(data, changes)
    cwd.mkdir(parents=True)
    job = write(base / "job.json", json.dumps(job_for(data)))
    if existing:
        out.mkdir()
        (out / "results.h5").write_bytes(OLD_RESULTS)
    bad = str(data / bad_file) if bad_file else str(data)
    for args in (["validate", job], ["run", job, "--out", out]):
        r = aesweep(args, cwd=cwd)
        check_refused(r, [str(job), "data.path", bad, *needles], f"{case}: {args[0]}")
    if existing:
        assert (out / "results.h5").read_bytes() == OLD_RESULTS, "the old results file changed"
        assert listing(out) == ["results.h5"], f"files written: {listing(out)}"
    else:
        assert not out.exists(), f"files written: {listing(out)}"
    assert listing(cwd) == [], f"files written to the working folder: {listing(cwd)}"


def test_other_image_size_is_accepted():
    """20 x 20 images in both sets are a consistent dataset: a model of 400 inputs."""
    base = TMP / "size_20x20"
    ti, si = read_fashion(TRAIN_IMAGES, N_TRAIN), read_fashion(TEST_IMAGES, N_TEST)
    make_data(base / "data", {TRAIN_IMAGES: images_idx(np.ascontiguousarray(ti[:, 4:24, 4:24])),
                              TEST_IMAGES: images_idx(np.ascontiguousarray(si[:, 4:24, 4:24]))})
    job = write(base / "job.json", json.dumps(job_for(base / "data")))
    shutil.rmtree(base / "out", ignore_errors=True)
    r = aesweep(["run", job, "--out", base / "out"], cwd=base, timeout=300)
    assert r.returncode == 0, r.stderr
    shapes = []
    with h5py.File(base / "out" / "results.h5", "r") as f:
        f.visititems(lambda name, obj: shapes.append((name, obj.shape))
                     if isinstance(obj, h5py.Dataset) and name.startswith("best/model/layer") else None)
    assert shapes, "no model in the results file"
    assert any(400 in shape for _, shape in shapes), f"no layer is 400 wide: {shapes}"
    assert not any(784 in shape for _, shape in shapes), f"a layer is 784 wide: {shapes}"


def test_augmenting_images_without_height_is_refused():
    """Each image a row of 784 values (an IDX of 1 x 784 images): crop and flip have
    no height to move along, so the job is refused before anything trains."""
    base = TMP / "flat_augment"
    ti, si = read_fashion(TRAIN_IMAGES, N_TRAIN), read_fashion(TEST_IMAGES, N_TEST)
    make_data(base / "data", {TRAIN_IMAGES: images_idx(ti.reshape(len(ti), 1, 784)),
                              TEST_IMAGES: images_idx(si.reshape(len(si), 1, 784))})
    job = job_for(base / "data")
    job["train"]["augment"] = {"crop": 2}
    path = write(base / "job.json", json.dumps(job))
    shutil.rmtree(base / "out", ignore_errors=True)
    for args in (["validate", path], ["run", path, "--out", base / "out"]):
        r = aesweep(args, cwd=base)
        check_refused(r, [str(path), "train.augment", "1 x 1 x 784"], f"flat images: {args[0]}")
    assert not (base / "out").exists()
    job["train"]["augment"] = {"noise": 0.1}  # noise needs no width
    write(path, json.dumps(job))
    assert aesweep(["validate", path], cwd=base).returncode == 0


# ---- paths ----------------------------------------------------------------------------

def test_job_path_faults(good_data):
    """A job path that is missing, a folder, a FIFO (which would block a plain open) or
    a device that never ends: each refused at once, naming the path."""
    base = TMP / "job_paths"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    fifo = base / "job_fifo.json"
    os.mkfifo(fifo)
    big = base / "big.json"
    big.write_bytes(b" " * (2 << 20) + json.dumps(job_for(good_data)).encode())
    cases = {
        base / "missing.json": ["No such file"],
        base: ["is a folder"],
        fifo: ["not a regular file"],
        Path("/dev/zero"): ["not a regular file"],
        big: ["not a job file"],
    }
    for path, needles in cases.items():
        for cmd in ("validate", "run", "train"):
            r = aesweep([cmd, path, "--out", base / "out" / cmd], cwd=base, timeout=30)
            check_refused(r, [str(path), *needles], f"{cmd} {path}")
    assert not (base / "out").exists()


def test_data_path_faults(good_data):
    base = TMP / "data_paths"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    a_file = write(base / "a_file", "not a folder\n")
    for path, needles in {base / "missing": ["data.path"], a_file: ["not a folder"]}.items():
        job = write(base / "job.json", json.dumps(job_for(path)))
        r = aesweep(["run", job, "--out", base / "out"], cwd=base)
        check_refused(r, [str(job), "data.path", str(path), *needles], f"data.path {path}")
    assert not (base / "out").exists()


def test_output_path_is_a_file(good_data):
    """--out, or output.dir, naming a file (or a folder under a file): exit 2 before any
    training, and the file is left as it was."""
    base = TMP / "out_is_file"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    a_file = write(base / "results_here", "a user's file\n")
    job = write(base / "job.json", json.dumps(job_for(good_data)))
    for out, needles in {a_file: ["is a file"], a_file / "sub": ["is a file"]}.items():
        for cmd in ("validate", "run"):
            r = aesweep([cmd, job, "--out", out], cwd=base)
            check_refused(r, ["--out", str(out), *needles], f"{cmd} --out {out}")
            r = aesweep([cmd, job, "--out", out, "--fresh"], cwd=base)
            check_refused(r, ["--out", str(out)], f"{cmd} --fresh --out {out}")
    for cmd in ("validate", "run", "train"):
        r = aesweep([cmd, job, "--out", ""], cwd=base)
        check_refused(r, ["--out", 'got ""'], f"{cmd} --out ''")
    job2 = write(base / "job2.json", json.dumps(job_for(good_data, dir=str(a_file))))
    r = aesweep(["run", job2], cwd=base)
    check_refused(r, [str(job2), "output.dir", str(a_file)], "output.dir")
    assert a_file.read_text() == "a user's file\n"
    assert listing(base) == ["job.json", "job2.json", "results_here"], listing(base)


def test_train_out_faults(good_data):
    """aesweep train --out: a folder, or a path under a file, is refused before training;
    so is a batch larger than the holdout's training part."""
    base = TMP / "train_out"
    shutil.rmtree(base, ignore_errors=True)
    (base / "folder").mkdir(parents=True)
    a_file = write(base / "a_file", "keep\n")
    job = write(base / "job.json", json.dumps(job_for(good_data)))
    cases = [
        (["--out", base / "folder"], [str(base / "folder"), "is a folder"]),
        (["--out", a_file / "model.h5"], [str(a_file), "is a file"]),
        (["--out", base / "m.h5", "--set", "train.batch_size=1000"],
         [str(job), "train.batch_size", "1000"]),
    ]
    for args, needles in cases:
        r = aesweep(["train", job, *args], cwd=base)
        check_refused(r, needles, f"train {args}")
    assert a_file.read_text() == "keep\n"
    assert listing(base) == ["a_file", "folder", "job.json"], listing(base)


def test_unreadable_files(good_data):
    """A job file and an IDX file without read permission. Root reads anything, so as
    root the commands run as nobody (setpriv) from a folder nobody can reach."""
    base = Path(tempfile.mkdtemp(prefix="aesweep_unreadable_"))
    try:
        os.chmod(base, 0o777)
        exe = base / "aesweep"
        shutil.copy(AESWEEP, exe)
        os.chmod(exe, 0o755)
        data = base / "data"
        shutil.copytree(good_data, data)
        os.chmod(data, 0o755)
        for f in data.iterdir():
            os.chmod(f, 0o644)
        os.chmod(data / TEST_IMAGES, 0)
        locked = base / "locked.json"
        locked.write_text(json.dumps(job_for(good_data)))
        os.chmod(locked, 0)
        job = base / "job.json"
        job.write_text(json.dumps(job_for(data)))
        os.chmod(job, 0o644)
        prefix = []
        if os.geteuid() == 0:
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        for path, bad in ((locked, locked), (job, data / TEST_IMAGES)):
            r = subprocess.run([*prefix, exe, "run", path, "--out", base / "out"], cwd=base,
                               env=ENV, capture_output=True, text=True, timeout=60)
            check_refused(r, [str(bad), "Permission denied"], f"unreadable {bad}")
        assert not (base / "out").exists()
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---- an output folder in use -----------------------------------------------------------

def wait_for_lock(out, proc, timeout=60):
    """Until the running search has locked OUT (its pid is in the lock file)."""
    lock = out / ".aesweep.lock"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the first run ended early: {proc.communicate()}"
        if lock.exists() and f"pid {proc.pid} " in lock.read_text():
            return
        time.sleep(0.05)
    raise AssertionError("the first run never locked its output folder")


def test_output_folder_in_use_by_another_run():
    """A second run into the OUT of a running search (plain, --fresh, or validate) is
    refused with exit 2 naming the holder, and leaves the first run alone; once the
    first ends, or is killed with SIGKILL, the folder is free again (no stale lock)."""
    base = TMP / "in_use"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    job = json.loads(json.dumps(BASE))
    job["data"].update(train_limit=6000, test_limit=500)
    job["model"]["hidden"] = [128]
    job["train"].update(epochs=6)
    job["search"].update(trials=3)
    path = write(base / "job.json", json.dumps(job))
    out = base / "out"
    cmd = [AESWEEP, "run", str(path), "--out", str(out)]

    first = subprocess.Popen(cmd, cwd=base, env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        wait_for_lock(out, first)
        first.send_signal(signal.SIGSTOP)  # held still, so it cannot finish meanwhile
        for extra in ([], ["--fresh"]):
            for verb in ("run", "validate"):
                r = aesweep([verb, path, "--out", out, *extra], cwd=base)
                check_refused(r, [str(out), "in use by another aesweep run",
                                  f"pid {first.pid} on"], f"{verb} {extra} while running")
        assert not list(base.glob("out.old.*")), "--fresh moved the running search aside"
        first.send_signal(signal.SIGCONT)
        _, err = first.communicate(timeout=300)
    finally:
        first.kill()
    assert first.returncode == 0, err
    with h5py.File(out / "results.h5", "r") as f:
        assert f.attrs["status"] == "complete" and len(f["folds"]) == 6

    # Killed outright, a run leaves no lock behind: the next run resumes at once.
    second = subprocess.Popen(cmd + ["--fresh"], cwd=base, env=ENV, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    wait_for_lock(out, second)
    second.kill()
    second.communicate(timeout=60)
    r = aesweep(["run", path, "--out", out], cwd=base, timeout=300)
    assert r.returncode == 0, r.stderr


# ---- CIFAR-10 binary (issue 15) ------------------------------------------------------

CIFAR_TRAIN = [f"data_batch_{b}.bin" for b in range(1, 6)]
CIFAR_TEST = "test_batch.bin"
CIFAR_PER_BATCH = 60  # 5 x 60 = 300 training records, as the IDX folder


def cifar_records(n, offset):
    """n records in CIFAR-10's binary format (1 label byte, then 3 x 32 x 32
    channel-major pixels) made of real Fashion-MNIST images: padded to 32 x 32,
    each channel a different brightness, so that the channels differ."""
    name, lname = (TRAIN_IMAGES, TRAIN_LABELS) if offset >= 0 else (TEST_IMAGES, TEST_LABELS)
    start = max(offset, 0)
    px = read_fashion(name, start + n)[start:]
    lab = read_fashion(lname, start + n)[start:]
    img = np.zeros((n, 3, 32, 32), np.uint8)
    for c in range(3):
        img[:, c, 2:30, 2:30] = (px.astype(np.uint16) * (c + 1) // 3).astype(np.uint8)
    rec = np.concatenate([lab.reshape(n, 1), img.reshape(n, 3072)], axis=1)
    return np.ascontiguousarray(rec, np.uint8).tobytes(), img, lab


def cifar_files():
    files = {}
    for b, name in enumerate(CIFAR_TRAIN):
        files[name] = cifar_records(CIFAR_PER_BATCH, b * CIFAR_PER_BATCH)[0]
    files[CIFAR_TEST] = cifar_records(N_TEST, -1)[0]
    return files


def cifar_cases():
    g = cifar_files()
    bad_label = bytearray(g[CIFAR_TRAIN[1]])
    bad_label[7 * 3073] = 10  # record 7's label byte
    return {
        "cifar_record_cut_short": ({CIFAR_TRAIN[0]: g[CIFAR_TRAIN[0]][:-100]}, CIFAR_TRAIN[0],
                                   ["end inside record 59", "multiple of 3073"]),
        "cifar_wrong_file_size": ({CIFAR_TEST: g[CIFAR_TEST] + b"\0" * 5}, CIFAR_TEST,
                                  ["end inside record 100", "multiple of 3073"]),
        "cifar_label_10": ({CIFAR_TRAIN[1]: bytes(bad_label)}, CIFAR_TRAIN[1],
                           ["record 7", "label 10", "0 to 9"]),
        "cifar_missing_batch": ({CIFAR_TRAIN[2]: None}, "", ["no file data_batch_3.bin"]),
        "cifar_empty_batch": ({CIFAR_TEST: b""}, CIFAR_TEST, ["empty"]),
    }


CIFAR_CASES = cifar_cases()


def make_cifar(folder, changes):
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, data in {**cifar_files(), **changes}.items():
        if data is not None:
            (folder / name).write_bytes(data)


def cifar_job(data_dir, **model):
    job = json.loads(json.dumps(BASE))
    job["data"] = {"dataset": "cifar10", "path": str(data_dir)}
    job["model"].update(model)
    return job


@pytest.mark.parametrize("case", sorted(CIFAR_CASES))
def test_bad_cifar10_exits_2(case):
    changes, bad_file, needles = CIFAR_CASES[case]
    base = TMP / case
    data, out = base / "data", base / "out"
    make_cifar(data, changes)
    job = write(base / "job.json", json.dumps(cifar_job(data)))
    bad = str(data / bad_file) if bad_file else str(data)
    for args in (["validate", job], ["run", job, "--out", out]):
        r = aesweep(args, cwd=base)
        check_refused(r, [str(job), "data.path", bad, *needles], f"{case}: {args[0]}")
    assert not out.exists(), f"files written: {listing(out)}"


def test_cifar10_without_a_path_is_refused():
    job = json.loads(json.dumps(BASE))
    job["data"] = {"dataset": "cifar10"}
    path = write(TMP / "cifar_no_path" / "job.json", json.dumps(job))
    r = aesweep(["validate", path], cwd=path.parent)
    check_refused(r, [str(path), "data.dataset", "cifar10", "data.path"], "cifar10 without path")


def test_cifar10_trains_a_conv_autoencoder_on_3_channels():
    """The reader end to end: 3x32x32 records through a conv model with batch norm
    and tanh outputs on [-1, 1]; the model file's first weights see 3 channels."""
    base = TMP / "cifar_trains"
    make_cifar(base / "data", {})
    job = cifar_job(base / "data")
    job["model"] = {"encoder": [{"conv": 8, "kernel": 4, "stride": 2, "padding": 1,
                                 "batchnorm": True},
                                {"conv": 16, "kernel": 4, "stride": 2, "padding": 1,
                                 "batchnorm": True}],
                    "bottleneck": 16, "output_activation": "tanh"}
    job["data"]["range"] = [-1, 1]
    job["train"].update(loss="mse+mae", epochs=6, lr=0.005)
    path = write(base / "job.json", json.dumps(job))
    r = aesweep(["train", path, "--out", base / "model.h5"], cwd=base, timeout=300)
    assert r.returncode == 0, r.stderr
    with h5py.File(base / "model.h5", "r") as f:
        m = f["model"]
        assert m.attrs["input_dim"] == 3072
        conv = m["layer_01"]
        assert conv.attrs["kind"] == "conv" and conv["W"].shape == (8, 3, 4, 4)
        kinds = [m[k].attrs["kind"] for k in sorted(m) if k.startswith("layer_")]
        assert kinds.count("batchnorm") == 4 and kinds[-2] == "conv_transpose", kinds
        assert m[sorted(k for k in m if k.startswith("layer_"))[-2]]["W"].shape[1] == 3
        # It learnt: below the error of the best constant (each pixel's mean over
        # the test images, in [-1, 1] units), measured on the same images.
        _, img, _ = cifar_records(N_TEST, -1)
        x = img.reshape(N_TEST, -1) / 255.0 * 2 - 1
        baseline = float(((x - x.mean(axis=0)) ** 2).mean())
        assert f.attrs["test_mse"] < baseline, (f.attrs["test_mse"], baseline)


def test_data_pad_makes_28x28_images_32x32():
    """data.pad 2: report 004's one net for MNIST and CIFAR-10 sizes."""
    base = TMP / "pad"
    job = job_for(base / "data")
    make_data(base / "data", {})
    job["data"]["pad"] = 2
    path = write(base / "job.json", json.dumps(job))
    shutil.rmtree(base / "out", ignore_errors=True)
    r = aesweep(["train", path, "--out", base / "model.h5"], cwd=base, timeout=300)
    assert r.returncode == 0, r.stderr
    with h5py.File(base / "model.h5", "r") as f:
        assert f["model"].attrs["input_dim"] == 1024
        assert f["model/layer_00/W"].shape[1] == 1024
