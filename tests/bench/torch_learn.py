#!/usr/bin/python3
"""PyTorch trains the model of `aesweep bench --job JOB --layers-json` on the
job's Fashion-MNIST-format data for a number of epochs and prints its test MSE,
for tests/bench/learn_compare.sh to set beside aesweep's (issue 15, item 8).

    torch_learn.py --model-json D.json --data /usr/share/datasets/fashion-mnist \
        --epochs 10 --train 54000 [--seed 1]

Same model (torch_bench.build_layered), loss, Adam lr and batch size as
aesweep; a random training subset of --train images (aesweep holds out a
stratified validation split, so it trains on 54000 of the 60000), shuffled each
epoch; the test MSE is per value, in evaluation mode, on the 10000 test images."""
import argparse
import gzip
import json
import os
import sys
from pathlib import Path

import numpy as np


def read_idx(folder, stem):
    for name in (stem, stem + ".gz"):
        p = Path(folder) / name
        if p.is_file():
            raw = (gzip.open if name.endswith(".gz") else open)(p, "rb").read()
            n = int.from_bytes(raw[4:8], "big")
            return np.frombuffer(raw, np.uint8, offset=16).reshape(n, -1)
    sys.exit(f"torch_learn.py: no {stem} in {folder}")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-json", required=True)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--train", type=int, default=54000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args(argv)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import torch
    from torch import nn
    from torch_bench import build_layered, layered_loss

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    spec = json.load(open(a.model_json))
    model, heads = build_layered(spec, torch, nn)
    loss_fn = layered_loss(spec, nn)
    opt = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    train = torch.from_numpy(read_idx(a.data, "train-images-idx3-ubyte").copy())
    test = torch.from_numpy(read_idx(a.data, "t10k-images-idx3-ubyte").copy())
    g = torch.Generator().manual_seed(a.seed)
    train = train[torch.randperm(len(train), generator=g)[: a.train]]
    B = spec["batch"]

    def scaled(x):
        x = x.to(torch.float32).div_(255.0)
        return x.sub_(0.5).div_(0.5) if spec.get("signed_range") else x

    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(train), generator=g)
        for i in range(0, len(train), B):
            x = scaled(train[order[i:i + B]])
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), x, heads).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        sq = sum(float(((model(scaled(test[i:i + 1000])) - scaled(test[i:i + 1000])) ** 2).sum())
                 for i in range(0, len(test), 1000))
    print(json.dumps({"impl": "torch", "epochs": a.epochs, "train": len(train),
                      "test_mse": sq / test.numel()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
