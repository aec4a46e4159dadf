#!/usr/bin/env bash
# Installs what aesweep needs from Debian's packages, only what is missing.
# Usage: scripts/deps.sh [build|test|bench]   (test adds the test-only packages;
# bench adds those and what the benchmarks compare against: Optuna)
# Idempotent and non-interactive: apt-get update runs at most once, and only
# when something is missing.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin libopenblas-dev
            libhdf5-dev libcjson-dev zlib1g-dev dataset-fashion-mnist
            python3 python3-h5py python3-numpy python3-matplotlib python3-sklearn)
test_pkgs=(python3-pytest python3-torch valgrind munge slurmctld slurmd slurm-client
           clang libclang-rt-14-dev lmod python3-onnx chromium)
bench_pkgs=(python3-optuna)

want=("${build_pkgs[@]}")
case "${1:-build}" in
    test) want+=("${test_pkgs[@]}") ;;
    bench) want+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
esac

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
echo "deps.sh: installing ${missing[*]}" >&2
$sudo apt-get -o DPkg::Lock::Timeout=900 update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${missing[@]}"
