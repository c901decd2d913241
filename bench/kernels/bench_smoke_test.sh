#!/bin/sh
# Smoke test for a benchmark binary: runs it briefly on a few shapes so it cannot rot; checks the console run prints
# the sparse/dense summary when the run has a dense baseline to pair with, and that --benchmark_format=json prints
# valid JSON whose context names the CPU and the OpenBLAS core (as a plain BENCHMARK_MAIN() would honour the flag).
# Usage: bench_smoke_test.sh <bench binary> [benchmark flags...]. Judges nothing by time.
set -eu
bench="$1"
shift
out="$("$bench" --benchmark_min_time=0.01 "$@")"
printf '%s\n' "$out"
if printf '%s\n' "$out" | grep -q "BM_GemmDense" && printf '%s\n' "$out" | grep -qE "BM_(Spmm|Sddmm)"; then
  printf '%s\n' "$out" | grep -q "^Summary" || { echo "bench_smoke_test: no summary table printed" >&2; exit 1; }
fi
json="$("$bench" --benchmark_min_time=0.01 --benchmark_format=json "$@" 2>/dev/null)"
printf '%s\n' "$json" | python3 -c '
import json, sys
doc = json.load(sys.stdin)
ctx = doc["context"]
for key in ("cpu", "openblas", "openblas_core", "isa", "threads", "load_average"):
    assert key in ctx, "context lacks " + key
assert doc["benchmarks"], "no benchmarks in the JSON"
print("json ok:", len(doc["benchmarks"]), "runs;", ctx["cpu"], "|", ctx["openblas"])
' || { echo "bench_smoke_test: --benchmark_format=json did not print the expected JSON" >&2; exit 1; }
