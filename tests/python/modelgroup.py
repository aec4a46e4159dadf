"""The model layout of SPEC §5 rebuilt with numpy alone: what the Python tests
use to check that a file is enough to run its forward pass."""
import numpy as np


def activation(name, slope):
    if name == "linear":
        return lambda z: z
    if name == "relu":
        return lambda z: np.maximum(z, 0.0)
    if name == "leaky_relu":
        return lambda z: np.where(z > 0.0, z, slope * z)
    if name == "sigmoid":
        return lambda z: 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh
    raise AssertionError(f"unknown activation {name!r} in the model group")


def layers_of(model):
    """The layer_NN groups of a model group, in order; checks their numbering."""
    n = int(model.attrs["layers"])
    names = sorted(k for k in model.keys() if k.startswith("layer_"))
    assert names == [f"layer_{i:02d}" for i in range(n)], names
    return [model[k] for k in names]


def forward(model, pixels):
    """x = pixels * input_scale; y = act(x @ W.T + b) per layer, in float64.
    Returns the output, the input (the target) and the code (the output of
    layer bottleneck_layer)."""
    x = pixels.astype(np.float64) * float(model.attrs["input_scale"])
    target, code = x, None
    for i, g in enumerate(layers_of(model)):
        W = g["W"][...].astype(np.float64)
        b = g["b"][...].astype(np.float64)
        x = activation(g.attrs["activation"], float(g.attrs["leaky_slope"]))(x @ W.T + b)
        if i == int(model.attrs["bottleneck_layer"]):
            code = x
    return x, target, code
