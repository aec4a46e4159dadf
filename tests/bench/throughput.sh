#!/usr/bin/env bash
# Usage: tests/bench/throughput.sh [NP] [TRIALS]
# The coordinator's throughput: near-empty tasks (1 epoch of 180 images, no
# checkpoints, jobs/bench_throughput.json, TRIALS trials, default 400) under
# mpirun -np NP --oversubscribe (default 8), so that rank 0's own work per
# result is what limits the rate. Prints the run's summary line, the rate, rank
# 0's CPU time per result and rank 0's peak resident memory.
# With SAMPLE_EVERY=S it also prints, every S seconds while the run lasts, the
# task files written so far and rank 0's resident memory (is it flat?).
set -euo pipefail
AESWEEP=${AESWEEP:-./build/aesweep}
np=${1:-8}
trials=${2:-400}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
out=$(mktemp -d)
sampler=""
trap '[ -n "$sampler" ] && kill "$sampler" 2>/dev/null; rm -rf "$out"' EXIT
if [ -n "${SAMPLE_EVERY:-}" ]; then
    (
        set +e
        start=$(date +%s)
        while sleep "$SAMPLE_EVERY"; do
            timer=$(pgrep -f "^/usr/bin/time -f rank 0 peak" | head -1) || continue
            rank0=$(pgrep -P "$timer" | head -1) || continue
            rss=$(awk '/^VmRSS/ {print $2}' "/proc/$rank0/status" 2>/dev/null) || continue
            # a task file renamed into place while find reads its folder is not an error
            done_=$( (find "$out/tasks" -name 't*.h5' 2>/dev/null || true) | wc -l)
            echo "sample: $(( $(date +%s) - start )) s, $done_ task files, rank 0 resident $rss kB"
        done
    ) &
    sampler=$!
fi
# rank 0 alone under /usr/bin/time: its peak memory, whatever the workers use
mpirun -np 1 /usr/bin/time -f "rank 0 peak resident memory %M kB" "$AESWEEP" run \
    jobs/bench_throughput.json --set search.trials="$trials" --out "$out" : \
    -np $((np - 1)) --oversubscribe "$AESWEEP" run jobs/bench_throughput.json \
    --set search.trials="$trials" --out "$out" 2> "$out/log"
grep -E '^(complete|interrupted|failed):' "$out/log"
grep '^rank 0 peak' "$out/log"
sed -n 's/^complete: \([0-9]*\) tasks in \([0-9.]*\) s.*coordinator CPU \([0-9.]*\) s.*; \([0-9.]*\) ms a result.*/\1 \2 \3 \4/p' "$out/log" |
    awk -v np="$np" '{printf "%d tasks in %.1f s at -np %d: %.1f tasks/s; rank 0: %.2f ms of CPU a result in all, %.3f ms handling it\n", $1, $2, np, $1 / $2, 1000 * $3 / $1, $4}'
