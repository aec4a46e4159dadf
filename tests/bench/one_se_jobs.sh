#!/usr/bin/env bash
# Which report jobs choose differently under search.select one_se (issue 20, item 4):
# each job scaled down on Fashion-MNIST, with 3 folds (one_se needs a standard
# error) and a "prefer" on the parameters with a simpler end, run under "one_se"
# and, for a bisection (whose rounds follow the choice), under "best" as well. A grid
# or a random search trains the same trials either way: its run's last line names
# the chosen trial and the best. Prints the run's last line per job; the logs and
# results stay in OUT. Usage: tests/bench/one_se_jobs.sh AESWEEP [OUT] [NP] [NAME ...]
# (NAMEs: only those jobs: compression class_target_mlp finetune random_search
# conv_random_search autoencoder classifier); SELECTS="one_se" runs the bisections
# under that rule alone.
set -euo pipefail
aesweep=$1 out=${2:-/tmp/one_se_jobs} np=${3:-3}
only=" ${*:4} "
src=$(cd "$(dirname "$0")/../.." && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
mkdir -p "$out"
scale=(--set data.dataset=fashion-mnist --set search.folds=3)
run() { # name job select [--set ...]
    local name=$1 job=$2 select=$3
    shift 3
    [ "$only" = "  " ] || [[ "$only" == *" $name "* ]] || return 0
    local t0=$SECONDS
    mpirun -np "$np" --oversubscribe "$aesweep" run "$src/jobs/$job.json" --out "$out/$name.$select" \
        --fresh "${scale[@]}" --set "search.select=$select" "$@" > "$out/$name.$select.log" 2>&1 ||
        { echo "$name ($select) failed:"; tail -5 "$out/$name.$select.log"; return 1; }
    printf '%s, %s (%d s): %s\n' "$name" "$select" $((SECONDS - t0)) \
        "$(grep -aE '^(.\[K)?(best|chosen): trial' "$out/$name.$select.log" | tail -1 | sed 's/^.\[K//')"
}
low=('"low"') high=('"high"')
small=(--set data.train_limit=3000)
run compression report001_compression one_se "${small[@]}" --set train.epochs=5 \
    --set search.space.bottleneck.prefer="$low"
run class_target_mlp report000_class_target_mlp one_se "${small[@]}" --set train.epochs=3 \
    --set classifier.epochs=5 --set search.space.bottleneck.prefer="$low"
run finetune report002_classifier_finetune one_se "${small[@]}" --set train.epochs=3 \
    --set classifier.epochs=3 \
    --set search.space.bottleneck.prefer="$low"
run random_search report002_random_search one_se "${small[@]}" --set train.epochs=5 \
    --set search.space.bottleneck.prefer="$low"
run conv_random_search report002_conv_random_search one_se "${small[@]}" --set train.epochs=3 \
    --set search.space.bottleneck.prefer="$low"
# their batch sizes reach 2048: each fold trains on 4000 images
for select in ${SELECTS:-best one_se}; do
    run autoencoder report003_a_autoencoder "$select" --set data.train_limit=6000 \
        --set train.epochs=2 --set classifier.epochs=3 \
        --set search.space.bottleneck.prefer="$low" --set search.space.batch_size.prefer="$high"
    run classifier report003_a_classifier "$select" --set data.train_limit=6000 \
        --set train.epochs=2 --set classifier.epochs=3 \
        --set search.space.classifier.hidden.prefer="$low" \
        --set search.space.classifier.batch_size.prefer="$high"
done
