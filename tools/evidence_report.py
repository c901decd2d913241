#!/usr/bin/env python3
"""Aggregates tools/evidence.sh runs (out/evidence/*/summary.json) into EVIDENCE.md and a gnuplot PNG of test
accuracy vs training FLOPs (one point per method, per model and sparsity)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweep_common import EVIDENCE_NAMES, EVIDENCE_ORDER, plot, read_evidence_runs, stats, write_blocks, write_table  # noqa: E402,E501

out = sys.argv[1] if len(sys.argv) > 1 else "out/evidence"
groups = {key: [summary for summary, _ in runs] for key, runs in read_evidence_runs(out).items()}
lines = ["| model | sparsity | method | seeds | test acc % (mean ± sd) | final train loss | train FLOPs vs dense "
         "(theoretical) | counted / theoretical (paper 3x rule) | wall time s (1 thread, 2 runs at once) |", "|---|---|---|---|---|---|---|---|---|"]
points = {}
for model in ["mlp", "lenet5"]:
    for sparsity in sorted({s for (mo, s, _) in groups if mo == model}):
        for method in EVIDENCE_ORDER:
            runs = groups.get((model, sparsity, method))
            if not runs:
                continue
            acc = stats([100 * r["test_accuracy"] for r in runs])
            loss = stats([r["final_train_loss"] for r in runs])
            # Normalised by the dense run at 1x (RIGL.md 4.3): a run at M x reports M x its per-step ratio.
            rel = stats([r["theoretical_train_flops_vs_dense"] * r["config"]["multiplier"] for r in runs])
            ratio = stats([r["counted_train_flops"] / r["theoretical_train_flops"] for r in runs])
            secs = stats([r["train_seconds"] for r in runs])
            lines.append(f"| {model} | {sparsity} | {EVIDENCE_NAMES[method]} | {len(runs)} | {acc[0]:.2f} ± {acc[1]:.2f} | "
                         f"{loss[0]:.4f} ± {loss[1]:.4f} | {rel[0]:.3f} | {ratio[0]:.3f} | {secs[0]:.1f} |")
            points.setdefault(model, []).append((EVIDENCE_NAMES[method], sparsity, rel[0], acc[0], acc[1]))

write_table(os.path.join(out, "EVIDENCE.md"), lines)

# One data block per model; x = training FLOPs relative to dense, y = test accuracy.
dat = os.path.join(out, "points.dat")
write_blocks(dat, ["mlp", "lenet5"], lambda model: [f"{rel:.6f} {acc:.4f} {sd:.4f} \"{method} {sparsity}\""
                                                    for (method, sparsity, rel, acc, sd) in points.get(model, [])])
png = os.path.join(out, "accuracy_vs_flops.png")
script = f"""
set terminal pngcairo size 1300,600 font ',10'
set output '{png}'
set multiplot layout 1,2
set logscale x
set xlabel 'training FLOPs relative to dense (theoretical, RIGL.md 4.3)'
set ylabel 'test accuracy %'
set grid
set key off
set title 'MLP 784-300-100-10, Fashion-MNIST'
plot '{dat}' index 0 using 1:2:3 with yerrorbars pt 7, '' index 0 using 1:2:4 with labels offset 0,0.8 font ',7'
set title 'LeNet-5, Fashion-MNIST'
plot '{dat}' index 1 using 1:2:3 with yerrorbars pt 7, '' index 1 using 1:2:4 with labels offset 0,0.8 font ',7'
unset multiplot
"""
plot(script, png)
