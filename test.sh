#!/usr/bin/env bash
# Installs what is missing (Debian packages), builds, and runs every test:
#   1. the Release build's ctest suite (unit tests, real Fashion-MNIST, the binary,
#      the Python reader of model files, real mpirun runs), then the real Slurm test
#      (needs root: a private munged + slurmctld + slurmd; SKIPPED otherwise);
#   2. the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer, with
#      LeakSanitizer's own checks (tests/sanitize/);
#   3. libFuzzer on the job-spec and IDX readers (clang, ASan + UBSan), 30 s each;
#   4. the fast unit tests and a small `aesweep train` under valgrind.
# Idempotent and non-interactive. Set AESWEEP_QUICK=1 to run only step 1.
set -euo pipefail
cd "$(dirname "$0")"
jobs=$(nproc 2>/dev/null || echo 2)

scripts/deps.sh test

step() { printf '\n== %s\n' "$*" >&2; }

step "Release build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
step "ctest (Release)"
(cd build && ctest --output-on-failure -j "$jobs" -LE slurm)
# Its own step, in full: what it checks as it goes, or why it was SKIPPED.
step "Slurm: a real single-node cluster (tests/slurm/run.sh, about 2 minutes)"
(cd build && ctest -L slurm --output-on-failure -V | sed -n -e 's/^[0-9]*: //p' -e '/Test *#/p')

[ "${AESWEEP_QUICK:-0}" = 1 ] && exit 0

step "ASan + UBSan build"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAESWEEP_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
step "ctest (ASan + UBSan)"
# Full stack unwinding, so that Open MPI's own end-of-process allocations can be
# told apart by library (tests/lsan_mpi.supp) while aesweep's are all reported.
# The binaries carry intercept_tls_get_addr=0 (src/core/sanitizer_defaults.c); the
# ctest `sanitizer` shows that LeakSanitizer neither crashes on the TLS layout that
# made this step fail at random nor misses a deliberate leak under these options.
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
    LSAN_OPTIONS=suppressions="$PWD/../tests/lsan_mpi.supp":print_suppressions=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j "$jobs" -LE slurm)

step "fuzzing: job specs and IDX files, 30 s each (tests/fuzz/run.sh)"
tests/fuzz/run.sh 30

step "valgrind"
vg() { valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite "$@"; }
(
    cd build
    export OPENBLAS_NUM_THREADS=1 AESWEEP_SRC=.. TEST_TMP=test_tmp
    for t in grad layers optim spec search; do vg ./test_$t; done
    # The whole command path: job, data, trainer, HDF5 file.
    vg ./aesweep train ../tests/python/jobs/model_small.json \
        --set data.path=/usr/share/datasets/fashion-mnist --set data.train_limit=500 \
        --set data.test_limit=500 --set train.epochs=1 --out test_tmp/valgrind.h5 >/dev/null
)
step "all tests passed"
