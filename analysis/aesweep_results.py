"""An aesweep results file (SPEC §5) in numpy, and its models rebuilt from the file alone.

    import aesweep_results as ar
    r = ar.load("runs/quickstart/results.h5")
    r.trials, r.folds          # numpy structured arrays, one row per trial / task
                               # (text fields, such as config, as str)
    r.job                      # the job spec (dict), as the run recorded it
    r.sets                     # the --set overrides that made the run (list of str)
    r.curve(trial, fold)       # float64 [epochs, 3]: train_loss, val_loss, val_mse
                               # (SPEC §5 names the third val_metric)
    r.pareto()                 # the trials no other beats on objective and code width
    r.best                     # /best's attributes (dict), or None
    m = r.best_model           # a Model, or None (no /best/model)
    codes = m.encode(pixels)   # pixels: uint8 [n, 784] as in the IDX files
    m.decode(codes), m.reconstruct(pixels), m.classify(codes), m.predict(pixels)
    images, labels = r.test_set()  # the images /best was scored on

Needs only h5py and numpy. A file that a search is still writing can be read
too: it is opened without HDF5's file lock (locking=False).
"""
import gzip
import json
import math
import os
from pathlib import Path

import h5py
import numpy as np

DEBIAN_DATASETS = "/usr/share/datasets"
SPEC_COLUMNS = ("lr", "batch_size", "bottleneck", "lambda", "sigma")


def canon(v):
    """A parameter value as text, the same whether it came from a column (32.0), the
    config text ("32") or the job's values list (32): for matching and labels."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def column_of(name):
    """The /trials column of a searched parameter ("lr", "model.bottleneck"), or None."""
    last = name.split(".")[-1]
    return last if last in SPEC_COLUMNS else None


# ---- models ---------------------------------------------------------------------------


def activation(name, slope=0.01):
    """The layer activations of SPEC §5 as numpy functions; softmax over the last axis."""
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
    if name == "softmax":
        def softmax(z):
            e = np.exp(z - z.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        return softmax
    raise ValueError(f"unknown activation {name!r} in the model group")


def layer_groups(group):
    """The layer_NN subgroups of a model group, in order; checks their numbering."""
    n = int(group.attrs["layers"])
    names = sorted(k for k in group.keys() if k.startswith("layer_"))
    if names != [f"layer_{i:02d}" for i in range(n)]:
        raise ValueError(f"{group.name}: layers {names}, expected layer_00..layer_{n - 1:02d}")
    return [group[k] for k in names]


def _shape(g, name):
    """A shape attribute: [n] for a vector, [C, H, W] for an image."""
    return tuple(int(v) for v in np.atleast_1d(g.attrs[name]))


class Layer:
    """One layer_NN group in float64, by its `kind` (dense when absent: the layout of
    format_version 1). Vectors are [n, features]; images [n, C, H, W], as torch."""

    def __init__(self, g):
        self.kind = str(g.attrs.get("kind", "dense"))
        self.activation = str(g.attrs.get("activation", "linear"))
        self.f = activation(self.activation, float(g.attrs.get("leaky_slope", 0.01)))
        self.W = g["W"][...].astype(np.float64) if "W" in g else None
        self.b = g["b"][...].astype(np.float64) if "b" in g else None
        for key in ("kernel", "stride", "padding", "output_padding"):
            setattr(self, key, int(g.attrs.get(key, 0)))
        if self.kind == "batchnorm":
            self.gamma, self.beta = (g[k][...].astype(np.float64) for k in ("weight", "bias"))
            self.mean, self.var = (g[k][...].astype(np.float64)
                                   for k in ("running_mean", "running_var"))
            self.eps = float(g.attrs["eps"])
        self.out_shape = _shape(g, "out_shape") if "out_shape" in g.attrs else None
        self.width = self.W.shape[0] if self.kind == "dense" else (
            self.out_shape[0] if self.out_shape else None)

    def __call__(self, x):
        return self.f(getattr(self, "_" + self.kind)(x))

    def _dense(self, x):
        return x @ self.W.T + self.b

    def _conv(self, x):
        k, s, p = self.kernel, self.stride, self.padding
        x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        win = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
        return np.einsum("nchwij,ocij->nohw", win, self.W) + self.b[None, :, None, None]

    def _conv_transpose(self, x):
        k, s, p, op = self.kernel, self.stride, self.padding, self.output_padding
        n, _, h, w = x.shape
        oh, ow = (h - 1) * s - 2 * p + k + op, (w - 1) * s - 2 * p + k + op
        full = np.zeros((n, self.W.shape[1], (h - 1) * s + k + op, (w - 1) * s + k + op))
        for i in range(k):  # every input pixel scatters its k x k kernel
            for j in range(k):
                full[:, :, i:i + (h - 1) * s + 1:s, j:j + (w - 1) * s + 1:s] += np.einsum(
                    "nchw,co->nohw", x, self.W[:, :, i, j])
        return full[:, :, p:p + oh, p:p + ow] + self.b[None, :, None, None]

    def _batchnorm(self, x):
        axes = (None, slice(None)) + (None,) * (x.ndim - 2)
        return ((x - self.mean[axes]) / np.sqrt(self.var[axes] + self.eps) * self.gamma[axes]
                + self.beta[axes])

    def _reshape(self, x):
        return x.reshape(len(x), *self.out_shape) if len(self.out_shape) == 3 else \
            x.reshape(len(x), -1)

    def _variational(self, x):
        return x[:, : x.shape[1] // 2]  # evaluation: the mean


def run_layers(layers, x):
    for layer in layers:
        x = layer(x)
    return x


class Model:
    """A model group rebuilt in float64: the autoencoder, and the classifier on its
    codes when the group has one."""

    def __init__(self, group):
        self.layers = [Layer(g) for g in layer_groups(group)]
        self.bottleneck_layer = int(group.attrs["bottleneck_layer"])
        self.input_scale = float(group.attrs["input_scale"])
        self.input_dim = int(group.attrs["input_dim"])
        lo, _ = (float(v) for v in group.attrs.get("input_range", (0.0, 1.0)))
        self.signed = lo < 0  # pixels map to [-1, 1]: (p/255 - 0.5) / 0.5
        code = self.layers[self.bottleneck_layer]
        self.bottleneck = code.width
        self.variational = code.kind == "variational"
        # train.recon_weight 0 (guided, supcon) builds the encoder alone
        self.has_decoder = self.bottleneck_layer < len(self.layers) - 1
        side = int(round(math.sqrt(self.input_dim)))
        self.input_shape = (_shape(group, "input_shape") if "input_shape" in group.attrs
                            else (1, side, self.input_dim // side))
        self.classifier = ([Layer(g) for g in layer_groups(group["classifier"])]
                           if "classifier" in group else None)
        # classifier.finetune: the classifier reads the images through its own copy of
        # the encoder (tuned with it), not the codes
        self.classifier_input = (group["classifier"].attrs.get("input", "code")
                                 if "classifier" in group else None)
        if isinstance(self.classifier_input, bytes):
            self.classifier_input = self.classifier_input.decode()

    def inputs(self, pixels):
        """uint8 pixels [n, input_dim] as the network sees them: scaled by input_scale
        (1/255), then moved to [-1, 1] when the model's input_range says so."""
        x = np.asarray(pixels, dtype=np.float64) * self.input_scale
        return (x - 0.5) / 0.5 if self.signed else x

    def encode(self, pixels):
        return run_layers(self.layers[: self.bottleneck_layer + 1], self.inputs(pixels))

    def decode(self, codes):
        return run_layers(self.layers[self.bottleneck_layer + 1:], np.asarray(codes, np.float64))

    def reconstruct(self, pixels):
        """The output, on the input's scale ([0, 1] for pixels/255)."""
        return self.decode(self.encode(pixels))

    def classify(self, codes):
        """Class probabilities from the codes; None without a classifier, or with one
        that reads the images (classifier.finetune: use predict)."""
        if self.classifier is None or self.classifier_input == "image":
            return None
        return run_layers(self.classifier, np.asarray(codes, np.float64))

    def predict(self, pixels):
        """Class probabilities from the pixels, whatever the classifier reads; None
        without a classifier."""
        if self.classifier is None:
            return None
        if self.classifier_input == "image":
            return run_layers(self.classifier, self.inputs(pixels))
        return self.classify(self.encode(pixels))

    def mse(self, pixels):
        """Mean squared reconstruction error over every pixel, as test_mse counts it
        (NaN for an encoder alone)."""
        if not self.has_decoder:
            return float("nan")
        return float(np.mean((self.reconstruct(pixels) - self.inputs(pixels)) ** 2))


# ---- data ------------------------------------------------------------------------------


def read_idx(path):
    """An IDX file (raw or .gz) as a numpy array: images [n, rows*cols] uint8, or labels [n]."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[:4], "big")
    if magic == 2051:
        n, rows, cols = (int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(3))
        return np.frombuffer(raw, np.uint8, n * rows * cols, 16).reshape(n, rows * cols)
    if magic == 2049:
        n = int.from_bytes(raw[4:8], "big")
        return np.frombuffer(raw, np.uint8, n, 8)
    raise ValueError(f"{path}: not an IDX images or labels file (magic {magic})")


def find_idx(folder, stem):
    """stem ('t10k-images-idx3-ubyte') in folder, raw or gzipped."""
    for name in (stem, stem + ".gz"):
        p = Path(folder) / name
        if p.is_file():
            return p
    raise FileNotFoundError(f"{folder}: no {stem} or {stem}.gz")


def data_dir(job):
    """The folder a job reads: data.path, else Debian's dataset-NAME package."""
    data = job.get("data", {})
    return data.get("path") or os.path.join(DEBIAN_DATASETS, data.get("dataset", "fashion-mnist"))


def read_cifar10(path):
    """A CIFAR-10 binary batch: images [n, 3072] uint8 (channel-major) and labels [n]."""
    rec = np.fromfile(path, np.uint8).reshape(-1, 3073)
    return np.ascontiguousarray(rec[:, 1:]), rec[:, 0].copy()


def load_test_images(job):
    """The job's test images [n, C*H*W] (padded by data.pad) and labels."""
    folder = data_dir(job)
    data = job.get("data", {})
    if data.get("dataset") == "cifar10":
        images, labels = read_cifar10(Path(folder) / "test_batch.bin")
        shape = (3, 32, 32)
    else:
        images = read_idx(find_idx(folder, "t10k-images-idx3-ubyte"))
        labels = read_idx(find_idx(folder, "t10k-labels-idx1-ubyte"))
        side = int(round(math.sqrt(images.shape[1])))
        shape = (1, side, images.shape[1] // side)
    pad = int(data.get("pad", 0))
    if pad:
        im = images.reshape(len(images), *shape)
        images = np.pad(im, ((0, 0), (0, 0), (pad, pad), (pad, pad))).reshape(len(images), -1)
    return images, labels


# ---- the results file ------------------------------------------------------------------


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def attrs_dict(attrs):
    out = {}
    for k, v in attrs.items():
        if isinstance(v, (bytes, str)):
            out[k] = text(v)
        elif np.ndim(v) == 0:
            out[k] = v.item() if hasattr(v, "item") else v
        else:
            out[k] = np.asarray(v)
    return out


def as_text(table):
    """A structured array with its variable-length text fields (h5py gives bytes)
    as str."""
    for name in table.dtype.names or ():
        if table.dtype[name] == object:
            table[name] = [text(v) for v in table[name]]
    return table


def open_file(path):
    """h5py's File for reading, without HDF5's lock (a running search holds it);
    a missing or foreign file is a ValueError that says so, not h5py's trace."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if path.is_dir():
        raise ValueError(f"{path}: a folder, not a results file (OUT/results.h5?)")
    try:
        return h5py.File(path, "r", locking=False)
    except OSError as e:
        raise ValueError(f"{path}: not a readable HDF5 file ({e})") from None


class Results:
    """Everything of a results file but the weights, read at once; models on demand."""

    def __init__(self, path):
        self.path = Path(path)
        with open_file(self.path) as f:
            if text(f.attrs.get("format", "")) != "aesweep-results":
                raise ValueError(f"{path}: not an aesweep results file")
            self.attrs = attrs_dict(f.attrs)
            self.job = json.loads(self.attrs["job"])
            self.trials = as_text(f["trials"][...])
            self.folds = as_text(f["folds"][...])
            self.curves = {}
            if "curves" in f:
                for t, g in f["curves"].items():
                    for fold, d in g.items():
                        self.curves[(int(t), int(fold))] = d[...]
            self.best = attrs_dict(f["best"].attrs) if "best" in f else None
            self.has_best_model = "best/model" in f
            self.models = sorted((int(t), int(fold)) for t, g in f["models"].items()
                                 for fold in g) if "models" in f else []
            self.test_index = f["best/test_index"][...] if "best/test_index" in f else None
            self.rounds = f["rounds"][...] if "rounds" in f else None
        self._best_model = None

    @property
    def status(self):
        return self.attrs.get("status", "?")

    @property
    def objective(self):
        return self.attrs.get("objective", "objective")

    @property
    def maximize(self):
        return self.attrs.get("objective_direction") == "max"

    @property
    def strategy(self):
        return self.attrs.get("strategy", "?")

    @property
    def select(self):
        """search.select of the job: "best" (the default) or "one_se"."""
        return self.job.get("search", {}).get("select", "best")

    @property
    def chosen(self):
        """The trial the search chose and refit (/best's), or None without /best. Under
        search.select "one_se" it can differ from ranked()[0], the best mean."""
        return int(self.best["trial"]) if self.best and "trial" in self.best else None

    @property
    def chosen_over_best(self):
        """The refit trial when search.select one_se took it over the trial with the
        best mean; else None."""
        ranked = self.ranked()
        if self.select != "one_se" or self.chosen is None or len(ranked) == 0:
            return None
        return self.chosen if self.chosen != int(ranked[0]["trial"]) else None

    def stage_start(self, stage):
        """The trial a bisection stage started from: every parameter of the stages
        before it at that stage's chosen value (/rounds), the others at the job's
        own values (as the trials of the stage before have them); the lowest such
        ok trial (a point met again keeps its first trial and stage), else the best
        of the stage before; -1 for none."""
        if self.rounds is None or stage == 0:
            return -1
        rows = self.rounds[(self.rounds["stage"] < stage) & np.isfinite(self.rounds["chosen"])]
        before = np.flatnonzero(self.trials["stage"] == stage - 1)
        at = self.trials["status"] == 0
        if len(before):
            chosen = {text(row["param"]): float(row["chosen"]) for row in rows}  # last wins
            for p in self.space:
                x, _ = self.param_axis(p)
                want = chosen.get(p, x[before[0]])
                at &= (x == want) | (np.isnan(x) & np.isnan(want))
        if len(before) and at.any():
            return int(self.trials["trial"][np.flatnonzero(at)[0]])
        ranked = self.ranked(among=self.trials["stage"] == stage - 1)
        return int(ranked[0]["trial"]) if len(ranked) else -1

    @property
    def sets(self):
        """The --set overrides of the run, in order ([] without, or in files from
        before they were recorded)."""
        return [s for s in self.attrs.get("sets", "").split("\n") if s]

    @property
    def input_dim(self):
        """The values of one input image (784 for 28x28): the root attribute, else
        /best/model's, else the job's dataset."""
        if "input_dim" in self.attrs:
            return int(self.attrs["input_dim"])
        if self.has_best_model:
            return self.best_model.input_dim
        data = self.job.get("data", {})
        side = (32 if data.get("dataset") == "cifar10" else 28) + 2 * int(data.get("pad", 0))
        return (3 if data.get("dataset") == "cifar10" else 1) * side * side

    def pareto(self, x="bottleneck", y=None, x_max=False, y_max=None):
        """The ok trials no other ok trial beats on both /trials columns x and y
        (default: the code width, smaller better, and the objective in its
        direction), best x first (most compressed); of trials equal on both, the
        lowest id."""
        y = y or "objective_mean"
        y_max = self.maximize if y_max is None else y_max
        ok = self.trials[(self.trials["status"] == 0) & np.isfinite(self.trials[y])
                         & np.isfinite(self.trials[x])]
        return ok[pareto_front(ok[x], ok[y], ok["trial"], x_max, y_max)]

    def curve(self, trial, fold):
        return self.curves.get((int(trial), int(fold)))

    @property
    def se(self):
        """Each trial's standard error of its objective mean (the folds' sample std /
        sqrt(folds)); NaN with one fold, or in files from before it was recorded."""
        if "objective_se" in (self.trials.dtype.names or ()):
            return self.trials["objective_se"].astype(np.float64)
        return np.full(len(self.trials), np.nan)

    def tied(self, among=None):
        """Which trials are within one standard error of the best (Breiman's one-SE
        band; the best itself included), over all ok trials or those of the mask
        among (a bisection stage's); all False without a standard error."""
        out = np.zeros(len(self.trials), bool)
        ranked = self.ranked(among)
        if len(ranked) == 0 or not np.isfinite(self.se[int(ranked[0]["trial"])]):
            return out
        best = ranked[0]
        se = self.se[int(best["trial"])]
        mean = self.trials["objective_mean"]
        gap = (best["objective_mean"] - mean) if self.maximize else (mean - best["objective_mean"])
        out[ranked["trial"]] = gap[ranked["trial"]] <= se  # /trials is indexed by trial id
        return out

    def ranked(self, among=None):
        """The ok trials (status 0, a finite objective), best first; ties by trial id;
        only those of the mask among when given."""
        ok = (self.trials["status"] == 0) & np.isfinite(self.trials["objective_mean"])
        ok = self.trials[ok & among if among is not None else ok]
        key = -ok["objective_mean"] if self.maximize else ok["objective_mean"]
        return ok[np.lexsort((ok["trial"], key))]

    @property
    def space(self):
        return self.job.get("search", {}).get("space", {})

    def param_values(self, name):
        """Each trial's value of searched parameter name (as search.space writes it):
        its /trials column when it has one (float), else the value recorded in
        /trials.config for its key (text; None where the trial did not set it)."""
        col = column_of(name)
        if col is not None:
            return self.trials[col].astype(np.float64)
        out = []
        for config in self.trials["config"]:
            sets = dict(kv.split("=", 1) for kv in text(config).split() if "=" in kv)
            v = json.loads(sets[name]) if name in sets else None
            if isinstance(v, list) and len(v) == 1:  # a range over widths sets [x]
                v = v[0]
            out.append(v)
        if all(v is None or isinstance(v, (int, float)) for v in out):
            return np.array([np.nan if v is None else float(v) for v in out])
        return np.array([None if v is None else str(v) for v in out], dtype=object)

    def param_axis(self, name):
        """(x per trial, tick labels): numbers as they are; a values list by its index
        in the list (NaN where unset), with the list as labels."""
        values = self.space.get(name, {}).get("values") if isinstance(
            self.space.get(name), dict) else None
        x = self.param_values(name)
        if values is None:
            return x.astype(np.float64), None
        labels = [canon(v) for v in values]
        index = {lab: i for i, lab in enumerate(labels)}
        return np.array([index.get(canon(v), np.nan) for v in x], dtype=np.float64), labels

    def searched(self):
        """The parameters of search.space that took more than one value, in its order."""
        out = []
        for name in self.space:
            x, _ = self.param_axis(name)
            if len(np.unique(x[np.isfinite(x)])) > 1:
                out.append(name)
        return out

    def log_scale(self, name):
        """Whether the job searched parameter name on a log scale."""
        spec = self.space.get(name)
        return isinstance(spec, dict) and spec.get("scale") == "log"

    def model(self, trial=None, fold=None):
        """/best/model (no arguments), or /models/TRIAL/FOLD; None when absent."""
        where = "best/model" if trial is None else f"models/{int(trial)}/{int(fold)}"
        with h5py.File(self.path, "r", locking=False) as f:
            return Model(f[where]) if where in f else None

    @property
    def best_model(self):
        if self._best_model is None and self.has_best_model:
            self._best_model = self.model()
        return self._best_model

    def test_set(self):
        """The test images and labels /best was scored on: /best/test_index of the
        job's test set when the file records it, else the whole test set."""
        images, labels = load_test_images(self.job)
        if self.test_index is not None:
            return images[self.test_index], labels[self.test_index]
        return images, labels


def load(path):
    return Results(path)


def pareto_front(x, y, ids, x_max=False, y_max=False):
    """Indices of the points that no other point beats on both x and y (each larger-
    better when its *_max is set, else smaller-better), best x first; of points
    equal on both, the lowest id. The same rule as `aesweep info --pareto`."""
    sx = -np.asarray(x, np.float64) if x_max else np.asarray(x, np.float64)
    sy = -np.asarray(y, np.float64) if y_max else np.asarray(y, np.float64)
    order = np.lexsort((np.asarray(ids), sy, sx))  # by x, then y, then id
    front, best_y = [], np.inf
    for i in order:  # a point is on the front iff its y beats every point before it
        if sy[i] < best_y:
            best_y = sy[i]
            front.append(i)
    return np.array(front, dtype=int)


def finite(x):
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x)
