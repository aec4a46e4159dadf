#!/usr/bin/python3
"""Exports an aesweep model as a PyTorch module (and an ONNX graph).

    analysis/export_model.py RESULTS.h5 [-o DIR] [--trial T [--fold F]] [--encoder] [--onnx]

The model is /best/model of a results file, /models/T/F with --trial (and
--fold, default 0), or /model of an `aesweep train --out` file or of a task
file. DIR (default ./aesweep_model) receives:
  model.py        the module: `import model; m = model.load()` (eval mode),
                  m(x), m.encode(x), m.decode(codes), m.predict(x); x from
                  model.preprocess(uint8 pixels [n, input_dim])
  state_dict.pt   the weights (torch.save of the module's state_dict)
  model.onnx      with --onnx: the graph from input [n, input_dim] (the
                  preprocessed pixels) to its outputs codes, reconstruction,
                  probabilities (each that the model has); checked by onnx.checker
--encoder exports the encoder alone (input to codes): what a downstream
classifier needs. Every export is checked against the numpy rebuild of
aesweep_results on random images before it is written.

Needs Debian's python3-torch, and python3-onnx for --onnx.
"""
import argparse
import os
import pprint
import sys
import tempfile

HERE = os.path.dirname(os.path.realpath(__file__))  # through bin/ links too
sys.path.insert(0, HERE)
import needs  # noqa: E402

needs.packages("export_model.py", "numpy", "h5py")
import h5py  # noqa: E402
import numpy as np  # noqa: E402

import aesweep_results as ar  # noqa: E402

TOLERANCE = 1e-4  # float32 torch against float64 numpy, relative to the output's scale
CHECK_IMAGES = 64


class ExportError(Exception):
    """Bad input: the message names the file and what is wrong (exit 2)."""


def need(module):
    package = needs.missing(module)
    if package:
        raise ExportError(f"needs {module}: install Debian's {package} "
                          f"(apt-get install {package})")


# ---- the model group as an architecture and its weights ------------------------------


def shape_attr(g, name):
    return [int(v) for v in np.atleast_1d(g.attrs[name])] if name in g.attrs else None


def layer_spec(g):
    """(the layer's ARCH entry, its arrays by torch's parameter names)."""
    s = {"kind": ar.text(g.attrs.get("kind", "dense")),
         "activation": ar.text(g.attrs.get("activation", "linear")),
         "leaky_slope": float(g.attrs.get("leaky_slope", 0.01))}
    arrays = {}
    if "W" in g:
        W = g["W"][...]
        arrays = {"weight": W, "bias": g["b"][...]}
        if s["kind"] == "dense":
            s.update(in_features=int(W.shape[1]), out_features=int(W.shape[0]))
        else:  # conv: W [out, in, k, k]; conv_transpose: W [in, out, k, k], as torch
            first, second = int(W.shape[0]), int(W.shape[1])
            ci, co = (second, first) if s["kind"] == "conv" else (first, second)
            s.update(in_channels=ci, out_channels=co,
                     **{k: int(g.attrs.get(k, 0)) for k in
                        ("kernel", "stride", "padding", "output_padding")})
    if s["kind"] == "batchnorm":
        arrays = {k: g[k][...] for k in ("weight", "bias", "running_mean", "running_var")}
        s.update(channels=int(len(arrays["weight"])), eps=float(g.attrs["eps"]),
                 in_shape=shape_attr(g, "in_shape"))
    if s["kind"] == "reshape":
        s["out_shape"] = shape_attr(g, "out_shape")
    return s, arrays


def read_group(group, encoder_only):
    """ARCH and the weights by state-dict key, from a model group."""
    code = int(group.attrs["bottleneck_layer"])
    layers = ar.layer_groups(group)
    if encoder_only:
        layers = layers[: code + 1]
    lo, hi = (float(v) for v in group.attrs.get("input_range", (0.0, 1.0)))
    arch = {"input_dim": int(group.attrs["input_dim"]),
            "input_scale": float(group.attrs["input_scale"]),
            "input_range": [lo, hi],
            "bottleneck_layer": code, "layers": [], "classifier": None,
            "classifier_input": "code"}
    weights = {}
    for i, g in enumerate(layers):
        spec, arrays = layer_spec(g)
        arch["layers"].append(spec)
        where = f"encoder.{i}" if i <= code else f"decoder.{i - code - 1}"
        weights.update({f"{where}.0.{k}": v for k, v in arrays.items()})
    if "classifier" in group and not encoder_only:
        c = group["classifier"]
        arch["classifier"] = []
        arch["classifier_input"] = ar.text(c.attrs.get("input", "code"))
        for i, g in enumerate(ar.layer_groups(c)):
            spec, arrays = layer_spec(g)
            arch["classifier"].append(spec)
            weights.update({f"classifier.{i}.0.{k}": v for k, v in arrays.items()})
    return arch, weights


def locate(f, path, trial, fold):
    """The model group a file holds, and where it is, by the file's format."""
    fmt = ar.text(f.attrs.get("format", ""))
    if fmt == "aesweep-model":
        if trial is not None:
            raise ExportError(f"{path}: --trial names a trial of a results file; this is "
                              f"one model's file (/model)")
        where = "model"
    elif fmt == "aesweep-results":
        if trial is None:
            where = "best/model"
            if where not in f:
                raise ExportError(f"{path}: no /best/model (the run has not finished, or "
                                  f"output.weights was \"none\"); --trial T exports "
                                  f"/models/T/F when the run kept it")
        else:
            where = f"models/{trial}/{fold}"
            if where not in f:
                kept = sorted((int(t), int(k)) for t, g in f["models"].items() for k in g) \
                    if "models" in f else []
                shown = ", ".join(f"{t}/{k}" for t, k in kept[:10]) or "none"
                raise ExportError(f"{path}: no /{where}; the file keeps the weights of "
                                  f"trial/fold {shown}{' ...' if len(kept) > 10 else ''}")
    else:
        raise ExportError(f"{path}: not an aesweep results or model file "
                          f"(format {fmt!r})")
    return f[where], "/" + where


# ---- torch ----------------------------------------------------------------------------


def build(arch, weights):
    import torch
    import aesweep_torch as at
    model = at.AesweepModel(arch)
    state = model.state_dict()
    for key, value in weights.items():
        state[key].copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))
    model.load_state_dict(state)
    return model.eval()


def largest_difference(model, arch, reference, rng):
    """Largest |torch - numpy| over every output, on random uint8 images."""
    import torch
    import aesweep_torch as at
    pixels = rng.integers(0, 256, (CHECK_IMAGES, arch["input_dim"]), dtype=np.uint8)
    x = at.preprocess(pixels, arch)
    with torch.no_grad():
        got = [t.double().numpy() for t in at.Outputs(model)(x)]
    want = [reference.encode(pixels)]
    if len(model.decoder):
        want.append(reference.reconstruct(pixels))
    if model.classifier is not None:
        want.append(reference.predict(pixels))
    # relative to each output's largest value (at least 1): codes may be large
    return max(float(np.max(np.abs(g.reshape(len(g), -1) - w.reshape(len(w), -1)))
                     / max(1.0, float(np.max(np.abs(w)))))
               for g, w in zip(got, want))


def export_onnx(model, arch, path):
    import onnx
    import torch
    import aesweep_torch as at
    names = at.output_names(model)
    torch.onnx.export(at.Outputs(model), torch.zeros(1, arch["input_dim"]), path,
                      input_names=["input"], output_names=names,
                      dynamic_axes={k: {0: "n"} for k in ["input", *names]})
    onnx.checker.check_model(onnx.load(path))
    return names


def module_text(arch):
    with open(os.path.join(HERE, "aesweep_torch.py"), encoding="utf-8") as f:
        source = f.read()
    return (source + "\n\n# ---- written by export_model.py ----\n\n"
            "ARCH = " + pprint.pformat(arch, sort_dicts=False, width=96) + "\n\n\n"
            "def load(state_dict=None):\n"
            '    """The exported model in eval mode, with state_dict.pt (beside this file\n'
            '    unless given) loaded."""\n'
            "    import os\n"
            "    path = state_dict or os.path.join(os.path.dirname(os.path.abspath(__file__)),\n"
            '                                      "state_dict.pt")\n'
            "    model = AesweepModel(ARCH)\n"
            '    model.load_state_dict(torch.load(path, map_location="cpu"))\n'
            "    return model.eval()\n")


def written(out, name, write):
    """Writes out/name through a temporary file renamed into place, so that a failed
    export leaves what was there before."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
        os.replace(tmp, os.path.join(out, name))
    except BaseException:
        os.unlink(tmp)
        raise
    return os.path.join(out, name)


def describe(arch):
    widths = [arch["input_dim"]]
    for s in arch["layers"]:
        if s["kind"] == "dense":
            widths.append(s["out_features"])
        elif s["kind"] in ("conv", "conv_transpose"):
            widths.append(f"{s['out_channels']}c")
        elif s["kind"] == "variational":  # mu and log sigma^2 in, the code out
            widths.append(widths[-1] // 2)
    kinds = sorted({s["kind"] for s in arch["layers"]})
    return "-".join(map(str, widths)) + f" ({', '.join(kinds)})"


def export(path, out, trial=None, fold=0, encoder_only=False, onnx=False, seed=0):
    """Writes the module, its weights and (onnx) its graph into out; returns the
    lines to print."""
    need("torch")
    if onnx:
        need("onnx")
    if not os.path.isfile(path):
        raise ExportError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r", locking=False)
    except OSError as e:
        raise ExportError(f"{path}: not an HDF5 file ({e})") from None
    with f:
        group, where = locate(f, path, trial, fold)
        try:
            arch, weights = read_group(group, encoder_only)
            reference = ar.Model(group)
        except (KeyError, ValueError) as e:
            raise ExportError(f"{path}: {where}: {e}") from None
    try:
        model = build(arch, weights)
    except (ValueError, RuntimeError) as e:  # a layer torch has no counterpart for here
        raise ExportError(f"{path}: {where}: {e}") from None
    diff = largest_difference(model, arch, reference, np.random.default_rng(seed))
    if not diff <= TOLERANCE:
        raise ExportError(f"{path}: {where}: the torch module differs from the numpy rebuild "
                          f"by {diff:.3g} (relative; more than {TOLERANCE}): not exported")
    arch["source"] = f"{os.path.abspath(path)}:{where}"
    os.makedirs(out, exist_ok=True)
    import torch
    part = "encoder of " if encoder_only else ""
    lines = [f"{out}: the {part}{where} of {path}: {describe(arch)}"]
    written(out, "state_dict.pt", lambda p: torch.save(model.state_dict(), p))
    written(out, "model.py", lambda p: open(p, "w", encoding="utf-8").write(module_text(arch)))
    lines.append(f"  model.py, state_dict.pt: torch matches the numpy rebuild to {diff:.2g} "
                 f"on {CHECK_IMAGES} random images")
    if onnx:
        names = []
        written(out, "model.onnx", lambda p: names.extend(export_onnx(model, arch, p)))
        lines.append(f"  model.onnx: input -> {', '.join(names)}; onnx.checker: valid")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="a results file, an `aesweep train --out` file or a task file")
    ap.add_argument("-o", "--out", default="aesweep_model", help="the folder written "
                    "(default ./aesweep_model)")
    ap.add_argument("--trial", type=int, help="/models/TRIAL/FOLD instead of /best/model")
    ap.add_argument("--fold", type=int, default=0, help="with --trial (default 0)")
    ap.add_argument("--encoder", action="store_true", help="the encoder alone")
    ap.add_argument("--onnx", action="store_true", help="also model.onnx")
    a = ap.parse_args(argv)
    try:
        lines = export(a.source, a.out, a.trial, a.fold, a.encoder, a.onnx)
    except ExportError as e:
        print(f"export_model.py: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"export_model.py: {a.out}: {e.strerror or e}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
