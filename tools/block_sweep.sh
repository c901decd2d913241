#!/usr/bin/env bash
# The block-sparse trade-off (issue 18): Fashion-MNIST, MLP 784-300-100-10 and LeNet-5, RigL and Static (ERK) at
# sparsity 0.9 and 0.95, in 1x1 (CSR), 4x1 and 8x1 blocks, 3 seeds, plus the dense model per seed as the reference.
# Each run writes out/blocks/<run>/summary.json; tools/block_report.py then writes out/blocks/BLOCKS.md and
# out/blocks/blocks.png (accuracy against training FLOPs and against wall time).
# Usage: tools/block_sweep.sh [--epochs_mlp N] [--epochs_lenet N] [--seeds "0 1 2"] [--threads T] [--jobs J] [--quick]
#                             [--out DIR]
# --jobs J runs J trainings at once (each with --threads T); --quick: one seed, 1 epoch each (a smoke check of the
# script). Finished runs (with a summary.json) are skipped, so an interrupted sweep continues where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs_mlp=20
epochs_lenet=10
seeds="0 1 2"
threads=1
jobs=2
out="out/blocks"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --epochs_mlp) epochs_mlp="$2"; shift 2 ;;
    --epochs_lenet) epochs_lenet="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --quick) epochs_mlp=1; epochs_lenet=1; seeds="0"; shift ;;
    --out) out="$2"; shift 2 ;;
    *) echo "block_sweep.sh: unknown argument $1; expected --epochs_mlp, --epochs_lenet, --seeds, --threads, --jobs, --quick or --out" >&2; exit 2 ;;
  esac
done
bazel build //rigl:trainer >/dev/null
bin="bazel-bin/rigl/trainer"
mkdir -p "$out"
# The trainer's defaults otherwise (batch 128, SGD momentum 0.9, lr 0.05 cosine, dT 100, drop fraction 0.3).
common=(--threads=$threads --progress=none)
source tools/sweep_lib.sh
for seed in $seeds; do
  for model in mlp lenet5; do
    if [[ $model == mlp ]]; then epochs=$epochs_mlp; else epochs=$epochs_lenet; fi
    base=(--model=$model --epochs=$epochs --seed=$seed)
    run "${model}_dense_1x1_s0_seed${seed}" "${base[@]}" --method=dense
    for s in 0.9 0.95; do
      for method in rigl static; do
        for block in 1x1 4x1 8x1; do
          run "${model}_${method}_${block}_s${s}_seed${seed}" "${base[@]}" --method=$method --sparsity=$s --block=$block
        done
      done
    done
  done
done
run_queue
python3 tools/block_report.py "$out"
