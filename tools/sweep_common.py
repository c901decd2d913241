"""Shared by the sweep reports (tools/evidence_report.py, tools/block_report.py): mean and sample sd, the markdown
table written and echoed, gnuplot data blocks (one per model), and running gnuplot."""
import math
import os
import subprocess


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
