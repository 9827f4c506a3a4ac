#!/usr/bin/env python3
"""PyTorch peer of bench/main.ts: the same scaled network (read from the JSON layer list that core's
scaleNetwork produced), CPU, the same number of threads and the same batch; prints one JSON object
with images/second for train, recalibrate (BN in train mode, no grad) and evaluate (eval mode).

    python3 bench/peer_torch.py SPEC.json --batch 64 --threads 1 --train-steps 10 --infer-batches 20
                                [--recal-batch 64] [--eval-batch 500] [--sync]

--recal-batch / --eval-batch: the recalibration and evaluation batches (default --batch). --sync: before each timed
phase print "ready" and wait for a line on stdin (bench/main.ts starts the phases of concurrent processes together).

Install with bench/setup-torch.sh (Debian python3-torch); never used by the tests.
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, k, stride, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.Hardswish())
    return nn.Sequential(*layers)


class Block(nn.Module):
    def __init__(self, b):
        super().__init__()
        h = b["hidden"]
        self.expand = conv_bn(b["cin"], h, 1, 1) if b["expand"] else nn.Identity()
        self.dw = conv_bn(h, h, b["kernel"], b["stride"], groups=h)
        self.se1 = nn.Linear(h, b["seHidden"])
        self.se2 = nn.Linear(b["seHidden"], h)
        self.project = conv_bn(h, b["cout"], 1, 1, act=False)
        self.residual = b["residual"]

    def forward(self, x):
        y = self.dw(self.expand(x))
        s = y.mean((2, 3))
        s = F.hardsigmoid(self.se2(F.relu(self.se1(s))))
        y = self.project(y * s[:, :, None, None])
        return x + y if self.residual else y


class Net(nn.Module):
    def __init__(self, spec):
        super().__init__()
        st = spec["stem"]
        self.stem = conv_bn(st["cin"], st["cout"], st["kernel"], st["stride"])
        self.blocks = nn.Sequential(*[Block(b) for b in spec["blocks"]])
        self.head = conv_bn(spec["head"]["cin"], spec["head"]["cout"], 1, 1)
        self.fc = nn.Linear(spec["fc"]["cin"], spec["fc"]["classes"])

    def forward(self, x):
        x = self.head(self.blocks(self.stem(x)))
        return self.fc(x.mean((2, 3)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("spec")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--train-steps", type=int, default=10)
    p.add_argument("--infer-batches", type=int, default=20)
    p.add_argument("--recal-batch", type=int, default=None)
    p.add_argument("--eval-batch", type=int, default=None)
    p.add_argument("--sync", action="store_true")
    a = p.parse_args()
    recal_batch = a.recal_batch or a.batch
    eval_batch = a.eval_batch or a.batch

    def sync():
        if a.sync:
            print("ready", flush=True)
            sys.stdin.readline()

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    spec = json.load(open(a.spec))
    net = Net(spec)
    r = spec["input"]["resolution"]
    x = torch.randn(a.batch, spec["input"]["channels"], r, r)
    y = torch.randint(0, spec["fc"]["classes"], (a.batch,))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=4e-5)

    def train_step():
        opt.zero_grad()
        F.cross_entropy(net(x), y, label_smoothing=0.1).backward()
        opt.step()

    net.train()
    train_step()
    sync()
    t = time.perf_counter()
    for _ in range(a.train_steps):
        train_step()
    train = a.batch * a.train_steps / (time.perf_counter() - t)

    with torch.no_grad():
        net.train()
        xr = torch.randn(recal_batch, spec["input"]["channels"], r, r)
        net(xr)
        sync()
        t = time.perf_counter()
        for _ in range(a.infer_batches):
            net(xr)
        recal = recal_batch * a.infer_batches / (time.perf_counter() - t)
        net.eval()
        xe = torch.randn(eval_batch, spec["input"]["channels"], r, r)
        net(xe)
        sync()
        t = time.perf_counter()
        for _ in range(a.infer_batches):
            net(xe)
        evaluate = eval_batch * a.infer_batches / (time.perf_counter() - t)
    params = sum(p.numel() for p in net.parameters())
    print(json.dumps({"torch": torch.__version__, "threads": a.threads, "batch": a.batch, "recalBatch": recal_batch, "evalBatch": eval_batch, "params": params,
                      "train": train, "recalibrate": recal, "evaluate": evaluate}))


if __name__ == "__main__":
    main()
