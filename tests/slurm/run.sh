#!/usr/bin/env bash
# The real Slurm test: brings up munged + slurmctld + slurmd in a private temp
# folder (tests/slurm/cluster.sh; torn down by PID from a trap, always), then
#   a. submits tests/mpi/tiny.json with slurm/submit.sh, once launched by srun and
#      once by the mpirun fallback: both results files must be identical (but for
#      seconds and rank) to a plain mpirun run; submit.sh must refuse a folder
#      holding another job's results before anything is queued;
#   b. submits tests/slurm/long.json and interrupts it twice over:
#      - scancel --signal=USR1 (to the ranks) on a job that may not be requeued
#        (--no-requeue): it must exit 3 and resubmit itself;
#      - a plain scancel (SIGTERM): the job must end, neither requeued nor resubmitted;
#      - a real time limit (--time=1, --signal=B:USR1@30, to the batch script):
#        it must exit 3 and requeue itself, as many times as it takes;
#      each must complete with results identical to plain mpirun, and never
#      retrain a task that was durable on disk.
# Usage: tests/slurm/run.sh AESWEEP OUTDIR. Exit 77 (SKIPPED, with the reason)
# when this machine cannot run Slurm.
set -euo pipefail
aesweep=$(realpath "$1") out=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=cluster.sh
source "$src/tests/slurm/cluster.sh"
why=$(cluster_can_run) || { echo "SKIPPED: the Slurm test needs a machine that can run Slurm: $why"; exit 77; }

t_start=$SECONDS
rm -rf "$out"
mkdir -p "$out/tmp"
out=$(cd "$out" && pwd)
cluster=$(mktemp -d /tmp/aesweep-slurm.XXXXXX) # short: the munge socket path has a limit
ok=0
finish() {
    cluster_down "$cluster"
    if [ "$ok" = 0 ]; then
        echo "--- slurmctld/slurmd logs (tail)"; tail -n 15 "$cluster"/log/slurm*.log 2>/dev/null || true
        for f in "$out"/*.err; do [ -f "$f" ] && { echo "--- $f"; tail -n 8 "$f"; }; done
    fi
    rm -rf "$cluster"
}
trap finish EXIT

cluster_up "$cluster" 8
# mpirun refuses root without these; its session files go to the test folder.
export AESWEEP=$aesweep OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    TMPDIR=$out/tmp OMPI_MCA_btl_vader_backing_directory=$out/tmp OPENBLAS_NUM_THREADS=1
cd "$out"
say() { printf '[slurm %3ds] %s\n' $((SECONDS - t_start)) "$*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

# One field of a job record.
field() { scontrol show job -o "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# Waits for job $1 to end (at most $2 s) and prints its final state. A job that
# requeues itself may show FAILED for a moment before it is PENDING again: an end
# counts when it still holds a second later. Slurm holds a requeued job for two
# minutes (Reason=BeginTime); the test lets it go after 3 s. Not at once: slurmd
# revokes the old run's credential with a resolution of one second, and a new
# run started within it is killed ("Job credential revoked").
wait_job() {
    local id=$1 limit=$2 t0=$SECONDS state held=""
    while :; do
        state=$(field "$id" JobState)
        case $state in
        COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)
            sleep 1
            [ "$(field "$id" JobState)" = "$state" ] && { echo "$state"; return 0; } ;;
        PENDING)
            if [ "$(field "$id" Reason)" = BeginTime ]; then
                held=${held:-$SECONDS}
                [ $((SECONDS - held)) -ge 3 ] && scontrol update JobId="$id" StartTime=now && held=""
            fi ;;
        esac
        [ $((SECONDS - t0)) -lt "$limit" ] || die "job $id still $state after $limit s"
        sleep 0.2
    done
}

submit() { # submit.sh ARGS..., prints the job id
    local said
    said=$("$src/slurm/submit.sh" "$@") || die "submit.sh $* failed: $said"
    sed -n 's/^submitted job \([0-9]*\)$/\1/p' <<< "$said"
}

tasks_on_disk() { # durable task files in OUT $1
    local n
    n=$(find "$1/tasks" -name 't[0-9]*_f[0-9]*.h5' 2> /dev/null | wc -l) || true
    echo "${n:-0}"
}

same() { /usr/bin/python3 "$src/tests/mpi/compare.py" "$@" || die "results differ: $*"; }

# Sums "N tasks trained" over the logs given: a task durable on disk is never trained again.
trained() { sed -n 's/^\([0-9]*\) tasks\{0,1\} trained.*/\1/p' "$@" | awk '{ s += $1 } END { print s + 0 }'; }

reference() { # JOB NAME: the same job under plain mpirun, outside Slurm
    mpirun -np 3 --oversubscribe "$aesweep" run "$1" --out "ref-$2" 2> "ref-$2.log" ||
        { cat "ref-$2.log"; die "plain mpirun run of $1 failed"; }
}

# --- a. submit.sh, srun and the mpirun fallback
tiny=$src/tests/mpi/tiny.json
reference "$tiny" tiny
for launcher in srun mpirun; do
    id=$(AESWEEP_LAUNCHER=$launcher submit "$tiny" --out "a-$launcher" -n 3 -t 5)
    state=$(wait_job "$id" 120)
    [ "$state" = COMPLETED ] || die "job $id ($launcher) ended $state"
    grep -q "launcher $launcher" "aesweep-$id.err" || die "job $id did not launch with $launcher"
    same "a-$launcher/results.h5" ref-tiny/results.h5
    say "a. submit.sh + $launcher: job $id completed, results identical to plain mpirun"
done
jobs_before=$(squeue -h | wc -l)
if "$src/slurm/submit.sh" "$src/tests/slurm/long.json" --out a-srun -n 3 > refused.log 2>&1; then
    die "submit.sh queued a job into a folder holding another job's results"
fi
grep -q "holds another job's results" refused.log || die "submit.sh refused, but not for the folder: $(cat refused.log)"
[ "$(squeue -h | wc -l)" = "$jobs_before" ] || die "a refused submission left a job in the queue"
say "a. submit.sh refuses a folder holding another job's results; nothing queued"

# --- b. interruptions
long=$src/tests/slurm/long.json
total=$(sed -n 's/^plan .*= \([0-9]*\) tasks.*/\1/p' <<< "$("$aesweep" validate "$long")")
reference "$long" long
say "b. reference: $total tasks under plain mpirun"

# b1. scancel --signal=USR1 reaches the ranks; requeueing is refused, so the
# script resubmits itself.
id=$(submit "$long" --out b-usr1 -n 3 -t 10 --no-requeue)
for _ in $(seq 600); do
    n=$(tasks_on_disk b-usr1)
    [ "$n" -ge 6 ] && break
    sleep 0.1
done
[ "$n" -ge 6 ] || die "job $id wrote no task files"
# Progress can be watched while the job runs (slurm/README.md).
info=$("$aesweep" info b-usr1/results.h5) || die "aesweep info failed on a running job's results"
grep -q '^status: *running$' <<< "$info" || die "aesweep info of a running job: $info"
scancel --signal=USR1 "$id"
state=$(wait_job "$id" 60)
[ "$(field "$id" ExitCode)" = 3:0 ] || die "job $id ended $state with $(field "$id" ExitCode), not exit 3"
durable=$(tasks_on_disk b-usr1)
next=$(sed -n 's/.*resubmitted as job \([0-9]*\).*/\1/p' "aesweep-$id.err")
[ -n "$next" ] || die "job $id exited 3 but did not resubmit itself"
say "b1. scancel --signal=USR1: job $id exited 3 with $durable tasks durable, resubmitted as job $next"
state=$(wait_job "$next" 180)
[ "$state" = COMPLETED ] || die "resubmitted job $next ended $state"
kept=$(sed -n 's/^aesweep: resuming: \([0-9]*\) finished.*/\1/p' "aesweep-$next.err")
[ "${kept:-0}" -ge "$durable" ] || die "job $next resumed ${kept:-0} tasks, $durable were on disk"
sum=$(trained "aesweep-$id.err" "aesweep-$next.err")
[ "$sum" -le "$total" ] || die "jobs $id, $next trained $sum tasks of $total: durable tasks were retrained"
same b-usr1/results.h5 ref-long/results.h5
say "b1. job $next resumed $kept tasks and completed; $sum tasks trained in all; results identical"

# b2. A plain scancel (SIGTERM) stops the run for good: no requeue, no resubmission.
id=$(submit "$long" --out b-cancel -n 3 -t 10)
for _ in $(seq 600); do [ "$(tasks_on_disk b-cancel)" -ge 1 ] && break; sleep 0.1; done
scancel "$id"
state=$(wait_job "$id" 60)
[ "$state" = CANCELLED ] || die "cancelled job $id ended $state"
[ "$(field "$id" Restarts)" = 0 ] || die "cancelled job $id was requeued"
[ -z "$(squeue -h)" ] || die "a cancelled job left jobs in the queue: $(squeue)"
grep -q "not requeued" "aesweep-$id.err" || die "job $id: no word that it was not requeued"
say "b2. plain scancel: job $id cancelled, stopped cleanly, neither requeued nor resubmitted"

# b3. A real time limit: Slurm signals the batch script (B:USR1) with up to 60 s
# of slack, so on a one-minute limit it comes at its next check, within 30 s.
# One training rank makes the job longer than that: it is interrupted at least once.
id=$(submit "$long" --out b-time -n 2 --time=1 --signal=B:USR1@30)
state=$(wait_job "$id" 240)
[ "$state" = COMPLETED ] || die "job $id ended $state"
restarts=$(field "$id" Restarts)
[ "$restarts" -ge 1 ] || die "job $id was never interrupted by its time limit"
[ "$(grep -c 'got USR1' "aesweep-$id.err")" -ge 1 ] || die "the batch script of job $id never got USR1"
[ "$(grep -c 'exited with 3' "aesweep-$id.err")" = "$restarts" ] ||
    die "job $id: $restarts restarts, but $(grep -c 'exited with 3' "aesweep-$id.err") runs exited 3"
grep -q "requeued job $id" "aesweep-$id.err" || die "job $id was not requeued by its script"
sum=$(trained "aesweep-$id.err")
[ "$sum" -le "$total" ] || die "job $id trained $sum tasks of $total: durable tasks were retrained"
same b-time/results.h5 ref-long/results.h5
say "b3. --time=1: job $id stopped by its time limit and requeued $restarts time(s), completed;" \
    "$sum tasks trained in all; results identical"

ok=1
say "all Slurm tests passed"
