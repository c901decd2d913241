#!/usr/bin/env bash
# Crash consistency: a training run SIGKILLed at many points, each time resumed from whatever checkpoint it had
# committed, ends bit-identical (weights fingerprint, accuracy) to an uninterrupted run, and a committed checkpoint is
# never lost or torn. Two kinds of kill:
#  - deterministic, inside writes: RIGL_TEST_KILL_AFTER_BYTES=N makes the trainer SIGKILL itself once N bytes have
#    gone through its atomic file writes (in the middle of a checkpoint, a metrics file, a summary);
#  - asynchronous: `kill -9` from outside after a pseudo-random delay (seeded; where it lands does not matter, the
#    assertion must hold wherever it does).
set -u
bin="rigl/trainer"
[[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]] || { echo "SKIP: dataset-fashion-mnist missing"; exit 0; }
work="${TEST_TMPDIR:-/tmp}/kill_resume"
rm -rf "$work" && mkdir -p "$work"
args=(--width=32,16 --train_limit=512 --test_limit=256 --epochs=3 --batch_size=32 --delta_t=5 --checkpoint_every=3
      --method=rigl --seed=3 --threads=2 --progress=none)
fail=0
fingerprint() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["weights_fingerprint"], s["test_accuracy"], s["iterations"])' "$1"; }

"$bin" "${args[@]}" --out_dir="$work/ref" > "$work/ref.log" 2>&1 || { echo "FAIL: reference run failed"; cat "$work/ref.log"; exit 1; }
want=$(fingerprint "$work/ref/summary.json")
ckpt_bytes=$(stat -c %s "$work/ref/checkpoint.bin")
echo "reference: $want (checkpoint $ckpt_bytes bytes)"

# Runs (or resumes) dir until it completes, with extra environment for the first attempt only. Every attempt that
# finds a committed checkpoint must be able to resume from it (a committed checkpoint is never lost or torn).
finish() {
  local dir="$1"; shift
  local attempt=0 rc
  while [[ ! -f "$dir/summary.json" ]] || ! grep -q '"stopped_by_time_budget": false' "$dir/summary.json"; do
    attempt=$((attempt + 1))
    [[ $attempt -le 60 ]] || { echo "FAIL: $dir did not finish in 60 attempts"; return 1; }
    local resume=()
    if [[ -f "$dir/checkpoint.bin" ]]; then resume=(--resume="$dir/checkpoint.bin"); else resume=(--overwrite); fi
    if [[ $attempt -eq 1 ]]; then
      env "$@" "$bin" "${args[@]}" --out_dir="$dir" "${resume[@]}" > "$dir.log.$attempt" 2>&1; rc=$?
    else
      "$bin" "${args[@]}" --out_dir="$dir" "${resume[@]}" > "$dir.log.$attempt" 2>&1; rc=$?
    fi
    if [[ $rc -ne 0 && $rc -ne 137 ]]; then echo "FAIL: $dir attempt $attempt exited $rc"; tail -5 "$dir.log.$attempt"; return 1; fi
  done
}

kills=0
# Deterministic kills at byte offsets spread over the whole run's writes (first checkpoint, later ones, metrics).
for bytes in 1 100 $((ckpt_bytes / 2)) $((ckpt_bytes - 3)) $((ckpt_bytes + 50)) $((3 * ckpt_bytes)) \
             $((7 * ckpt_bytes + 11)) $((12 * ckpt_bytes)) $((20 * ckpt_bytes + 5)); do
  dir="$work/bytes_$bytes"
  mkdir -p "$dir"
  finish "$dir" RIGL_TEST_KILL_AFTER_BYTES="$bytes" || { fail=1; continue; }
  kills=$((kills + 1))
  got=$(fingerprint "$dir/summary.json")
  [[ "$got" == "$want" ]] || { echo "FAIL: killed after $bytes written bytes, resumed: $got, expected $want"; fail=1; }
done

# Asynchronous kills: several per run, at seeded pseudo-random delays.
RANDOM=17
for run in 1 2 3; do
  dir="$work/async_$run"
  mkdir -p "$dir"
  for k in 1 2 3 4; do
    resume=(--overwrite)
    [[ -f "$dir/checkpoint.bin" ]] && resume=(--resume="$dir/checkpoint.bin")
    "$bin" "${args[@]}" --out_dir="$dir" "${resume[@]}" > "$dir.async.$k" 2>&1 &
    pid=$!
    sleep "0.$((RANDOM % 9 + 1))"
    kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
    wait "$pid" 2>/dev/null
  done
  finish "$dir" || { fail=1; continue; }
  got=$(fingerprint "$dir/summary.json")
  [[ "$got" == "$want" ]] || { echo "FAIL: async run $run after kills: $got, expected $want"; fail=1; }
done
echo "$kills kills in all"
[[ $fail -eq 0 ]] && echo "every killed run resumed to the reference result"
exit $fail
