#!/usr/bin/env bash
# The README's character-level GRU table (issue 22): the paper's GRU language model (embedding 128, GRU 512, readout
# 256 -> 128, 256 bytes; Adam 7e-4, L2 5e-4, clipping 10, sequences of 512, batch 32, S = 0.75 uniform, drop fraction
# 0.1, updates until the end) trained dense, with RigL, SET and Static on the King James Bible, one after the other
# (never two at once: the wall times are part of the table), then the table in Markdown on stdout.
# Budget: one pass over the first 6400 training sequences (200 steps, 3.3 MB of text); dT = 20 so that RigL and SET
# update 10 times within it (the paper's dT = 100 over 200k steps would give a 200-step run a single update).
# Usage: tools/gru_lm_runs.sh [OUT_DIR (default runs/gru_lm)] [extra trainer flags...]. About 25 minutes on 2 cores.
# An OUT_DIR that already holds these runs is refused by the trainer (exit 2): nothing earlier is overwritten.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/gru_lm}"
shift || true
mkdir -p "$out"
bazel build -c opt //rigl:trainer >/dev/null
bin=$(mktemp -d)/trainer
cp bazel-bin/rigl/trainer "$bin"  # a later build cannot swap the binary under a running job
common=(--model=gru_lm --distribution=uniform --sparsity=0.75 --optimizer=adam --lr=7e-4 --lr_schedule=constant
        --weight_decay=5e-4 --clip_grad_norm=10 --batch_size=32 --seq_len=512 --epochs=1 --train_limit=6400
        --delta_t=20 --drop_fraction=0.1 --t_end=1 --seed=0 --threads=2 --progress=lines "$@")
for m in dense rigl set static; do
  echo "gru_lm_runs: $m" >&2
  "$bin" "${common[@]}" --method="$m" --out_dir="$out/$m" >"$out/$m.log" 2>&1 || {
    echo "gru_lm_runs: $m failed; see $out/$m.log" >&2; exit 1; }
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
rows = {m: json.load(open(f"{out}/{m}/summary.json")) for m in ["dense", "rigl", "set", "static"]}
dense_step = rows["dense"]["train_seconds"] / rows["dense"]["iterations"]
print("| method | validation bpc | test bpc | train bpc (the pass) | training FLOPs (x dense) | wall time | s / step | step time / dense | topology updates (time) |")
print("|---|---|---|---|---|---|---|---|---|")
for m, s in rows.items():
    step = s["train_seconds"] / s["iterations"]
    print(f"| {m} | {s['valid_bpc']:.4f} | {s['test_bpc']:.4f} | {s['train_bpc']:.4f} | "
          f"{s['theoretical_train_flops']:.3e} ({s['theoretical_train_flops_vs_dense']:.3f}x) | "
          f"{s['train_seconds']:.0f} s | {step:.3f} | {step / dense_step:.3f} | {s['updates']} ({s['update_seconds']:.1f} s) |")
cpu = rows["dense"]["machine"]["cpu"]
print(f"\nCPU: {cpu}; sparse kernels {rows['dense']['machine']['sparse_kernels']}; OpenBLAS {rows['dense']['machine']['openblas_core']}")
PY
