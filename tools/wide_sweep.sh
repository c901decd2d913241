#!/usr/bin/env bash
# Issue 16 part 1, "sparse and wide beats dense and small at the same parameter count": on Fashion-MNIST, the dense
# MLP 784-300-100-10 (266,200 weights) against 784-W-W-10 for W in {1000, 3000, 10000} at the sparsity whose nnz equals
# 266,200 (ERK; Static, SET and RigL), 3 seeds, plus the dense 784-1000-1000-10 as the upper reference (the dense
# W = 3000 and 10000 models cost 43x and 405x the small one's FLOPs per step: not run). Same optimiser and schedule as
# tools/evidence.sh, 30 epochs (the dense small model's test accuracy peaks there: 89.60 / 90.11 / 89.45 % at 10 / 30
# / 50 epochs, seed 0, while its test loss keeps rising). tools/wide_report.py writes out/wide/WIDE.md and the plot.
# Usage: tools/wide_sweep.sh [--epochs N] [--seeds "0 1 2"] [--widths "1000 3000 10000"] [--threads T] [--jobs J].
# Finished runs are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=30
seeds="0 1 2"
widths="10000 3000 1000"
threads=1
jobs=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --widths) widths="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    *) echo "wide_sweep.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
bazel build //rigl:trainer >/dev/null
bin="bazel-bin/rigl/trainer"
out="out/wide"
mkdir -p "$out"
common=(--model=mlp --epochs=$epochs --batch_size=128 --lr=0.05 --momentum=0.9 --nesterov --weight_decay=1e-4
        --lr_schedule=cosine --delta_t=100 --drop_fraction=0.3 --t_end=0.75 --threads=$threads --progress=none)
source tools/sweep_lib.sh
dense_weights=$((784 * 300 + 300 * 100 + 100 * 10))
for w in $widths; do  # widest first, so the longest runs do not end the sweep alone
  # The sparsity whose nnz equals the small dense model's weights: S = 1 - 266200 / (784 W + W^2 + 10 W).
  s=$(python3 -c "print(repr(1 - $dense_weights / (784 * $w + $w * $w + 10 * $w)))")
  for seed in $seeds; do
    for method in static set rigl; do
      run "w${w}_${method}_seed${seed}" --width=$w,$w --method=$method --sparsity=$s --distribution=erk --seed=$seed
    done
  done
done
for seed in $seeds; do
  run "w300-100_dense_seed${seed}" --width=300,100 --method=dense --seed=$seed
  run "w1000_dense_seed${seed}" --width=1000,1000 --method=dense --seed=$seed
done
run_queue
python3 tools/wide_report.py "$out"
