#!/usr/bin/env bash
# From a fresh Debian 12 machine to a trained autoencoder on the real Fashion-MNIST:
# installs what is missing, builds (Release), trains jobs/quickstart.json's fixed
# configuration and says where the model is. (The search, `aesweep run` under
# mpirun, replaces the training step once it exists.)
set -euo pipefail
cd "$(dirname "$0")"
scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
mkdir -p runs/quickstart
./build/aesweep train jobs/quickstart.json --out runs/quickstart/model.h5
echo "quickstart: model, loss curve and MSEs in runs/quickstart/model.h5"
