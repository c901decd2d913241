#!/usr/bin/env python3
"""Compact tables for docs/FLOPS_BENCH.md from the JSON files //bench:flops writes (--out): one table per file with
the static-sparse step ratio vs density next to the theoretical FLOPs ratio, the RigL update overhead, and the
break-even density. Formatting only; every number comes from the JSON.

  python3 bench/flops/summarize.py /tmp/flops/*.json
"""
import json
import statistics
import sys


def fmt(v, d=3):
    return "-" if v is None else f"{v:.{d}f}"


def table(doc):
    rows = doc["rows"]
    by = {(r["method"], r["density"]): r for r in rows}
    dense = by[("dense", 1.0)]
    out = []
    m = doc["machine"]
    out.append(f"`{doc['command']}`  ")
    out.append(f"{m['cpu']}, {m['threads']} threads, OpenBLAS {m['openblas_core']}, ISA {m['isa']}, {m['date']}, "
               f"load {m['load_average_1_5_15']}")
    out.append("")
    has_step = "step_s" in dense
    hdr = ["density", "train FLOPs rel (theory)"]
    if has_step:
        hdr += ["step ms", "step rel", "step rel / FLOPs rel"]
    hdr += ["kernels rel", "kernels rel / FLOPs rel"]
    if any("conv_kernel_rel" in r for r in rows):
        hdr += ["conv kernels rel", "conv FLOPs rel"]
    if has_step:
        hdr += ["RigL update ms", "RigL overhead (dT)", "SET overhead (dT)"]
    hdr += ["load"]
    out.append("| " + " | ".join(hdr) + " |")
    out.append("|" + "---|" * len(hdr))
    for d in sorted({r["density"] for r in rows}, reverse=True):
        s = by.get(("static", d)) or by.get(("dense", d))
        rg, st = by.get(("rigl", d)), by.get(("set", d))
        cells = [fmt(d, 2), fmt(s["train_flops_rel"])]
        if has_step:
            cells += [fmt(s["step_s"] * 1e3, 1), fmt(s["step_rel"]), fmt(s["step_rel"] / s["train_flops_rel"], 2)]
        cells += [fmt(s.get("kernel_rel")),
                  fmt(s["kernel_rel"] / s["train_flops_rel"], 2) if "kernel_rel" in s else "-"]
        if "conv kernels rel" in hdr:
            cells += [fmt(s.get("conv_kernel_rel")), fmt(s.get("conv_flops_rel"))]
        if has_step:
            cells += [fmt(rg["update_s"] * 1e3, 1) if rg else "-", fmt(rg["update_overhead"], 4) if rg else "-",
                      fmt(st["update_overhead"], 4) if st else "-"]
        cells += [s.get("load", "-")]
        out.append("| " + " | ".join(cells) + " |")
    out.append("")
    for k, v in doc["summary"].items():
        if isinstance(v, (int, float)):
            out.append(f"- {k}: {v:.3f}")
    return "\n".join(out)


def main():
    for path in sys.argv[1:]:
        with open(path) as f:
            doc = json.load(f)
        print(f"#### {path}\n")
        print(table(doc))
        print()


if __name__ == "__main__":
    main()
