#!/usr/bin/python3
"""Compares results files of the same job run with different rank counts: every
metric and weight must be bit-identical (SPEC §6); only `seconds` and `rank` may
differ. Usage: compare.py [--allow-new] A.h5 B.h5 [C.h5 ...]; exits 1 on the first
difference. --allow-new (tests/regress/same_results.sh, an older build's file
first) lets the later files hold columns and attributes the first lacks (measures
added since), listed but not counted; everything the first holds must be equal."""
import sys

import h5py
import numpy as np

# finished: when rank 0 got the task, by its clock; like seconds, it varies run to run.
FREE = {"seconds", "rank", "finished"}


def same(a, b):
    """Bit-identical, NaN included."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "fc":
        return a.shape == b.shape and a.tobytes() == b.tobytes()
    return a.shape == b.shape and np.array_equal(a, b)


def table(f, name):
    t = f[name][...]
    return {k: t[k] for k in t.dtype.names if k not in FREE}


def walk(group, prefix=""):
    """Every dataset and attribute under a group, by path."""
    out = {}
    for k, v in group.attrs.items():
        if k not in FREE:
            out[f"{prefix}@{k}"] = v
    for k, v in group.items():
        if isinstance(v, h5py.Dataset):
            out[f"{prefix}/{k}"] = v[...]
        else:
            out.update(walk(v, f"{prefix}/{k}"))
    return out


def compare(pa, pb, new):
    """The differences of pb from pa; names only pb has go to new (a set) when it is
    not None, else count as differences."""
    with h5py.File(pa, "r") as a, h5py.File(pb, "r") as b:
        problems = []
        for name in ("trials", "folds", "rounds"):
            if (name in a) != (name in b):
                problems.append(f"/{name} present in one file only")
                continue
            if name not in a:  # /rounds: bisection only
                continue
            ta, tb = table(a, name), table(b, name)
            for k in set(tb) - set(ta):
                if new is None:
                    problems.append(f"/{name}.{k} (only in the second file)")
                else:
                    new.add(f"/{name}.{k}")
            for k in ta:
                if k not in tb or not same(ta[k], tb[k]):
                    problems.append(f"/{name}.{k}")
        for name in ("best", "curves", "models"):
            if (name in a) != (name in b):
                problems.append(f"/{name} present in one file only")
                continue
            if name not in a:
                continue
            wa, wb = walk(a[name]), walk(b[name])
            if set(wa) - set(wb) or (new is None and set(wb) - set(wa)):
                problems.append(f"/{name}: different members")
            elif new is not None:
                new.update(f"/{name}{k}" for k in set(wb) - set(wa))
            for k in set(wa) & set(wb):
                if not same(wa[k], wb[k]):
                    problems.append(f"/{name}{k}")
        for k in ("job", "job_sha256", "status", "strategy", "objective", "input_dim"):
            if a.attrs[k] != b.attrs[k]:
                problems.append(f"@{k}")
        return problems


def main():
    files = sys.argv[1:]
    new = None
    if files and files[0] == "--allow-new":
        files, new = files[1:], set()
    with h5py.File(files[0], "r") as f:
        assert f.attrs["status"] == "complete", f"{files[0]}: status {f.attrs['status']}"
        n = len(f["trials"])
        assert n > 0 and (f["trials"]["status"] >= 0).all(), "unfinished trials"
        assert "best" in f and "model" in f["best"], "no /best/model"
    bad = 0
    for other in files[1:]:
        problems = compare(files[0], other, new)
        for p in problems:
            print(f"{files[0]} vs {other}: {p} differs")
        bad += len(problems)
    if bad:
        sys.exit(1)
    if new:
        print("only in the later file(s), not compared: " + ", ".join(sorted(new)))
    print(f"identical except seconds and rank: {', '.join(files)} ({n} trials)")


if __name__ == "__main__":
    main()
