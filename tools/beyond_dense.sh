#!/usr/bin/env bash
# Reproduces the "beyond dense" measurements of docs/BEYOND_DENSE.md: a 784-100000-100000-10 MLP at 99.9% sparsity
# (ERK) trained with Static, SET and RigL, whose dense twin needs ~113 GiB to train, beside the best dense MLP that
# fits, trained for a comparable wall-clock budget. Writes one directory per run under $OUT (summary.json,
# metrics.jsonl, checkpoint.bin, log.txt) and prints a table. Each timing line records `uptime` (the machine is shared).
#
# Usage: tools/beyond_dense.sh [OUT]           env: TRAINER (binary), LIMIT (training samples, 0 = all 60000),
#        WIDTH (default 100000,100000), DELTA_T (RigL/SET update interval), DENSE_WIDTH, DENSE_EPOCHS, THREADS
set -euo pipefail
OUT=${1:-/tmp/beyond_dense}
TRAINER=${TRAINER:-bazel-bin/rigl/trainer}
LIMIT=${LIMIT:-1280}
WIDTH=${WIDTH:-100000,100000}
DELTA_T=${DELTA_T:-5}
DENSE_WIDTH=${DENSE_WIDTH:-1024,1024}
DENSE_EPOCHS=${DENSE_EPOCHS:-1}
THREADS=${THREADS:-2}
METHODS=${METHODS:-static set rigl dense}
mkdir -p "$OUT"

run() {  # name, flags...
  local name=$1; shift
  local dir="$OUT/$name"
  mkdir -p "$dir"
  echo "== $name: $* (load before: $(uptime | sed 's/.*load average: //'))"
  # /usr/bin/time adds the CPU seconds: on a shared machine they say how much of the wall time was ours.
  local timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f "cpu %U s user + %S s sys, wall %e s, max RSS %M KiB")
  "${timer[@]}" "$TRAINER" --out_dir="$dir" --threads="$THREADS" --progress=lines "$@" > "$dir/log.txt" 2>&1
  tail -1 "$dir/log.txt"
  echo "   load after: $(uptime | sed 's/.*load average: //')" | tee -a "$dir/log.txt"
  grep '^final:' "$dir/log.txt" || tail -3 "$dir/log.txt"
}

SPARSE=(--model=mlp --width="$WIDTH" --sparsity=0.999 --distribution=erk --epochs=1 --train_limit="$LIMIT")
for m in $METHODS; do
  case $m in
    static) run static "${SPARSE[@]}" --method=static ;;
    set)    run set "${SPARSE[@]}" --method=set --delta_t="$DELTA_T" ;;
    rigl)   run rigl "${SPARSE[@]}" --method=rigl --delta_t="$DELTA_T" ;;
    dense)  run dense --model=mlp --width="$DENSE_WIDTH" --method=dense --epochs="$DENSE_EPOCHS" ;;
  esac
done

printf '\n%-8s %10s %10s %12s %12s %10s %8s\n' run steps train_s update_s peak_rss_MiB test_acc updates
for m in $METHODS; do
  s="$OUT/$m/summary.json"
  [ -f "$s" ] || continue
  python3 - "$s" "$m" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print('%-8s %10d %10.1f %12.1f %12.1f %10.4f %8d' % (sys.argv[2], j['steps'], j['train_seconds'], j['update_seconds'],
      j['peak_rss_bytes'] / 2**20, j['test_accuracy'], j['updates']))
PY
done
