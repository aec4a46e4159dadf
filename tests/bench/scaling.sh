#!/usr/bin/env bash
# Usage: tests/bench/scaling.sh [JOB.json]
# Tasks per minute of `aesweep run` with 1 worker (mpirun -np 2) and with as many
# workers as cores (-np cores+1), on a job of equal tasks (default
# jobs/bench_scaling.json: 12 trials of the same model; the refit, one task at the
# end, is left out of the rate). Prints the speed-up and
# the coordinator's CPU time as a share of the run's wall time.
set -euo pipefail
AESWEEP=${AESWEEP:-./build/aesweep}
job=${1:-jobs/bench_scaling.json}
cores=$(nproc)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rate() { # np -> "tasks/min coordinator-cpu%"
    mpirun -np "$1" --oversubscribe "$AESWEEP" run "$job" --out "$out/np$1" 2> "$out/log$1"
    # complete: 12 tasks in 61.2 s, refit 5.1 s; coordinator CPU 0.05 s (0.08% of wall time; ...)
    sed -n 's/^.*complete: \([0-9]*\) tasks in \([0-9.]*\) s, refit [0-9.]* s; coordinator CPU [0-9.]* s (\([0-9.]*\)%.*/\1 \2 \3/p' "$out/log$1" |
        awk '{printf "%.2f %s\n", $1 / $2 * 60, $3}'
}
read -r one cpu1 < <(rate 2)
read -r all cpuall < <(rate $((cores + 1)))
printf 'workers  tasks/min  coordinator CPU\n'
printf '%7d  %9.2f  %14s%%\n' 1 "$one" "$cpu1" "$cores" "$all" "$cpuall"
cat "$out/log$((cores + 1))" | tail -n 2 >&2
awk -v a="$all" -v b="$one" -v c="$cores" 'BEGIN {printf "speed-up with %d workers: %.2fx\n", c, a / b}'
