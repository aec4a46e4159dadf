#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan, build-fuzz/) and runs each
# for SECONDS (default 30) from its seed corpus, then replays every input kept in
# tests/fuzz/regress/ (crashes found earlier). Any crash, leak or sanitizer report
# fails it; the input that did it is left in build-fuzz/crash-*.
# Usage: tests/fuzz/run.sh [SECONDS]. Longer: tests/fuzz/run.sh 3600
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAESWEEP_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_spec fuzz_idx >/dev/null
regress=(tests/fuzz/regress/*)
[ -e "${regress[0]}" ] || regress=()
for target in spec idx; do
    corpus=build-fuzz/corpus_$target # grows as the fuzzer finds new paths; the repo's seeds stay as they are
    mkdir -p "$corpus"
    cp -n tests/fuzz/corpus_$target/* "$corpus/"
    ./build-fuzz/fuzz_$target -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="build-fuzz/crash-$target-" -print_final_stats=1 "$corpus" \
        > "build-fuzz/fuzz_$target.log" 2>&1 ||
        { tail -n 40 "build-fuzz/fuzz_$target.log"; echo "FAIL: fuzz_$target found a crash"; exit 1; }
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "build-fuzz/fuzz_$target.log")
    echo "fuzz_$target: $runs inputs in ${seconds} s, no crash; corpus $(ls "$corpus" | wc -l) files"
    if [ ${#regress[@]} -gt 0 ]; then
        ./build-fuzz/fuzz_$target "${regress[@]}" > "build-fuzz/regress_$target.log" 2>&1 ||
            { tail -n 40 "build-fuzz/regress_$target.log"; echo "FAIL: a kept regression input crashes fuzz_$target"; exit 1; }
        echo "fuzz_$target: ${#regress[@]} kept regression inputs pass"
    fi
done
