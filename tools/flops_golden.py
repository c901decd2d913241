#!/usr/bin/env python3
"""Recomputes, independently of the C++ code, the golden FLOPs values that tests/models/flops_test.cc checks for
ResNet-50 (RIGL.md sections 1 and 4): the layer table, the Uniform and ERK sparsity distributions (the reference's
get_sparsities_erdos_renyi loop) and the MicroNet counter's conventions, written out here from their descriptions.

    python3 tools/flops_golden.py        # prints every value with 17 significant digits

Values it prints and the test's constants must agree to 1e-9."""
import math


def resnet50():
    """(name, kind, k, cin, cout, input_hw, stride) per weight layer, as the counter sees them (Keras shapes)."""
    layers = [("conv1", "conv", 7, 3, 64, 230, 2)]  # ZeroPadding2D(3) before the 'valid' 7x7/2 conv
    channels, hw = 64, 56
    for s, (blocks, width) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512))):
        for b in range(blocks):
            stride = 2 if (b == 0 and s > 0) else 1
            out_hw = -(-hw // stride)
            layers.append((f"layer{s+1}.{b}.conv1", "conv", 1, channels, width, hw, 1))
            layers.append((f"layer{s+1}.{b}.conv2", "conv", 3, width, width, hw, stride))  # v1.5
            layers.append((f"layer{s+1}.{b}.conv3", "conv", 1, width, 4 * width, out_hw, 1))
            if b == 0:
                layers.append((f"layer{s+1}.{b}.downsample", "conv", 1, channels, 4 * width, hw, stride))
            channels, hw = 4 * width, out_hw
    layers.append(("fc", "dense", 1, channels, 1000, 1, 1))
    return layers


def n_params(l):
    _, kind, k, cin, cout, _, _ = l
    return k * k * cin * cout if kind == "conv" else cin * cout


def shape(l):
    _, kind, k, cin, cout, _, _ = l
    return [k, k, cin, cout] if kind == "conv" else [cin, cout]


def flops(l, sparsity):
    """MicroNet counting: 2 x nonzero inputs per output plus one (bias/activation) per output; 'same' padding."""
    _, kind, k, cin, cout, hw, stride = l
    density = 1.0 - sparsity
    if kind == "dense":
        return cout * (2.0 * cin * density + 1.0)
    side = math.ceil((hw - k + 1 + 2 * (k // 2)) / stride)
    return side * side * cout * (2.0 * k * k * cin * density + 1.0)


def uniform(layers, s, first_dense=True):
    return [0.0 if (i == 0 and first_dense) else s for i in range(len(layers))]


def erk(layers, s):
    dense = set()
    while True:
        divisor = rhs = 0.0
        raw = {}
        for i, l in enumerate(layers):
            n = n_params(l)
            zeros = math.floor(s * n)  # the reference's current rounding: integer mask counts
            if i in dense:
                rhs -= zeros
            else:
                rhs += n - zeros
                raw[i] = sum(shape(l)) / math.prod(shape(l))
                divisor += raw[i] * n
        eps = rhs / divisor
        top = max(raw.values())
        if top * eps > 1:
            dense |= {i for i, p in raw.items() if p == top}
            continue
        return [0.0 if i in dense else 1 - eps * raw[i] for i in range(len(layers))]


def total(layers, sparsities):
    return sum(flops(l, s) for l, s in zip(layers, sparsities))


def main():
    r50 = resnet50()
    dense = total(r50, [0.0] * len(r50))
    print(f"ResNet-50 dense inference FLOPs: {dense:.0f}")
    for s in (0.8, 0.9):
        print(f"S={s}: uniform (conv1 dense) {total(r50, uniform(r50, s)) / dense:.17g}, "
              f"ERK {total(r50, erk(r50, s)) / dense:.17g}")
    f_s = total(r50, erk(r50, 0.9))
    dt = 100
    print(f"RigL ERK S=0.9 dT=100 training FLOPs / dense training: {(3 * f_s * dt + 2 * f_s + dense) / (dt + 1) / (3 * dense):.17g}")
    for s in (0.8, 0.9):
        vals = []
        for t in range(0, 32001, 1000):
            p = min(1.0, max(0.0, (t - 10000) / 15000))
            st = s + (0.0 - s) * (1 - p) ** 3
            vals.append(total(r50, uniform(r50, st)))
        print(f"pruning S={s}: {sum(vals) / len(vals) / dense:.17g}")


if __name__ == "__main__":
    main()
