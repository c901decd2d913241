#!/usr/bin/env bash
# Reproduces the RigL evidence table (issue 4 section 7): Fashion-MNIST, MLP 784-300-100-10 at sparsity 0.9, 0.95,
# 0.98 and LeNet-5 at 0.9 and 0.95, 3 seeds each, for Dense, Static, SET, SNFS, SNIP, Pruning, Small-Dense, RigL
# (uniform), RigL (ERK), RigL 2x, RigL with a global ranking (rigl_global) and MEST+EM&S (mest). Each run writes out/evidence/<run>/summary.json; tools/evidence_report.py then
# writes out/evidence/EVIDENCE.md and out/evidence/accuracy_vs_flops.png.
# Usage: tools/evidence.sh [--epochs_mlp N] [--epochs_lenet N] [--seeds "0 1 2"] [--threads T] [--jobs J] [--quick]
#                          [--only "rigl rigl-global mest"] [--out DIR]
# --jobs J runs J trainings at once (each with --threads T); --quick runs one seed and 2 epochs (a smoke check of
# the script itself); --only queues just the named rows (the method part of the run names below); --out DIR writes
# the runs and the report there instead of out/evidence (e.g. a longer sweep kept beside the short one). Finished runs (with a summary.json) are skipped, so an interrupted sweep can be continued.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs_mlp=10
epochs_lenet=5
seeds="0 1 2"
threads=2
jobs=1
only=""
out="out/evidence"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --epochs_mlp) epochs_mlp="$2"; shift 2 ;;
    --epochs_lenet) epochs_lenet="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --quick) epochs_mlp=2; epochs_lenet=1; seeds="0"; shift ;;
    --only) only="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "evidence.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
bazel build //rigl:trainer >/dev/null
bin="bazel-bin/rigl/trainer"
mkdir -p "$out"
# Shared hyper-parameters (PERF.md's PyTorch setting): batch 128, SGD momentum 0.9 (Nesterov), lr 0.05 cosine,
# weight decay 1e-4. Topology updates every 100 steps with alpha 0.3 cosine until 75% of training.
common=(--batch_size=128 --lr=0.05 --momentum=0.9 --nesterov --weight_decay=1e-4 --lr_schedule=cosine
        --delta_t=100 --drop_fraction=0.3 --t_end=0.75 --threads=$threads --progress=none)
source tools/sweep_lib.sh
for seed in $seeds; do
  for model in mlp lenet5; do
    if [[ $model == mlp ]]; then epochs=$epochs_mlp; sparsities="0.9 0.95 0.98"; else epochs=$epochs_lenet; sparsities="0.9 0.95"; fi
    base=(--model=$model --epochs=$epochs --seed=$seed)
    row dense "${model}_dense_s0_seed${seed}" "${base[@]}" --method=dense
    for s in $sparsities; do
      tag="${model}_s${s}"
      for method in static set snfs snip pruning small_dense; do
        row $method "${tag}_${method}_seed${seed}" "${base[@]}" --method=$method --sparsity=$s --distribution=uniform
      done
      row rigl "${tag}_rigl_seed${seed}" "${base[@]}" --method=rigl --sparsity=$s --distribution=uniform
      row rigl-erk "${tag}_rigl-erk_seed${seed}" "${base[@]}" --method=rigl --sparsity=$s --distribution=erk
      row rigl-2x "${tag}_rigl-2x_seed${seed}" "${base[@]}" --method=rigl --sparsity=$s --distribution=uniform \
        --multiplier=2
      # Beyond RigL (issue 16): both start from the uniform distribution, as RigL's row does.
      row rigl-global "${tag}_rigl-global_seed${seed}" "${base[@]}" --method=rigl_global --sparsity=$s \
        --distribution=uniform
      row mest "${tag}_mest_seed${seed}" "${base[@]}" --method=mest --sparsity=$s --distribution=uniform
    done
  done
done
run_queue
python3 tools/evidence_report.py "$out"
