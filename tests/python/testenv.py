"""What every Python test of the binary reads from its environment (set by CMake,
see CMakeLists.txt's TEST_ENV): the source tree, the binary, the Fashion-MNIST
folder and the scratch folder; and the pytest mark that skips a module without
the data.
"""
import os
from pathlib import Path

import pytest

SRC = Path(os.environ.get("AESWEEP_SRC", Path(__file__).resolve().parents[2]))
AESWEEP = os.environ.get("AESWEEP", "/work/main/build/aesweep")
DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"
FASHION_DIR = os.environ.get("FASHION_DIR", DEBIAN_FASHION)
ANALYSIS = SRC / "analysis"
PYTHON = "/usr/bin/python3"
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")
# --set for the data folder when it is not Debian's
SETS = [] if os.path.realpath(FASHION_DIR) == DEBIAN_FASHION else [f"data.path={FASHION_DIR}"]

needs_fashion = pytest.mark.skipif(
    not (Path(FASHION_DIR) / "t10k-images-idx3-ubyte.gz").is_file()
    and not (Path(FASHION_DIR) / "t10k-images-idx3-ubyte").is_file(),
    reason=f"no Fashion-MNIST under {FASHION_DIR}")


def scratch(name):
    """This test module's folder under TEST_TMP."""
    return Path(os.environ.get("TEST_TMP", "/tmp/aesweep_test")) / name
