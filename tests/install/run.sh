#!/usr/bin/env bash
# Usage: tests/install/run.sh BUILD_DIR SCRATCH
# Issue 18, item 6: aesweep installed as HPC software is. `cmake --install` into a
# temporary prefix; then, in a folder outside the checkout and with nothing of
# the checkout on PATH, what a user does: Lmod's `module load aesweep`, a tiny
# search under mpirun, the report and the Python module, `module unload`.
set -euo pipefail
if [ "${AESWEEP_SANITIZED:-0}" = 1 ]; then
    echo "SKIPPED: the install layout is the Release build's test"
    exit 0
fi
build=$(cd "$1" && pwd) tmp=$2
die() { echo "install test: $*" >&2; exit 1; }
rm -rf "$tmp"
mkdir -p "$tmp"
tmp=$(cd "$tmp" && pwd)
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" > "$tmp/install.log" || { cat "$tmp/install.log"; die "cmake --install failed"; }
for f in bin/aesweep bin/aesweep-report bin/aesweep-export bin/aesweep-export-model bin/aesweep-compare \
         share/aesweep/analysis/aesweep_results.py share/aesweep/slurm/submit.sh \
         share/aesweep/slurm/aesweep.sbatch share/aesweep/jobs/quickstart.json; do
    [ -e "$prefix/$f" ] || die "$f is not installed"
done
modulefile=$(find "$prefix/share/modulefiles/aesweep" -name '*.lua')
[ -n "$modulefile" ] || die "no modulefile under $prefix/share/modulefiles/aesweep"

# A user's shell: Debian's Lmod, the checkout nowhere on PATH or PYTHONPATH.
export PATH=/usr/local/bin:/usr/bin:/bin PYTHONPATH=
unset AESWEEP AESWEEP_ROOT
# shellcheck disable=SC1091
source /usr/share/lmod/lmod/init/bash
module use "$prefix/share/modulefiles"
module avail aesweep 2>&1 | grep -q "aesweep/" || die "module avail does not list aesweep"
module load aesweep
echo "module load aesweep: $(module -t list 2>&1 | tr '\n' ' ')"
[ "$(command -v aesweep)" = "$prefix/bin/aesweep" ] || die "aesweep on PATH is $(command -v aesweep)"
[ "$AESWEEP_ROOT" = "$prefix" ] || die "AESWEEP_ROOT is '$AESWEEP_ROOT', not $prefix"

work=$tmp/work
mkdir -p "$work"
cd "$work"
cat > job.json <<'EOF'
{
  "name": "installed", "seed": 5,
  "data": {"dataset": "fashion-mnist", "train_limit": 600, "test_limit": 300},
  "model": {"hidden": [32], "bottleneck": 4},
  "train": {"epochs": 2, "batch_size": 64, "early_stopping": {"patience": 0}},
  "classifier": {"hidden": [16], "epochs": 1},
  "search": {"strategy": "random", "folds": 2, "trials": 3, "objective": "val_mse",
             "space": {"lr": {"min": 1e-3, "max": 1e-2, "scale": "log"}}},
  "output": {"dir": "runs/installed", "weights": "best"}
}
EOF
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
aesweep validate job.json > validate.log || { cat validate.log; die "validate failed"; }
mpirun -np 2 --oversubscribe aesweep run job.json 2> run.log || { cat run.log; die "run failed"; }
tail -n 3 run.log
[ -f runs/installed/results.h5 ] || die "no runs/installed/results.h5"
aesweep info runs/installed/results.h5 | head -n 3
aesweep-report runs/installed/results.h5 -o report > report.log 2>&1 || { cat report.log; die "aesweep-report failed"; }
[ -f report/index.html ] || die "no report/index.html: $(ls report)"
echo "report: $(ls report | wc -l) files in report/"
aesweep-export --help > /dev/null || die "aesweep-export --help failed"
aesweep-compare --help > /dev/null || die "aesweep-compare --help failed"
aesweep-export-model runs/installed/results.h5 -o exported > export.log 2>&1 || { cat export.log; die "aesweep-export-model failed"; }
python3 -c "import sys; sys.path.insert(0, 'exported'); import model; print('exported:', type(model.load()).__name__)" ||
    die "the exported model does not load"
python3 - <<'EOF' || die "import aesweep_results failed"
import aesweep_results as ar
print("python: aesweep_results from", ar.__file__)
EOF
python3 -c "import aesweep_results, os; assert os.environ['AESWEEP_ROOT'] in aesweep_results.__file__"
module unload aesweep
command -v aesweep > /dev/null && die "aesweep still on PATH after module unload"
echo "install test: passed ($prefix)"
