#!/usr/bin/env bash
# The trainer binary's contract at the command line: bad flags exit 2 naming the flag, value and rule; --help
# documents the flags; --flops_only prints the table without data.
set -u
bin="rigl/trainer"
fail=0
expect() {  # expect <exit code> <text in output> <args...>
  local code="$1" text="$2"; shift 2
  out=$("$bin" "$@" 2>&1); got=$?
  if [[ $got -ne $code ]]; then echo "FAIL: $* exited $got, expected $code: $out"; fail=1; fi
  if ! grep -qF -- "$text" <<<"$out"; then echo "FAIL: $* output lacks '$text': $out"; fail=1; fi
}
expect 2 "--sparsity=1.5" --sparsity=1.5
expect 2 "expected 0 <= sparsity < 1" --sparsity=1.5
expect 2 "--model=vgg" --model=vgg
expect 2 "--lr=-0.1" --lr=-0.1
expect 2 "--batch_size=0" --batch_size=0
expect 2 "unknown value; expected one of" --method=foo
expect 1 "dataset-fashion-mnist" --data_dir=/nonexistent/dir --epochs=1
expect 0 "fc1.weight" --flops_only --model=mlp --sparsity=0.9
expect 0 "layer4.2.conv3.weight" --flops_only --model=resnet50 --sparsity=0.9 --distribution=erk
# MobileNet's table: the trained 28x28 network by default, the paper's ImageNet one on request (1141.5 MFLOPs dense,
# the 1000-way classifier).
expect 0 "features.13.3.weight" --flops_only --model=mobilenet_v1 --sparsity=0.9
expect 0 "1000x1024" --flops_only --model=mobilenet_v1 --sparsity=0.9 --flops_shape=imagenet
expect 0 "features.18.0.weight" --flops_only --model=mobilenet_v2 --mobilenet_width=0.5
expect 2 "--flops_shape=imagenet without --flops_only" --flops_shape=imagenet
expect 2 "--mobilenet_width=0.5 --model=mlp" --mobilenet_width=0.5
# Values gflags itself would reject (with exit 1 and its own words), unknown flags, and values that would run for
# ever or allocate without bound: all exit 2 naming the flag (issue 15).
expect 2 "--epochs=1e20" --epochs=1e20
expect 2 "--seed=-1" --seed=-1
expect 2 "--foo: unknown flag" --foo=1
expect 2 "--lr=abc" --lr=abc
expect 2 "expected 1 <= epochs <= 1000000" --epochs=99999999999
expect 2 "expected 0 < multiplier <= 1000" --multiplier=1e18
expect 2 "GiB" --width=2000000000
# --block: only the supported shapes, and only for methods that store a sparse pattern.
expect 2 "--block=3x3: unknown value; expected one of 1x1 | 2x1 | 4x1 | 8x1 | 1x4 | 2x2 | 4x4" --block=3x3
expect 2 "--block=4x1 --method=dense" --block=4x1 --method=dense
expect 2 "--block=4x1 --method=small_dense" --block=4x1 --method=small_dense
# Every validation rule, through the binary: each bad value exits 2 naming its flag (the rules' texts are checked one
# by one in trainer_test's Config.BadValuesNameTheFlagAndTheRule).
for bad in --model=resnet50 --width= --width=0 --train_limit=-1 --test_limit=-1 --epochs=0 --batch_size=2000000 \
           --lr=0 --momentum=1 --weight_decay=-1 --label_smoothing=1 --lr_schedule=linear --lr_milestones=0 \
           --lr_gamma=2 --warmup_epochs=-1 --method=magic --sparsity=-0.5 --distribution=gaussian \
           --erk_power_scale=-1 --delta_t=0 --drop_fraction=2 --t_end=0 --drop_schedule=linear --drop_power=0 \
           --multiplier=0 --snfs_momentum=1 --prune_start=0.9 --prune_end=2 --prune_frequency=0 --init_fan=he \
           --grow_tile_rows=-1 --threads=0 --eval_every=0 --checkpoint_every=-1 --stop_after_steps=-1 \
           --time_budget=-1 --progress=fancy --stop_after_steps=3 --nesterov=maybe --threads=x --width=3,a \
           --export=model.bin --export_only --export_dense --mobilenet_width=0.1 --mobilenet_width=5 \
           --flops_shape=cifar; do
  expect 2 "${bad%%=*}" "$bad"
done

# Messages start with what the user gave, not with a source location; ENGINE_DEBUG adds the location at the end.
out=$("$bin" --sparsity=1.5 2>&1)
if grep -qE '\.cc:[0-9]+' <<<"$out"; then echo "FAIL: a source location in a user-facing message: $out"; fail=1; fi
out=$(ENGINE_DEBUG=1 "$bin" --sparsity=1.5 2>&1)
grep -qE 'raised at config\.cc:[0-9]+' <<<"$out" || { echo "FAIL: ENGINE_DEBUG=1 does not add the location: $out"; fail=1; }

# --out_dir is a path, never shell text: a quote in it creates that directory and runs nothing (issue 15 item 1).
tiny=(--train_limit=256 --test_limit=256 --epochs=1 --batch_size=64 --progress=none)
work="${TEST_TMPDIR:-/tmp}/cli_work"
mkdir -p "$work"
evil="x'; touch PWNED; echo '"
(cd "$work" && "$OLDPWD/$bin" --out_dir="$evil" "${tiny[@]}" >/dev/null 2>&1) || { echo "FAIL: quoted --out_dir run failed"; fail=1; }
[[ -e "$work/PWNED" ]] && { echo "FAIL: --out_dir text was run by a shell (PWNED exists)"; fail=1; }
[[ -f "$work/$evil/summary.json" ]] || { echo "FAIL: the quoted --out_dir was not created literally"; fail=1; }

# A fresh run into a directory holding a run is refused, leaving the checkpoint as it was; --overwrite allows it.
run="$work/run1"
"$bin" --out_dir="$run" "${tiny[@]}" >/dev/null 2>&1
cp "$run/checkpoint.bin" "$work/before.bin"
expect 2 "already holds a run" --out_dir="$run" "${tiny[@]}"
cmp -s "$run/checkpoint.bin" "$work/before.bin" || { echo "FAIL: a refused run changed the checkpoint"; fail=1; }
expect 0 "test accuracy" --out_dir="$run" --overwrite "${tiny[@]}"

out=$("$bin" --help 2>&1)
# The trainer's flags come first (no flag-library preamble) and each documented flag appears exactly once (issue 21).
first_flag=$(grep -m1 -oE '^  --[a-z_]+' <<<"$out")
[[ "$first_flag" == "  --model" ]] || { echo "FAIL: --help does not start with the trainer's flags (first: '$first_flag')"; fail=1; }
if grep -q "Flags from" <<<"$out"; then echo "FAIL: --help prints the flag library's flags"; fail=1; fi
dups=$(grep -oE '^  --[a-z_]+' <<<"$out" | sort | uniq -d)
[[ -z "$dups" ]] || { echo "FAIL: --help lists flags more than once: $dups"; fail=1; }
for group in "Model:" "Method and sparsity:" "Optimisation:" "Data:" "Outputs and resume:" "Performance:" "Examples:"; do
  grep -qF "$group" <<<"$out" || { echo "FAIL: --help lacks the group '$group'"; fail=1; }
done
for flag in model width epochs batch_size lr momentum nesterov weight_decay lr_schedule sparsity method seed threads \
            data_dir out_dir resume eval_every distribution first_layer_dense delta_t drop_fraction t_end \
            drop_schedule multiplier erk_power_scale prune_start prune_end prune_frequency flops_only overwrite time_budget \
            init_fan grow_tile_rows checkpoint_every stop_after_steps progress test_limit train_limit augment \
            init_from export export_dense export_only mobilenet_width flops_shape; do
  [[ $(grep -cE "^  --$flag=" <<<"$out") -eq 1 ]] || { echo "FAIL: --help does not document --$flag exactly once"; fail=1; }
done
# The trainer runs this CPU's best OpenBLAS kernels even when OpenBLAS is misled: OPENBLAS_CORETYPE=Prescott is what
# Debian's OpenBLAS 0.3.21 picks by itself on an Intel Xeon family 6 model 207, Haswell what some environments pin.
for weak in Prescott Haswell; do
  dir="${TEST_TMPDIR:-/tmp}/blas_$weak"
  out=$(OPENBLAS_CORETYPE=$weak "$bin" --train_limit=256 --test_limit=256 --epochs=1 --batch_size=64 --progress=none \
        --out_dir="$dir" 2>&1)
  grep -q "OpenBLAS core .*the best for this CPU" <<<"$out" || {
    echo "FAIL: with OPENBLAS_CORETYPE=$weak the trainer does not report the CPU's best OpenBLAS core: $out"; fail=1; }
  grep -q '"openblas_below_best": false' "$dir/summary.json" || {
    echo "FAIL: with OPENBLAS_CORETYPE=$weak summary.json does not say openblas_below_best false"; fail=1; }
done
[[ $fail -eq 0 ]] && echo "all CLI checks passed"
exit $fail
