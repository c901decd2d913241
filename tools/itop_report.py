#!/usr/bin/env python3
"""Aggregates tools/itop_sweep.sh runs (out/itop/*/) into ITOP.md, two heat maps (test accuracy and exploration over
dT x drop fraction) and the accuracy-vs-exploration scatter. Exploration is ITOP's rate: distinct positions ever
active over all positions of the sparse layers, from the last line of each run's metrics.jsonl."""
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweep_common import plot, stats, write_table  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "out/itop"
runs = {}
for path in sorted(glob.glob(os.path.join(out, "*", "summary.json"))):
    name = os.path.basename(os.path.dirname(path))
    m = re.match(r"dt(\d+)_a([0-9.]+)_seed(\d+)$", name)
    if not m:
        continue
    dt, alpha = int(m.group(1)), float(m.group(2))
    with open(path) as f:
        s = json.load(f)
    with open(os.path.join(os.path.dirname(path), "metrics.jsonl")) as f:
        last = json.loads(f.read().strip().splitlines()[-1])
    # The MLP's layers fc1.. from its widths (784-<width>-10): rows x cols of each weight.
    dims = [784] + list(s["config"]["width"]) + [10]
    cells_of = {f"fc{i + 1}.weight": dims[i] * dims[i + 1] for i in range(len(dims) - 1)}
    ever = cells = 0.0
    for layer, u in last["last_update"].items():
        ever += u["ever_active_fraction"] * cells_of[layer]
        cells += cells_of[layer]
    runs.setdefault((dt, alpha), []).append((100 * s["test_accuracy"], ever / cells, s["final_train_loss"]))

dts = sorted({k[0] for k in runs})
alphas = sorted({k[1] for k in runs})
lines = ["| dT | drop fraction | seeds | test acc % (mean ± sd) | exploration: ever-active fraction (mean ± sd) | "
         "final train loss |", "|---|---|---|---|---|---|"]
heat = []
for dt in dts:
    for a in alphas:
        r = runs.get((dt, a))
        if not r:
            continue
        acc, exp, loss = stats([x[0] for x in r]), stats([x[1] for x in r]), stats([x[2] for x in r])
        lines.append(f"| {dt} | {a} | {len(r)} | {acc[0]:.2f} ± {acc[1]:.2f} | {exp[0]:.4f} ± {exp[1]:.4f} | "
                     f"{loss[0]:.4f} ± {loss[1]:.4f} |")
        heat.append((dts.index(dt), alphas.index(a), acc[0], exp[0]))
# Pearson correlation of accuracy with exploration over every run, and within each dT (where only alpha moves it).
def pearson(pairs):
    if len(pairs) < 3:
        return float("nan")
    (mx, _), (my, _) = stats([p[0] for p in pairs]), stats([p[1] for p in pairs])
    sxy = sum((x - mx) * (y - my) for x, y in pairs)
    sxx = sum((x - mx) ** 2 for x, _ in pairs)
    syy = sum((y - my) ** 2 for _, y in pairs)
    return sxy / (sxx * syy) ** 0.5
every = [(e, a) for r in runs.values() for (a, e, _) in r]
lines.append("")
lines.append(f"Pearson r of test accuracy with exploration over all {len(every)} runs: {pearson(every):.2f}")
for dt in dts:
    within = [(e, a) for (d, _), r in runs.items() if d == dt for (a, e, _) in r]
    lines.append(f"- within dT = {dt} (drop fraction varies): r = {pearson(within):.2f}")
write_table(os.path.join(out, "ITOP.md"), lines)

dat = os.path.join(out, "heat.dat")
with open(dat, "w") as f:
    for i, j, acc, exp in heat:
        f.write(f"{i} {j} {acc:.4f} {exp:.5f}\n")
pts = os.path.join(out, "scatter.dat")
with open(pts, "w") as f:
    for (dt, a), r in sorted(runs.items()):
        for acc, exp, _ in r:
            f.write(f"{exp:.5f} {acc:.4f} \"dT {dt}, {a}\"\n")
xt = ", ".join(f"'{d}' {i}" for i, d in enumerate(dts))
yt = ", ".join(f"'{a}' {j}" for j, a in enumerate(alphas))
png = os.path.join(out, "itop_heatmaps.png")
plot(f"""
set terminal pngcairo size 1300,520 font ',10'
set output '{png}'
set multiplot layout 1,2
set xtics ({xt})
set ytics ({yt})
set xrange [-0.5:{len(dts) - 0.5}]
set yrange [-0.5:{len(alphas) - 0.5}]
set xlabel 'update interval dT (steps)'
set ylabel 'initial drop fraction'
set palette rgbformulae 22,13,10
set key off
set title 'RigL, MLP at 0.95: test accuracy % (mean of seeds)'
plot '{dat}' using 1:2:3 with image, '' using 1:2:(sprintf('%.2f', $3)) with labels font ',9'
set title 'exploration: fraction of positions ever active'
plot '{dat}' using 1:2:4 with image, '' using 1:2:(sprintf('%.3f', $4)) with labels font ',9'
unset multiplot
""", png)
png2 = os.path.join(out, "itop_scatter.png")
plot(f"""
set terminal pngcairo size 800,560 font ',10'
set output '{png2}'
set xlabel 'exploration: fraction of sparse-layer positions ever active'
set ylabel 'test accuracy %'
set grid
set key off
set title 'RigL, MLP 784-300-100-10 at 0.95 (uniform), one point per run'
plot '{pts}' using 1:2 with points pt 7, '' using 1:2:3 with labels offset 0,0.7 font ',6'
""", png2)
