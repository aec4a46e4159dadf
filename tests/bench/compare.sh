#!/usr/bin/env bash
# Usage: tests/bench/compare.sh [dense|conv]
#
# dense (default): the dense stacks below. conv: issue 15's models D, E and F
# (tests/bench/models/model_{D,E,F}.json: report 002's conv autoencoder, report
# 004's with batch norm on 3x32x32, report 002's VAE), which torch builds layer
# for layer from `aesweep bench --job JOB --layers-json`.
#
# Compares `aesweep bench` with the PyTorch reference (tests/bench/torch_bench.py,
# run with Debian's /usr/bin/python3 and python3-torch) on the same models,
# single-threaded. For each model the two are run alternately, REPS times each
# (the one that goes first alternates too), so that a noisy machine hurts both
# alike; the median samples/s of each is reported.
#
# Environment:
#   AESWEEP          aesweep binary (default ./build/aesweep)
#   SECONDS_PER_RUN  timed seconds per run (default 3)
#   REPS             runs per implementation per model (default 3)
#   PYTHON           interpreter with torch (default /usr/bin/python3)
#
# Output: a table with, per model, aesweep samples/s, torch samples/s, the
# ratio aesweep/torch and the GFLOP/s of each (2*m*n*k per GEMM, forward once,
# backward twice). Exits non-zero if either benchmark fails.
set -euo pipefail

AESWEEP=${AESWEEP:-./build/aesweep}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
REPS=${REPS:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TORCH_BENCH="$HERE/torch_bench.py"

# One thread everywhere, for both implementations. OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE are deliberately left as they are: the machine sets them
# (kernel choice / cache blocking for this CPU) and both sides should see the
# machine's own settings.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

if [[ ! -x "$AESWEEP" ]]; then
    echo "compare.sh: aesweep binary not found or not executable: $AESWEEP (set AESWEEP)" >&2
    exit 2
fi
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
    echo "compare.sh: $PYTHON cannot import torch (apt-get install python3-torch)" >&2
    exit 2
fi

MODELS=(
    "--layers 784,800,400,225 --batch 164 --activation relu"
    "--layers 784,392,196,8 --batch 128 --activation leaky_relu --leaky-slope 0.5"
)
SET=${1:-dense}
SPECS=$(mktemp -d)
if [[ $SET == conv ]]; then
    MODELS=()
    for m in D E F; do
        input=1x28x28
        [[ $m == E ]] && input=3x32x32
        args="--job $HERE/models/model_$m.json --input $input"
        "$AESWEEP" bench $args --layers-json > "$SPECS/$m.json"
        MODELS+=("$args")
        TORCH_ARGS+=("--model-json $SPECS/$m.json")
    done
elif [[ $SET != dense ]]; then
    echo "compare.sh: expected dense or conv, got $SET" >&2
    exit 2
else
    TORCH_ARGS=("${MODELS[@]}")
fi

# Last line of stdout that looks like a JSON object; fails if there is none.
json_line() {
    local out line
    out=$("$@")
    line=$(printf '%s\n' "$out" | grep '^{' | tail -n 1 || true)
    if [[ -z "$line" ]]; then
        echo "compare.sh: no JSON line from: $*" >&2
        return 1
    fi
    printf '%s\n' "$line"
}

run_aesweep() { json_line "$AESWEEP" bench $1 --seconds "$SECONDS_PER_RUN" --threads 1; }
run_torch() { json_line "$PYTHON" "$TORCH_BENCH" $1 --seconds "$SECONDS_PER_RUN" --threads 1; }

RESULTS=$(mktemp)
trap 'rm -rf "$RESULTS" "$SPECS"' EXIT

for m in "${!MODELS[@]}"; do
    args=${MODELS[$m]} targs=${TORCH_ARGS[$m]}
    echo "model $((m + 1)): $args" >&2
    for ((r = 0; r < REPS; r++)); do
        if ((r % 2 == 0)); then
            a=$(run_aesweep "$args"); t=$(run_torch "$targs")
        else
            t=$(run_torch "$targs"); a=$(run_aesweep "$args")
        fi
        echo "  aesweep: $a" >&2
        echo "  torch:   $t" >&2
        printf '%s\taesweep\t%s\n%s\ttorch\t%s\n' "$m" "$a" "$m" "$t" >>"$RESULTS"
    done
done

"$PYTHON" - "$RESULTS" <<'EOF'
import json, statistics, sys

runs = {}
for ln in open(sys.argv[1]):
    m, impl, js = ln.rstrip("\n").split("\t", 2)
    runs.setdefault(int(m), {}).setdefault(impl, []).append(json.loads(js))

def median_run(lst):
    # The run with the median samples/s (upper median for an even count),
    # so its gflops matches the reported throughput.
    s = sorted(lst, key=lambda d: d["samples_per_s"])
    return s[len(s) // 2]

hdr = ("model", "aesweep samp/s", "torch samp/s", "ratio", "aesweep GF/s", "torch GF/s")
rows = []
for m in sorted(runs):
    a, t = median_run(runs[m]["aesweep"]), median_run(runs[m]["torch"])
    if "layers" in a:
        name = "%s b%d" % ("-".join(map(str, a["layers"])), a["batch"])
    else:
        name = "%s %s b%d" % (a["job"].split("/")[-1], "x".join(map(str, a["input"])), a["batch"])
    # The same model, so the same FLOPs per sample: torch's GFLOP/s by the ratio.
    ratio = a["samples_per_s"] / t["samples_per_s"]
    rows.append((name,
                 "%.0f" % a["samples_per_s"], "%.0f" % t["samples_per_s"],
                 "%.2f" % ratio, "%.2f" % a["gflops"], "%.2f" % (a["gflops"] / ratio)))
w = [max(len(r[i]) for r in rows + [hdr]) for i in range(len(hdr))]
fmt = "  ".join("%-*s" if i == 0 else "%*s" for i in range(len(hdr)))
for r in [hdr] + rows:
    print(fmt % tuple(x for pair in zip(w, r) for x in pair))
EOF
