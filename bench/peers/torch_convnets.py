#!/usr/bin/python3
"""PyTorch peer for the convnet comparison (README, "Convolutional networks against PyTorch"): one Fashion-MNIST-sized
epoch of LeNet-5 (469 batches of 128 from 60000 samples) and 50 steps of WRN-22-2 (28x28x1, batch 128), dense, with
torch.nn's own layers (oneDNN convolutions), SGD with Nesterov momentum and weight decay as the trainer uses. The
networks are tools/torch_eval.py's twins of models/networks.cc, so the shapes are the trainer's. Random inputs and
labels: timing does not depend on the data. Prints one JSON object; training time only (no evaluation).

  /usr/bin/python3 bench/peers/torch_convnets.py --threads=1 [--model=lenet5|wrn22_2|all] [--repeats=2]
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch starts its OpenMP pool

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from torch_eval import build_model  # noqa: E402

SHAPES = {
    "lenet5": {"conv1.weight": (6, 1, 5, 5), "conv2.weight": (16, 6, 5, 5), "fc1.weight": (120, 400),
               "fc2.weight": (84, 120), "fc3.weight": (10, 84)},
    "wrn22_2": {"conv1.weight": (16, 1, 3, 3), "fc.weight": (10, 128)},
}
STEPS = {"lenet5": (60000 + 127) // 128, "wrn22_2": 50}


def train_seconds(kind, steps, batch=128):
    torch.manual_seed(0)
    model = build_model(kind, {k: torch.empty(v) for k, v in SHAPES[kind].items()})
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-4)
    n = steps * batch
    x = torch.randn(min(n, 60000), 1, 28, 28)
    y = torch.randint(0, 10, (x.shape[0],))
    start = time.perf_counter()
    for i in range(steps):
        lo = (i * batch) % x.shape[0]
        xb, yb = x[lo:lo + batch], y[lo:lo + batch]
        opt.zero_grad(set_to_none=False)
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--model", default="all", choices=["all", "lenet5", "wrn22_2"])
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    if a.threads < 1:
        sys.exit("--threads: expected >= 1")
    torch.set_num_threads(a.threads)
    out = {"torch": torch.__version__, "threads": a.threads, "runs": {}}
    for kind in (["lenet5", "wrn22_2"] if a.model == "all" else [a.model]):
        times = [train_seconds(kind, STEPS[kind]) for _ in range(a.repeats)]
        out["runs"][kind] = {"steps": STEPS[kind], "seconds": times, "best": min(times)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
