#!/usr/bin/env python3
"""Markdown table of a depthwise_conv2d_bench JSON (medians when repetitions were asked for): per layer, each phase's
time, its compulsory bytes per second, the speed-up over the per-channel im2col + OpenBLAS grouped convolution, and
the copy bandwidth measured on the same bytes.

Usage: python3 tools/depthwise_table.py docs/mobilenet/depthwise_bench.json
"""
import json
import sys


def main(path):
    doc = json.load(open(path))
    rows = {}
    for b in doc["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        family, args = b["run_name"].split("/", 1)
        rows.setdefault(args.replace("/real_time", ""), {})[family] = b
    ctx = doc["context"]
    print(f"{ctx.get('cpu', '?')}, {ctx.get('threads', '?')} threads, load {ctx.get('load_average', '?')}, "
          f"{ctx.get('date', '')}\n")
    print("| layer (batch 8, 3x3) | fwd ms | GB/s | x im2col | dX ms | GB/s | x im2col | dW ms | GB/s | x im2col | copy GB/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for args, r in rows.items():
        cells = [args.replace("/", " ").replace(":", " ")]
        for ours, theirs in (("BM_DepthwiseForward", "BM_GroupedIm2colForward"),
                             ("BM_DepthwiseBackwardInput", "BM_GroupedIm2colBackwardInput"),
                             ("BM_DepthwiseBackwardWeight", "BM_GroupedIm2colBackwardWeight")):
            o, t = r[ours], r[theirs]
            cells += [f"{o['real_time'] / 1e6:.2f}", f"{o['bytes/s'] / 1e9:.1f}", f"{t['real_time'] / o['real_time']:.1f}"]
        cells.append(f"{r['BM_CopyBandwidth']['bytes/s'] / 1e9:.1f}")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
