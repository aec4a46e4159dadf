#!/usr/bin/python3
"""/trials, /folds and /best of an aesweep results file as CSV.

    analysis/export.py RESULTS.h5 --csv trials.csv [--folds folds.csv] [--best best.csv]
                       [--ranked]

One row per table row, the columns in the file's order (SPEC §5), then
status_name beside status (ok, diverged, failed). Text as text; whole numbers
as integers (128, not 128.0); other numbers as Python writes them, exactly;
missing values (NaN) as empty cells. Rows not written yet (a run still going)
are left out. --ranked orders /trials by the objective in its direction (ties
by trial id; diverged and failed trials last, by id); otherwise by trial id.
--best writes /best's attributes as one row. `-` for a path means stdout.
"""
import argparse
import contextlib
import csv
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # through bin/ links too
import needs  # noqa: E402

needs.packages("export.py", "numpy", "h5py")
import numpy as np  # noqa: E402

import aesweep_results as ar  # noqa: E402

STATUS_NAMES = {-1: "pending", 0: "ok", 1: "diverged", 2: "failed"}


def cell(v):
    if isinstance(v, bytes):
        v = v.decode()
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return int(v) if v.is_integer() and abs(v) < 2 ** 53 else repr(v)
    return v


@contextlib.contextmanager
def output(path):
    """A text file to write, or stdout for '-'."""
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
    else:
        with open(path, "w", newline="", encoding="utf-8") as f:
            yield f


def table_rows(table):
    """(header, rows) of a structured array, with status_name beside status."""
    names = list(table.dtype.names)
    header = [h for n in names for h in ([n, "status_name"] if n == "status" else [n])]
    rows = []
    for row in table:
        out = []
        for n in names:
            out.append(cell(row[n]))
            if n == "status":
                out.append(STATUS_NAMES.get(int(row[n]), str(int(row[n]))))
        rows.append(out)
    return header, rows


def ranked_order(r, rows):
    """/trials rows by the objective in its direction, ties by id; those without an
    objective (diverged, failed) after them, by id."""
    ok = (rows["status"] == 0) & np.isfinite(rows["objective_mean"])
    key = np.where(ok, -rows["objective_mean"] if r.maximize else rows["objective_mean"], 0.0)
    return rows[np.lexsort((rows["trial"], key, ~ok))]


def write_csv(header, rows, path):
    with output(path) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return len(rows)


def best_row(r):
    """/best's attributes as (header, [row]), trial and objective first; the model's
    arrays are not CSV."""
    names = sorted(r.best, key=lambda n: (n != "trial", n != "objective", n))
    return names, [[cell(r.best[n]) if not isinstance(r.best[n], np.ndarray) else
                    " ".join(str(cell(v)) for v in r.best[n]) for n in names]]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="an aesweep results file (OUT/results.h5)")
    ap.add_argument("--csv", required=True, help="where /trials goes ('-': stdout)")
    ap.add_argument("--folds", help="where /folds goes (optional; '-': stdout)")
    ap.add_argument("--best", help="where /best's row goes (optional; '-': stdout)")
    ap.add_argument("--ranked", action="store_true",
                    help="/trials best first by the objective (default: by trial id)")
    a = ap.parse_args(argv)
    try:
        r = ar.load(a.results)
    except (OSError, ValueError, KeyError) as e:
        print(f"export.py: {e}", file=sys.stderr)
        return 2
    if a.best and r.best is None:
        print(f"export.py: {a.results}: no /best (status {r.status}): nothing for --best",
              file=sys.stderr)
        return 2
    trials = r.trials[r.trials["trial"] >= 0]
    jobs = [(a.csv, "trials", table_rows(ranked_order(r, trials) if a.ranked else trials))]
    if a.folds:
        jobs.append((a.folds, "tasks", table_rows(r.folds[r.folds["trial"] >= 0])))
    if a.best:
        jobs.append((a.best, "best", best_row(r)))
    for path, what, (header, rows) in jobs:
        try:
            n = write_csv(header, rows, path)
        except OSError as e:
            print(f"export.py: {path}: cannot write ({e.strerror or e})", file=sys.stderr)
            return 2
        if path != "-":  # said on stderr when stdout is a table
            print(f"{path}: {n} {what}" if what != "best" else f"{path}: /best",
                  file=sys.stderr if "-" in (a.csv, a.folds, a.best) else sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
