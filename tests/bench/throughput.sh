#!/usr/bin/env bash
# Usage: tests/bench/throughput.sh [NP]
# The coordinator's throughput: near-empty tasks (1 epoch of 180 images,
# jobs/bench_throughput.json, 400 trials) under mpirun -np NP --oversubscribe
# (default 8), so that rank 0's own work per result is what limits the rate.
set -euo pipefail
AESWEEP=${AESWEEP:-./build/aesweep}
np=${1:-8}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mpirun -np "$np" --oversubscribe "$AESWEEP" run jobs/bench_throughput.json --out "$out" 2> "$out/log"
tail -n 1 "$out/log"
sed -n 's/^.*complete: \([0-9]*\) tasks in \([0-9.]*\) s.*/\1 \2/p' "$out/log" |
    awk -v np="$np" '{printf "%d tasks in %.1f s at -np %d: %.1f tasks/s\n", $1, $2, np, $1 / $2}'
