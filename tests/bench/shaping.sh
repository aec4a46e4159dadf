#!/usr/bin/env bash
# Usage: tests/bench/shaping.sh [OUTDIR]
# Issue 16's "what it buys": one encoder (report 004's: conv 32, 64, 128 of kernel
# 4, stride 2, batch norm, a dense 128-d code; Fashion-MNIST padded to 32x32 on
# [-1, 1]) and one budget (EPOCHS epochs, batch 128, Adam 1e-3), trained four
# ways, each followed by the same MLP on the frozen codes (256, 128, batch norm,
# dropout 0.3, CLS_EPOCHS epochs): a plain autoencoder (MSE + 0.5 MAE), guided
# (no decoder), SupCon (no decoder; crop 4 and noise 0.05, temperature 0.1,
# cosine with 1 warm-up epoch), and the plain autoencoder's encoder fine-tuned
# into the classifier (classifier.finetune, when this build has it). Prints the
# test accuracy of each, and the codes' k-NN and linear-probe accuracies.
# A benchmark: minutes per row at full size (TRAIN_LIMIT=0: all 60000 images).
# Environment: AESWEEP (./build/aesweep), EPOCHS (5), CLS_EPOCHS (10), TRAIN_LIMIT (0).
set -euo pipefail
AESWEEP=${AESWEEP:-./build/aesweep}
EPOCHS=${EPOCHS:-5} CLS_EPOCHS=${CLS_EPOCHS:-10} TRAIN_LIMIT=${TRAIN_LIMIT:-0}
out=${1:-$(mktemp -d)}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=1
cat > "$out/job.json" <<JSON
{"name": "shaping", "seed": 1,
 "data": {"dataset": "fashion-mnist", "pad": 2, "range": [-1, 1], "validation": 0.1,
          "train_limit": $TRAIN_LIMIT},
 "model": {"encoder": [{"conv": 32, "kernel": 4, "stride": 2, "padding": 1, "batchnorm": true},
                       {"conv": 64, "kernel": 4, "stride": 2, "padding": 1, "batchnorm": true},
                       {"conv": 128, "kernel": 4, "stride": 2, "padding": 1, "batchnorm": true}],
           "bottleneck": 128, "activation": "relu", "latent_activation": "linear",
           "output_activation": "tanh"},
 "train": {"optimizer": "adam", "lr": 0.001, "batch_size": 128, "epochs": $EPOCHS,
           "loss": "mse+mae", "mae_weight": 0.5, "early_stopping": {"patience": 0}},
 "classifier": {"hidden": [256, 128], "batchnorm": true, "dropout": 0.3, "lr": 0.001,
                "batch_size": 128, "epochs": $CLS_EPOCHS, "patience": 0}}
JSON
declare -A sets=(
    [plain]=""
    [guided]="--set penalty.type=guided --set penalty.lambda=1 --set train.recon_weight=0"
    [supcon]="--set penalty.type=supcon --set penalty.lambda=1 --set penalty.temperature=0.1 --set penalty.projection=[128,128] --set train.recon_weight=0 --set train.augment.crop=4 --set train.augment.noise=0.05 --set train.schedule=cosine --set train.lr_min=1e-5 --set train.warmup_epochs=1"
    [finetune]="--set classifier.finetune=true"
)
printf '%-9s %13s %12s %12s %9s\n' codes test_accuracy knn_test linear_test seconds
for name in plain guided supcon finetune; do
    # shellcheck disable=SC2086
    if ! "$AESWEEP" validate "$out/job.json" ${sets[$name]} > /dev/null 2> "$out/$name.log"; then
        printf '%-9s refused: %s\n' "$name" "$(head -n 1 "$out/$name.log")"
        continue
    fi
    start=$(date +%s)
    # shellcheck disable=SC2086
    "$AESWEEP" train "$out/job.json" ${sets[$name]} --out "$out/$name.h5" > "$out/$name.txt" \
        2> "$out/$name.log"
    secs=$(( $(date +%s) - start ))
    acc=$(awk '/^test_accuracy/ {print $2}' "$out/$name.txt")
    knn=$(awk '/^knn_accuracy/ {print $4}' "$out/$name.txt")
    lin=$(awk '/^linear_accuracy/ {print $4}' "$out/$name.txt")
    printf '%-9s %13s %12s %12s %9s\n' "$name" "$acc" "$knn" "$lin" "$secs"
done
