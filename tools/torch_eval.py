#!/usr/bin/env python3
"""Evaluates a model exported by the trainer (--export=FILE.safetensors) in PyTorch.

Reads the safetensors file with numpy (the `safetensors` package is not in Debian), rebuilds each sparse weight from
its CSR parts as a torch.sparse_csr_tensor, loads everything into the equivalent torch.nn model (mlp, lenet5,
wrn22_2, mobilenet_v1, mobilenet_v2: the same layers, padding and names as models/networks.cc; the MobileNets with
torchvision's module structure), preprocesses the Fashion-MNIST test set as
engine/data/dataset.cc does ((x / 255 - mean) / std, with the training set's mean and std from the file's metadata)
and prints the test accuracy; --logits=N also prints the logits of the first N test images.

    /usr/bin/python3 tools/torch_eval.py model.safetensors [--logits=16] [--limit=N] [--json]

Debian's python3-torch (installed by tools/setup.sh) lives in /usr/bin/python3's path. The file layout is described
in docs/EXPORT.md; save_safetensors() writes the same layout from a PyTorch state dict (dense tensors).
"""
import argparse
import gzip
import json
import os
import struct
import sys
import warnings

import numpy as np

DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "U16": np.uint16, "F16": np.float16,
          "I32": np.int32, "U32": np.uint32, "F32": np.float32, "F64": np.float64, "I64": np.int64, "U64": np.uint64}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def load_safetensors(path):
    """Returns ({name: numpy array}, {metadata key: value}) of a safetensors file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: {len(data)} bytes; expected at least 8")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError(f"{path}: header length {n} is beyond the file ({len(data)} bytes)")
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    base = 8 + n
    tensors = {}
    for name, entry in header.items():
        dtype = np.dtype(DTYPES[entry["dtype"]])
        begin, end = entry["data_offsets"]
        count = int(np.prod(entry["shape"], dtype=np.int64))
        if base + end > len(data) or end - begin != count * dtype.itemsize:
            raise ValueError(f"{path}: tensor {name}: data_offsets {begin, end} do not fit its shape or the file")
        tensors[name] = np.frombuffer(data, dtype=dtype, count=count, offset=base + begin).reshape(entry["shape"])
    return tensors, metadata


def save_safetensors(path, tensors, metadata=None):
    """Writes {name: numpy array or torch tensor} (dense) and string metadata in the safetensors layout."""
    arrays = {k: np.ascontiguousarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)
              for k, v in tensors.items()}
    order = sorted(arrays, key=lambda k: (-arrays[k].dtype.itemsize, k))
    header, offset = {}, 0
    for k in order:
        a = arrays[k]
        header[k] = {"dtype": NAMES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for k in order:
            f.write(arrays[k].astype(arrays[k].dtype.newbyteorder("<"), copy=False).tobytes())


def state_dict(tensors, metadata):
    """PyTorch tensors by parameter name; sparse weights go through torch.sparse_csr_tensor and are densified."""
    import torch
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    out = {}
    for name, a in tensors.items():
        if name.endswith((".col_indices", ".values")):
            continue
        if name.endswith(".crow_indices"):
            base = name[:-len(".crow_indices")]
            shape = json.loads(metadata[base + ".shape"])  # PyTorch's dense shape, e.g. [K, C, R, S]
            rows = shape[0]
            csr = torch.sparse_csr_tensor(torch.from_numpy(a.copy()), torch.from_numpy(tensors[base + ".col_indices"].copy()),
                                          torch.from_numpy(tensors[base + ".values"].copy()),
                                          size=(rows, int(np.prod(shape)) // rows))
            out[base] = csr.to_dense().reshape(shape)
        else:
            out[name] = torch.from_numpy(a.copy())
    return out


def build_model(kind, sd):
    """The torch.nn twin of models/networks.cc's `kind`, sized from the state dict's shapes."""
    import torch.nn as nn
    import torch.nn.functional as F

    if kind == "mlp":
        count = len([k for k in sd if k.startswith("fc") and k.endswith(".weight")])

        class Mlp(nn.Module):
            def __init__(self):
                super().__init__()
                for i in range(1, count + 1):
                    w = sd[f"fc{i}.weight"]
                    setattr(self, f"fc{i}", nn.Linear(w.shape[1], w.shape[0]))

            def forward(self, x):
                x = x.flatten(1)
                for i in range(1, count + 1):
                    x = getattr(self, f"fc{i}")(x)
                    if i < count:
                        x = F.relu(x)
                return x
        return Mlp()

    if kind == "lenet5":
        class LeNet5(nn.Module):  # conv 5x5 pad 2, pool 2, conv 5x5, pool 2, fc, fc, fc
            def __init__(self):
                super().__init__()
                c1, c2 = sd["conv1.weight"].shape[0], sd["conv2.weight"].shape[0]
                self.conv1 = nn.Conv2d(sd["conv1.weight"].shape[1], c1, 5, padding=2)
                self.conv2 = nn.Conv2d(c1, c2, 5)
                self.fc1 = nn.Linear(sd["fc1.weight"].shape[1], sd["fc1.weight"].shape[0])
                self.fc2 = nn.Linear(sd["fc2.weight"].shape[1], sd["fc2.weight"].shape[0])
                self.fc3 = nn.Linear(sd["fc3.weight"].shape[1], sd["fc3.weight"].shape[0])

            def forward(self, x):
                x = F.max_pool2d(F.relu(self.conv1(x)), 2)
                x = F.max_pool2d(F.relu(self.conv2(x)), 2)
                x = F.relu(self.fc1(x.flatten(1)))
                return self.fc3(F.relu(self.fc2(x)))
        return LeNet5()

    if kind == "wrn22_2":
        class Block(nn.Module):  # pre-activation: o = relu(bn1(x)); conv2(relu(bn2(conv1(o)))) + (shortcut(o) or x)
            def __init__(self, cin, cout, stride):
                super().__init__()
                self.bn1 = nn.BatchNorm2d(cin)
                self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
                self.bn2 = nn.BatchNorm2d(cout)
                self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
                self.shortcut = nn.Conv2d(cin, cout, 1, stride, 0, bias=False) if cin != cout or stride != 1 else None

            def forward(self, x):
                o = F.relu(self.bn1(x))
                y = self.conv2(F.relu(self.bn2(self.conv1(o))))
                return y + (self.shortcut(o) if self.shortcut is not None else x)

        class Wrn(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(sd["conv1.weight"].shape[1], 16, 3, 1, 1, bias=False)
                cin = 16
                for g, (width, stride) in enumerate(zip((32, 64, 128), (1, 2, 2))):
                    blocks = []
                    for b in range(3):
                        blocks.append(Block(cin, width, stride if b == 0 else 1))
                        cin = width
                    setattr(self, f"layer{g + 1}", nn.Sequential(*blocks))
                self.bn = nn.BatchNorm2d(cin)
                self.fc = nn.Linear(cin, sd["fc.weight"].shape[0])

            def forward(self, x):
                x = self.conv1(x)
                x = self.layer3(self.layer2(self.layer1(x)))
                return self.fc(F.relu(self.bn(x)).mean(dim=(2, 3)))
        return Wrn()

    if kind in ("mobilenet_v1", "mobilenet_v2"):
        return build_mobilenet(kind, sd)

    raise ValueError(f"unknown model '{kind}'; expected mlp, lenet5, wrn22_2, mobilenet_v1 or mobilenet_v2")


def build_mobilenet(kind, sd):
    """MobileNet v1 / v2 as trained here (models/architectures.h): torchvision's module structure, so its state-dict
    names are torchvision's, with the stride-1 stem of the 28x28 inputs; channels are read from the shapes."""
    import torch.nn as nn
    import torch.nn.functional as F

    def conv_bn(cin, cout, k, stride, groups=1, act=True):  # torchvision's Conv2dNormActivation: 0 conv, 1 bn, 2 act
        layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
        return nn.Sequential(*(layers + [nn.ReLU6()] if act else layers))

    def out_in(name):
        w = sd[name + ".weight"]
        return (w.shape[0], w.shape[1]) if w.dim() >= 2 else (w.shape[0], 1)

    class InvertedResidual(nn.Module):  # torchvision's: self.conv, plus x when the shape is kept
        def __init__(self, i, stride):
            super().__init__()
            p = f"features.{i}.conv."
            layers = []
            if sd[p + "0.0.weight"].shape[1] != 1:  # an expansion (the depthwise weight is [C, 1, 3, 3])
                hidden, cin = out_in(p + "0.0")
                layers.append(conv_bn(cin, hidden, 1, 1))
            else:
                hidden = cin = sd[p + "0.0.weight"].shape[0]
            layers.append(conv_bn(hidden, hidden, 3, stride, groups=hidden))
            cout = out_in(p + f"{len(layers)}")[0]
            layers += [nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
            self.conv = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.conv(x) if self.residual else self.conv(x)

    class MobileNet(nn.Module):
        def __init__(self):
            super().__init__()
            stem, cin = out_in("features.0.0")
            blocks = [conv_bn(cin, stem, 3, 1)]  # the 28x28 stem: stride 1
            if kind == "mobilenet_v1":  # depthwise-separable: 0 dw, 1 bn, 2 relu6, 3 pw, 4 bn, 5 relu6
                for i, stride in enumerate((1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1), start=1):
                    c = sd[f"features.{i}.0.weight"].shape[0]
                    cout = out_in(f"features.{i}.3")[0]
                    blocks.append(nn.Sequential(*conv_bn(c, c, 3, stride, groups=c), *conv_bn(c, cout, 1, 1)))
            else:
                strides = (1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1)  # torchvision's, block by block
                for i, stride in enumerate(strides, start=1):
                    blocks.append(InvertedResidual(i, stride))
                last, cin_last = out_in(f"features.{len(strides) + 1}.0")
                blocks.append(conv_bn(cin_last, last, 1, 1))
            self.features = nn.Sequential(*blocks)
            classes, features = out_in("classifier.1")
            self.classifier = nn.Sequential(nn.Dropout(0.0), nn.Linear(features, classes))

        def forward(self, x):
            return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))
    return MobileNet()


def model_kind(sd, metadata):
    if "model" in metadata:
        return metadata["model"]
    if "layer1.0.conv1.weight" in sd:
        return "wrn22_2"
    return "lenet5" if "conv1.weight" in sd else "mlp"


def load_model(path):
    """(torch model in eval mode, metadata) of an exported file."""
    tensors, metadata = load_safetensors(path)
    sd = state_dict(tensors, metadata)
    model = build_model(model_kind(sd, metadata), sd)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith(".num_batches_tracked")]  # the engine has no such counter
    if missing or unexpected:
        raise ValueError(f"{path}: missing tensors {missing}, unexpected tensors {unexpected}")
    return model.eval(), metadata


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, count * rows * cols, 16).reshape(count, rows, cols)
    if magic == 0x801:
        return np.frombuffer(data, np.uint8, count, 8)
    raise ValueError(f"{path}: magic 0x{magic:x}; expected 0x803 (images) or 0x801 (labels)")


def idx_file(data_dir, base):
    gz = os.path.join(data_dir, base + ".gz")
    return gz if os.path.exists(gz) else os.path.join(data_dir, base)


def normalised_test_set(data_dir, metadata):
    """Test images [N, 1, 28, 28] as the engine feeds them, and labels."""
    to_unit = np.arange(256, dtype=np.float32) / np.float32(255.0)  # x / 255 in float32, as dataset.cc's table
    if "input_mean" in metadata:
        mean, std = np.float32(float(metadata["input_mean"])), np.float32(float(metadata["input_std"]))
    else:  # the training set's population statistics, accumulated in double (dataset.cc ComputeNormalization)
        raw = read_idx(idx_file(data_dir, "train-images-idx3-ubyte"))
        chunks = [to_unit[raw[i:i + 10000]].astype(np.float64) for i in range(0, len(raw), 10000)]
        mean = sum(c.sum() for c in chunks) / raw.size
        std = np.sqrt(sum(((c - mean) ** 2).sum() for c in chunks) / raw.size)
        mean, std = np.float32(mean), np.float32(std)
    images = to_unit[read_idx(idx_file(data_dir, "t10k-images-idx3-ubyte"))]
    images = (images - mean) * (np.float32(1.0) / std)
    labels = read_idx(idx_file(data_dir, "t10k-labels-idx1-ubyte")).astype(np.int64)
    return images[:, None, :, :].astype(np.float32), labels


def evaluate(model, images, labels, logits=0, batch=1000):
    import torch
    correct, first = 0, []
    with torch.no_grad():
        for start in range(0, len(labels), batch):
            out = model(torch.from_numpy(images[start:start + batch]))
            correct += int((out.argmax(1).numpy() == labels[start:start + batch]).sum())
            if len(first) < logits:
                first.extend(out[:logits - len(first)].tolist())
    return correct, first


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", help="a .safetensors file written by the trainer's --export")
    parser.add_argument("--data_dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--logits", type=int, default=0, help="also print the logits of the first N test images")
    parser.add_argument("--limit", type=int, default=0, help="evaluate only the first N test images (0 = all)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text lines")
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    model, metadata = load_model(args.file)
    images, labels = normalised_test_set(args.data_dir, metadata)
    if args.limit > 0:
        images, labels = images[:args.limit], labels[:args.limit]
    correct, logits = evaluate(model, images, labels, args.logits)
    accuracy = correct / len(labels)
    if args.json:
        print(json.dumps({"accuracy": accuracy, "correct": correct, "count": len(labels), "logits": logits,
                          "model": model_kind(model.state_dict(), metadata)}))
        return 0
    print(f"test accuracy {100 * accuracy:.2f}% ({correct}/{len(labels)}) of {args.file} "
          f"(model {metadata.get('model', '?')}, method {metadata.get('method', '?')}, step {metadata.get('step', '?')})")
    for i, row in enumerate(logits):
        print(f"logits {i}: " + " ".join(f"{v:.9g}" for v in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
