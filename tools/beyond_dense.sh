#!/usr/bin/env bash
# Reproduces the "beyond dense" measurements of docs/BEYOND_DENSE.md: a 784-100000-100000-10 MLP at 99.9% sparsity
# (ERK) trained with Static, SET and RigL, whose dense twin needs ~113 GiB to train, then dense MLPs that do fit,
# each trained under the same wall-clock budget as the RigL run (--time_budget = RigL's training seconds).
# Writes one directory per run under $OUT (config.json, metrics.jsonl, summary.json, checkpoint.bin, log.txt) and
# prints a table. Every run records the load average before and after (timings are only comparable on a quiet
# machine) and /usr/bin/time's CPU seconds.
#
# Usage: tools/beyond_dense.sh [OUT]
# Environment (defaults in brackets):
#   TRAINER   trainer binary [bazel-bin/rigl/trainer]
#   LIMIT     training samples, 0 = all 60000 [0]         EPOCHS    sparse epochs [1]
#   WIDTH     sparse hidden widths [100000,100000]        SPARSITY  [0.999]
#   DELTA_T   RigL/SET update interval [100]              INIT_FAN  dense | stored [stored]
#   METHODS   sparse methods to run [static set rigl]     THREADS   [2]
#   DENSE     dense runs, "widths:epochs" each [1024,1024:55 4096,4096:6 16384,16384:1 40000,40000:1]
#   BUDGET    seconds for each dense run [RigL's train_seconds from $OUT/rigl/summary.json]
set -euo pipefail
OUT=${1:-/tmp/beyond_dense}
TRAINER=${TRAINER:-bazel-bin/rigl/trainer}
LIMIT=${LIMIT:-0}
EPOCHS=${EPOCHS:-1}
WIDTH=${WIDTH:-100000,100000}
SPARSITY=${SPARSITY:-0.999}
DELTA_T=${DELTA_T:-100}
INIT_FAN=${INIT_FAN:-stored}
METHODS=${METHODS-static set rigl}
THREADS=${THREADS:-2}
DENSE=${DENSE-1024,1024:55 4096,4096:6 16384,16384:1 40000,40000:1}
mkdir -p "$OUT"

run() {  # name, flags...
  local name=$1; shift
  local dir="$OUT/$name"
  mkdir -p "$dir"
  echo "== $name: $* (load before: $(uptime | sed 's/.*load average: //'))"
  local timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f "cpu %U s user + %S s sys, wall %e s, max RSS %M KiB")
  local rc=0
  "${timer[@]}" "$TRAINER" --out_dir="$dir" --threads="$THREADS" --progress=lines "$@" > "$dir/log.txt" 2>&1 || rc=$?
  echo "   load after: $(uptime | sed 's/.*load average: //')" | tee -a "$dir/log.txt"
  grep -E '^(final:|stopped by)' "$dir/log.txt" || tail -3 "$dir/log.txt"
  [ "$rc" = 0 ] || echo "   exit code $rc"
}

SPARSE=(--model=mlp --width="$WIDTH" --sparsity="$SPARSITY" --distribution=erk --epochs="$EPOCHS"
        --train_limit="$LIMIT" --init_fan="$INIT_FAN")
for m in $METHODS; do
  case $m in
    static) run static "${SPARSE[@]}" --method=static ;;
    set|rigl) run "$m" "${SPARSE[@]}" --method="$m" --delta_t="$DELTA_T" ;;
    *) echo "unknown method $m (expected static, set or rigl)" >&2; exit 2 ;;
  esac
done

if [ -n "$DENSE" ]; then
  if [ -z "${BUDGET:-}" ]; then
    [ -f "$OUT/rigl/summary.json" ] || { echo "BUDGET is unset and $OUT/rigl/summary.json is missing" >&2; exit 2; }
    BUDGET=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['train_seconds'])" "$OUT/rigl/summary.json")
  fi
  echo "dense budget: $BUDGET s of training each"
  for d in $DENSE; do
    w=${d%:*}; e=${d#*:}
    run "dense_${w//,/x}" --model=mlp --width="$w" --method=dense --epochs="$e" --train_limit="$LIMIT" \
        --time_budget="$BUDGET"
  done
fi

printf '\n%-20s %9s %9s %9s %8s %13s %9s %8s\n' run epochs train_s update_s upd_share peak_RSS_MiB test_acc budget
for dir in "$OUT"/*/; do
  s="$dir/summary.json"
  [ -f "$s" ] || { printf '%-20s (no summary.json: see %s/log.txt)\n' "$(basename "$dir")" "$dir"; continue; }
  python3 - "$s" "$(basename "$dir")" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
per_epoch = j['total_iterations'] / j['config']['epochs']
print('%-20s %9.2f %9.1f %9.1f %8.1f%% %13.1f %8.2f%% %8s' % (
    sys.argv[2], j['iterations'] / per_epoch, j['train_seconds'], j['update_seconds'],
    100 * j['update_seconds'] / max(j['train_seconds'], 1e-9), j['peak_rss_bytes'] / 2**20,
    100 * j['test_accuracy'], 'stopped' if j.get('stopped_by_time_budget') else '-'))
PY
done
