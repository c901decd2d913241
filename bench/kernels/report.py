#!/usr/bin/env python3
"""Where each kernel stands: runs every sparse kernel family's benchmark over the density sweep (W 4096 x 4096, batch
128; the convolution layers at theirs) and writes, per family, one JSON and one PNG (gnuplot) of useful GFLOP/s
divided by the dense baseline's GFLOP/s against density, one line per kernel, with the goal line and the physical
limit line.

    python3 bench/kernels/report.py --out=DIR [--repetitions=3] [--threads=2]

It builds the benchmarks with Bazel first and runs them one after the other (never two at once), each with
--benchmark_format=json. Nothing is run through a shell.

The physical limits: BM_FmaPeak measures this machine's FMA peak in the same session (all threads, independent FMA
chains; on the Zen 3 of 2026-12-01 193 GFLOP/s on 2 threads, where sgemm reaches 141-145). No kernel passes it. A
CSR row tile also issues 10 loads per 8 FMAs (8 vector loads of the dense operand's row, the broadcast value, the
column index); with loads and FMAs each at most 2 per cycle (Zen 3, Skylake and later) it is capped at 0.8 of the
FMA peak even when every row hits L1, and lower when rows come from L2 or L3. The lines are those ceilings divided by
the dense kernel's measured rate. BSR blocks of r rows reuse each loaded row r times, so only the FMA peak binds them.
Goals (PERF.md): CSR kernels 0.5 of
sgemm from density 0.05 to 0.5 (0.3 at 0.01); BSR 0.8. The convolution family is drawn against the dense
convolution of the same layer, without a limit line (its operands differ per layer) and without a goal line (its
goal, issue 20, is against PyTorch)."""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SWEEP = "m:4096/k:4096/n:128"


def run(binary, regex, repetitions, threads):
    path = os.path.join(ROOT, "bazel-bin", "bench", "kernels", binary)
    if not os.access(path, os.X_OK):
        sys.exit(f"report.py: {path} is missing; the build failed?")
    args = [path, "--benchmark_format=json", f"--benchmark_filter={regex}", f"--threads={threads}"]
    if repetitions > 1:
        args += [f"--benchmark_repetitions={repetitions}", "--benchmark_report_aggregates_only=true"]
    print("running", " ".join(args[1:]), "...", file=sys.stderr, flush=True)
    out = subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    doc = json.loads(out)
    rows = {}
    for b in doc["benchmarks"]:
        if repetitions > 1 and b.get("aggregate_name") != "median":
            continue
        name = re.sub(r"_median$", "", b["name"]).replace("/real_time", "")
        rows[name] = b
    return doc["context"], rows


def density_of(name):
    m = re.search(r"density_pct:(\d+)", name)
    return int(m.group(1)) / 100.0 if m else None


def plot(out_png, title, series, limits, goals):
    """series: {label: [(density, ratio)]}; limits / goals: {label: value or [(density, value)]}."""
    data_path = out_png[:-4] + ".dat"
    blocks, cmds = [], []
    index = 0
    for label, points in list(series.items()) + [(k, v) for k, v in limits.items()] + list(goals.items()):
        if not isinstance(points, list):
            points = [(0.01, points), (0.5, points)]
        blocks.append("\n".join(f"{d} {r}" for d, r in sorted(points)))
        style = "linespoints lw 2" if label in series else ("lines dt 2 lw 2" if label in limits else "lines dt 3 lw 1")
        cmds.append(f"'{data_path}' index {index} using 1:2 with {style} title '{label}'")
        index += 1
    with open(data_path, "w") as f:
        f.write("\n\n\n".join(blocks) + "\n")
    script = "\n".join([
        "set terminal pngcairo noenhanced size 900,640", f"set output '{out_png}'", f"set title '{title}'",
        "set logscale x", "set xlabel 'density'", "set ylabel 'useful GFLOP/s / dense GFLOP/s'", "set key below",
        "set grid", "set yrange [0:*]", "plot " + ", ".join(cmds)])
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def replot(out):
    with open(os.path.join(out, "report.json")) as f:
        summary = json.load(f)
    for family, v in summary["families"].items():
        series = {k: [tuple(x) for x in pts] for k, pts in v["series"].items()}
        plot(os.path.join(out, f"{family}.png"), v["title"], series, v.get("limits", {}), v.get("goals", {}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--replot", action="store_true", help="redraw the PNGs from DIR/report.json, measuring nothing")
    a = p.parse_args()
    if a.replot:
        replot(a.out)
        return
    if a.repetitions < 1 or a.threads < 1:
        sys.exit("report.py: --repetitions and --threads must be >= 1")
    os.makedirs(a.out, exist_ok=True)
    probe = os.path.join(a.out, ".write_test")
    open(probe, "w").close()
    os.remove(probe)  # fail before measuring, not after
    subprocess.run(["bazel", "build", "//bench/kernels:all"], cwd=ROOT, check=True)

    context, spmm = run("spmm_bench", f"(BM_GemmDense/{SWEEP}|BM_SpmmCsr/{SWEEP}|BM_FmaPeak)", a.repetitions,
                        a.threads)
    peak = next(b for n, b in spmm.items() if n.startswith("BM_FmaPeak"))["FLOP/s"]
    families = {
        "spmm": (spmm, {"BM_SpmmCsr": "SpmmCsr"}, "BM_GemmDense"),
        "spmm_transposed": (run("spmm_transposed_bench", f"(BM_GemmDenseTN|BM_SpmmCsrTransposed(Scatter)?)/{SWEEP}",
                                a.repetitions, a.threads)[1],
                            {"BM_SpmmCsrTransposed": "SpmmCsrTransposed (index)",
                             "BM_SpmmCsrTransposedScatter": "SpmmCsrTransposed (scatter)"}, "BM_GemmDenseTN"),
        "sddmm": (run("sddmm_bench", f"(BM_GemmDenseNT|BM_SddmmCsr)/{SWEEP}", a.repetitions, a.threads)[1],
                  {"BM_SddmmCsr": "SddmmCsr"}, "BM_GemmDenseNT"),
    }
    bsr = run("bsr_spmm_bench", f"(BM_GemmDense(TN|NT)?|BM_SpmmBsr|BM_SpmmBsrTransposed|BM_SddmmBsr)/{SWEEP}(/|$)",
              a.repetitions, a.threads)[1]
    summary = {"context": context, "fma_peak_flops": peak, "families": {}}
    for family, (rows, kernels, dense_name) in families.items():
        dense = rows[f"{dense_name}/{SWEEP}"]["FLOP/s"]
        series = {label: [(density_of(n), b["FLOP/s"] / dense) for n, b in rows.items() if n.startswith(k + "/")]
                  for k, label in kernels.items()}
        limits = {f"FMA peak ({peak / dense:.2f})": peak / dense,
                  f"CSR tile load-port bound, 0.8 x FMA peak ({0.8 * peak / dense:.2f})": 0.8 * peak / dense}
        goals = {"goal 0.5 (0.3 at d = 0.01)": [(0.01, 0.3), (0.02, 0.5), (0.5, 0.5)]}
        title = f"{family}: {context['cpu']}, {a.threads} threads"
        summary["families"][family] = {"dense_flops": dense, "limits": limits, "goals": goals, "series": series,
                                       "title": title}
        plot(os.path.join(a.out, f"{family}.png"), title, series, limits, goals)
    series, limits = {}, {}
    for kernel, dense_name in (("BM_SpmmBsr", "BM_GemmDense"), ("BM_SpmmBsrTransposed", "BM_GemmDenseTN"),
                               ("BM_SddmmBsr", "BM_GemmDenseNT")):
        dense = bsr[f"{dense_name}/{SWEEP}"]["FLOP/s"]
        for n, b in bsr.items():
            m = re.match(kernel + r"/.*block_rows:(\d+)/block_cols:(\d+)/", n)
            if m:
                series.setdefault(f"{kernel[3:]} {m.group(1)}x{m.group(2)}", []).append((density_of(n), b["FLOP/s"] / dense))
    dense = bsr[f"BM_GemmDense/{SWEEP}"]["FLOP/s"]
    limits[f"FMA peak ({peak / dense:.2f})"] = peak / dense
    title = f"bsr_spmm: {context['cpu']}, {a.threads} threads"
    summary["families"]["bsr_spmm"] = {"dense_flops": dense, "limits": limits, "goals": {"goal 0.8": 0.8},
                                       "series": series, "title": title}
    plot(os.path.join(a.out, "bsr_spmm.png"), title, series, limits, {"goal 0.8": 0.8})
    conv = run("sparse_conv2d_bench", "(BM_Conv2dDenseStep|BM_SparseConv2dStep)/", a.repetitions, a.threads)[1]
    series = {}
    for n, b in conv.items():
        m = re.match(r"BM_SparseConv2dStep/layer:(\d+)/density_pct:(\d+)", n)
        if m:
            dense = conv[f"BM_Conv2dDenseStep/layer:{m.group(1)}"]["FLOP/s"]
            series.setdefault(f"layer {m.group(1)} (fwd + dX + dW)", []).append((int(m.group(2)) / 100, b["FLOP/s"] / dense))
    title = f"sparse_conv2d vs dense conv2d: {context['cpu']}, {a.threads} threads"
    summary["families"]["sparse_conv2d"] = {"series": series, "title": title}
    plot(os.path.join(a.out, "sparse_conv2d.png"), title, series, {}, {})
    with open(os.path.join(a.out, "report.json.tmp"), "w") as f:
        json.dump(summary, f, indent=1)
    os.replace(os.path.join(a.out, "report.json.tmp"), os.path.join(a.out, "report.json"))
    for family, v in summary["families"].items():
        print(family, json.dumps({k: [(d, round(r, 3)) for d, r in sorted(s)] for k, s in v["series"].items()}))
    print(f"FMA peak {peak / 1e9:.1f} GFLOP/s; wrote {a.out}/report.json and one PNG per family")


if __name__ == "__main__":
    main()
