"""The inputs of a layer network: :class:`InputLayer` (a shape and a domain) and the check of input arrays.

Examples
--------
>>> import numpy as np
>>> from symdtd.core.domains import Box
>>> layer = InputLayer("x", (1, 2, 2), Box(0, 1))
>>> [b.tolist() for b in layer.bounds()]
[[[[0.0, 0.0], [0.0, 0.0]]], [[[1.0, 1.0], [1.0, 1.0]]]]
"""
from __future__ import annotations

import numpy as np

from ..core.domains import Box, Domain, Positive
from .layer_base import Layer

__all__ = ["InputLayer", "check_inputs"]


class InputLayer(Layer):
    """The input of a :class:`LayerNetwork`: a shape and a domain (shared or per input)."""

    n_sources = 0
    neuron_kind = "input"

    def __init__(self, name, shape, domain):
        super().__init__()
        shape = tuple(int(s) for s in np.atleast_1d(shape))
        if len(shape) not in (1, 3) or min(shape) < 1:
            raise ValueError(f"input {name!r}: shape must be (C, H, W) or (n,), got {shape!r}")
        if not isinstance(domain, Domain):
            raise TypeError(f"input {name!r}: domain must be a Domain, got {domain!r}")
        if isinstance(domain, Box) and domain.per_input:
            try:
                domain.bounds(int(np.prod(shape)))
            except ValueError:
                raise ValueError(f"input {name!r}: the Box has per-input bounds of the wrong "
                                 f"length for shape {shape}") from None
        self.name, self.shape, self.domain = name, shape, domain

    def bounds(self):
        """``(low, high)`` arrays of the input's shape (``±inf`` when open)."""
        if isinstance(self.domain, Box):
            if self.domain.symbolic:
                raise ValueError(f"input {self.name!r} has a symbolic Box(); "
                                 "layer-level propagation needs numeric bounds")
            low, high = self.domain.bounds(int(np.prod(self.shape)))
            return np.reshape(low, self.shape), np.reshape(high, self.shape)
        low = 0.0 if isinstance(self.domain, Positive) else -np.inf
        return np.full(self.shape, low), np.full(self.shape, np.inf)


def check_inputs(net, X, dtype=np.float64):
    """``{input name: array (batch, *shape)}`` in *dtype*: *X* checked against *net*'s input layers.

    Parameters
    ----------
    net : LayerNetwork
    X : array-like or dict
        ``(batch, *shape)`` or ``(batch, n)`` flattened (a dict
        ``{input name: array}`` when there are several inputs).
    dtype : numpy dtype
        float64 or float32.

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        A missing or unknown input, a wrong shape, NaN or inf (the message
        names the input).

    Examples
    --------
    >>> from symdtd.network.layer_graph import LayerNetwork
    >>> net = LayerNetwork()
    >>> _ = net.add_input("x", (2,))
    >>> check_inputs(net, [[1, 2]])["x"].dtype
    dtype('float64')
    >>> check_inputs(net, [[1, 2, 3]])
    Traceback (most recent call last):
    ...
    ValueError: input 'x': expected shape (batch, 2) or (batch, 2), got (1, 3)
    """
    inputs = net.inputs
    if not inputs:
        raise ValueError("the network has no inputs")
    if not isinstance(X, dict):
        if len(inputs) > 1:
            raise ValueError(f"the network has inputs {inputs}; pass X as a dict")
        X = {inputs[0]: X}
    if set(X) != set(inputs):
        raise ValueError(f"X must give the inputs {inputs}, got {sorted(X)}")
    values = {}
    for name in inputs:
        shape = net.layer(name).shape
        with np.errstate(over="ignore"):
            arr = np.asarray(X[name], dtype=dtype)
        n = int(np.prod(shape))
        if arr.ndim == 2 and arr.shape[1] == n and len(shape) > 1:
            arr = arr.reshape((len(arr),) + shape)
        if arr.shape[1:] != shape:
            raise ValueError(f"input {name!r}: expected shape (batch, {', '.join(map(str, shape))}) "
                             f"or (batch, {n}), got {arr.shape}")
        if not np.isfinite(arr).all():
            raise ValueError(f"input {name!r}: X has NaN or inf")
        values[name] = arr
    return values
