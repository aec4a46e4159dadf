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
    a = p.parse_args(argv)
    try:
        a.layers = [int(x) for x in a.layers.split(",")]
    except ValueError:
        p.error("--layers: expected comma separated integers, got %r" % a.layers)
    if len(a.layers) < 2 or any(w <= 0 for w in a.layers):
        p.error("--layers: expected at least two positive widths")
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

    # Warm-up: at least WARMUP_SECONDS and WARMUP_MIN_STEPS steps.
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
        if elapsed >= a.seconds:
            break

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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
