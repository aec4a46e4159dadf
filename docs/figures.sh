#!/usr/bin/env bash
# Usage: docs/figures.sh [OUT]
# Remakes the README's Analysis figures in docs/figures/ from real searches on
# Fashion-MNIST (about 5 minutes on 2 cores): jobs/tradeoffs.json with random
# search and with tpe (6 random startup trials, lag 2), the report of the first (Pareto fronts, parallel
# coordinates, importance) and compare.py of the two. OUT (default
# runs/figures) keeps the runs, the report and the comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/figures}
aesweep=${AESWEEP:-./build/aesweep}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
mpirun -np 3 --oversubscribe "$aesweep" run jobs/tradeoffs.json --out "$out/random" --fresh 2> "$out.random.log" ||
    { cat "$out.random.log"; exit 1; }
mpirun -np 3 --oversubscribe "$aesweep" run jobs/tradeoffs.json --out "$out/tpe" --fresh \
    --set search.strategy=tpe --set search.startup_trials=6 --set search.lag=2 2> "$out.tpe.log" || { cat "$out.tpe.log"; exit 1; }
/usr/bin/python3 analysis/report.py "$out/random/results.h5" -o "$out/report"
/usr/bin/python3 analysis/compare.py "$out/random/results.h5" "$out/tpe/results.h5" \
    -o "$out/compare" --label random --label tpe
for f in pareto parallel importance; do cp "$out/report/$f.png" "docs/figures/$f.png"; done
cp "$out/compare/progress.png" docs/figures/compare.png
"$aesweep" info "$out/random/results.h5" --pareto --top 0 > docs/figures/info_pareto.txt
ls -l docs/figures
