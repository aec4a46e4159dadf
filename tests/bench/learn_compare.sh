#!/usr/bin/env bash
# Does aesweep learn as well as PyTorch on the same model? (issue 15, item 8)
# Trains model D (tests/bench/models/model_D.json: report 002's conv autoencoder)
# for EPOCHS epochs on Fashion-MNIST with `aesweep train` (54000 training images
# after its stratified holdout of 0.1, no early stopping) and with PyTorch
# (tests/bench/torch_learn.py: the same layers from --layers-json, loss, Adam,
# batch, on 54000 random training images), one thread each, and prints both test
# MSEs and their ratio. A benchmark, not a test: about 3 minutes on one core.
# Usage: tests/bench/learn_compare.sh [JOB.json]   (EPOCHS=10, AESWEEP=./build/aesweep)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AESWEEP=${AESWEEP:-./build/aesweep}
EPOCHS=${EPOCHS:-10}
JOB=${1:-$HERE/models/model_D.json}
DATA=${FASHION_DIR:-/usr/share/datasets/fashion-mnist}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# No early stopping, and min_delta 0 so that the model kept is the one with the
# lowest validation loss (with the job's 0.001, a later epoch that improves by
# less is not kept): torch_learn.py keeps its last epoch's.
sets=(--set "data.path=$DATA" --set "train.epochs=$EPOCHS" --set train.early_stopping.patience=0
      --set train.early_stopping.min_delta=0 --set classifier.epochs=0)
"$AESWEEP" bench --job "$JOB" --layers-json > "$tmp/model.json"
start=$(date +%s)
"$AESWEEP" train "$JOB" "${sets[@]}" --out "$tmp/model.h5" > "$tmp/train.log" 2> "$tmp/progress.log"
a_sec=$(( $(date +%s) - start ))
a_mse=$(sed -n 's/^test_mse  *//p' "$tmp/train.log")
start=$(date +%s)
t_json=$(/usr/bin/python3 "$HERE/torch_learn.py" --model-json "$tmp/model.json" --data "$DATA" \
    --epochs "$EPOCHS")
t_sec=$(( $(date +%s) - start ))
t_mse=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["test_mse"])' "$t_json")
/usr/bin/python3 - "$a_mse" "$t_mse" "$a_sec" "$t_sec" "$EPOCHS" "$JOB" <<'PY'
import sys
a, t, asec, tsec, ep, job = float(sys.argv[1]), float(sys.argv[2]), *sys.argv[3:]
print(f"{job.split('/')[-1]}, {ep} epochs on Fashion-MNIST: test MSE aesweep {a:.5f} ({asec} s), "
      f"torch {t:.5f} ({tsec} s); aesweep/torch {a / t:.3f}")
PY
