"""The shipped digits models and their held-out test images (no scikit-learn or PyTorch needed).

``scripts/train_digits.py`` trained both models, seeded, on scikit-learn's
digits (8×8 images, pixels scaled to [0, 1]) and stored them in
``symdtd/data/``:

=======  ======================================================================
name     network
=======  ======================================================================
mlp      64-32-16-10 ReLU MLP (scikit-learn ``MLPClassifier``)
cnn      Conv(1→8, 3×3, pad 1)–ReLU–AvgPool(2)–Conv(8→16, 3×3, pad 1)–ReLU–
         AvgPool(2)–Linear(64→10) (PyTorch), built with :class:`~symdtd.network.conv.ConvNetBuilder`
=======  ======================================================================

Both networks have inputs ``x1 … x64`` (row-major pixels) in the box [0, 1],
so the input layer uses zᴮ and the layers above z⁺; their outputs
``y0 … y9`` are the logits of the ten digits (output index = digit). The
held-out images were never seen in training. Comparing attribution methods
on them is :mod:`symdtd.real.comparison`'s job.

Examples
--------
>>> X, y = load_digits_data()
>>> X.shape, y[:5].tolist(), float(X.min()), float(X.max())
((450, 64), [1, 4, 8, 6, 5], 0.0, 1.0)
>>> net = load_model("mlp")
>>> net.outputs[:3], net.rule_for("h1_1").name, net.rule_for("h2_1").name
(['y0', 'y1', 'y2'], 'zB', 'z+')
>>> accuracy = (net.forward(X).argmax(axis=1) == y).mean()
>>> round(float(accuracy), 4) == model_info("mlp")["accuracy"]["test"]
True
"""
from __future__ import annotations

import json
from functools import cache
from importlib import resources

import numpy as np

from ..core.domains import Box
from ..network.conv import ConvNetBuilder
from ..network.graph import Network

__all__ = ["load_model", "load_digits_data", "model_info", "digits_train_mean", "MODEL_NAMES", "DIGIT_SHAPE",
           "OUTPUT_NAMES", "check_model_name"]

MODEL_NAMES = ("mlp", "cnn")
DIGIT_SHAPE = (8, 8)
OUTPUT_NAMES = [f"y{d}" for d in range(10)]


def _data_file(name):
    return resources.files("symdtd").joinpath("data", name)


@cache
def _arrays(name):
    with _data_file(name).open("rb") as fh:
        with np.load(fh) as npz:
            return {k: npz[k] for k in npz.files}


@cache
def _meta():
    return json.loads(_data_file("digits_models.json").read_text())


def model_info(name: str | None = None) -> dict:
    """What the training script recorded: architecture, accuracy, positive biases, versions.

    Parameters
    ----------
    name : {"mlp", "cnn"}, optional
        One model's record (with ``accuracy`` rounded to 4 digits); default:
        the whole record (data split, seed, library versions).

    Returns
    -------
    dict
        A copy of the record, which the caller may change.

    Raises
    ------
    ValueError
        For a name other than ``"mlp"`` or ``"cnn"``.

    Examples
    --------
    >>> model_info("cnn")["accuracy"]["test"] > 0.9
    True
    """
    meta = _meta()
    if name is None:
        return json.loads(json.dumps(meta))  # a copy the caller may change
    check_model_name(name)
    record = dict(meta[name])
    record["accuracy"] = {k: round(v, 4) for k, v in meta["accuracy"][name].items()}
    record["positive_biases_per_layer"] = list(meta["positive_biases_per_layer"][name])
    return record


def check_model_name(name: str) -> None:
    """Refuse a name that is not one of :data:`MODEL_NAMES`.

    >>> check_model_name("lenet")
    Traceback (most recent call last):
    ...
    ValueError: unknown model 'lenet'; the shipped models are ['mlp', 'cnn']
    """
    if name not in MODEL_NAMES:
        raise ValueError(f"unknown model {name!r}; the shipped models are {list(MODEL_NAMES)}")


def load_digits_data() -> tuple[np.ndarray, np.ndarray]:
    """The held-out test digits: ``X`` (450, 64) in [0, 1] (float64) and labels ``y``.

    Rows are 8×8 images flattened row by row; pixel values are the data
    set's 0…16 divided by 16 (exact in binary).

    Returns
    -------
    X : numpy.ndarray, shape (450, 64)
    y : numpy.ndarray of int, shape (450,)
    """
    data = _arrays("digits_test.npz")
    return data["X"].astype(np.float64) / 16.0, data["y"].astype(np.int64)


def load_model(name: str, *, maxpool: str = "winner") -> Network:
    """A shipped digits model as a :class:`Network` (a fresh copy on every call).

    Parameters
    ----------
    name : {"mlp", "cnn"}
    maxpool : {"winner", "proportional"}
        The network's max-pooling mode (the shipped CNN average-pools, so
        this only matters for networks you derive from it).

    Returns
    -------
    Network
        Inputs ``x1 … x64`` in ``Box(0, 1)``, outputs ``y0 … y9`` (logits).

    Examples
    --------
    >>> net = load_model("cnn")
    >>> len(net.inputs), net.outputs[-1], net.rule_for("conv1_0_0_0").name
    (64, 'y9', 'zB')
    """
    check_model_name(name)
    weights = {k: v.astype(np.float64) for k, v in _arrays(f"digits_{name}.npz").items()}
    if name == "mlp":
        n = len([k for k in weights if k.startswith("W")])
        return Network.from_dense([weights[f"W{k}"] for k in range(n)],
                                  [weights[f"b{k}"] for k in range(n)], Box(0, 1),
                                  output_names=OUTPUT_NAMES, maxpool=maxpool)
    # the layout of scripts/train_digits.py's nn.Sequential (state_dict names)
    builder = ConvNetBuilder((1,) + DIGIT_SHAPE, Box(0, 1), maxpool=maxpool)
    builder.conv2d(weights["0.weight"], weights["0.bias"], padding=1).avg_pool2d(2)
    builder.conv2d(weights["3.weight"], weights["3.bias"], padding=1).avg_pool2d(2)
    builder.dense(weights["7.weight"].T, weights["7.bias"], activation="linear",
                  neuron_names=OUTPUT_NAMES)
    return builder.build()


def digits_train_mean() -> np.ndarray:
    """The mean training image (64 values in [0, 1]): a pixel-flipping baseline.

    >>> digits_train_mean().shape
    (64,)
    """
    return _arrays("digits_test.npz")["train_mean"].astype(np.float64)
