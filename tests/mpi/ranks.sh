#!/usr/bin/env bash
# Runs a job under mpirun with 1, 2 and 4 ranks (--oversubscribe: more ranks than
# cores) and checks that the three results files are identical but for seconds
# and rank (SPEC §6). Usage: tests/mpi/ranks.sh AESWEEP JOB.json OUTDIR [nodes]
# With "nodes", a fourth run: 5 ranks on two fake nodes of non-contiguous ranks
# ({0, 2, 4} and {1, 3}: AESWEEP_TEST_NODES=2), each with one shared copy of the
# data, and a fifth with no shared-memory windows at all (a copy a rank) must
# give the same results too (issue 18).
set -euo pipefail
aesweep=$1 job=$2 out=$3 nodes=${4:-}
# Open MPI refuses root without these; CI containers run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
rm -rf "$out"
for np in 1 2 4; do
    mpirun -np "$np" --oversubscribe "$aesweep" run "$job" --out "$out/np$np" 2> "$out.np$np.log" ||
        { echo "np $np failed:"; cat "$out.np$np.log"; exit 1; }
    tail -n 2 "$out.np$np.log"
done
for np in 2 4; do # one node: one copy, shared by all ranks
    grep -q "data: .* 1 copy for $np ranks (one a node)" "$out.np$np.log" ||
        { echo "np $np: the data is not one shared copy:"; grep "data:" "$out.np$np.log"; exit 1; }
done
runs=("$out"/np{1,2,4}/results.h5)
if [ "$nodes" = nodes ]; then
    mpirun -np 5 --oversubscribe -x AESWEEP_TEST_NODES=2 "$aesweep" run "$job" \
        --out "$out/nodes" 2> "$out.nodes.log" ||
        { echo "np 5 on two fake nodes failed:"; cat "$out.nodes.log"; exit 1; }
    grep "data:" "$out.nodes.log"
    grep -q "data: .* 2 copies for 5 ranks (one a node)" "$out.nodes.log" ||
        { echo "two fake nodes: not one copy each"; exit 1; }
    runs+=("$out/nodes/results.h5")
    # without Open MPI's shared-memory windows (osc/sm off) every rank loads its own
    mpirun -np 3 --oversubscribe --mca osc ^sm "$aesweep" run "$job" --out "$out/private" \
        2> "$out.private.log" || { echo "np 3 without osc/sm failed:"; cat "$out.private.log"; exit 1; }
    grep -q "data: .* 3 copies for 3 ranks (no shared memory window: one a rank)" \
        "$out.private.log" || { echo "no fallback to private copies:"; cat "$out.private.log"; exit 1; }
    runs+=("$out/private/results.h5")
fi
/usr/bin/python3 "$(dirname "$0")/compare.py" "${runs[@]}"
