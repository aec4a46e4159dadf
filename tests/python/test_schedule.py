"""Learning-rate schedules (issue 16, item 5) from the outside: the torch
reference table in tests/unit/test_schedule.c is what torch says today, and the
trainer and the classifier follow their schedules.

Run with /usr/bin/python3 -m pytest. Environment as in test_model_file.py.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

SRC = Path(os.environ.get("AESWEEP_SRC", Path(__file__).resolve().parents[2]))
AESWEEP = os.environ.get("AESWEEP", "/work/main/build/aesweep")
FASHION_DIR = os.environ.get("FASHION_DIR", "/usr/share/datasets/fashion-mnist")
TMP = Path(os.environ.get("TEST_TMP", "/tmp/aesweep_test")) / "schedule"
JOB = SRC / "tests" / "python" / "jobs" / "model_small.json"
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")


def test_reference_table_is_torchs():
    """The rates test_schedule.c checks schedule_lr against are torch's own:
    schedule_refs.py prints them from torch.optim.lr_scheduler, here and now."""
    out = subprocess.run([sys.executable, SRC / "tests" / "unit" / "schedule_refs.py"],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    c = (SRC / "tests" / "unit" / "test_schedule.c").read_text()
    table = re.search(r"/\* torch-refs begin \*/\n(.*?)\n\s*/\* torch-refs end \*/", c, re.S)
    assert table, "test_schedule.c lost its torch-refs markers"
    assert table.group(1).strip() == out.strip()


def train(out, *sets):
    """aesweep train of model_small with the given --set values; its output."""
    cmd = [AESWEEP, "train", str(JOB), "--set", f"data.path={FASHION_DIR}", "--out", str(out)]
    for s in sets:
        cmd += ["--set", s]
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr
    return r


def epoch_losses(out, *sets):
    """The train loss of each of 4 epochs, from the progress lines."""
    r = train(out, "train.epochs=4", "train.early_stopping.patience=0", *sets)
    return [float(x) for x in re.findall(r"epoch +\d+/4 +train_loss ([0-9.e+-]+)", r.stderr)]


def test_trainer_follows_its_schedule():
    """A step schedule that divides the rate by 10^6 after the first epoch freezes
    the model: the next epochs' train losses are the same model's, while at a
    constant rate they keep falling. A 2-epoch warm-up starts at a third of the
    rate, so its first epoch learns less than the constant run's."""
    TMP.mkdir(parents=True, exist_ok=True)
    const = epoch_losses(TMP / "constant.h5")
    frozen = epoch_losses(TMP / "step.h5", "train.schedule=step", "train.step_epochs=1",
                          "train.gamma=1e-6")
    warm = epoch_losses(TMP / "warm.h5", "train.warmup_epochs=2")
    assert len(const) == len(frozen) == len(warm) == 4, (const, frozen, warm)
    assert frozen[0] == const[0]  # epoch 1 runs at the base rate in both
    assert const[3] < const[1] * 0.97, const
    assert abs(frozen[3] - frozen[1]) < 1e-3 * frozen[1], frozen
    assert warm[0] > const[0], (warm, const)


def test_validate_shows_schedules_and_searches_them():
    """validate says what the schedules do, and their keys are searchable like any
    other (the schedule itself by its values)."""
    import json
    TMP.mkdir(parents=True, exist_ok=True)
    job = json.loads((SRC / "jobs" / "quickstart.json").read_text())
    job["data"].pop("dataset", None)
    job["data"]["path"] = FASHION_DIR
    job["search"] = {"strategy": "random", "trials": 3, "folds": 2, "space": {
        "train.schedule": {"values": ["constant", "cosine", "step"]},
        "train.warmup_epochs": {"min": 0, "max": 2, "type": "int"},
        "classifier.gamma": {"min": 0.1, "max": 0.9}}}
    job["train"].update({"schedule": "cosine", "lr_min": 1e-5, "warmup_epochs": 2})
    job["classifier"].update({"schedule": "step", "step_epochs": 4, "gamma": 0.5})
    path = TMP / "validate.json"
    path.write_text(json.dumps(job))
    r = subprocess.run([AESWEEP, "validate", str(path)], capture_output=True, text=True, env=ENV,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "schedule   train.lr: linear warm-up over 2 epochs from lr/3, then cosine to 1e-05" in r.stdout
    assert "schedule   classifier.lr: x0.5 every 4 epochs" in r.stdout
    assert re.search(r"train\.schedule +values \[\"constant\", \"cosine\", \"step\"\]", r.stdout)
    assert re.search(r"train\.warmup_epochs +\[0, 2\] int", r.stdout)


def classifier_accuracy(out, *sets):
    r = train(out, "classifier.epochs=6", "classifier.patience=0", *sets)
    return float(re.search(r"^val_accuracy +([0-9.]+)", r.stdout, re.M).group(1))


def test_classifier_follows_its_schedule():
    """The classifier on the codes has its own schedule: dividing its rate by 10^6
    after the first epoch leaves it where one epoch got it, below the same
    classifier trained 6 epochs at a constant rate (the autoencoder is the same
    in both runs)."""
    TMP.mkdir(parents=True, exist_ok=True)
    const = classifier_accuracy(TMP / "cls_constant.h5")
    frozen = classifier_accuracy(TMP / "cls_step.h5", "classifier.schedule=step",
                                 "classifier.step_epochs=1", "classifier.gamma=1e-6")
    assert frozen < const - 0.02, (frozen, const)
