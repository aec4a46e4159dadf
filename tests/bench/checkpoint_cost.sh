#!/usr/bin/env bash
# Usage: tests/bench/checkpoint_cost.sh [OUTDIR]
# What a task's checkpoint costs (issue 17): model A (784-800-400-225, Adam, batch
# 164) on the full Fashion-MNIST training split, one trial of EPOCHS epochs,
# trained by `aesweep run` twice in one process each: with output.checkpoint_every
# 1 (a checkpoint after every epoch, written durably: temporary name, fsync,
# rename, folder fsync) and with 0 (none). Prints the checkpoint's size, its mean
# write time as the run reports it, and both runs' seconds per epoch; the bits of
# the two results are compared (a checkpoint must change nothing).
# A benchmark, not a test: about a minute per run at the defaults.
# Environment: AESWEEP (./build/aesweep), EPOCHS (3), TRAIN_LIMIT (0: all).
set -euo pipefail
AESWEEP=${AESWEEP:-./build/aesweep}
EPOCHS=${EPOCHS:-3} TRAIN_LIMIT=${TRAIN_LIMIT:-0}
out=${1:-$(mktemp -d)}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1
for every in 1 0; do
    cat > "$out/job$every.json" <<JSON
{"name": "checkpoint_cost", "seed": 1,
 "data": {"dataset": "fashion-mnist", "validation": 0.1, "train_limit": $TRAIN_LIMIT},
 "model": {"hidden": [800, 400], "bottleneck": 225},
 "train": {"optimizer": "adam", "lr": 0.001, "batch_size": 164, "epochs": $EPOCHS,
           "early_stopping": {"patience": 0}},
 "classifier": {"epochs": 0},
 "search": {"strategy": "random", "trials": 1, "space": {"lr": {"values": [0.001]}}},
 "output": {"checkpoint_every": $every}}
JSON
    rm -rf "$out/run$every"
    "$AESWEEP" run "$out/job$every.json" --out "$out/run$every" 2> "$out/log$every.txt"
done
line=$(grep -h "checkpoints\? written" "$out/log1.txt")
echo "$line"
/usr/bin/python3 - "$out" "$EPOCHS" "$line" <<'PY'
import re, sys, h5py
out, epochs, line = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ms = float(re.search(r"([0-9.]+) ms to write", line).group(1))
per, mse = {}, {}
for every in (1, 0):
    with h5py.File(f"{out}/run{every}/results.h5", "r") as f:
        folds = f["folds"][:]
        per[every] = float(folds["seconds"][0]) / epochs
        mse[every] = float(folds["val_mse"][0])
    print(f"checkpoint_every {every}: {per[every]:.2f} s per epoch (val_mse {mse[every]!r})")
assert mse[0] == mse[1], "a checkpoint changed the training"
print(f"a checkpoint per epoch: {ms:.1f} ms = {100 * ms / 1e3 / per[1]:.2f}% of an epoch; "
      f"the two runs' epochs differ by {100 * (per[1] / per[0] - 1):+.1f}% (their noise)")
PY
