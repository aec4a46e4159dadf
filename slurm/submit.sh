#!/usr/bin/env bash
# Submits one aesweep search as one Slurm job, after checking it.
#
#   slurm/submit.sh JOB.json [--out DIR] [--fresh] [--set KEY=VALUE]... [sbatch options]
#
# 1. `aesweep validate` checks the job, its data and its output folder exactly as
#    the run will (exit 2 on a bad job, or on a folder holding another job's
#    results without --fresh), so a job never waits in the queue only to fail.
# 2. The output folder is --out, else the job's output.dir, made absolute here.
# 3. sbatch slurm/aesweep.sbatch with the sbatch options given (-n, -t, -p, -A, ...
#    override the #SBATCH lines of the script).
# Prints the job id, the results file and the log files. Exit codes: 0 submitted,
# 1 sbatch failed, 2 bad arguments or job.
# AESWEEP names the binary (default: this checkout's build/aesweep, else PATH).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() {
    sed -n '3,4p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    echo "see slurm/README.md" >&2
    exit 2
}
fail() { echo "submit.sh: $*" >&2; exit 2; }

[ $# -ge 1 ] || usage
case $1 in -h|--help) usage ;; -*) fail "the first argument is the job file, not '$1'" ;; esac
job=$1
shift
[ -f "$job" ] || fail "$job: no such file"
out="" run_args=() sbatch_args=()
while [ $# -gt 0 ]; do
    case $1 in
    --out) [ $# -ge 2 ] || fail "--out needs a folder"; out=$2; shift ;;
    --out=*) out=${1#--out=} ;;
    --fresh) run_args+=(--fresh) ;;
    --set) [ $# -ge 2 ] || fail "--set needs KEY=VALUE"; run_args+=(--set "$2"); shift ;;
    *) sbatch_args+=("$1") ;;
    esac
    shift
done

if [ -z "${AESWEEP:-}" ]; then
    if [ -x "$here/../build/aesweep" ]; then AESWEEP=$(cd "$here/../build" && pwd)/aesweep
    elif command -v aesweep >/dev/null; then AESWEEP=$(command -v aesweep)
    else fail "no aesweep binary: build it (cmake) or set AESWEEP"; fi
fi
command -v sbatch >/dev/null || fail "sbatch not found: is this a Slurm login node?"

# The compute nodes start in this folder (sbatch's default): make every path absolute.
job=$(cd "$(dirname "$job")" && pwd)/$(basename "$job")
check=("$AESWEEP" validate "$job" "${run_args[@]}")
[ -n "$out" ] && check+=(--out "$out")
plan=$("${check[@]}") || exit 2
[ -n "$out" ] || out=$(sed -n 's|^output  *\(.*\)/results\.h5.*$|\1|p' <<< "$plan")
[ -n "$out" ] || fail "could not tell the output folder from aesweep validate"
case $out in /*) ;; *) out=$PWD/$out ;; esac
printf '%s\n' "$plan"

# For a resubmission from inside the job, should Slurm refuse to requeue it.
export AESWEEP AESWEEP_SBATCH=$here/aesweep.sbatch
AESWEEP_SBATCH_OPTIONS=""
[ ${#sbatch_args[@]} -eq 0 ] || AESWEEP_SBATCH_OPTIONS=$(printf '%q ' "${sbatch_args[@]}")
export AESWEEP_SBATCH_OPTIONS
id=$(sbatch --parsable "${sbatch_args[@]}" "$AESWEEP_SBATCH" "$job" "$out" "${run_args[@]}") ||
    { echo "submit.sh: sbatch failed" >&2; exit 1; }
id=${id%%;*}
logs=$(scontrol show job "$id" 2>/dev/null | sed -n 's/^ *\(StdOut\|StdErr\)=\(.*\)$/\2/p' | paste -sd ' ')
echo "submitted job $id"
echo "results  $out/results.h5"
[ -n "$logs" ] && echo "logs     $logs"
echo "watch    squeue -j $id; aesweep info $out/results.h5"
echo "stop     scancel --signal=USR1 $id (stops and requeues; resumes), scancel $id (stops for good)"
