"""--set as the Python tests pass it to aesweep and expect it recorded."""
import copy
import json


def set_args(sets):
    """["a=1", "b=2"] -> ["--set", "a=1", "--set", "b=2"]"""
    return [a for s in sets for a in ("--set", s)]


def apply_sets(job, sets):
    """The job as aesweep records it: each KEY=VALUE applied (VALUE as JSON when it
    parses, else a string); data.path and data.dataset replace each other
    (SPEC §2, --set)."""
    job = copy.deepcopy(job)
    for s in sets:
        key, value = s.split("=", 1)
        try:
            value = json.loads(value)
        except ValueError:
            pass
        *parents, leaf = key.split(".")
        node = job
        for p in parents:
            node = node.setdefault(p, {})
        if parents == ["data"] and leaf in ("path", "dataset"):
            node.pop("dataset" if leaf == "path" else "path", None)
        node[leaf] = value
    return job
