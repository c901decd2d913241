#!/usr/bin/env bash
# Issue 20's convnet comparison, all in one session: PyTorch dense (bench/peers/torch_convnets.py) against our
# dense and 90% static (ERK) trainer runs, for one epoch of LeNet-5 and 50 steps of WRN-22-2, at 1 and 2 threads.
# Rounds are interleaved (PyTorch, ours dense, ours 90%, then the next round), because this VM's speed drifts; the
# table shows min-median-max of the training time (ours: summary.json's train_seconds, no evaluation) and the ratio
# of medians. Takes about 17 minutes with --rounds=2 on 2 cores (Zen 5).
#
#   bash tools/convnet_runs.sh [--rounds=3] [--models="lenet5 wrn22_2"] [--threads="1 2"] [--out=FILE]
# Writes the markdown table to --out (default: stdout only); never overwrites an existing file.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3 models="lenet5 wrn22_2" threads="1 2" out=""
for arg in "$@"; do
  case "$arg" in
    --rounds=*) rounds="${arg#*=}" ;;
    --models=*) models="${arg#*=}" ;;
    --threads=*) threads="${arg#*=}" ;;
    --out=*) out="${arg#*=}" ;;
    *) echo "convnet_runs.sh: unknown argument '$arg'; expected --rounds=N, --models=..., --threads=..., --out=FILE" >&2
       exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]?$ ]] || { echo "convnet_runs.sh: --rounds=$rounds; expected 1..99" >&2; exit 2; }
if [[ -n "$out" && -e "$out" ]]; then
  echo "convnet_runs.sh: --out=$out exists; refusing to overwrite it" >&2; exit 2
fi

bazel build //:trainer >&2
bin=$(mktemp -d)/trainer
cp bazel-bin/rigl/trainer "$bin"
work=$(mktemp -d)
results="$work/results.txt"  # lines: model threads run seconds

ours() {  # model threads method
  local dir="$work/run" limit=()
  rm -rf "$dir"
  [[ "$1" == wrn22_2 ]] && limit=(--train_limit=6400)
  OMP_NUM_THREADS="$2" "$bin" --model="$1" --method="$3" --sparsity=0.9 --epochs=1 "${limit[@]}" --test_limit=128 \
    --threads="$2" --out_dir="$dir" > "$work/log.txt" 2>&1 || { cat "$work/log.txt" >&2; exit 1; }
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["train_seconds"])' "$dir/summary.json"
}

machine=""
for r in $(seq "$rounds"); do
  for t in $threads; do
    for m in $models; do
      s=$(/usr/bin/python3 bench/peers/torch_convnets.py --threads="$t" --model="$m" --repeats=1 |
          /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(list(d["runs"].values())[0]["seconds"][0])')
      # Assignments, so that a failed run stops the script (set -e) instead of recording an empty time.
      dense=$(ours "$m" "$t" dense)
      sparse=$(ours "$m" "$t" static)
      printf '%s %s torch %s\n%s %s ours_dense %s\n%s %s ours_90 %s\n' "$m" "$t" "$s" "$m" "$t" "$dense" \
        "$m" "$t" "$sparse" >> "$results"
      echo "round $r, $t thread(s), $m: done" >&2
    done
  done
done
[[ -f "$work/log.txt" ]] && machine=$(grep -m1 'machine:' "$work/log.txt" | sed 's/^ *//' || true)

table=$(/usr/bin/python3 - "$results" "$machine" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
data = {}
for m, t, run, s in rows:
    data.setdefault((m, int(t), run), []).append(float(s))
names = {"torch": "PyTorch dense", "ours_dense": "ours dense", "ours_90": "ours 90% static (ERK)"}
print(sys.argv[2])
for m in sorted({k[0] for k in data}):
    ts = sorted({k[1] for k in data if k[0] == m})
    print(f"\n| {m} | " + " | ".join(f"{t} thread(s)" for t in ts) + " | " +
          " | ".join(f"vs PyTorch, {t}T" for t in ts) + " |")
    print("|---|" + "---:|" * (2 * len(ts)))
    for run in ["torch", "ours_dense", "ours_90"]:
        cells, ratios = [], []
        for t in ts:
            v = sorted(data[(m, t, run)])
            cells.append("-".join(f"{x:.2f}" for x in (v[0], statistics.median(v), v[-1])) + " s")
            base = statistics.median(data[(m, t, "torch")])
            r = base / statistics.median(v)
            ratios.append("1" if run == "torch" else (f"{r:.2f}x faster" if r >= 1 else f"{1 / r:.2f}x slower"))
        print(f"| {names[run]} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
PY
)
echo "$table"
if [[ -n "$out" ]]; then
  tmp="$out.tmp.$$"
  printf '%s\n' "$table" > "$tmp" && sync "$tmp" && mv -n "$tmp" "$out"
fi
rm -rf "$work" "$(dirname "$bin")"
