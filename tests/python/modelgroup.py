"""The model layout of SPEC §5 rebuilt with numpy alone: what the Python tests
use to check that a file is enough to run its forward pass. The reading is
analysis/aesweep_results.py's, the one reader of the layout."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "analysis"))
from aesweep_results import Model, activation, layer_groups as layers_of  # noqa: E402

__all__ = ["Model", "activation", "layers_of", "forward"]


def forward(model, pixels):
    """The output, the input (pixels * input_scale: the target) and the code (the
    output of layer bottleneck_layer), in float64."""
    m = Model(model)
    code = m.encode(pixels)
    return m.decode(code), m.inputs(pixels), code
