"""Compares two models exported by the trainer (--export): the same run trained on 1 rank and data-parallel on N.

The oracle is the single-process run: data-parallel training computes the same global-batch gradient, summed in a
different order, so the weights must agree to rounding and the patterns must agree except where two candidates'
scores lie within that rounding of each other (a swap at the top-k boundary of a grow step). Prints the overlap of
every sparse weight's pattern and the largest difference of the weights they share, and exits 1 when a bound is
broken:
    compare_replicas.py one.safetensors many.safetensors --min_overlap=0.99 --max_abs=1e-3
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from torch_eval import load_safetensors  # noqa: E402


def positions(tensors, name):
    crow = tensors[name + ".crow_indices"]
    cols = tensors[name + ".col_indices"]
    rows = np.repeat(np.arange(len(crow) - 1), np.diff(crow))
    return {(int(r), int(c)): float(v) for r, c, v in zip(rows, cols, tensors[name + ".values"])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("one")
    ap.add_argument("many")
    ap.add_argument("--min_overlap", type=float, required=True)
    ap.add_argument("--max_abs", type=float, required=True)
    a = ap.parse_args()
    t1, _ = load_safetensors(a.one)
    t2, _ = load_safetensors(a.many)
    if sorted(t1) != sorted(t2):
        print(f"the files hold different tensors: {sorted(set(t1) ^ set(t2))}")
        return 1
    ok = True
    sparse = sorted(n[: -len(".values")] for n in t1 if n.endswith(".values"))
    for name in sparse:
        p1, p2 = positions(t1, name), positions(t2, name)
        common = set(p1) & set(p2)
        overlap = len(common) / max(len(p1), 1)
        diff = max((abs(p1[k] - p2[k]) for k in common), default=0.0)
        good = len(p1) == len(p2) and overlap >= a.min_overlap and diff <= a.max_abs
        ok &= good
        print(f"{name}: nnz {len(p1)} vs {len(p2)}, pattern overlap {overlap:.6f} ({len(p1) - len(common)} positions "
              f"differ), max |w1 - w2| on shared positions {diff:.3g}{'' if good else '  <-- out of bounds'}")
    for name in sorted(t1):
        if any(name.startswith(s + ".") for s in sparse):
            continue
        diff = float(np.max(np.abs(t1[name].astype(np.float64) - t2[name]))) if t1[name].size else 0.0
        good = diff <= a.max_abs
        ok &= good
        print(f"{name}: max |w1 - w2| {diff:.3g}{'' if good else '  <-- out of bounds'}")
    print("replicas agree within bounds" if ok else "replicas disagree")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
