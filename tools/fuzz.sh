#!/usr/bin/env bash
# Builds the fuzz targets of tests/fuzz with clang's libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer
# (clang-14 and libclang-rt-14-dev, installed by tools/setup.sh) and runs each for a bounded time on a copy of its
# seed corpus. Exits non-zero on any finding (crash, sanitizer report, leak, timeout, out-of-memory); the input that
# caused it is kept under the work directory and its path printed.
#   tools/fuzz.sh [--seconds=N (60)] [--work=DIR (/tmp/sparse_engine_fuzz)] [target ...]
# Targets: idx_reader checkpoint flags safetensors (default: all).
set -u
cd "$(dirname "$0")/.."
seconds=60
work=/tmp/sparse_engine_fuzz
targets=()
for arg in "$@"; do
  case "$arg" in
    --seconds=*) seconds="${arg#--seconds=}" ;;
    --work=*) work="${arg#--work=}" ;;
    idx_reader|checkpoint|flags|safetensors) targets+=("$arg") ;;
    *) echo "fuzz.sh: unknown argument '$arg'; expected --seconds=N, --work=DIR or a target (idx_reader checkpoint flags safetensors)" >&2; exit 2 ;;
  esac
done
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -ge 1 ]] || { echo "fuzz.sh: --seconds=$seconds: expected an integer >= 1" >&2; exit 2; }
[[ ${#targets[@]} -gt 0 ]] || targets=(idx_reader checkpoint flags safetensors)
cxx=$(command -v clang++-14 || command -v clang++) || { echo "fuzz.sh: clang++ not found (tools/setup.sh installs clang-14)" >&2; exit 1; }
mkdir -p "$work"
flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I.)
declare -A sources=(
  [idx_reader]="tests/fuzz/idx_reader_fuzz.cc engine/data/idx_reader.cc engine/base/check.cc -lz"
  [checkpoint]="tests/fuzz/checkpoint_fuzz.cc rigl/checkpoint.cc engine/base/check.cc -lz"
  [flags]="tests/fuzz/flags_fuzz.cc rigl/config.cc rigl/method.cc rigl/drop_schedule.cc models/model_names.cc engine/base/check.cc -lgflags"
  [safetensors]="tests/fuzz/safetensors_fuzz.cc rigl/safetensors.cc rigl/checkpoint.cc engine/base/check.cc -lz"
)
status=0
for t in "${targets[@]}"; do
  bin="$work/${t}_fuzz"
  echo "== fuzz $t: building $bin"
  # shellcheck disable=SC2086
  if ! "$cxx" "${flags[@]}" ${sources[$t]} -o "$bin" 2> "$work/${t}_build.log"; then
    echo "fuzz $t: build FAILED"; tail -20 "$work/${t}_build.log"; status=1; continue
  fi
  corpus="$work/${t}_corpus"
  rm -rf "$corpus" && mkdir -p "$corpus" && cp tests/fuzz/corpus/"$t"/* "$corpus"/
  echo "== fuzz $t: ${seconds} s on $(ls "$corpus" | wc -l) seed inputs"
  if TEST_TMPDIR="$work" "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
       -print_final_stats=1 -artifact_prefix="$work/${t}_" "$corpus" > "$work/${t}.log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/${t}.log" | grep -o '[0-9]*$')
    echo "fuzz $t: ok, ${runs:-?} executions, corpus now $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz $t: FINDING (log $work/${t}.log)"; grep -E "ERROR|SUMMARY|artifact|Test unit" "$work/${t}.log" | head -20
    status=1
  fi
done
exit $status
