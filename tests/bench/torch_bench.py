#!/usr/bin/python3
"""PyTorch reference for `aesweep bench` (SPEC.md section 2).

Run with Debian's interpreter and python3-torch (apt-get install python3-torch):

    /usr/bin/python3 tests/bench/torch_bench.py --layers 784,800,400,225 \
        --batch 164 --activation relu --seconds 3 --threads 1

Times training steps of one stacked autoencoder on synthetic data and prints
one JSON line in the same shape as aesweep's, with "impl":"torch":

    {"impl":"torch","layers":[...],"batch":B,"threads":T,
     "samples_per_s":X,"gflops":Y}

Model: encoder widths L0-L1-...-Lk, decoder mirrored back to L0.  Every layer
gets the hidden activation except the code layer (Lk, linear) and the output
layer (sigmoid).  MSE loss, Adam lr 1e-3.  Data: a fixed random uint8 tensor
of 16 batches, converted to float/255 per batch inside the timed loop (as a
real loader, and aesweep, would).  gflops counts 2*m*n*k per GEMM: forward
once, backward twice, i.e. 6 * batch * sum(in*out) per step.

Two settings keep torch from being measured slower than it needs to be:
- Debian's torch calls BLAS through libblas.so.3 (OpenBLAS, BLAS_INFO=generic),
  so torch.set_num_threads() does not reach OpenBLAS's own threads:
  OPENBLAS_NUM_THREADS/OMP_NUM_THREADS/MKL_NUM_THREADS are set to --threads
  before torch is imported.
- torch allocates fresh activation/gradient/Adam temporaries (up to ~2.5 MB)
  every step. With glibc's default thresholds these get mmapped or trimmed
  back to the OS and page-fault again every step, which on this VM costs
  more than half of the step time (2.6k vs 6.3k samples/s for the default
  model). mallopt() keeps them in the heap. aesweep allocates its buffers
  once, so this makes the comparison fair; --stock-malloc turns it off.
"""
import ctypes
import ctypes.util
import os
import argparse
import json
import sys
import time

N_BATCHES = 16
WARMUP_SECONDS = 0.5
WARMUP_MIN_STEPS = 5


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--layers", default="784,800,400,225",
                   help="encoder widths, comma separated (default %(default)s)")
    p.add_argument("--batch", type=int, default=164)
    p.add_argument("--activation", default="relu",
                   choices=["relu", "leaky_relu", "sigmoid", "tanh"])
    p.add_argument("--leaky-slope", type=float, default=0.01)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--stock-malloc", action="store_true",
                   help="keep glibc's default malloc thresholds")
    p.add_argument("--model-json", metavar="FILE",
                   help="build the model of `aesweep bench --job JOB --layers-json` instead "
                        "(layer kinds, shapes, loss, batch, lr); --layers is then ignored")
    a = p.parse_args(argv)
    try:
        a.layers = [int(x) for x in a.layers.split(",")]
    except ValueError:
        p.error("--layers: expected comma separated integers, got %r" % a.layers)
    if len(a.layers) < 2 or any(w <= 0 for w in a.layers):
        p.error("--layers: expected at least two positive widths")
    if a.model_json:
        with open(a.model_json) as f:
            a.spec = json.load(f)
        a.batch = a.spec["batch"]
    if a.batch <= 0:
        p.error("--batch: expected a positive integer")
    if a.seconds <= 0:
        p.error("--seconds: expected a positive number")
    if a.threads <= 0:
        p.error("--threads: expected a positive integer")
    return a


def tune_malloc():
    """Keep big temporaries in the heap: no mmap, no trimming (glibc)."""
    M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return                      # not glibc: leave the allocator alone
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt(M_MMAP_THRESHOLD, 32 << 20)   # glibc's maximum on 64-bit
    mallopt(M_TRIM_THRESHOLD, 1 << 30)
    mallopt(M_TOP_PAD, 64 << 20)


def timed(step, seconds):
    """Warm-up (at least WARMUP_SECONDS and WARMUP_MIN_STEPS steps), then steps for
    `seconds`: returns (steps, elapsed)."""
    i = 0
    t0 = time.perf_counter()
    while i < WARMUP_MIN_STEPS or time.perf_counter() - t0 < WARMUP_SECONDS:
        step(i)
        i += 1
    steps = 0
    t0 = time.perf_counter()
    while True:
        step(i + steps)
        steps += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return steps, elapsed


def main(argv):
    a = parse_args(argv)

    # Must happen before torch (and with it OpenBLAS) is loaded.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(a.threads)
    if not a.stock_malloc:
        tune_malloc()

    import torch
    from torch import nn

    # Interop threads can only be set once, before any parallel work.
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(a.threads)
    except RuntimeError:
        pass
    torch.manual_seed(a.seed)

    def hidden_act():
        if a.activation == "relu":
            return nn.ReLU()
        if a.activation == "leaky_relu":
            return nn.LeakyReLU(a.leaky_slope)
        if a.activation == "sigmoid":
            return nn.Sigmoid()
        return nn.Tanh()

    if a.model_json:
        return run_layered(a, torch, nn)

    enc = a.layers
    widths = enc + enc[-2::-1]          # 784-800-400-225-400-800-784
    n_layers = len(widths) - 1
    code_idx = len(enc) - 2             # layer producing the bottleneck
    mods = []
    for i in range(n_layers):
        mods.append(nn.Linear(widths[i], widths[i + 1]))
        if i == n_layers - 1:
            mods.append(nn.Sigmoid())
        elif i != code_idx:
            mods.append(hidden_act())
    model = nn.Sequential(*mods)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()

    data = torch.randint(0, 256, (N_BATCHES, a.batch, enc[0]), dtype=torch.uint8)

    def step(i):
        x = data[i % N_BATCHES].to(torch.float32).div_(255.0)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), x)
        loss.backward()
        opt.step()

    steps, elapsed = timed(step, a.seconds)

    flops_per_step = 6.0 * a.batch * sum(widths[j] * widths[j + 1]
                                         for j in range(n_layers))
    out = {
        "impl": "torch",
        "layers": enc,
        "batch": a.batch,
        "threads": a.threads,
        "samples_per_s": round(steps * a.batch / elapsed, 1),
        "gflops": round(flops_per_step * steps / elapsed / 1e9, 3),
    }
    print(json.dumps(out, separators=(",", ":")))
    return 0


def torch_activation(nn, name, slope):
    return {"linear": nn.Identity(), "relu": nn.ReLU(), "leaky_relu": nn.LeakyReLU(slope),
            "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh()}[name]


def build_layered(spec, torch, nn):
    """The model of aesweep's layer list (`aesweep bench --job JOB --layers-json`),
    layer for layer: the same kinds, shapes and activations. Returns the
    nn.Sequential and its variational heads (each keeps beta * KL of its last pass)."""

    class Variational(nn.Module):
        """(mu, log var) -> z = mu + sigma eps while training, mu in evaluation."""

        def __init__(self, beta):
            super().__init__()
            self.beta, self.kl = beta, 0.0

        def forward(self, x):
            mu, lv = x.chunk(2, dim=1)
            self.kl = self.beta * 0.5 * (mu * mu + lv.exp() - 1 - lv).sum(dim=1).mean()
            if not self.training:
                return mu
            return mu + (0.5 * lv).exp() * torch.randn_like(mu)

    mods, heads = [], []
    for L in spec["layers"]:
        k, cin, cout = L["kind"], L["in"], L["out"]
        if k == "dense":
            mods.append(nn.Linear(cin[0] * cin[1] * cin[2], cout[0]))
        elif k == "conv":
            mods.append(nn.Conv2d(cin[0], cout[0], L["kernel"], L["stride"], L["padding"]))
        elif k == "conv_transpose":
            mods.append(nn.ConvTranspose2d(cin[0], cout[0], L["kernel"], L["stride"],
                                           L["padding"], L["output_padding"]))
        elif k == "batchnorm":
            mods.append(nn.BatchNorm1d(cin[0]) if L["flat_in"] else nn.BatchNorm2d(cin[0]))
        elif k == "dropout":
            mods.append(nn.Dropout(L["rate"]))
        elif k == "reshape":
            mods.append(nn.Flatten() if L["flat_out"] else nn.Unflatten(1, tuple(cout)))
        elif k == "variational":
            heads.append(Variational(L["beta"]))
            mods.append(heads[-1])
        if k in ("dense", "conv", "conv_transpose", "batchnorm") and L["activation"] != "linear":
            mods.append(torch_activation(nn, L["activation"], L["slope"]))
    return nn.Sequential(*mods), heads


def layered_loss(spec, nn):
    """aesweep's loss for the spec: mse or mse + mae (mean per value), times
    input_dim / (2c) for a variational model, which adds its KL."""
    c, h, w = spec["input"]
    mse, mae = nn.MSELoss(), nn.L1Loss()
    scale = c * h * w / (2.0 * spec["likelihood_variance"]) if spec["variational"] else 1.0

    def loss(y, x, heads):
        v = mse(y, x) + (mae(y, x) if spec["loss"] == "mse+mae" else 0.0)
        return v * scale + sum(hd.kl for hd in heads)
    return loss


def run_layered(a, torch, nn):
    """The model of aesweep's layer list, timed as above with Adam."""
    spec = a.spec
    model, heads = build_layered(spec, torch, nn)
    opt = torch.optim.Adam(model.parameters(), lr=spec["lr"])
    c, h, w = spec["input"]
    dim = c * h * w
    loss_fn = layered_loss(spec, nn)
    data = torch.randint(0, 256, (N_BATCHES, a.batch, dim), dtype=torch.uint8)
    signed = spec.get("signed_range", 0)

    def step(i):
        x = data[i % N_BATCHES].to(torch.float32).div_(255.0)
        if signed:
            x = x.sub_(0.5).div_(0.5)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), x, heads)
        loss.backward()
        opt.step()

    steps, elapsed = timed(step, a.seconds)
    print(json.dumps({"impl": "torch", "model": a.model_json, "input": spec["input"],
                      "batch": a.batch, "threads": a.threads,
                      "samples_per_s": round(steps * a.batch / elapsed, 1)},
                     separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
