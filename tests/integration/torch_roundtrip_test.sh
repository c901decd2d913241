#!/usr/bin/env bash
# Trained models leave the engine (issue 14): --export writes safetensors that PyTorch evaluates to the trainer's own
# figures, and --init_from reads them (and files written from PyTorch) back.
#  - MLP, LeNet-5 and MobileNet v1 / v2 (width 0.25) at 90% RigL, short runs: tools/torch_eval.py's test accuracy equals the trainer's
#    (summary.json) within 0.05 points, and the logits of 16 test images agree within 1e-4 relative (to the largest
#    |logit| of the image) with the engine's (export_logits loads the file into the engine's network);
#  - export -> --init_from -> --export_only is byte-identical, and so is --export_only from the run's checkpoint;
#  - a dense MLP trained and saved by PyTorch (numpy writer of torch_eval.py) evaluates identically in the engine,
#    then starts a RigL run (sparsified by magnitude) that trains;
#  - a PyTorch WRN-22-2 with random BatchNorm statistics, imported sparse (--export_only), gives PyTorch's logits;
#  - bad files exit 1 naming the fault, bad export flags exit 2.
# Skips with a SKIP line only when torch cannot be imported (tools/setup.sh installs python3-torch) or the data set
# is missing.
set -u
bin="rigl/trainer"
logits_bin="tests/integration/export_logits"
eval_py="$PWD/tools/torch_eval.py"
[[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]] || { echo "SKIP: dataset-fashion-mnist missing"; exit 0; }
py=""
for candidate in /usr/bin/python3 python3; do  # Debian's python3-torch is in /usr/bin/python3's path
  if "$candidate" -c "import torch, numpy" 2>/dev/null; then py="$candidate"; break; fi
done
[[ -n "$py" ]] || { echo "SKIP: torch is not importable (tools/setup.sh installs python3-torch)"; exit 0; }
work="${TEST_TMPDIR:-/tmp}/torch_roundtrip"
rm -rf "$work" && mkdir -p "$work"
fail=0
common=(--progress=none --threads=2 --seed=1)

# compare <torch.json> <engine.json> <what> [accuracy to match, default the engine file's]: accuracies within 0.05
# points, logits within 1e-4 relative.
compare() {
  "$py" - "$@" <<'PY'
import json, sys
torch_out, engine_out = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
what = sys.argv[3]
want = float(sys.argv[4]) if len(sys.argv) > 4 else engine_out["accuracy"]
ok = True
if abs(torch_out["accuracy"] - want) * 100 > 0.05:
    print(f"FAIL: {what}: PyTorch accuracy {torch_out['accuracy']:.4f}, engine {want:.4f}: more than 0.05 points apart")
    ok = False
rows_t, rows_e = torch_out["logits"], engine_out["logits"]
if len(rows_t) != 16 or len(rows_e) != 16:
    print(f"FAIL: {what}: {len(rows_t)} PyTorch and {len(rows_e)} engine logit rows; expected 16 each")
    ok = False
worst = 0.0
for i, (a, b) in enumerate(zip(rows_t, rows_e)):
    scale = max(abs(v) for v in b)
    err = max(abs(x - y) for x, y in zip(a, b)) / max(scale, 1e-30)
    worst = max(worst, err)
    if err > 1e-4:
        print(f"FAIL: {what}: image {i}: logits differ by {err:.2e} relative: PyTorch {a}, engine {b}")
        ok = False
print(f"{what}: PyTorch accuracy {100 * torch_out['accuracy']:.2f}%, engine {100 * want:.2f}%, "
      f"logits of 16 images within {worst:.1e} relative")
sys.exit(0 if ok else 1)
PY
}

accuracy_of() { "$py" -c 'import json,sys; print(json.load(open(sys.argv[1]))["test_accuracy"])' "$1"; }

# roundtrip <name> <trainer flags...>: train, export, compare with PyTorch, re-export.
roundtrip() {
  local name="$1"; shift
  local dir="$work/$name"
  "$bin" "$@" "${common[@]}" --out_dir="$dir" --export="$dir/model.safetensors" > "$dir.log" 2>&1 ||
    { echo "FAIL: $name: training run failed"; tail -5 "$dir.log"; fail=1; return; }
  grep -q "^export: $dir/model.safetensors" "$dir.log" || { echo "FAIL: $name: no export line"; fail=1; }
  "$py" "$eval_py" "$dir/model.safetensors" --logits=16 --json > "$dir.torch.json" ||
    { echo "FAIL: $name: torch_eval.py failed"; fail=1; return; }
  "$logits_bin" "$@" --init_from="$dir/model.safetensors" --count=16 > "$dir.engine.json" ||
    { echo "FAIL: $name: export_logits failed"; fail=1; return; }
  compare "$dir.torch.json" "$dir.engine.json" "$name" "$(accuracy_of "$dir/summary.json")" || fail=1
  # Export -> import -> export, and an export from the checkpoint without training: the same bytes.
  "$bin" "$@" "${common[@]}" --init_from="$dir/model.safetensors" --export="$dir/again.safetensors" --export_only \
    > "$dir.again.log" 2>&1 || { echo "FAIL: $name: --init_from --export_only failed"; cat "$dir.again.log"; fail=1; }
  cmp "$dir/model.safetensors" "$dir/again.safetensors" ||
    { echo "FAIL: $name: export -> import -> export is not byte-identical"; fail=1; }
  "$bin" "$@" "${common[@]}" --resume="$dir/checkpoint.bin" --export="$dir/from_checkpoint.safetensors" \
    --export_only > "$dir.ckpt.log" 2>&1 || { echo "FAIL: $name: --resume --export_only failed"; cat "$dir.ckpt.log"; fail=1; }
  cmp "$dir/model.safetensors" "$dir/from_checkpoint.safetensors" ||
    { echo "FAIL: $name: the export from the checkpoint differs from the run's"; fail=1; }
  # The dense layout evaluates the same in PyTorch.
  "$bin" "$@" "${common[@]}" --resume="$dir/checkpoint.bin" --export="$dir/dense.safetensors" --export_dense \
    --export_only > /dev/null 2>&1 || { echo "FAIL: $name: --export_dense failed"; fail=1; }
  "$py" "$eval_py" "$dir/dense.safetensors" --logits=16 --json > "$dir.dense.json" &&
    compare "$dir.dense.json" "$dir.engine.json" "$name (--export_dense)" || fail=1
}

mlp=(--model=mlp --method=rigl --sparsity=0.9 --train_limit=4096 --epochs=1)
lenet=(--model=lenet5 --method=rigl --sparsity=0.9 --train_limit=8192 --epochs=1 --lr=0.1)
# MobileNets (issue 17): depthwise convs, ReLU6, inverted residuals and BatchNorm buffers under torchvision's names.
mb1=(--model=mobilenet_v1 --mobilenet_width=0.25 --method=rigl --sparsity=0.9 --train_limit=2048 --epochs=1)
mb2=(--model=mobilenet_v2 --mobilenet_width=0.25 --method=rigl --sparsity=0.9 --train_limit=2048 --epochs=1)
roundtrip mlp "${mlp[@]}"
roundtrip lenet5 "${lenet[@]}"
roundtrip mobilenet_v1 "${mb1[@]}"
roundtrip mobilenet_v2 "${mb2[@]}"

# The exported MobileNet v2 loads into torchvision's own mobilenet_v2 (same width, 10 classes; only the stem conv
# replaced by the 1-channel, stride-1 one of the 28x28 inputs) with no missing or unexpected tensor, and gives the
# twin's logits: our names and shapes are torchvision's.
"$py" - "$eval_py" "$work/mobilenet_v2/model.safetensors" <<'PY' || { echo "FAIL: MobileNet v2 in torchvision"; fail=1; }
import os, sys
import torch
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import torch_eval
try:
    import torchvision
except ImportError:
    print("SKIP (not a failure): torchvision is not importable (tools/setup.sh installs python3-torchvision)")
    sys.exit(0)
tensors, metadata = torch_eval.load_safetensors(sys.argv[2])
sd = {k: (v.to_dense() if v.layout != torch.strided else v) for k, v in torch_eval.state_dict(tensors, metadata).items()}
m = torchvision.models.mobilenet_v2(num_classes=10, width_mult=0.25)
m.features[0][0] = torch.nn.Conv2d(1, m.features[0][0].out_channels, 3, 1, 1, bias=False)
missing, unexpected = m.load_state_dict(sd, strict=False)
missing = [k for k in missing if not k.endswith("num_batches_tracked")]
if missing or unexpected:
    print(f"FAIL: torchvision's mobilenet_v2: missing {missing}, unexpected {unexpected}")
    sys.exit(1)
twin = torch_eval.build_model("mobilenet_v2", sd)
twin.load_state_dict(sd, strict=False)
m.eval(), twin.eval()
x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
with torch.no_grad():
    diff = (m(x) - twin(x)).abs().max().item()
print(f"MobileNet v2 in torchvision {torchvision.__version__}: every tensor loaded; logits within {diff:.1e} of the twin's")
sys.exit(0 if diff <= 1e-5 else 1)
PY

# A dense MLP trained and saved by PyTorch: the engine evaluates it as PyTorch does, then RigL starts from it.
"$py" - "$eval_py" "$work" <<'PY' || { echo "FAIL: writing the PyTorch MLP"; fail=1; }
import os, sys
import torch
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import torch_eval
torch.manual_seed(0)
torch.set_num_threads(2)
shapes = {"fc1.weight": torch.zeros(300, 784), "fc2.weight": torch.zeros(100, 300), "fc3.weight": torch.zeros(10, 100)}
model = torch_eval.build_model("mlp", shapes)
images, labels = torch_eval.normalised_test_set("/usr/share/datasets/fashion-mnist", {})
# A few SGD steps on test images stand in for training (any dense weights will do: the point is the layout).
opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
x, y = torch.from_numpy(images[:2048]), torch.from_numpy(labels[:2048])
for step in range(64):
    b = slice((step * 128) % 2048, (step * 128) % 2048 + 128)
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x[b]), y[b]).backward()
    opt.step()
torch_eval.save_safetensors(os.path.join(sys.argv[2], "torch_mlp.safetensors"), model.state_dict())
PY
"$py" "$eval_py" "$work/torch_mlp.safetensors" --logits=16 --json > "$work/torch_mlp.torch.json" &&
  "$logits_bin" --model=mlp --method=dense --init_from="$work/torch_mlp.safetensors" > "$work/torch_mlp.engine.json" &&
  compare "$work/torch_mlp.torch.json" "$work/torch_mlp.engine.json" "PyTorch-written dense MLP in the engine" || fail=1
out=$("$bin" "${mlp[@]}" "${common[@]}" --init_from="$work/torch_mlp.safetensors" --out_dir="$work/from_torch" 2>&1) ||
  { echo "FAIL: RigL from the PyTorch MLP failed: $out"; fail=1; }
grep -q "^init_from: .*, 2 sparsified by magnitude" <<<"$out" ||
  { echo "FAIL: the run from the PyTorch MLP does not report 2 weights sparsified by magnitude: $out"; fail=1; }
acc=$(accuracy_of "$work/from_torch/summary.json" 2>/dev/null || echo 0)
"$py" -c "import sys; sys.exit(0 if float(sys.argv[1]) > 0.6 else 1)" "$acc" ||
  { echo "FAIL: RigL started from the PyTorch MLP reached only $acc"; fail=1; }
echo "RigL 90% from the PyTorch dense MLP: test accuracy $acc after one short epoch"

# A PyTorch WRN-22-2 (random weights and BatchNorm statistics), imported sparse by magnitude and exported as CSR:
# both frameworks give the same logits (3x3 and 1x1 convolutions, strides, shortcuts, BatchNorm buffers).
"$py" - "$eval_py" "$work" <<'PY' || { echo "FAIL: writing the PyTorch WRN-22-2"; fail=1; }
import os, sys
import torch
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import torch_eval
torch.manual_seed(1)
model = torch_eval.build_model("wrn22_2", {"conv1.weight": torch.zeros(16, 1, 3, 3), "fc.weight": torch.zeros(10, 128)})
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.1, 0.1)
torch_eval.save_safetensors(os.path.join(sys.argv[2], "torch_wrn.safetensors"), model.state_dict())
PY
wrn=(--model=wrn22_2 --method=static --sparsity=0.9)
"$bin" "${wrn[@]}" "${common[@]}" --init_from="$work/torch_wrn.safetensors" --export="$work/wrn_sparse.safetensors" \
  --export_only > "$work/wrn.log" 2>&1 || { echo "FAIL: importing the PyTorch WRN-22-2"; cat "$work/wrn.log"; fail=1; }
"$py" "$eval_py" "$work/wrn_sparse.safetensors" --logits=16 --limit=200 --json > "$work/wrn.torch.json" &&
  "$logits_bin" "${wrn[@]}" --init_from="$work/wrn_sparse.safetensors" --test_limit=200 > "$work/wrn.engine.json" &&
  compare "$work/wrn.torch.json" "$work/wrn.engine.json" "WRN-22-2 from PyTorch, 90% static (200 images)" || fail=1

# Bad files exit 1 naming the fault; a refused import writes nothing into --out_dir.
expect() {  # expect <exit code> <text in output> <args...>
  local code="$1" text="$2"; shift 2
  local out got
  out=$("$bin" "$@" 2>&1); got=$?
  if [[ $got -ne $code ]]; then echo "FAIL: $* exited $got, expected $code: $out"; fail=1; fi
  if ! grep -qF -- "$text" <<<"$out"; then echo "FAIL: $* output lacks '$text': $out"; fail=1; fi
}
head -c 1000 "$work/mlp/model.safetensors" > "$work/truncated.safetensors"
printf 'not a safetensors file at all' > "$work/garbage.safetensors"
expect 1 "is beyond the file" "${mlp[@]}" "${common[@]}" --init_from="$work/truncated.safetensors" --out_dir="$work/refused"
[[ -e "$work/refused/config.json" ]] && { echo "FAIL: a refused --init_from wrote config.json"; fail=1; }
expect 1 "header length" "${mlp[@]}" "${common[@]}" --init_from="$work/garbage.safetensors"
expect 1 "not found or not a regular file" "${mlp[@]}" --init_from="$work/missing.safetensors"
corpus=tests/fuzz/corpus/safetensors
expect 1 "header length 4096 is beyond the file" "${mlp[@]}" --init_from="$corpus/length_beyond_file"
expect 1 "tensors 'a' [0, 8) and 'b' [4, 12) overlap" "${mlp[@]}" --init_from="$corpus/overlap"
expect 1 "the header has the key 'a' twice" "${mlp[@]}" --init_from="$corpus/duplicate_key"
expect 1 "unknown dtype 'F8_E4M3'" "${mlp[@]}" --init_from="$corpus/unknown_dtype"
expect 1 "of F64 overflows" "${mlp[@]}" --init_from="$corpus/shape_overflow"
expect 1 "no tensor 'fc1.bias'; expected fc1.bias of shape [300]" "${mlp[@]}" --init_from="$corpus/all_dtypes"
expect 1 "tensor 'fc1.bias' has shape [120]; expected [300]" "${mlp[@]}" --init_from="$work/lenet5/model.safetensors" \
  --export_only --export="$work/x.safetensors"
expect 1 "the file's metadata says model=lenet5" "${mlp[@]}" --init_from="$work/lenet5/model.safetensors"
expect 1 "stored entries (CSR parts); expected" --model=mlp --sparsity=0.8 --init_from="$work/mlp/model.safetensors"
# Bad export flags exit 2 before any work; an existing file is replaced only with --overwrite.
expect 2 "expected a path ending in .safetensors" --export="$work/model.bin"
expect 2 "--export_only without --export" --export_only
expect 2 "the file exists" "${mlp[@]}" --export="$work/mlp/model.safetensors"
expect 0 "export: $work/mlp/again.safetensors" "${mlp[@]}" "${common[@]}" --init_from="$work/mlp/model.safetensors" \
  --export="$work/mlp/again.safetensors" --export_only --overwrite
expect 0 "export: $work/new/dir/m.safetensors" "${mlp[@]}" "${common[@]}" --export="$work/new/dir/m.safetensors" \
  --export_only

# The export is written when the run ends: not at a --stop_after_steps interruption, then at the end of the resumed
# run (the same bytes as an uninterrupted run's), and when --time_budget ends the run early.
stop="$work/stopped"
"$bin" "${mlp[@]}" "${common[@]}" --out_dir="$stop" --export="$stop/model.safetensors" --stop_after_steps=5 \
  > /dev/null 2>&1 || { echo "FAIL: the --stop_after_steps run failed"; fail=1; }
[[ -e "$stop/model.safetensors" ]] && { echo "FAIL: an interrupted run (--stop_after_steps) exported"; fail=1; }
"$bin" "${mlp[@]}" "${common[@]}" --out_dir="$stop" --export="$stop/model.safetensors" --resume="$stop/checkpoint.bin" \
  > /dev/null 2>&1 || { echo "FAIL: resuming the stopped run failed"; fail=1; }
cmp "$stop/model.safetensors" "$work/mlp/model.safetensors" ||
  { echo "FAIL: the export of the interrupted and resumed run differs from the uninterrupted run's"; fail=1; }
expect 0 "export: $work/budget.safetensors" "${mlp[@]}" "${common[@]}" --time_budget=0.000001 \
  --export="$work/budget.safetensors"

[[ $fail -eq 0 ]] && echo "all PyTorch round-trip checks passed"
exit $fail
