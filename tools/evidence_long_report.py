#!/usr/bin/env python3
"""Issue 16 part 2: reads a long evidence sweep (tools/evidence.sh --epochs_mlp 50 --epochs_lenet 30 --out DIR) and
sets it beside the short one (docs/evidence/EVIDENCE.md, 10 and 5 epochs). Writes into DIR:
  LONG.md           per cell: every method's test accuracy (mean ± sd) short and long, the change, the final training
                    loss, the rank by accuracy and by loss; then whether gradual pruning leads, per cell; then how much
                    the test accuracy still moved over the last fifth of training (the convergence check);
  long_curves.png   test accuracy and training loss per epoch (mean over seeds) at MLP 0.95 and LeNet-5 0.95.
Usage: tools/evidence_long_report.py [DIR] [SHORT_TABLE]"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweep_common import EVIDENCE_NAMES, EVIDENCE_ORDER, plot, read_evidence_runs, stats, write_table  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "out/evidence_long"
short_table = sys.argv[2] if len(sys.argv) > 2 else "docs/evidence/EVIDENCE.md"

order = EVIDENCE_ORDER
names = EVIDENCE_NAMES
dynamic = {"set", "snfs", "rigl", "rigl-erk", "rigl-2x", "rigl-global", "mest"}


def read_runs(directory):
    """(model, sparsity string, method) -> list of (summary, per-epoch metrics)."""
    groups = {}
    for key, runs in read_evidence_runs(directory).items():
        for summary, run_dir in runs:
            epochs = []
            with open(os.path.join(run_dir, "metrics.jsonl")) as f:
                for line in f:
                    row = json.loads(line)
                    if "epoch" in row and "test_accuracy" in row:
                        epochs.append(row)
            groups.setdefault(key, []).append((summary, epochs))
    return groups


def read_short(path):
    """(model, sparsity, method name) -> (mean acc, sd, mean loss) from the short run's markdown table."""
    rows = {}
    if not os.path.exists(path):
        return rows
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 6 or cells[0] not in ("mlp", "lenet5"):
            continue
        acc = re.match(r"([0-9.]+) ± ([0-9.]+)", cells[4])
        loss = re.match(r"([0-9.]+)", cells[5])
        if acc and loss:
            rows[(cells[0], cells[1], cells[2])] = (float(acc.group(1)), float(acc.group(2)), float(loss.group(1)))
    return rows


groups = read_runs(out)
short = read_short(short_table)
lines = ["| model | sparsity | method | seeds | epochs | test acc % long (mean ± sd) | short | long - short | "
         "final train loss long | short | rank by acc | rank by loss | wall s (1 thread, 2 at once) |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
leaders = []
convergence = ["| model | sparsity | method | test acc % at 80% of training | at the end | change | train acc % at the end |",
               "|---|---|---|---|---|---|---|"]
for model in ["mlp", "lenet5"]:
    cells = sorted({s for (mo, s, _) in groups if mo == model}, key=float)
    for sparsity in cells:
        rows = []
        for method in order:
            runs = groups.get((model, sparsity, method))
            if not runs:
                continue
            acc = stats([100 * s["test_accuracy"] for s, _ in runs])
            loss = stats([s["final_train_loss"] for s, _ in runs])
            secs = stats([s["train_seconds"] for s, _ in runs])
            n_epochs = len(runs[0][1])
            rows.append((method, len(runs), n_epochs, acc, loss, secs, runs))
        by_acc = {r[0]: i + 1 for i, r in enumerate(sorted(rows, key=lambda r: -r[3][0]))}
        by_loss = {r[0]: i + 1 for i, r in enumerate(sorted(rows, key=lambda r: r[4][0]))}
        for method, n, n_epochs, acc, loss, secs, runs in rows:
            s = short.get((model, sparsity, names[method]))
            s_acc = f"{s[0]:.2f} ± {s[1]:.2f}" if s else "-"
            delta = f"{acc[0] - s[0]:+.2f}" if s else "-"
            s_loss = f"{s[2]:.4f}" if s else "-"
            lines.append(f"| {model} | {sparsity} | {names[method]} | {n} | {n_epochs} | {acc[0]:.2f} ± {acc[1]:.2f} | "
                         f"{s_acc} | {delta} | {loss[0]:.4f} ± {loss[1]:.4f} | {s_loss} | {by_acc[method]} | "
                         f"{by_loss[method]} | {secs[0]:.1f} |")
            k = max(1, int(round(0.8 * n_epochs)))
            at_k = stats([100 * e[k - 1]["test_accuracy"] for _, e in runs])[0]
            end = stats([100 * e[-1]["test_accuracy"] for _, e in runs])[0]
            tr = stats([100 * e[-1]["train_accuracy"] for _, e in runs])[0]
            convergence.append(f"| {model} | {sparsity} | {names[method]} | {at_k:.2f} (epoch {k}) | {end:.2f} | "
                               f"{end - at_k:+.2f} | {tr:.2f} |")
        if sparsity == "0":
            continue
        sparse_rows = [r for r in rows if r[0] != "dense"]
        best = max(sparse_rows, key=lambda r: r[3][0])
        prune = next((r for r in sparse_rows if r[0] == "pruning"), None)
        best_dyn = max((r for r in sparse_rows if r[0] in dynamic), key=lambda r: r[3][0], default=None)
        lowest = min(sparse_rows, key=lambda r: r[4][0])
        if prune and best_dyn:
            gap = prune[3][0] - best_dyn[3][0]
            # Standard error of the difference of the two means (sample sds, n seeds each).
            noise = (prune[3][1] ** 2 / prune[1] + best_dyn[3][1] ** 2 / best_dyn[1]) ** 0.5
            s_p = short.get((model, sparsity, "Pruning"))
            s_d = short.get((model, sparsity, names[best_dyn[0]]))
            s_gap = f"{s_p[0] - s_d[0]:+.2f}" if s_p and s_d else "-"
            leaders.append(f"| {model} | {sparsity} | {names[best[0]]} ({best[3][0]:.2f}) | "
                           f"{names[best_dyn[0]]} ({best_dyn[3][0]:.2f}) | {gap:+.2f} (se {noise:.2f}) | "
                           f"{s_gap} | {names[lowest[0]]} ({lowest[4][0]:.4f}) |")

lead_table = ["| model | sparsity | most accurate sparse method | best dynamic method | Pruning - best dynamic, long | "
              "same gap, short | lowest training loss |", "|---|---|---|---|---|---|---|"] + leaders
write_table(os.path.join(out, "LONG.md"), lines + [""] + lead_table + [""] + convergence)

# Learning curves at the 0.95 cells: test accuracy (left) and training loss (right, log scale) per epoch.
dat = os.path.join(out, "long_curves.dat")
plotted = []
with open(dat, "w") as f:
    for model in ["mlp", "lenet5"]:
        for method in order:
            runs = groups.get((model, "0.95", method)) or (groups.get((model, "0", method)) if method == "dense"
                                                          else None)
            if not runs:
                continue
            f.write(f"# {model} {method}\n")
            n = min(len(e) for _, e in runs)
            for i in range(n):
                acc = stats([100 * e[i]["test_accuracy"] for _, e in runs])[0]
                loss = stats([e[i]["train_loss"] for _, e in runs])[0]
                f.write(f"{i + 1} {acc:.4f} {loss:.6f}\n")
            f.write("\n\n")
            plotted.append((model, method))


colors = {"dense": "black", "static": "#999999", "set": "#56b4e9", "snfs": "#e69f00", "snip": "#f0e442", "pruning": "#d55e00",
          "small_dense": "#009e73", "rigl": "#0072b2", "rigl-erk": "#cc79a7", "rigl-2x": "#6a3d9a",
          "rigl-global": "#b15928", "mest": "#33a02c"}


def curves(model, column):
    parts = []
    for index, (mo, method) in enumerate(plotted):
        if mo == model:
            dash = " dt 2" if method in ("rigl-2x", "small_dense") else ""
            parts.append(f"'{dat}' index {index} using 1:{column} with lines lw 2 lc rgb '{colors[method]}'{dash} "
                         f"title '{names[method]}'")
    return ", ".join(parts)


png = os.path.join(out, "long_curves.png")
script = f"""
set terminal pngcairo size 1400,1000 font ',10'
set output '{png}'
set multiplot layout 2,2
set grid
set xlabel 'epoch'
set key bottom right font ',8'
set ylabel 'test accuracy %'
set title 'MLP 784-300-100-10 at sparsity 0.95 (Dense: dense), mean of 3 seeds'
set yrange [80:91]
plot {curves('mlp', 2)}
set title 'LeNet-5 at sparsity 0.95 (Dense: dense), mean of 3 seeds'
plot {curves('lenet5', 2)}
set yrange [*:*]
set logscale y
set key top right font ',8'
set ylabel 'training loss (epoch mean)'
set title 'MLP, training loss'
plot {curves('mlp', 3)}
set title 'LeNet-5, training loss'
plot {curves('lenet5', 3)}
unset multiplot
"""
plot(script, png)
