"""The base class of layer nodes and the helpers layer types share.

A layer node (:class:`Layer`) is a group of neurons with a shape; its types
are in :mod:`symdtd.network.layers` (dense, convolution),
:mod:`symdtd.network.pool_layers` (pooling) and :mod:`symdtd.network.join_layers`
(residual addition, concatenation, flatten). :class:`Layer` defines what every
type fills in: shape inference, a forward pass, the linear map with modified
weights and its transpose, the generic expression in index notation, and the
neuron-level edges.

Examples
--------
>>> check_activation("relu"), with_activation(2, "relu")
('relu', 2)
>>> as_array([1, 2], "bias", (2,))
array([1., 2.])
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import layer_ops

__all__ = ["Layer", "ACTIVATIONS", "as_array", "identity", "check_activation", "with_activation"]

ACTIVATIONS = ("relu", "linear")


def as_array(value, what, shape=None, *, keep_float32=False):
    """*value* as a finite float64 array (of *shape* if given), always a copy; ValueError naming *what*.

    With *keep_float32*, a float32 array stays float32 (a layer's weights: every
    float32 number is a float64 number, so nothing is lost, and a float32 model's
    weights take half the memory; a float64 pass converts them once, exactly).
    """
    keep = keep_float32 and getattr(value, "dtype", None) == np.float32
    arr = np.array(value, dtype=np.float32 if keep else np.float64)
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{what} must have shape {tuple(shape)}, got {arr.shape}")
    # one read of the array, no temporary: a sum of finite numbers that is not finite has
    # overflowed, and only then is every entry tested
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum()
    if not np.isfinite(total) and not np.isfinite(arr).all():
        raise ValueError(f"{what} must be finite")
    return arr


def identity(w, gamma=None):
    """The weight map ``g(w) = w`` (the forward pass)."""
    return w


class Layer:
    """A layer node; subclasses define the layer types.

    Attributes
    ----------
    name : str
        Set by :meth:`bind` (when the layer is added to a network).
    sources : list of str
        The layers it reads, in order.
    input_shapes : list of tuple
        Per-sample shapes of the sources.
    shape : tuple
        Its own per-sample output shape.
    neuron_kind : str
        The :class:`~symdtd.network.graph.Network` kind of its neurons
        (``"relu"``, ``"linear"``, ``"sumpool"``, ``"maxpool"``), or ``"view"``
        for a layer that only rearranges its sources' neurons.
    rule : str or None
        Rule override for its neurons (as ``Network.add_neuron(rule=...)``).
    """

    n_sources = 1  # None: any number ≥ 2
    neuron_kind = "view"

    def __init__(self, rule=None):
        self.rule = rule
        self.name, self.sources, self.input_shapes, self.shape = None, [], [], None

    def bind(self, name, sources, input_shapes):
        """Name the layer and attach it to its sources (done by ``LayerNetwork.add_layer``).

        Parameters
        ----------
        name : str
        sources : list of str
        input_shapes : list of tuple
            The sources' per-sample shapes.

        Returns
        -------
        tuple
            The layer's output shape.

        Raises
        ------
        ValueError
            Already bound, the wrong number of sources, or shapes the layer cannot
            take; the message names the layer.
        """
        if self.name is not None:
            raise ValueError(f"layer {self.name!r} is already in a network; make a new one")
        if (len(sources) < 2) if self.n_sources is None else len(sources) != self.n_sources:
            want = "at least 2" if self.n_sources is None else str(self.n_sources)
            raise ValueError(f"layer {name!r} ({type(self).__name__}) needs {want} sources, "
                             f"got {len(sources)}")
        self.name, self.sources = name, list(sources)
        try:
            shape = tuple(int(n) for n in self.infer_shape([tuple(s) for s in input_shapes]))
        except ValueError:
            self.name, self.sources = None, []
            raise
        self.input_shapes, self.shape = [tuple(s) for s in input_shapes], shape
        return shape

    def error(self, message):
        """A ValueError whose message names the layer."""
        return ValueError(f"layer {self.name!r} ({type(self).__name__}): {message}")

    def image(self, shape):
        """*shape* if it is an image ``(C, H, W)``; ValueError naming the layer otherwise."""
        if len(shape) != 3:
            raise self.error(f"needs an image input (C, H, W), got shape {shape}")
        return shape

    # the interface each layer type fills in
    def infer_shape(self, input_shapes):
        """The output shape for the sources' *input_shapes*; ValueError naming the layer."""
        raise NotImplementedError(f"{type(self).__name__} does not define infer_shape")

    def forward(self, inputs, ops=layer_ops):
        """The layer's output.

        Parameters
        ----------
        inputs : list of ndarray
            One ``(batch, *shape)`` array per source.
        ops : module or object
            The backend whose array operations it calls: :mod:`symdtd.network.layer_ops`
            (NumPy arrays) or a :class:`~symdtd.compiler.layer_torch.TorchOps` (tensors).

        Returns
        -------
        ndarray
            Shape ``(batch, *self.shape)``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def linear(self, source, F, g=identity, gamma=None, ops=layer_ops):
        """``T_{g(W)} F``: source *source*'s part of the linear map, each weight ``w`` replaced by ``g(w, gamma)``.

        Parameters
        ----------
        source : int
            Which source (its position in :attr:`sources`).
        F : ndarray
            Shape ``(batch, *source_shape)``.
        g : callable
            ``g(w, gamma)``, elementwise on weight arrays (a rule term's ``g_fn``).
        gamma : float, optional
        ops : module or object
            As for :meth:`forward`.

        Returns
        -------
        ndarray
            Shape ``(batch, *self.shape)``, without the bias (read only: it
            may be *F* itself).
        """
        raise TypeError(f"layer {self.name!r} ({type(self).__name__}) has no linear map")

    def linear_t(self, source, S, g=identity, gamma=None, ops=layer_ops):
        """``Tᵀ_{g(W)} S``: the transpose (adjoint) of :meth:`linear`.

        Parameters are as for :meth:`linear`, with ``S`` of shape
        ``(batch, *self.shape)``; returns a new array ``(batch, *source_shape)``
        (never *S* itself or a view of it: the pass multiplies it in place).
        """
        raise TypeError(f"layer {self.name!r} ({type(self).__name__}) has no linear map")

    def modified_weight(self, g, gamma, dtype):
        """``g(weight, gamma)`` as a C-ordered array of *dtype* and the weight's shape, kept for reuse.

        A layer's weights do not change once it is built, so each modified
        weight array (``w⁺``, ``w⁻``, the weights in float32, …) is computed once
        per ``(g, gamma, dtype)`` and kept on the layer (``modified_weights``):
        repeated explain calls then run only the linear maps, and a torch
        backend shares the array's memory instead of copying it. In float32,
        ``g`` is applied to the float32 weights (as a float32 model modifies its
        own parameters): no float64 temporary the size of the weights is made,
        which on VGG-16 is 1.1 GB per term.
        """
        dtype = layer_ops.float_dtype(dtype)
        key = (g, gamma, dtype.name)
        cache = self.__dict__.setdefault("modified_weights", {})
        if key not in cache:
            if g is identity or dtype == self.weight.dtype:
                base = self.weight
            else:
                base = self.modified_weight(identity, None, dtype)
            w = np.asarray(g(base, gamma), dtype=dtype)
            if w.shape != self.weight.shape:
                w = np.broadcast_to(w, self.weight.shape)
            cache[key] = np.require(w, dtype, ["C", "W"])
        return cache[key]

    def modified_scale(self, g, gamma, dtype):
        """``g(c, gamma)`` of a pooling layer's window weights ``c``: a float, or an array of *dtype* kept for reuse."""
        dtype = layer_ops.float_dtype(dtype)
        cache = self.__dict__.setdefault("modified_scales", {})
        key = (g, gamma, dtype.name)
        if key not in cache:
            c = np.asarray(g(self.window_weight(), gamma), dtype)
            cache[key] = float(c) if c.ndim == 0 else c
        return cache[key]

    def scaled(self, scale, a, ops):
        """*a* times a :meth:`modified_scale` (a float or a constant array) on the backend *ops*."""
        if isinstance(scale, float):
            return a * scale
        return ops.constant(scale, a.dtype) * a

    def shaped_bias(self):
        """The bias shaped to broadcast over one sample, ``(C, 1, 1)`` or ``(n,)``, kept for reuse."""
        cache = self.__dict__
        if "bias_shaped" not in cache:
            cache["bias_shaped"] = self.bias.reshape((-1,) + (1,) * (len(self.shape) - 1))
        return cache["bias_shaped"]

    def expression(self):
        """``Eq(out[indices], value)``: the generic neuron in index notation (``sympy.Eq``)."""
        raise NotImplementedError(f"{type(self).__name__} does not define expression")

    def connections(self, out):
        """Neuron-level edges into the neurons at flat output indices *out*.

        Parameters
        ----------
        out : ndarray of int
            Flat indices into :attr:`shape`.

        Returns
        -------
        list of (ndarray, ndarray, ndarray)
            One per source: each edge's position in *out*, its source's flat
            index and its weight, in each neuron's input order.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define connections")

    @property
    def fan_in(self):
        """The most inputs one of its neurons has (bounds the rounding of a denominator)."""
        return len(self.sources)

    def index_symbols(self):
        """The generic output indices of :meth:`expression`."""
        names = ("c", "u", "v") if len(self.shape) == 3 else ("j",)
        return [sp.Idx(n, d) for n, d in zip(names, self.shape)]

    def activate(self, z, ops=layer_ops):
        """``max(0, z)`` for a ReLU layer, ``z`` otherwise (on the backend *ops*)."""
        return ops.relu(z) if getattr(self, "activation", "linear") == "relu" else z

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r}, shape={self.shape})"


def check_activation(activation):
    """*activation* if it is ``"relu"`` or ``"linear"``; ValueError otherwise."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    return activation


def with_activation(value, activation):
    """``Max(0, value)`` for a ReLU layer, *value* for a linear one."""
    return sp.Max(0, value) if activation == "relu" else value
