"""Shared by the sweep reports (tools/evidence_report.py, tools/evidence_long_report.py, tools/block_report.py, ...):
mean and sample sd, the markdown table written and echoed, gnuplot data blocks (one per model), running gnuplot, and
the evidence sweep's run directories read back with their method names."""
import glob
import json
import math
import os
import re
import subprocess

# The evidence sweep's rows (tools/evidence.sh), in table order, and their display names.
EVIDENCE_ORDER = ["dense", "static", "set", "snfs", "snip", "pruning", "small_dense", "rigl", "rigl-erk", "rigl-2x",
                  "rigl-global", "mest"]
EVIDENCE_NAMES = {"dense": "Dense", "static": "Static", "set": "SET", "snfs": "SNFS", "snip": "SNIP",
                  "pruning": "Pruning", "small_dense": "Small-Dense", "rigl": "RigL", "rigl-erk": "RigL (ERK)",
                  "rigl-2x": "RigL 2x", "rigl-global": "RigL (global)", "mest": "MEST"}


def read_evidence_runs(directory):
    """The finished runs of an evidence sweep: (model, sparsity string, method tag) -> [(summary, run dir), ...].
    Run directories are named <model>_s<sparsity>_<method>_seed<n>, or <model>_dense_s0_seed<n> (sparsity "0")."""
    groups = {}
    for path in sorted(glob.glob(os.path.join(directory, "*", "summary.json"))):
        run_dir = os.path.dirname(path)
        m = re.match(r"(mlp|lenet5)_(dense_s0|s[0-9.]+)_?(.*)_seed(\d+)$", os.path.basename(run_dir))
        if not m:
            continue
        model, tag, method, _ = m.groups()
        if tag == "dense_s0":
            method, sparsity = "dense", "0"
        else:
            sparsity = tag[1:]
        with open(path) as f:
            groups.setdefault((model, sparsity, method), []).append((json.load(f), run_dir))
    return groups


def stats(xs):
    """Mean and sample standard deviation (0 for a single value)."""
    mean = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return mean, sd


def write_table(path, lines):
    """Writes the markdown lines to path and prints them."""
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def write_blocks(path, models, rows_of):
    """A gnuplot data file with one block per model (index 0, 1, ...): rows_of(model) yields the lines."""
    with open(path, "w") as f:
        for model in models:
            f.write(f"# {model}\n")
            for line in rows_of(model):
                f.write(line + "\n")
            f.write("\n\n")


def plot(script, png):
    """Runs a gnuplot script; a missing or failing gnuplot is reported, not fatal."""
    try:
        subprocess.run(["gnuplot"], input=script.encode(), check=True)
        print("wrote", png)
    except (OSError, subprocess.CalledProcessError) as e:
        print("gnuplot failed:", e)
