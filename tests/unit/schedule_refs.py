"""Prints torch's learning rates per epoch for the cases of test_schedule.c, as
the C table between its `torch-refs` markers (tests/python/test_schedule_refs.py
checks that the two agree; run with Debian's /usr/bin/python3 and python3-torch).

An epoch's rate is the optimizer's lr while it trains, the scheduler stepped once
after every epoch. Warm-up is LinearLR(start_factor=1/(W+1), total_iters=W)
followed by the main scheduler (SequentialLR, milestone W); cosine is
CosineAnnealingLR(T_max=epochs-W, eta_min=lr_min); step is StepLR."""
import warnings

import torch

# kind, base lr, epochs, warmup, lr_min, step_epochs, gamma
CASES = [
    ("cosine", 0.1, 10, 0, 0.001, 0, 0),
    ("cosine", 0.05, 12, 3, 0.0, 0, 0),
    ("step", 0.1, 10, 0, 0, 3, 0.5),
    ("step", 0.02, 9, 2, 0, 2, 0.1),
    ("constant", 0.001, 8, 4, 0, 0, 0),
]


def rates(kind, base, epochs, warmup, lr_min, step_epochs, gamma):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    S = torch.optim.lr_scheduler
    if kind == "cosine":
        main = S.CosineAnnealingLR(opt, T_max=epochs - warmup, eta_min=lr_min)
    elif kind == "step":
        main = S.StepLR(opt, step_size=step_epochs, gamma=gamma)
    else:
        main = S.ConstantLR(opt, factor=1.0, total_iters=0)
    sched = main
    if warmup:
        warm = S.LinearLR(opt, start_factor=1.0 / (warmup + 1), total_iters=warmup)
        sched = S.SequentialLR(opt, [warm, main], milestones=[warmup])
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched.step()
    return out


def main():
    for c in CASES:
        kind, base, epochs, warmup, lr_min, step_epochs, gamma = c
        r = rates(*c)
        print('    {"%s", %r, %d, %d, %r, %d, %r,\n     {%s}},' % (
            kind, base, epochs, warmup, lr_min, step_epochs, gamma,
            ", ".join("%.17g" % v for v in r)))


if __name__ == "__main__":
    main()
