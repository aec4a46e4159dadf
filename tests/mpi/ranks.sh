#!/usr/bin/env bash
# Runs a job under mpirun with 1, 2 and 4 ranks (--oversubscribe: more ranks than
# cores) and checks that the three results files are identical but for seconds
# and rank (SPEC §6). Usage: tests/mpi/ranks.sh AESWEEP JOB.json OUTDIR
set -euo pipefail
aesweep=$1 job=$2 out=$3
# Open MPI refuses root without these; CI containers run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
rm -rf "$out"
for np in 1 2 4; do
    mpirun -np "$np" --oversubscribe "$aesweep" run "$job" --out "$out/np$np" 2> "$out.np$np.log" ||
        { echo "np $np failed:"; cat "$out.np$np.log"; exit 1; }
    tail -n 2 "$out.np$np.log"
done
/usr/bin/python3 "$(dirname "$0")/compare.py" "$out"/np{1,2,4}/results.h5
