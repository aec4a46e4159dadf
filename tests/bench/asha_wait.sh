#!/usr/bin/env bash
# Usage: tests/bench/asha_wait.sh [OUTDIR]
# How long asha's lag rule makes workers wait (issue 17: aim at most 5% at
# -np 3 on 2 cores). One asha search (784-256-16-256-784 on 6000 Fashion-MNIST
# images, 27 epochs at most, eta 3: rungs at 1, 3, 9 and 27 epochs, TRIALS
# trials) under mpirun -np NP for each lag in LAGS; prints the run's own
# account: the share of time workers held no task until the last task went
# out (what the rule made them wait), and over the whole search (the tail
# included, when the last tasks finish one by one).
# A benchmark, not a test: about a minute per lag at the defaults.
# Environment: AESWEEP (./build/aesweep), NP (3), TRIALS (60), LAGS ("4 8 16").
set -euo pipefail
AESWEEP=${AESWEEP:-./build/aesweep}
NP=${NP:-3} TRIALS=${TRIALS:-60} LAGS=${LAGS:-4 8 16}
out=${1:-$(mktemp -d)}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cat > "$out/job.json" <<JSON
{"name": "asha_wait", "seed": 1,
 "data": {"dataset": "fashion-mnist", "train_limit": 6000, "test_limit": 1000},
 "model": {"hidden": [256], "bottleneck": 16},
 "train": {"epochs": 27, "batch_size": 64, "early_stopping": {"patience": 0}},
 "classifier": {"epochs": 0},
 "search": {"strategy": "asha", "trials": $TRIALS, "eta": 3, "min_epochs": 1,
            "space": {"lr": {"min": 1e-4, "max": 1e-1, "scale": "log"},
                      "batch_size": {"min": 16, "max": 512, "type": "int", "scale": "log"},
                      "train.dropout": {"min": 0, "max": 0.5}}},
 "output": {"weights": "best"}}
JSON
printf '%-5s %-60s\n' lag "the run's account"
for lag in $LAGS; do
    rm -rf "$out/lag$lag"
    mpirun -np "$NP" --oversubscribe "$AESWEEP" run "$out/job.json" --set search.lag="$lag" \
        --out "$out/lag$lag" 2> "$out/lag$lag.log"
    printf '%-5s %s\n' "$lag" "$(grep -h 'waited for a task' "$out/lag$lag.log")"
done
