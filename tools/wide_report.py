#!/usr/bin/env python3
"""Aggregates tools/wide_sweep.sh runs (out/wide/*/summary.json) into WIDE.md and wide_vs_dense.png: test accuracy,
training FLOPs and wall time of the dense 784-300-100-10 against sparse 784-W-W-10 models with as many weights."""
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweep_common import plot, stats, write_table  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "out/wide"
groups = {}
for path in sorted(glob.glob(os.path.join(out, "*", "summary.json"))):
    m = re.match(r"w([0-9-]+)_(\w+)_seed(\d+)$", os.path.basename(os.path.dirname(path)))
    if not m:
        continue
    with open(path) as f:
        groups.setdefault((m.group(1), m.group(2)), []).append(json.load(f))


def weights(width):
    dims = [784] + [int(w) for w in width.split("-")] * (1 if "-" in width else 2) + [10]
    return sum(a * b for a, b in zip(dims, dims[1:]))


names = {"dense": "Dense", "static": "Static", "set": "SET", "rigl": "RigL", "rigleq": "RigL, equal FLOPs"}
small = groups.get(("300-100", "dense"))
small_flops = stats([r["theoretical_train_flops"] for r in small])[0] if small else float("nan")
small_acc = stats([100 * r["test_accuracy"] for r in small])[0] if small else float("nan")
lines = ["| model | weights stored | sparsity | method | seeds | test acc % (mean ± sd) | vs dense 784-300-100-10 | "
         "final train loss | training FLOPs (theoretical) | vs the small dense | train s (1 thread, 2 runs at once) |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
order = sorted(groups, key=lambda k: (weights(k[0]) if k[1] == "dense" else 0, int(k[0].split("-")[0]),
                                      list(names).index(k[1])))
points = []
for width, method in order:
    runs = groups[(width, method)]
    acc = stats([100 * r["test_accuracy"] for r in runs])
    loss = stats([r["final_train_loss"] for r in runs])
    flops = stats([r["theoretical_train_flops"] for r in runs])[0]
    secs = stats([r["train_seconds"] for r in runs])[0]
    sparsity = 1 - runs[0]["realised_sparsity"] if method == "dense" else runs[0]["realised_sparsity"]
    stored = round(weights(width) * (1 if method == "dense" else 1 - runs[0]["realised_sparsity"]))
    dims = width if "-" in width else f"{width}-{width}"
    lines.append(f"| 784-{dims}-10 | {stored:,} | {0 if method == 'dense' else sparsity:.4f} | {names[method]} | "
                 f"{len(runs)} | {acc[0]:.2f} ± {acc[1]:.2f} | {acc[0] - small_acc:+.2f} | {loss[0]:.4f} ± {loss[1]:.4f}"
                 f" | {flops:.3e} | {flops / small_flops:.2f}x | {secs:.1f} |")
    if method != "dense":
        points.append((method, int(width), acc[0], acc[1]))
write_table(os.path.join(out, "WIDE.md"), lines)

dat = os.path.join(out, "wide.dat")
with open(dat, "w") as f:
    for method in ["static", "set", "rigl"]:
        f.write(f"# {method}\n")
        for (m, w, a, sd) in sorted(p for p in points if p[0] == method):
            f.write(f"{w} {a:.4f} {sd:.4f}\n")
        f.write("\n\n")
png = os.path.join(out, "wide_vs_dense.png")
plot(f"""
set terminal pngcairo size 900,560 font ',10'
set output '{png}'
set logscale x
set xrange [700:14000]
set xlabel 'hidden width W of the sparse 784-W-W-10 (nnz = 266,200, ERK)'
set ylabel 'test accuracy % (mean ± sd, 3 seeds)'
set grid
set key bottom right
set title 'Sparse and wide vs dense and small at the same parameter count, Fashion-MNIST'
plot '{dat}' index 0 using 1:2:3 with yerrorlines pt 7 title 'Static', \\
     '' index 1 using 1:2:3 with yerrorlines pt 5 title 'SET', \\
     '' index 2 using 1:2:3 with yerrorlines pt 9 title 'RigL', \\
     {small_acc} with lines dt 2 lw 2 title 'dense 784-300-100-10'
""", png)
