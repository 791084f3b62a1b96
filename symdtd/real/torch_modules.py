"""Reading PyTorch modules: the optional import, eval mode, parameters, BatchNorm and padding.

What both importers of :mod:`symdtd.real.interop` (``Sequential`` at neuron
level) and :mod:`symdtd.real.fx_import` (any traceable model at layer level)
need from a ``torch.nn`` module: PyTorch imported only when asked
(:func:`require_extra`), a model read as in eval mode with a
:class:`TrainingModeWarning` when it is in training mode (:func:`eval_mode`),
tensors as float64 arrays, a BatchNorm's running statistics
(:func:`batchnorm_stats`), and a convolution's padding as a pair of ints
(:func:`conv_padding`, with PyTorch's ``"same"`` and ``"valid"``).

Examples
--------
>>> conv_padding("same", kernel=(3, 5), stride=(1, 1), dilation=(1, 2), where="conv1")
(1, 4)
>>> conv_padding("same", kernel=(2, 2), stride=(1, 1), dilation=(1, 1), where="conv1")
Traceback (most recent call last):
...
TypeError: conv1: padding='same' pads unevenly for an even kernel (PyTorch adds ...
"""
from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np

__all__ = ["TrainingModeWarning", "require_extra", "warn_training", "eval_mode", "to_array", "weight_view",
           "batchnorm_stats", "conv_padding"]


class TrainingModeWarning(UserWarning):
    """:func:`~symdtd.real.interop.from_torch` was given a model in training mode (read as in eval mode)."""


def require_extra(module, extra):
    """Import *module*; an ImportError naming the extra to install when it is missing.

    >>> require_extra("math", "none").sqrt(4.0)
    2.0
    """
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as err:
        raise ImportError(f"{module} is needed for this importer: pip install symdtd[{extra}]"
                          f" ({err})") from err


def warn_training(model, who="from_torch", stacklevel=3):
    """Warn (:class:`TrainingModeWarning`) when *model* is a module in training mode."""
    if getattr(model, "training", False):
        warnings.warn(f"{who}: the model is in training mode; the network is read as in "
                      "eval mode (BatchNorm running statistics, no Dropout) — call model.eval() "
                      "first so that its own predictions match the network's",
                      TrainingModeWarning, stacklevel=stacklevel)


@contextmanager
def eval_mode(model):
    """Put every submodule of *model* in eval mode for the block, then restore each one's mode."""
    modules = list(model.modules())
    modes = [m.training for m in modules]
    try:
        for m in modules:
            m.training = False
        yield model
    finally:
        for m, mode in zip(modules, modes):
            m.training = mode


def to_array(tensor):
    """A tensor (a parameter, a buffer) as a float64 NumPy array."""
    return np.asarray(weight_view(tensor), dtype=np.float64)


def weight_view(tensor):
    """A parameter as a NumPy array, without a copy when it is float32 or float64 on the CPU.

    For the layers, which copy their parameters themselves (weights stay in
    float32 when they are float32, biases go to float64): a VGG-16 has 138
    million weights, and every copy of them costs 0.55 GB in float32, 1.1 GB in
    float64, and seconds. Half precision is converted to float64.
    """
    tensor = tensor.detach().cpu()
    if not tensor.is_floating_point() or tensor.is_complex() or tensor.element_size() < 4:
        tensor = tensor.double()
    return tensor.numpy()


def batchnorm_stats(bn, where):
    """``(gamma, beta, mean, var, eps)`` of a BatchNorm module in eval mode (γ = 1, β = 0 without affine).

    Raises
    ------
    TypeError
        It keeps no running statistics (it normalises each batch by its own).
    """
    if not bn.track_running_stats or bn.running_mean is None:
        raise TypeError(f"{where}: {type(bn).__name__} without running statistics cannot be "
                        "folded (it normalises every batch by its own statistics)")
    mean, var = to_array(bn.running_mean), to_array(bn.running_var)
    if bn.affine:
        gamma, beta = to_array(bn.weight), to_array(bn.bias)
    else:
        gamma, beta = np.ones_like(mean), np.zeros_like(mean)
    return gamma, beta, mean, var, float(bn.eps)


def conv_padding(padding, kernel, stride, dilation, where):
    """A convolution's zero padding as ``(ph, pw)``; ``"valid"`` is 0, ``"same"`` keeps the size.

    Raises
    ------
    TypeError
        ``"same"`` with a stride (PyTorch refuses it too) or with an uneven
        total padding ``dilation·(kernel − 1)`` (PyTorch pads one more row at the
        bottom than at the top, which a symmetric padding cannot express).
    """
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        if tuple(stride) != (1, 1):
            raise TypeError(f"{where}: padding='same' needs stride 1")
        total = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if any(t % 2 for t in total):
            raise TypeError(f"{where}: padding='same' pads unevenly for an even kernel (PyTorch adds "
                            "the extra row at the bottom); use explicit padding")
        return tuple(t // 2 for t in total)
    return tuple(int(p) for p in padding)
