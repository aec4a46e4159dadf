#!/usr/bin/env bash
# Every file in jobs/ must be usable as shipped:
#   - every job validates (`aesweep validate`): a search job prints its plan, a job
#     without search.space (for `aesweep train`) its one configuration;
#   - a job without a search also trains on a tiny subset;
#   - two report jobs run end to end on a small subset of Fashion-MNIST.
# Jobs whose data.path folder is not on this machine (MNIST, Kuzushiji-MNIST) are
# checked on Fashion-MNIST, as jobs/README.md tells users to.
# Usage: tests/jobs/check.sh AESWEEP OUTDIR
set -euo pipefail
aesweep=$1 out=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$out"
mkdir -p "$out"
fail() { echo "FAIL: $*" >&2; exit 1; }

# What a job needs here: "search" or "train", and "fashion" when its data.path is absent.
kind() {
    /usr/bin/python3 - "$1" <<'PY'
import json, os, sys
j = json.load(open(sys.argv[1]))
path = j.get("data", {}).get("path")
print("search" if "space" in j.get("search", {}) else "train",
      "fashion" if path and not os.path.isdir(path) else "")
PY
}

small=(--set data.train_limit=600 --set data.test_limit=200 --set train.epochs=1
       --set classifier.epochs=1)
n=0
for job in "$src"/jobs/*.json; do
    name=$(basename "$job" .json)
    read -r what data <<< "$(kind "$job")"
    sets=()
    [ "$data" = fashion ] && sets=(--set data.dataset=fashion-mnist)
    if [ "$what" = search ]; then
        plan=$("$aesweep" validate "$job" --out "$out/$name" "${sets[@]}") ||
            fail "$job does not validate"
        grep -q '^plan ' <<< "$plan" || fail "$job: validate printed no plan"
        echo "$name: $(sed -n 's/^plan  *//p' <<< "$plan")"
    else
        config=$("$aesweep" validate "$job" "${sets[@]}") || fail "$job does not validate"
        grep -q '^configuration' <<< "$config" || fail "$job: validate printed no configuration"
        "$aesweep" train "$job" "${sets[@]}" "${small[@]}" --out "$out/$name.h5" \
            > /dev/null 2> "$out/$name.log" || { cat "$out/$name.log"; fail "$job does not train"; }
        echo "$name: validates and trains (aesweep train)"
    fi
    n=$((n + 1))
done
[ "$n" -ge 10 ] || fail "only $n job files in jobs/"

# Two report experiments end to end, small: a grid with a classifier (dropout and
# the class_target penalty), and 5-fold CV of the denoising run.
for name in report000_class_target_mlp report002_denoising; do
    "$aesweep" run "$src/jobs/$name.json" --out "$out/run_$name" --set data.dataset=fashion-mnist \
        "${small[@]}" 2> "$out/run_$name.log" || { cat "$out/run_$name.log"; fail "$name did not run"; }
    info=$("$aesweep" info "$out/run_$name/results.h5")
    grep -q '^status: *complete$' <<< "$info" || fail "$name: $info"
    echo "$name: ran end to end ($(tail -n 2 "$out/run_$name.log" | head -n 1))"
done
echo "all $n job files usable"
