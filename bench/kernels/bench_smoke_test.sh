#!/bin/sh
# Smoke test for a benchmark binary: runs it briefly on a few shapes so it cannot rot, and checks it printed the
# sparse/dense summary. Usage: bench_smoke_test.sh <bench binary> [benchmark flags...]. Judges nothing by time.
set -eu
bench="$1"
shift
out="$("$bench" --benchmark_min_time=0.01 "$@")"
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q "^Summary" || { echo "bench_smoke_test: no summary table printed" >&2; exit 1; }
