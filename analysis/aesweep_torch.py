"""An aesweep model as a torch.nn.Module: the layers of a model group (SPEC §5, §7)
rebuilt from an architecture description, ARCH, that export_model.py writes.

export_model.py copies this file into its output folder as model.py, adds ARCH
and a load() beside it, and saves the weights as state_dict.pt:

    import model                        # the exported folder on sys.path
    m = model.load()                    # eval mode, weights loaded
    x = model.preprocess(pixels)        # uint8 [n, input_dim] -> the network's input
    m(x)                                # the reconstruction (the codes for an encoder)
    m.encode(x), m.decode(codes), m.predict(x)   # predict: class probabilities

Evaluation semantics, as aesweep scores a model: batch norm uses its running
statistics and a variational code is its mean. Needs torch only.
"""
import torch
from torch import nn


class Mean(nn.Module):
    """A variational layer at evaluation: the code is the mean, the first half of
    the layer's input (mu, then log sigma^2)."""

    def forward(self, x):
        return x[:, : x.shape[1] // 2]


class Reshape(nn.Module):
    """Vectors to images [n, C, H, W] (nn.Unflatten without an ONNX counterpart in
    torch 1.13's exporter)."""

    def __init__(self, shape):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x):
        return x.reshape(-1, *self.shape)


ACTIVATIONS = {
    "linear": lambda slope: nn.Identity(),
    "relu": lambda slope: nn.ReLU(),
    "leaky_relu": lambda slope: nn.LeakyReLU(slope),
    "sigmoid": lambda slope: nn.Sigmoid(),
    "tanh": lambda slope: nn.Tanh(),
    "softmax": lambda slope: nn.Softmax(dim=-1),  # over the last axis, as the numpy rebuild
}


def _batchnorm(s):
    kind = nn.BatchNorm2d if len(s["in_shape"]) == 3 else nn.BatchNorm1d
    return kind(s["channels"], eps=s["eps"])


def _reshape(s):
    shape = tuple(s["out_shape"])
    return Reshape(shape) if len(shape) == 3 else nn.Flatten()


# One constructor a layer kind: the torch module holding that kind's weights.
KINDS = {
    "dense": lambda s: nn.Linear(s["in_features"], s["out_features"]),
    "conv": lambda s: nn.Conv2d(s["in_channels"], s["out_channels"], s["kernel"],
                                stride=s["stride"], padding=s["padding"]),
    "conv_transpose": lambda s: nn.ConvTranspose2d(
        s["in_channels"], s["out_channels"], s["kernel"], stride=s["stride"],
        padding=s["padding"], output_padding=s["output_padding"]),
    "batchnorm": _batchnorm,
    "reshape": _reshape,
    "variational": lambda s: Mean(),
}


def layer(spec):
    """One layer: [0] its kind's module, [1] its activation."""
    if spec["kind"] not in KINDS:
        raise ValueError(f"layer kind {spec['kind']!r} has no torch counterpart here")
    return nn.Sequential(KINDS[spec["kind"]](spec),
                         ACTIVATIONS[spec["activation"]](spec.get("leaky_slope", 0.01)))


def stack(specs):
    return nn.Sequential(*(layer(s) for s in specs))


class AesweepModel(nn.Module):
    """The autoencoder (encoder: layers up to the code; decoder: the rest, empty for
    an encoder alone) and the classifier when the model has one."""

    def __init__(self, arch):
        super().__init__()
        code = arch["bottleneck_layer"]
        self.encoder = stack(arch["layers"][: code + 1])
        self.decoder = stack(arch["layers"][code + 1:])
        self.classifier = stack(arch["classifier"]) if arch.get("classifier") else None
        self.classifier_input = arch.get("classifier_input", "code")

    def encode(self, x):
        return self.encoder(x)

    def decode(self, codes):
        return self.decoder(codes)

    def forward(self, x):
        return self.decode(self.encode(x))

    def predict(self, x):
        """Class probabilities from the network's input, whatever the classifier reads
        (the codes, or the images for classifier.finetune); None without one."""
        if self.classifier is None:
            return None
        return self.classifier(x if self.classifier_input == "image" else self.encode(x))


class Outputs(nn.Module):
    """Every output of a model at once, in the order of output_names(): what an ONNX
    graph exports."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        codes = self.model.encode(x)
        out = [codes]
        if len(self.model.decoder):
            out.append(self.model.decode(codes))
        if self.model.classifier is not None:
            out.append(self.model.predict(x))
        return tuple(out)


def output_names(model):
    names = ["codes"]
    if len(model.decoder):
        names.append("reconstruction")
    if model.classifier is not None:
        names.append("probabilities")
    return names


def preprocess(pixels, arch=None):
    """uint8 pixels [n, input_dim] as the network sees them: times input_scale
    (1/255), then moved to [-1, 1] when input_range says so; float32. arch: the
    model's ARCH (in an exported model.py, its own by default)."""
    arch = arch or globals()["ARCH"]
    x = pixels if isinstance(pixels, torch.Tensor) else torch.tensor(pixels)
    x = x.to(torch.float32) * arch["input_scale"]
    return (x - 0.5) / 0.5 if arch["input_range"][0] < 0 else x
