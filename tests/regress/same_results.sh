#!/usr/bin/env bash
# Shows that a change leaves a job's results bit-identical: builds git revision REV
# (default: the last commit) in a temporary worktree, runs JOB with it and with
# this tree's build, and compares the two results files with tests/mpi/compare.py
# (every metric, curve and weight; only seconds and rank may differ; columns and
# attributes the older build did not write yet are listed, not compared).
# Usage: tests/regress/same_results.sh [REV] [JOB.json]   (from the repository root,
# after `cmake --build build`). Takes a few minutes on 2 cores.
set -euo pipefail
rev=${1:-HEAD}
job=${2:-tests/regress/dense_bisection.json}
root=$(pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
tmp=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$tmp/src" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git worktree add --detach -q "$tmp/src" "$rev"
cmake -S "$tmp/src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/build" -j "$(nproc)" --target aesweep >/dev/null
for side in before after; do
    bin=$tmp/build/aesweep
    [ "$side" = after ] && bin=$root/build/aesweep
    mpirun -np 2 "$bin" run "$job" --out "$tmp/$side" 2> "$tmp/$side.log" ||
        { cat "$tmp/$side.log"; exit 1; }
    echo "$side ($rev if before, this tree after): $(tail -n 1 "$tmp/$side.log")"
done
/usr/bin/python3 "$root/tests/mpi/compare.py" --allow-new "$tmp/before/results.h5" "$tmp/after/results.h5"
