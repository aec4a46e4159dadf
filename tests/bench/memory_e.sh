#!/usr/bin/env bash
# The resident memory of a worker training model E (report 004's conv
# autoencoder with batch norm, tests/bench/models/model_E.json) on 50 000 images
# of 3x32x32: writes a CIFAR-10-sized folder in the real binary format (random
# pixels and labels; 5 x 10000 training records and 10000 test records), trains
# EPOCHS epochs (default 1) with `aesweep train`, and prints the peak resident
# set size from /usr/bin/time. Issue 15 aims at under 400 MB. A benchmark, not a
# test: about 2 minutes per epoch on one core, 184 MB of files in a temporary folder.
# Usage: tests/bench/memory_e.sh   (AESWEEP=./build/aesweep, EPOCHS=1)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AESWEEP=${AESWEEP:-./build/aesweep}
EPOCHS=${EPOCHS:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$tmp" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(1)
for name in [f"data_batch_{b}.bin" for b in range(1, 6)] + ["test_batch.bin"]:
    rec = rng.integers(0, 256, (10000, 3073), dtype=np.uint8)
    rec[:, 0] = rng.integers(0, 10, 10000)
    rec.tofile(f"{sys.argv[1]}/{name}")
PY
export OPENBLAS_NUM_THREADS=1
/usr/bin/time -f "%M" -o "$tmp/rss" "$AESWEEP" train "$HERE/models/model_E.json" \
    --set data.dataset=cifar10 --set "data.path=$tmp" --set "train.epochs=$EPOCHS" \
    --set classifier.epochs=0 --out "$tmp/model.h5" > "$tmp/train.log" 2>&1 ||
    { cat "$tmp/train.log"; exit 1; }
echo "model E on 50000 images of 3x32x32 ($(grep -c . "$tmp/train.log") lines of output):" \
    "peak resident memory $(( $(cat "$tmp/rss") / 1024 )) MB"
