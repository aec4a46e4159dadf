#!/usr/bin/env bash
# Usage: tests/bench/penalty.sh
# The cost of the latent penalties on a training step of 784-800-400-10: csd at
# batch 1000 (the reports' batch) and class_target at batch 164, each against the
# same model without a penalty. Runs alternate, REPS times each; medians.
# Environment: AESWEEP (default ./build/aesweep), SECONDS_PER_RUN (3), REPS (3).
set -euo pipefail
AESWEEP=${AESWEEP:-./build/aesweep}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
REPS=${REPS:-3}
export OPENBLAS_NUM_THREADS=1

rate() { "$AESWEEP" bench --layers 784,800,400,10 --batch "$1" --penalty "$2" \
             --seconds "$SECONDS_PER_RUN" | sed 's/.*"samples_per_s":\([0-9.]*\).*/\1/'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-14s %6s %16s %16s %9s\n' penalty batch "none samp/s" "penalty samp/s" overhead
for case in "csd 1000" "class_target 164"; do
    set -- $case
    base=() pen=()
    for _ in $(seq "$REPS"); do
        base+=("$(rate "$2" none)")
        pen+=("$(rate "$2" "$1")")
    done
    b=$(median "${base[@]}") p=$(median "${pen[@]}")
    awk -v n="$1" -v B="$2" -v b="$b" -v p="$p" \
        'BEGIN {printf "%-14s %6d %16.0f %16.0f %8.1f%%\n", n, B, b, p, 100 * (b / p - 1)}'
done
