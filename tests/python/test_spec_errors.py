"""Malformed job specs, seen from the outside (SPEC §2, §3, §6): the job half of the
bad-input suite (test_bad_files.py has the data files and paths).

Each case is a small, otherwise valid job with one fault, written by the test to
TEST_TMP. `aesweep validate JOB` and `aesweep run JOB --out DIR` (one process, no
mpirun) must both exit 2 with a message on stderr that names the job file and
the JSON path of the fault (`search.space.lr.min`), train nothing, create no
DIR/results.h5, and leave an existing results file in DIR byte for byte as it
was. A valid job run into a DIR that already holds a results file from before
is refused (exit 2) unless --fresh, and that file is not touched either.

Run with /usr/bin/python3 -m pytest. Environment as in test_model_file.py.
"""
import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

AESWEEP = os.environ.get("AESWEEP", "/work/main/build/aesweep")
FASHION_DIR = os.environ.get("FASHION_DIR", "/usr/share/datasets/fashion-mnist")
TMP = Path(os.environ.get("TEST_TMP", "/tmp/aesweep_test")) / "spec_errors"
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")

# Bytes of an older results file that a failing run must leave exactly as they are.
OLD_RESULTS = b"an older results.h5: a bad job must not touch it\n" * 8

# A valid job, as small as a job gets; each case breaks one thing of it.
BASE = {
    "name": "spec_errors",
    "seed": 5,
    "data": {"path": FASHION_DIR, "train_limit": 200, "test_limit": 100},
    "model": {"hidden": [16], "bottleneck": 4},
    "train": {"epochs": 1, "batch_size": 32, "early_stopping": {"patience": 0}},
    "classifier": {"hidden": [8], "epochs": 1},
    "search": {
        "strategy": "random",
        "folds": 2,
        "trials": 2,
        "objective": "val_mse",
        "space": {
            "lr": {"min": 1e-4, "max": 1e-2, "scale": "log"},
            "batch_size": {"values": [32, 64]},
        },
    },
    "output": {"dir": "runs/spec_errors", "weights": "best"},
}

BISECTION_SPACE = {
    "lr": {"min": 1e-4, "max": 1e-2, "scale": "log"},
    "batch_size": {"min": 16, "max": 64, "type": "int"},
    "bottleneck": {"min": 2, "max": 8, "type": "int"},
}

# The JSON syntax error sits on line 4, column 3 (the "data" after a missing comma).
SYNTAX_ERROR_TEXT = '{\n  "name": "syntax",\n  "seed": 1\n  "data": {"train_limit": 100}\n}\n'
# A trailing comma: the parser trips on the "}" of line 4.
TRAILING_COMMA_TEXT = '{\n  "name": "syntax",\n  "seed": 1,\n}\n'
BASE_TEXT = json.dumps(BASE, indent=2) + "\n"


def text_with(old, new):
    """BASE's text with one piece replaced: for faults json.dumps cannot write."""
    assert old in BASE_TEXT, old
    return BASE_TEXT.replace(old, new, 1)



def with_(edits, base=None):
    """BASE with each (path, value) set: path dotted, or a tuple of keys when a key
    holds a dot itself; value DELETE removes the key."""
    job = copy.deepcopy(BASE if base is None else base)
    for path, value in edits:
        *parents, leaf = path.split(".") if isinstance(path, str) else path
        node = job
        for p in parents:
            node = node.setdefault(p, {})
        if value is DELETE:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return job


DELETE = object()
EMPTY_DATA_DIR = TMP / "empty_data_folder"
# The base job with the batch size fixed by train.batch_size alone, not searched.
NO_BATCH_SEARCH = with_([("search.space.batch_size", DELETE)])

# Eleven real keys that take any value in (0, 0.9].
GRID_KEYS = ["lr", "lambda", "sigma", "train.weight_decay", "train.dropout", "train.input_noise",
             "train.momentum", "penalty.prior_noise", "classifier.lr", "classifier.dropout",
             "model.leaky_slope"]

# Report 002's first layer: 1x28x28 -> 8x14x14.
CONV8 = {"conv": 8, "kernel": 3, "stride": 2, "padding": 1}

# id -> (the job: a dict, or raw text; the strings the message must hold)
CASES = {
    "json_syntax": (SYNTAX_ERROR_TEXT, [":4:3"]),
    "json_trailing_comma": (TRAILING_COMMA_TEXT, [":4:"]),
    "wrong_type": (with_([("train.lr", "fast")]), ["train.lr"]),
    "wrong_type_object": (with_([("model", [16, 4])]), ["model"]),
    "unknown_top_level_key": (
        with_([("serach", BASE["search"]), ("search", DELETE)]),
        ["serach", "did you mean search"],
    ),
    "unknown_nested_key": (with_([("model.hiden", [16])]), ["model.hiden", "model.hidden"]),
    "min_above_max": (
        with_([("search.space.lr", {"min": 0.1, "max": 0.01})]),
        ["search.space.lr", "min"],
    ),
    "min_equals_max": (
        with_([("search.space.lr", {"min": 0.01, "max": 0.01})]),
        ["search.space.lr", "min"],
    ),
    "log_scale_min_zero": (
        with_([("search.space.lambda", {"min": 0, "max": 1, "scale": "log"})]),
        ["search.space.lambda"],
    ),
    "log_scale_min_negative": (
        with_([("search.space.lr", {"min": -1e-3, "max": 1e-2, "scale": "log"})]),
        ["search.space.lr"],
    ),
    "empty_values": (
        with_([("search.space.batch_size", {"values": []})]),
        ["search.space.batch_size.values"],
    ),
    "values_not_a_list": (
        with_([("search.space.batch_size", {"values": 32})]),
        ["search.space.batch_size.values"],
    ),
    "unknown_space_parameter": (
        with_([("search.space.learning_rate", {"min": 1e-4, "max": 1e-2})]),
        ["search.space.learning_rate"],
    ),
    "unknown_entry_key": (
        with_([("search.space.lr", {"min": 1e-4, "max": 1e-2, "scal": "log"})]),
        ["search.space.lr.scal"],
    ),
    "stage_with_three_params": (
        with_([("search.strategy", "bisection"), ("search.space", BISECTION_SPACE),
               ("search.stages", [["lr", "batch_size", "bottleneck"]])]),
        ["search.stages"],
    ),
    "stage_param_not_in_space": (
        with_([("search.strategy", "bisection"), ("search.space", BISECTION_SPACE),
               ("search.stages", [["lr"], ["sigma"]])]),
        ["search.stages", "sigma"],
    ),
    "grid_without_values_or_points": (
        with_([("search.strategy", "grid")]),
        ["search.space.lr"],
    ),
    "bad_strategy": (with_([("search.strategy", "bayesian")]), ["search.strategy"]),
    "bad_objective": (with_([("search.objective", "val_loss")]), ["search.objective"]),
    "folds_zero": (with_([("search.folds", 0)]), ["search.folds"]),
    "invalid_value_in_values": (
        with_([(("search", "space", "train.optimizer"), {"values": ["adam", "adamw"]})]),
        ["search.space.train.optimizer.values", "adamw"],
    ),
    "lr_min_negative": (
        with_([("search.space.lr", {"min": -0.1, "max": 0.1})]),
        ["search.space.lr.min"],
    ),
    "missing_data_files": (
        with_([("data.path", str(EMPTY_DATA_DIR))]),
        ["data.path", str(EMPTY_DATA_DIR)],
    ),
    # Text that is not JSON, or not a job: the message has line:column and what is there.
    "json_truncated": (BASE_TEXT[: len(BASE_TEXT) // 2], ["malformed JSON", "cut short"]),
    "json_empty_file": ("", [":1:1", "malformed JSON"]),
    "json_garbled": (text_with('"model": {', '"model": {{@#!'), ["malformed JSON", "at '@#!'"]),
    "json_binary": ("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["NUL"]),
    "json_not_utf8": (text_with('"spec_errors"', '"spec\udcff_errors"'), ["not UTF-8", ":2:"]),
    "json_top_level_list": ("[1, 2, 3]\n", ["JSON object"]),
    "json_duplicate_key": (text_with('"seed": 5', '"seed": 5, "seed": 6'), ["seed", "duplicate"]),
    "json_nested_too_deep": ("[" * 5000 + "]" * 5000, ["malformed JSON"]),
    "json_nan": (text_with('"seed": 5', '"seed": NaN'), [":3:", "NaN"]),
    "json_infinity": (text_with('"min": 0.0001', '"min": Infinity'), ["Infinity"]),
    "json_minus_infinity": (text_with('"max": 0.01', '"max": -Infinity'), ["-Infinity"]),
    "json_number_overflows_double": (
        text_with('"max": 0.01', '"max": 1e999'),
        ["search.space.lr.max", "beyond the range"],
    ),
    # Wrong types.
    "string_for_integer": (with_([("search.folds", "5")]), ["search.folds", '"5"']),
    "null_for_number": (with_([("seed", None)]), ["seed", "null"]),
    "bool_for_integer": (with_([("model.bottleneck", True)]), ["model.bottleneck", "true"]),
    "fraction_for_integer": (with_([("train.epochs", 2.5)]), ["train.epochs", "2.5"]),
    "number_for_list": (with_([("model.hidden", 16)]), ["model.hidden"]),
    "string_for_object": (with_([("train", "adam")]), ["train"]),
    # Huge numbers.
    "huge_epochs": (with_([("train.epochs", 1e300)]), ["train.epochs", "1e+300"]),
    "huge_integer_literal": (
        text_with('"epochs": 1,', '"epochs": 99999999999999999999999999,'),
        ["train.epochs"],
    ),
    "huge_bottleneck": (with_([("model.bottleneck", 10**7)]), ["model.bottleneck"]),
    "huge_seed": (with_([("seed", 2**60)]), ["seed"]),
    # Negative or zero sizes.
    "negative_batch_size": (with_([("train.batch_size", -32)], NO_BATCH_SEARCH),
                            ["train.batch_size", "-32"]),
    "negative_hidden_width": (with_([("model.hidden", [16, -8])]), ["model.hidden"]),
    "negative_train_limit": (with_([("data.train_limit", -5)]), ["data.train_limit", "-5"]),
    "negative_seed": (with_([("seed", -1)]), ["seed", "-1"]),
    "fractional_seed": (with_([("seed", 1.5)]), ["seed", "1.5"]),
    "bottleneck_zero": (with_([("model.bottleneck", 0)]), ["model.bottleneck", "got 0"]),
    "bottleneck_range_from_zero": (
        with_([("search.space.bottleneck", {"min": 0, "max": 8})]),
        ["search.space.bottleneck.min"],
    ),
    "epochs_zero": (with_([("train.epochs", 0)]), ["train.epochs"]),
    "trials_zero": (with_([("search.trials", 0)]), ["search.trials"]),
    "lr_zero": (with_([("train.lr", 0)]), ["train.lr"]),
    "sigma_negative": (
        with_([("penalty", {"type": "csd", "lambda": 1, "sigma": -1, "prior": "gaussian"})]),
        ["penalty.sigma"],
    ),
    "holdout_fraction_one": (with_([("search.folds", 1), ("data.validation", 1)]),
                             ["data.validation"]),
    # Faults that need the data to be seen.
    "folds_more_than_a_class_has": (
        with_([("search.folds", 30)]),
        ["search.folds", "30 folds", "class", "200 training images"],
    ),
    "batch_larger_than_the_data": (
        with_([("train.batch_size", 5000)], NO_BATCH_SEARCH),
        ["train.batch_size", "5000", "100 images"],
    ),
    "batch_values_larger_than_the_data": (
        with_([("search.space.batch_size", {"values": [32, 4096]})]),
        ["search.space.batch_size.values", "4096"],
    ),
    "batch_range_larger_than_the_data": (
        with_([("search.space.batch_size", {"min": 16, "max": 4096})]),
        ["search.space.batch_size.max", "4096"],
    ),
    "classifier_batch_larger_than_the_data": (
        with_([("classifier.batch_size", 1000)]),
        ["classifier.batch_size", "1000"],
    ),
    # Names that are not known.
    "unknown_optimizer": (with_([("train.optimizer", "adamax")]), ["train.optimizer", "adamax"]),
    "unknown_activation": (with_([("model.activation", "swish")]), ["model.activation", "swish"]),
    "empty_name": (with_([("name", "")]), ["name"]),
    "swiss_roll_bottleneck_1": (
        with_([("model.bottleneck", 1),
               ("penalty", {"type": "csd", "lambda": 1, "sigma": 1, "prior": "swiss_roll"})]),
        ["penalty.prior", "bottleneck"],
    ),
    # Objectives no trial can compute (issue 14): every trial would score NaN.
    "latent_accuracy_with_a_4_unit_code": (
        with_([("search.objective", "latent_accuracy")]),
        ["search.objective", "latent_accuracy", "10 units", "model.bottleneck is 4"],
    ),
    "latent_accuracy_bottleneck_values_without_10": (
        with_([("search.objective", "latent_accuracy"),
               ("search.space.bottleneck", {"values": [4, 8, 16]})]),
        ["search.objective", "latent_accuracy", "search.space.bottleneck never sets"],
    ),
    "latent_accuracy_bottleneck_range_below_10": (
        with_([("search.objective", "latent_accuracy"),
               ("search.space.bottleneck", {"min": 2, "max": 9, "type": "int"})]),
        ["search.objective", "latent_accuracy", "search.space.bottleneck never sets"],
    ),
    "val_accuracy_without_a_classifier": (
        with_([("search.objective", "val_accuracy"), ("classifier.epochs", 0)]),
        ["search.objective", "val_accuracy", "classifier.epochs is 0"],
    ),
    "val_accuracy_classifier_epochs_searched_at_0": (
        with_([("search.objective", "val_accuracy"),
               (("search", "space", "classifier.epochs"), {"values": [0]})]),
        ["search.objective", "val_accuracy", "search.space.classifier.epochs never sets"],
    ),
    # Layered models (issue 15): every shape is checked before training, naming the entry.
    "conv_kernel_larger_than_its_input": (
        with_([("model", {"encoder": [CONV8, {"conv": 16, "kernel": 3, "stride": 2},
                                      {"conv": 32, "kernel": 9}], "bottleneck": 4})]),
        ["model.encoder[2].kernel", "9 is larger than its padded input 6x6"],
    ),
    "conv_without_a_kernel": (
        with_([("model", {"encoder": [{"conv": 8, "stride": 2}], "bottleneck": 4})]),
        ["model.encoder[0].kernel", "needs its kernel size"],
    ),
    "layer_entry_unknown_key": (
        with_([("model", {"encoder": [dict(CONV8, kernal=3)], "bottleneck": 4})]),
        ["model.encoder[0].kernal", "did you mean kernel"],
    ),
    "layer_entry_two_kinds": (
        with_([("model", {"encoder": [dict(CONV8, dense=16)], "bottleneck": 4})]),
        ["model.encoder[0]", "not two"],
    ),
    "layer_entry_output_padding_on_a_conv": (
        with_([("model", {"encoder": [dict(CONV8, output_padding=1)], "bottleneck": 4})]),
        ["model.encoder[0].output_padding", "does not apply to a conv"],
    ),
    "layer_entry_dropout_of_1": (
        with_([("model", {"encoder": [dict(CONV8, dropout=1)], "bottleneck": 4})]),
        ["model.encoder[0].dropout", "[0, 1)"],
    ),
    "hidden_and_encoder_both": (
        with_([("model.encoder", [CONV8])]),
        ["model.hidden", "model.encoder", "not both"],
    ),
    "decoder_list_output_of_the_wrong_size": (
        with_([("model", {"encoder": [CONV8], "bottleneck": 4,
                          "decoder": [{"dense": 100}]})]),
        ["model.decoder", "100 values", "784"],
    ),
    "variational_not_a_bool": (
        with_([("model.variational", 1)]), ["model.variational", "true or false"],
    ),
    "searched_kernel_too_large": (
        with_([("model", {"encoder": [CONV8, {"conv": 16, "kernel": 3}], "bottleneck": 4}),
               (("search", "space", "model.encoder.1.kernel"), {"values": [3, 20]})]),
        ["model.encoder[1].kernel", "20 is larger", "search.space.model.encoder.1.kernel"],
    ),
    # Data of other kinds and shapes (issue 15).
    "dataset_unknown": (with_([("data", {"dataset": "cifar100"})]),
                        ["data.dataset", "cifar100", "cifar10", "kuzushiji-mnist"]),
    "data_range_0_255": (with_([("data.range", [0, 255])]), ["data.range", "[-1, 1]"]),
    "data_pad_too_large": (with_([("data.pad", 100)]), ["data.pad", "[0, 64]"]),
    # Learning-rate schedules (issue 16)
    "schedule_unknown": (with_([("train.schedule", "linear")]), ["train.schedule", "cosine"]),
    "schedule_gamma_zero": (with_([("train.schedule", "step"), ("train.gamma", 0)]),
                            ["train.gamma"]),
    "schedule_gamma_above_one": (with_([("classifier.gamma", 2)]), ["classifier.gamma"]),
    "schedule_step_epochs_zero": (with_([("train.step_epochs", 0)]), ["train.step_epochs"]),
    "schedule_lr_min_negative": (with_([("train.lr_min", -1e-4)]), ["train.lr_min"]),
    "warmup_as_long_as_training": (with_([("train.warmup_epochs", 1)]),
                                   ["train.warmup_epochs", "train.epochs is 1"]),
    "classifier_warmup_too_long": (with_([("classifier.warmup_epochs", 3)]),
                                   ["classifier.warmup_epochs", "classifier.epochs is 1"]),
    # Shaping the code, part 2 (issue 16)
    "penalty_unknown": (with_([("penalty.type", "gan")]),
                        ["penalty.type", "adversarial+csd", "supcon"]),
    "supcon_temperature_zero": (with_([("penalty", {"type": "supcon", "temperature": 0})]),
                                ["penalty.temperature"]),
    "supcon_temperature_negative": (with_([("penalty", {"type": "supcon",
                                                        "temperature": -0.5})]),
                                    ["penalty.temperature"]),
    "adversarial_without_prior": (with_([("penalty", {"type": "adversarial", "lambda": 1})]),
                                  ["penalty.prior", "adversarial", "swiss_roll"]),
    "adversarial_csd_without_prior": (with_([("penalty", {"type": "adversarial+csd"})]),
                                      ["penalty.prior", "adversarial+csd"]),
    "adversarial_swiss_roll_on_1_unit": (
        with_([("penalty", {"type": "adversarial", "prior": "swiss_roll"}),
               ("model.bottleneck", 1)]),
        ["penalty.prior", "swiss_roll is 2-D", "model.bottleneck is 1"]),
    "adversarial_on_a_variational_model": (
        with_([("penalty", {"type": "adversarial", "prior": "gaussian"}),
               ("model.variational", True)]),
        ["penalty.type", "variational"]),
    "disc_lr_zero": (with_([("penalty", {"type": "adversarial", "prior": "gaussian",
                                         "disc_lr": 0})]), ["penalty.disc_lr"]),
    "discriminator_width_zero": (with_([("penalty", {"type": "adversarial", "prior": "gaussian",
                                                     "discriminator": [8, 0]})]),
                                 ["penalty.discriminator"]),
    "supcon_batch_of_1": (with_([("penalty", {"type": "supcon"}), ("train.batch_size", 1),
                                 ("search.space", {"lr": BASE["search"]["space"]["lr"]})]),
                          ["train.batch_size", "supcon", "at least 2"]),
    "tpe_candidates_out_of_range": (
        with_([("search.strategy", "tpe"), ("search.candidates", 0)]),
        ["search.candidates", "expected an integer in [1, 256]"]),
    "tpe_startup_below_2": (
        with_([("search.strategy", "tpe"), ("search.startup_trials", 1)]),
        ["search.startup_trials"]),
    # hyperband and asha (issue 17)
    "sampler_for_random_search": (
        with_([("search.sampler", "tpe")]), ["search.sampler", "only hyperband and asha"]),
    "sampler_unknown": (
        with_([("search.strategy", "asha"), ("search.sampler", "cmaes")]), ["search.sampler"]),
    "hyperband_with_trials": (
        with_([("search.strategy", "hyperband")]), ["search.trials", "search.brackets"]),
    "hyperband_searching_epochs": (
        with_([("search.strategy", "asha"),
               ("search.space", {"train.epochs": {"min": 2, "max": 5}})]),
        ["search.space", "asha spends train.epochs"]),
    "min_epochs_above_epochs": (
        with_([("search.strategy", "asha"), ("search.min_epochs", 1000)]),
        ["search.min_epochs", "more than train.epochs"]),
    "eta_1": (with_([("search.strategy", "asha"), ("search.eta", 1)]), ["search.eta"]),
    # search.select one_se (issue 20): a standard error needs folds, a preference an order
    "one_se_with_one_fold": (
        with_([("search.select", "one_se"), ("search.folds", 1)]),
        ["search.select", "folds >= 2", "folds is 1"]),
    "select_unknown": (with_([("search.select", "simplest")]), ["search.select", "one_se"]),
    "prefer_on_strings": (
        with_([("search.select", "one_se"),
               ("search.space", {"train.optimizer": {"values": ["adam", "sgd"],
                                                     "prefer": "low"}})]),
        ["search.space.train.optimizer.prefer", "not a number", "without an order"]),
    "prefer_on_lists": (
        with_([("search.space", {"model.hidden": {"values": [[16], [8, 4]],
                                                  "prefer": "high"}})]),
        ["search.space.model.hidden.prefer", "values[0] is [16]"]),
    "prefer_not_low_or_high": (
        with_([("search.space", {"bottleneck": {"min": 2, "max": 8, "type": "int",
                                                "prefer": "smaller"}})]),
        ["search.space.bottleneck.prefer", '"low" or "high"']),
    # classifier.finetune replaces the code layer: something must come before it
    "finetune_without_a_layer_before_the_code": (
        with_([("model.hidden", []), ("classifier.finetune", True)]),
        ["classifier.finetune", "no layer before its code"]),
    "recon_weight_0_with_csd": (with_([("penalty", {"type": "csd"}),
                                       ("train.recon_weight", 0)]),
                                ["train.recon_weight", "csd", "guided and supcon"]),
    "guided_encoder_alone_ranked_by_val_mse": (
        with_([("penalty", {"type": "guided", "lambda": 1}), ("train.recon_weight", 0)]),
        ["search.objective", "val_mse", "train.recon_weight 0"]),
    "augment_crop_negative": (with_([("train.augment", {"crop": -1})]), ["train.augment.crop"]),
    "augment_flip_not_a_bool": (with_([("train.augment", {"flip": "yes"})]),
                                ["train.augment.flip", "true or false"]),
    "augment_noise_negative": (with_([("train.augment", {"noise": -0.1})]),
                               ["train.augment.noise"]),
    # Grids whose size overflowed a 64-bit count: 64^11 wrapped to 0 trials, and
    # 1000^7 to a garbage count.
    "grid_of_11_keys_by_64_values": (
        with_([("search.strategy", "grid"),
               ("search.space", {k: {"values": [0.01 * (i + 1) for i in range(64)]}
                                 for k in GRID_KEYS})]),
        ["search.space", "more than 1000000 points"],
    ),
    "grid_of_7_keys_by_1000_points": (
        with_([("search.strategy", "grid"),
               ("search.space", {k: {"min": 0.01, "max": 0.5, "points": 1000}
                                 for k in GRID_KEYS[:7]})]),
        ["search.space", "more than 1000000 points"],
    ),
}


def aesweep(args, cwd, timeout=60):
    return subprocess.run([AESWEEP, *map(str, args)], cwd=cwd, env=ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout)


def write_job(folder, name, job):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    if isinstance(job, dict):
        job = json.dumps(job, indent=2) + "\n"
    # surrogateescape: "\udcff" in a case is the raw byte 0xff, not UTF-8 text.
    path.write_bytes(job.encode("utf-8", "surrogateescape"))
    return path


def check_message(r, job_path, needles, what):
    assert r.returncode == 2, f"{what}: exit {r.returncode}, expected 2; stderr:\n{r.stderr}"
    err = r.stderr
    assert str(job_path) in err, f"{what}: the message does not name the job file:\n{err}"
    for s in needles:
        assert s in err, f"{what}: the message does not name {s!r}:\n{err}"
    assert "train_loss" not in err and "trial 0 fold" not in err, f"{what}: trained:\n{err}"


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(scope="module", autouse=True)
def scratch():
    TMP.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(EMPTY_DATA_DIR, ignore_errors=True)
    EMPTY_DATA_DIR.mkdir(parents=True)


def test_base_job_is_valid():
    """The cases differ from a job that validates: each fails for its own fault."""
    case = TMP / "base"
    job = write_job(case, "job", BASE)
    r = aesweep(["validate", job], cwd=case)
    assert r.returncode == 0, r.stderr
    assert "2 trials" in r.stdout, r.stdout


@pytest.mark.parametrize("existing", [False, True], ids=["no_results", "old_results"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_job_exits_2(case, existing):
    text, needles = CASES[case]
    folder = TMP / case / ("old" if existing else "new")
    cwd = folder / "cwd"  # nothing may appear here either (no runs/... from output.dir)
    shutil.rmtree(folder, ignore_errors=True)
    cwd.mkdir(parents=True)
    job = write_job(folder, "job", text)
    out = folder / "out"
    if existing:
        out.mkdir()
        (out / "results.h5").write_bytes(OLD_RESULTS)

    r = aesweep(["validate", job], cwd=cwd)
    check_message(r, job, needles, "validate")

    r = aesweep(["run", job, "--out", out], cwd=cwd)
    check_message(r, job, needles, "run")
    if existing:
        assert (out / "results.h5").read_bytes() == OLD_RESULTS, "the old results file changed"
        assert listing(out) == ["results.h5"], f"files written: {listing(out)}"
    else:
        assert not (out / "results.h5").exists()
        assert not out.exists() or listing(out) == [], f"files written: {listing(out)}"
    assert listing(cwd) == [], f"files written to the working folder: {listing(cwd)}"


def test_syntax_error_names_line_and_column():
    """file:line:col, pointing at the token after the missing comma."""
    folder = TMP / "syntax_position"
    job = write_job(folder, "job", SYNTAX_ERROR_TEXT)
    r = aesweep(["validate", job], cwd=folder)
    assert r.returncode == 2, r.stderr
    assert re.search(re.escape(str(job)) + r":4:3\b", r.stderr), r.stderr


def test_existing_results_without_fresh_is_refused():
    """A valid job into a DIR that holds results.h5 from before: exit 2, the file
    untouched, and the message says how to start over (--fresh)."""
    folder = TMP / "existing"
    out = folder / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.h5").write_bytes(OLD_RESULTS)
    job = write_job(folder, "job", BASE)
    r = aesweep(["run", job, "--out", out], cwd=folder)
    assert r.returncode == 2, f"exit {r.returncode}; stderr:\n{r.stderr}"
    assert "results.h5" in r.stderr and "--fresh" in r.stderr, r.stderr
    assert "trial 0 fold" not in r.stderr, f"trained:\n{r.stderr}"
    assert (out / "results.h5").read_bytes() == OLD_RESULTS
    assert listing(out) == ["results.h5"], f"files written: {listing(out)}"


def test_latent_accuracy_with_a_range_that_holds_the_class_count_may_run():
    """Only the trials whose code is 10 wide can score latent_accuracy (the others
    are NaN and never win), so the job is accepted; so is a grid of the largest size."""
    case = TMP / "latent_range"
    job = write_job(case, "job", with_([
        ("search.objective", "latent_accuracy"),
        ("search.space.bottleneck", {"min": 2, "max": 16, "type": "int"})]))
    r = aesweep(["validate", job], cwd=case)
    assert r.returncode == 0, r.stderr
    grid = write_job(case, "grid", with_([
        ("search.strategy", "grid"),
        ("search.space", {k: {"min": 0.01, "max": 0.5, "points": 10} for k in GRID_KEYS[:6]})]))
    r = aesweep(["validate", grid], cwd=case)
    assert r.returncode == 0, r.stderr
    assert "1000000 trials" in r.stdout, r.stdout


def test_a_train_job_validates_as_a_train_job():
    """A job without search.space is for `aesweep train`: validate checks it as train
    would and prints its one configuration, with exit 0; run still needs a space."""
    case = TMP / "train_job"
    shutil.rmtree(case, ignore_errors=True)
    job = write_job(case, "job", with_([("search", DELETE)]))
    out = case / "sub" / "model.h5"
    r = aesweep(["validate", job, "--out", out, "--set", "train.lr=0.003"], cwd=case)
    assert r.returncode == 0, r.stderr
    for line in ["aesweep train", "200 training images", "784-16-4-16-784",
                 "classifier 4-8-10", "train.lr", "0.003", str(out)]:
        assert line in r.stdout, f"{line!r} not in:\n{r.stdout}"
    assert not (case / "sub").exists(), "validate created the output folder"
    # What train would refuse, validate refuses: a batch larger than the holdout.
    r = aesweep(["validate", job, "--set", "train.batch_size=5000"], cwd=case)
    check_message(r, job, ["train.batch_size", "5000"], "validate of a train job")
    r = aesweep(["validate", job, "--fresh"], cwd=case)
    check_message(r, job, ["--fresh", "aesweep train"], "validate --fresh of a train job")
    r = aesweep(["run", job, "--out", case / "out"], cwd=case)
    check_message(r, job, ["search.space", "aesweep train"], "run of a train job")
    assert listing(case) == ["job.json"], listing(case)
