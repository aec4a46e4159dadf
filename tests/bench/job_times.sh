#!/usr/bin/env bash
# Estimates how long each jobs/report*.json takes at full size on this machine:
# times one training epoch of the job's model on its whole training split (one
# BLAS thread, Fashion-MNIST standing in for MNIST/Kuzushiji-MNIST: same sizes),
# then multiplies by the job's epochs and by its waves of tasks on the training ranks.
# An upper bound where early stopping ends tasks sooner; the classifier and the
# refit are not counted. Usage: tests/bench/job_times.sh [AESWEEP] [WORKERS] [JOB.json...]
# (default: every jobs/report*.json)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
aesweep=${1:-$src/build/aesweep}
workers=${2:-$(nproc)}
shift $(( $# > 2 ? 2 : $# ))
jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=("$src"/jobs/report*.json)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OPENBLAS_NUM_THREADS=1
printf '| job | epochs | tasks | one epoch (s) | estimate with %d training ranks |\n|---|---|---|---|---|\n' "$workers"
for job in "${jobs[@]}"; do
    name=$(basename "$job" .json)
    plan=$("$aesweep" validate "$job" --set data.dataset=fashion-mnist --out "$tmp/$name" |
           sed -n 's/^plan .* \([0-9][0-9]*\) tasks.*/\1/p')
    epochs=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['train']['epochs'])" "$job")
    # the autoencoder's epoch alone: no classifier (its objective then reads the codes'
    # k-NN accuracy, which any job can compute, with or without a decoder; no warm-up,
    # which would leave a 1-epoch training nothing after it)
    start=$(date +%s.%N)
    "$aesweep" train "$job" --set data.dataset=fashion-mnist --set train.epochs=1 \
        --set train.warmup_epochs=0 \
        --set classifier.epochs=0 --set search.objective=val_knn_accuracy --out "$tmp/$name.h5" \
        > /dev/null 2> "$tmp/$name.log" || { cat "$tmp/$name.log" >&2; exit 1; }
    epoch=$(/usr/bin/python3 -c "print($(date +%s.%N) - $start)")
    /usr/bin/python3 - "$name" "$epochs" "$plan" "$epoch" "$workers" <<'PY'
import math, sys
name, epochs, tasks, epoch, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
# tasks run in waves of `workers`: one task keeps one rank busy and the rest idle
total = epochs * math.ceil(tasks / workers) * epoch
human = f"{total / 3600:.1f} h" if total >= 3600 else f"{total / 60:.0f} min"
print(f"| {name} | {epochs} | {tasks} | {epoch:.1f} | {human} |")
PY
done
