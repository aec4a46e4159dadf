#!/usr/bin/env bash
# Usage: tests/bench/search_efficiency.sh [OUTDIR] [--seeds N] [--only NAME,...]
# Issue 17's search-efficiency benchmark: best val_mse found against training
# epochs spent for random, grid, bisection, tpe, hyperband, asha, hyperband+tpe, asha+tpe
# (aesweep under mpirun -np NP) and Optuna 3.1's TPESampler alone and with its
# HyperbandPruner, driving `aesweep train --progress json` (NP - 1 trials at a
# time). One problem (784-256-B-256-784, 6000 Fashion-MNIST images, a 10%
# holdout, at most 20 epochs a configuration), one budget (400 epochs), 5 seeds.
# See tests/bench/search_efficiency.py for the details. A benchmark, not a test:
# about an hour at the defaults on 2 cores. Results are kept in
# OUTDIR/curves.json, so an interrupted run goes on where it stopped.
# Environment: AESWEEP (./build/aesweep), NP (3), BUDGET (400), MAX_EPOCHS (20).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/deps.sh bench
out=${1:-runs/search_efficiency}
shift || true
exec /usr/bin/python3 tests/bench/search_efficiency.py "$out" "$@"
