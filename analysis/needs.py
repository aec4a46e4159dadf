"""The Debian packages the analysis scripts need, checked before anything else is
imported, so that a missing one is a message naming its package, not a trace.

    import needs
    needs.packages("report.py", "numpy", "h5py", "matplotlib")

Only the standard library here: it runs before the rest can be imported.
"""
import importlib
import sys

DEBIAN = {"numpy": "python3-numpy", "h5py": "python3-h5py", "matplotlib": "python3-matplotlib",
          "sklearn": "python3-sklearn", "torch": "python3-torch", "onnx": "python3-onnx"}


def missing(module):
    """The Debian package of module when it cannot be imported, else None."""
    try:
        importlib.import_module(module)
        return None
    except ImportError:
        return DEBIAN.get(module, module)


def packages(script, *modules):
    """Exits 2 naming every missing package (apt-get line included)."""
    gone = [p for p in (missing(m) for m in modules) if p]
    if gone:
        print(f"{script}: needs {', '.join(gone)}: apt-get install {' '.join(gone)} "
              f"(run with Debian's /usr/bin/python3)", file=sys.stderr)
        sys.exit(2)
