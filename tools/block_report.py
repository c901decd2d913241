#!/usr/bin/env python3
"""Aggregates tools/block_sweep.sh runs (out/blocks/*/summary.json) into BLOCKS.md (mean ± sd over seeds of test
accuracy, training FLOPs and wall time, per model, method, sparsity and block shape) and blocks.png (accuracy
against training FLOPs and against wall time, one point per row)."""
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweep_common import plot, stats, write_blocks, write_table  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "out/blocks"
groups = {}
for path in sorted(glob.glob(os.path.join(out, "*", "summary.json"))):
    m = re.match(r"(mlp|lenet5)_([a-z_]+)_(\dx\d)_s([0-9.]+)_seed(\d+)$", os.path.basename(os.path.dirname(path)))
    if not m:
        continue
    model, method, block, sparsity, _ = m.groups()
    with open(path) as f:
        groups.setdefault((model, sparsity, method, block), []).append(json.load(f))


lines = ["| model | sparsity | method | block | seeds | test acc % (mean ± sd) | train FLOPs vs dense (theoretical) | "
         "counted train GFLOP | wall time s (mean ± sd) | time vs dense |", "|---|---|---|---|---|---|---|---|---|---|"]
points = {}
for model in ["mlp", "lenet5"]:
    dense = groups.get((model, "0", "dense", "1x1"))
    dense_secs = stats([r["train_seconds"] for r in dense])[0] if dense else float("nan")
    keys = sorted((k for k in groups if k[0] == model), key=lambda k: (float(k[1]), k[2], k[3]))
    for key in keys:
        runs = groups[key]
        _, sparsity, method, block = key
        acc = stats([100 * r["test_accuracy"] for r in runs])
        rel = stats([r["theoretical_train_flops_vs_dense"] for r in runs])
        counted = stats([r["counted_train_flops"] / 1e9 for r in runs])
        secs = stats([r["train_seconds"] for r in runs])
        lines.append(f"| {model} | {sparsity} | {method} | {block} | {len(runs)} | {acc[0]:.2f} ± {acc[1]:.2f} | "
                     f"{rel[0]:.3f} | {counted[0]:.1f} | {secs[0]:.1f} ± {secs[1]:.1f} | {secs[0] / dense_secs:.3f} |")
        points.setdefault(model, []).append((f"{method} {sparsity} {block}", rel[0], secs[0], acc[0], acc[1]))

write_table(os.path.join(out, "BLOCKS.md"), lines)

# One data block per model: label, FLOPs vs dense, seconds, accuracy, sd.
dat = os.path.join(out, "blocks.dat")
write_blocks(dat, ["mlp", "lenet5"], lambda model: [f"\"{label}\" {rel:.6f} {secs:.3f} {acc:.4f} {sd:.4f}"
                                                    for (label, rel, secs, acc, sd) in points.get(model, [])])
png = os.path.join(out, "blocks.png")
panels = []
for index, title in [(0, "MLP 784-300-100-10"), (1, "LeNet-5")]:
    for col, xlabel in [(2, "training FLOPs relative to dense (theoretical)"), (3, "training wall time, s")]:
        panels.append(f"set title '{title}, Fashion-MNIST'\nset xlabel '{xlabel}'\n"
                      f"plot '{dat}' index {index} using {col}:4:5 with yerrorbars pt 7, "
                      f"'' index {index} using {col}:4:1 with labels offset 0,0.8 font ',7'")
script = (f"set terminal pngcairo size 1400,1000 font ',10'\nset output '{png}'\nset multiplot layout 2,2\n"
          "set logscale x\nset ylabel 'test accuracy %'\nset grid\nset key off\n" + "\n".join(panels) +
          "\nunset multiplot\n")
plot(script, png)
