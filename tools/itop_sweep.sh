#!/usr/bin/env bash
# Issue 16 part 3, exploration: RigL on the MLP 784-300-100-10 at sparsity 0.95 (uniform), Fashion-MNIST, over
# update interval dT in {50, 100, 200, 500, 1000} x initial drop fraction in {0.1, 0.3, 0.5}, 2 seeds; in-time
# over-parameterisation (Liu et al. 2021) measured as the fraction of all sparse-layer positions ever active.
# tools/itop_report.py then writes out/itop/ITOP.md, itop_heatmaps.png (accuracy and exploration) and
# itop_scatter.png (accuracy against exploration).
# Usage: tools/itop_sweep.sh [--epochs N] [--seeds "0 1"] [--threads T] [--jobs J]. Finished runs are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=10
seeds="0 1"
threads=1
jobs=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    *) echo "itop_sweep.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
bazel build //rigl:trainer >/dev/null
bin="bazel-bin/rigl/trainer"
out="out/itop"
mkdir -p "$out"
# tools/evidence.sh's setting but for dT and alpha.
common=(--model=mlp --method=rigl --sparsity=0.95 --distribution=uniform --epochs=$epochs --batch_size=128 --lr=0.05
        --momentum=0.9 --nesterov --weight_decay=1e-4 --lr_schedule=cosine --t_end=0.75 --threads=$threads
        --progress=none)
source tools/sweep_lib.sh
for seed in $seeds; do
  for dt in 50 100 200 500 1000; do
    for alpha in 0.1 0.3 0.5; do
      run "dt${dt}_a${alpha}_seed${seed}" --delta_t=$dt --drop_fraction=$alpha --seed=$seed
    done
  done
done
run_queue
python3 tools/itop_report.py "$out"
