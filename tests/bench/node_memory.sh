#!/usr/bin/env bash
# Usage: tests/bench/node_memory.sh [NP]
# Issue 18, item 1: the memory of all ranks of a node with one shared copy of
# the data against one copy a rank. Writes a CIFAR-10-sized set in the real
# binary format (5 x 10000 + 10000 records of 1 + 3072 bytes: 184 MB, pixels
# from a fixed generator) and runs a small dense search on it under
# mpirun -np NP --oversubscribe (default 9) twice: as one node (one shared
# copy) and with AESWEEP_TEST_NODES=NP (every rank its own fake node: its own
# copy, as before). While each runs it samples every rank's proportional set
# size (PSS, from /proc/PID/smaps_rollup: shared pages count once over the
# ranks that map them) and resident set size, and prints the peak sums.
set -euo pipefail
cd "$(dirname "$0")/../.."
AESWEEP=${AESWEEP:-./build/aesweep}
np=${1:-9}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$work/cifar" <<'EOF'
import os, sys
import numpy as np
out = sys.argv[1]
os.makedirs(out)
rng = np.random.default_rng(18)
def batch(name):
    rec = np.empty((10000, 3073), np.uint8)
    rec[:, 0] = np.arange(10000) % 10
    rec[:, 1:] = rng.integers(0, 256, (10000, 3072), dtype=np.uint8)
    rec.tofile(os.path.join(out, name))
for b in range(1, 6):
    batch(f"data_batch_{b}.bin")
batch("test_batch.bin")
EOF
cat > "$work/job.json" <<EOF
{
  "name": "node_memory", "seed": 1,
  "data": {"dataset": "cifar10", "path": "$work/cifar", "train_limit": 2000, "test_limit": 500},
  "model": {"hidden": [64], "bottleneck": 8},
  "train": {"epochs": 3, "batch_size": 64, "early_stopping": {"patience": 0}},
  "classifier": {"epochs": 0},
  "search": {"strategy": "random", "folds": 1, "trials": $((4 * (np - 1))), "objective": "val_mse",
             "space": {"lr": {"min": 1e-4, "max": 1e-2, "scale": "log"}}},
  "output": {"dir": "$work/out", "weights": "none", "checkpoint_every": 0}
}
EOF
# kB summed over the aesweep processes: "PSS RSS"
sample() {
    local pss=0 rss=0 p v
    for p in $(pgrep -x aesweep); do
        v=$(awk '/^Pss:/ {p = $2} /^Rss:/ {r = $2} END {print p + 0, r + 0}' \
            "/proc/$p/smaps_rollup" 2> /dev/null) || continue
        pss=$((pss + ${v% *})) rss=$((rss + ${v#* }))
    done
    echo "$pss $rss"
}
run() { # label, extra mpirun args
    local label=$1 peak_pss=0 peak_rss=0 s
    shift
    rm -rf "$work/out"
    mpirun -np "$np" --oversubscribe "$@" "$AESWEEP" run "$work/job.json" --fresh \
        2> "$work/log" &
    local pid=$!
    while kill -0 "$pid" 2> /dev/null; do
        s=$(sample)
        [ "${s% *}" -gt "$peak_pss" ] && peak_pss=${s% *}
        [ "${s#* }" -gt "$peak_rss" ] && peak_rss=${s#* }
        sleep 0.2
    done
    wait "$pid" || { cat "$work/log"; exit 1; }
    printf '%-34s %s\n' "$label" "$(grep '^aesweep: data:' "$work/log" | sed 's/^aesweep: //')"
    printf '%-34s peak summed PSS %6.0f MB, summed RSS %6.0f MB\n' "" \
        "$(echo "$peak_pss / 1024" | bc -l)" "$(echo "$peak_rss / 1024" | bc -l)"
}
echo "-np $np, CIFAR-10-sized data (50000 + 10000 images of 3x32x32)"
run "one node, one shared copy"
run "a copy a rank (AESWEEP_TEST_NODES=$np)" -x AESWEEP_TEST_NODES="$np"
