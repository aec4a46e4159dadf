#!/usr/bin/python3
"""/trials and /folds of an aesweep results file as CSV, one row per table row.

    analysis/export.py RESULTS.h5 --csv trials.csv [--folds folds.csv]

Columns are the tables' fields in their order (SPEC §5); strings as text, missing
values as NaN. Rows not written yet (trial -1, a run still going) are left out.
"""
import argparse
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))  # through bin/ links too
import aesweep_results as ar  # noqa: E402


def cell(v):
    if isinstance(v, bytes):
        return v.decode()
    if hasattr(v, "item"):
        v = v.item()
    return repr(v) if isinstance(v, float) else v


def write_csv(table, path):
    """Writes the rows of a structured array; returns how many."""
    rows = table[table["trial"] >= 0]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(table.dtype.names)
        for row in rows:
            w.writerow([cell(row[k]) for k in table.dtype.names])
    return len(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="an aesweep results file (OUT/results.h5)")
    ap.add_argument("--csv", required=True, help="where /trials goes")
    ap.add_argument("--folds", help="where /folds goes (optional)")
    a = ap.parse_args(argv)
    try:
        r = ar.load(a.results)
        n = write_csv(r.trials, a.csv)
        print(f"{a.csv}: {n} trials")
        if a.folds:
            n = write_csv(r.folds, a.folds)
            print(f"{a.folds}: {n} tasks")
    except (OSError, ValueError, KeyError) as e:
        print(f"export.py: {a.results}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
