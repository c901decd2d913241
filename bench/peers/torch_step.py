#!/usr/bin/python3
"""PyTorch peer for //bench:flops: the same MLP (784-300-100-10, 784-4096-4096-10) and LeNet-5 training steps, dense
and masked-sparse (dense weights multiplied by a dense 0/1 mask every step, the way PyTorch RigL code does it), timed
per phase and printed as JSON with the fields the benchmark reads (--peer_json). Optional: needs Debian's
python3-torch; nothing in the build depends on it. Random inputs and labels (timing does not depend on the data).

  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/peers/torch_step.py --threads=2 --out=/tmp/flops/torch.json
"""
import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # must be set before torch starts its OpenMP pool

import torch  # noqa: E402  (after the environment is set)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def mlp(widths):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(nn.ReLU())
    return nn.Sequential(nn.Flatten(), *layers)


def lenet5():
    # conv1 1->6 5x5 pad 2, maxpool 2, conv2 6->16 5x5, maxpool 2, fc 400->120->84->10 (models/networks.cc).
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def make_masks(model, density, generator):
    """One uniform random 0/1 mask per weight (bias excluded), exactly round(density * N) ones, as uniform sparsity."""
    masks = {}
    for name, p in model.named_parameters():
        if not name.endswith("weight"):
            continue
        n = p.numel()
        keep = max(1, int(round(density * n)))
        flat = torch.zeros(n)
        flat[torch.randperm(n, generator=generator)[:keep]] = 1.0
        masks[name] = flat.view_as(p)
    return masks


def time_steps(model, masks, x, y, steps, warmup):
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, nesterov=True, weight_decay=1e-4)
    params = dict(model.named_parameters())
    if masks:
        with torch.no_grad():
            for name, m in masks.items():
                params[name].mul_(m)
    fwd, bwd, step_opt, total = [], [], [], []
    for s in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(model(x), y)
        t1 = time.perf_counter()
        loss.backward()
        if masks:  # masked gradients, as RigL PyTorch ports do before the step
            for name, m in masks.items():
                params[name].grad.mul_(m)
        t2 = time.perf_counter()
        opt.step()
        if masks:  # keep pruned weights at zero (momentum and weight decay would revive them)
            with torch.no_grad():
                for name, m in masks.items():
                    params[name].mul_(m)
        t3 = time.perf_counter()
        if s >= warmup:
            fwd.append(t1 - t0)
            bwd.append(t2 - t1)
            step_opt.append(t3 - t2)
            total.append(t3 - t0)
    return statistics.median(total), statistics.median(fwd), statistics.median(bwd), statistics.median(step_opt)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="mlp:300,100;mlp:4096,4096;lenet5")
    ap.add_argument("--densities", default="1,0.1,0.01")
    ap.add_argument("--batch_size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    results = []
    for spec in args.models.split(";"):
        name, _, width = spec.partition(":")
        if name == "mlp":
            widths = [784] + [int(w) for w in width.split(",")] + [10]
            build, shape = (lambda w=widths: mlp(w)), (args.batch_size, 784)
        elif name == "lenet5":
            build, shape = lenet5, (args.batch_size, 1, 28, 28)
        else:
            sys.exit(f"torch_step.py: model '{name}' unknown; expected mlp:<widths> or lenet5")
        x = torch.rand(shape) * 2 - 1
        y = torch.randint(0, 10, (args.batch_size,))
        for d in [float(v) for v in args.densities.split(",")]:
            model = build()
            masks = make_masks(model, d, gen) if d < 1.0 else None
            total, fwd, bwd, opt = time_steps(model, masks, x, y, args.steps, args.warmup)
            rec = {"peer": "pytorch", "torch_version": torch.__version__, "threads": args.threads,
                   "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""), "model": name, "width": width,
                   "batch_size": args.batch_size, "density": d, "method": "dense" if d >= 1.0 else "masked",
                   "step_seconds": total, "forward_seconds": fwd, "backward_seconds": bwd,
                   "optimizer_seconds": opt, "load": os.getloadavg()[0]}
            results.append(rec)
            print(json.dumps(rec), flush=True)
    doc = {"command": " ".join(sys.argv), "config": torch.__config__.show(), "results": results}
    if args.out:
        with open(args.out + ".tmp", "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
