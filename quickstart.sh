#!/usr/bin/env bash
# From a fresh Debian 12 machine to a finished search on the real Fashion-MNIST:
# installs what is missing, builds (Release), runs jobs/quickstart.json under
# mpirun on this machine's cores (rank 0 coordinates, one training rank per
# core), writes the report (analysis/report.py), and prints the best trial and
# where the results and the report are. A few minutes.
set -euo pipefail
cd "$(dirname "$0")"
scripts/deps.sh build
cores=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$cores"
# Open MPI refuses root unless told; containers and fresh VMs often are root.
[ "$(id -u)" -eq 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OPENBLAS_NUM_THREADS=1
mpirun -np $((cores + 1)) --oversubscribe build/aesweep run jobs/quickstart.json \
    --out runs/quickstart --fresh
build/aesweep info runs/quickstart/results.h5
/usr/bin/python3 analysis/report.py runs/quickstart/results.h5 -o runs/quickstart/report
echo "quickstart: results in runs/quickstart/results.h5 (task files in runs/quickstart/tasks/)"
echo "quickstart: report in runs/quickstart/report/index.html"
