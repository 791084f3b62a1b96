"""Layer nodes: a group of neurons with a shape, its parameters as arrays, one generic expression.

A layer node stands for many neurons that compute the same thing at
different indices. It carries

* its parameters as float64 arrays (PyTorch's layouts: ``Dense.weight`` is
  ``(n_out, n_in)`` like ``torch.nn.Linear``, ``Conv2d.weight`` is
  ``(C_out, C_in / groups, kh, kw)``);
* :meth:`Layer.expression`: **one SymPy equation for a generic neuron** in
  index notation (:class:`sympy.IndexedBase`), printable, e.g. for a
  convolution ``conv1[c, u, v] = Max(0, b[c] + Sum(w[c, c', p, q]·x[c', u + p, v + q], …))``;
  a source index outside the source's shape reads 0 (zero padding);
* a NumPy :meth:`Layer.forward` and, for the layers with a linear map
  ``T``, :meth:`Layer.linear` (``T`` with its weights passed through a
  function ``g``, as the separable rules need) and :meth:`Layer.linear_t`
  (the transposed map ``Tᵀ``; for a convolution the transposed convolution);
* :meth:`Layer.connections`: the neuron-level edges of some of its neurons,
  used by :meth:`~symdtd.network.layer_graph.LayerNetwork.neurons`.

**ReLU is a flag**, ``activation="relu"`` (default) or ``"linear"``, on the
layers with an affine map (:class:`Dense`, :class:`Conv2d`,
:class:`~symdtd.network.join_layers.Add`), not
a separate node: a deep Taylor rule belongs to a neuron ``max(0, Σ x w + b)``
as a whole, exactly like the neuron kinds ``relu``/``linear`` of
:class:`~symdtd.network.graph.Network`, so each layer maps onto one neuron kind.
Pooling layers are in :mod:`symdtd.network.pool_layers`, residual addition,
concatenation and flattening in :mod:`symdtd.network.join_layers`. Layers get their name
and shapes when added to a :class:`~symdtd.network.layer_graph.LayerNetwork`.

Examples
--------
>>> import numpy as np
>>> conv = Conv2d(np.ones((2, 1, 3, 3)), bias=[0.0, -1.0], padding=1)
>>> conv.bind("conv1", ["x"], [(1, 4, 4)])
(2, 4, 4)
>>> conv.expression()
Eq(conv1[c, u, v], Max(0, b[c] + Sum(w[c, c', p, q]*x[c', p + u - 1, q + v - 1], (c', 0, 0), (p, 0, 2), (q, 0, 2))))
>>> conv.forward([np.ones((1, 1, 4, 4))])[0, 1]
array([[3., 5., 5., 3.],
       [5., 8., 8., 5.],
       [5., 8., 8., 5.],
       [3., 5., 5., 3.]])
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import layer_ops
from .layer_ops import output_size, pair

__all__ = ["Layer", "Dense", "Conv2d", "fold_batchnorm", "ACTIVATIONS", "as_array", "identity",
           "check_activation", "with_activation"]

ACTIVATIONS = ("relu", "linear")


def as_array(value, what, shape=None):
    """*value* as a finite float64 array (of *shape* if given); ValueError naming *what*."""
    arr = np.array(value, dtype=np.float64)
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{what} must have shape {tuple(shape)}, got {arr.shape}")
    if not np.isfinite(arr).all():
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
            What runs dense and convolution maps: :mod:`symdtd.network.layer_ops`
            or a :class:`~symdtd.compiler.layer_torch.TorchOps`.

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
            Shape ``(batch, *self.shape)``, without the bias.
        """
        raise TypeError(f"layer {self.name!r} ({type(self).__name__}) has no linear map")

    def linear_t(self, source, S, g=identity, gamma=None, ops=layer_ops):
        """``Tᵀ_{g(W)} S``: the transpose (adjoint) of :meth:`linear`.

        Parameters are as for :meth:`linear`, with ``S`` of shape
        ``(batch, *self.shape)``; returns ``(batch, *source_shape)``.
        """
        raise TypeError(f"layer {self.name!r} ({type(self).__name__}) has no linear map")

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

    def activate(self, z):
        """``max(0, z)`` for a ReLU layer, ``z`` otherwise."""
        return np.maximum(z, 0) if getattr(self, "activation", "linear") == "relu" else z

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


class Dense(Layer):
    """A fully connected layer ``y[j] = act(Σ_i w[j, i]·x[i] + b[j])`` on a flat input.

    Parameters
    ----------
    weight : array-like, shape (n_out, n_in)
        ``torch.nn.Linear``'s layout.
    bias : array-like, shape (n_out,), optional
    activation : {"relu", "linear"}
    rule : str, optional
    """

    def __init__(self, weight, bias=None, *, activation="relu", rule=None):
        super().__init__(rule)
        self.weight = as_array(weight, "Dense weight")
        if self.weight.ndim != 2:
            raise ValueError(f"Dense weight must be 2-D (n_out, n_in), got shape {self.weight.shape}")
        n_out = self.weight.shape[0]
        self.bias = np.zeros(n_out) if bias is None else as_array(bias, "Dense bias", (n_out,))
        self.activation = check_activation(activation)
        self.neuron_kind = activation

    def infer_shape(self, input_shapes):
        (shape,) = input_shapes
        if len(shape) != 1:
            raise self.error(f"needs a flat input (add a Flatten layer), got shape {shape}")
        if shape[0] != self.weight.shape[1]:
            raise self.error(f"weight has {self.weight.shape[1]} inputs, the source has {shape[0]}")
        return (self.weight.shape[0],)

    def forward(self, inputs, ops=layer_ops):
        return self.activate(self.linear(0, inputs[0], ops=ops) + self.bias)

    def linear(self, source, F, g=identity, gamma=None, ops=layer_ops):
        """``T_{g(W)} F``: the linear map with weights ``g(W)`` (no bias)."""
        return ops.dense(F, np.asarray(g(self.weight, gamma), float))

    def linear_t(self, source, S, g=identity, gamma=None, ops=layer_ops):
        """``Tᵀ_{g(W)} S``: the transposed map."""
        return ops.dense_t(S, np.asarray(g(self.weight, gamma), float))

    def expression(self):
        (j,) = self.index_symbols()
        i = sp.Idx("i", self.input_shapes[0][0])
        w, b, x = sp.IndexedBase("w"), sp.IndexedBase("b"), sp.IndexedBase(self.sources[0])
        z = sp.Sum(w[j, i] * x[i], (i, 0, self.input_shapes[0][0] - 1)) + b[j]
        return sp.Eq(sp.IndexedBase(self.name)[j], with_activation(z, self.activation))

    def parameters(self):
        """``{"w": weight, "b": bias}``: the arrays the expression's ``w`` and ``b`` index."""
        return {"w": self.weight, "b": self.bias}

    @property
    def fan_in(self):
        return self.weight.shape[1]

    def connections(self, out):
        n_in = self.input_shapes[0][0]
        dst = np.repeat(np.arange(len(out)), n_in)
        src = np.tile(np.arange(n_in), len(out))
        return [(dst, src, self.weight[out].ravel())]


class Conv2d(Layer):
    """A 2-D convolution (cross-correlation, as PyTorch) with zero padding.

    ``y[c, u, v] = act(b[c] + Σ_{c', p, q} w[c, c', p, q]·x[g(c)·C_in/G + c', u·s + p·d − pad, …])``
    with ``g(c)`` the group of output channel ``c``.

    Parameters
    ----------
    weight : array-like, shape (C_out, C_in / groups, kh, kw)
    bias : array-like, shape (C_out,), optional
    stride, padding, dilation : int or pair
    groups : int
    activation : {"relu", "linear"}
    rule : str, optional
    """

    def __init__(self, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1,
                 activation="relu", rule=None):
        super().__init__(rule)
        self.weight = as_array(weight, "Conv2d weight")
        if self.weight.ndim != 4:
            raise ValueError(f"Conv2d weight must be 4-D (C_out, C_in/groups, kh, kw), "
                             f"got shape {self.weight.shape}")
        C_out = self.weight.shape[0]
        self.bias = np.zeros(C_out) if bias is None else as_array(bias, "Conv2d bias", (C_out,))
        self.stride, self.padding = pair(stride, "stride", 1), pair(padding, "padding")
        self.dilation = pair(dilation, "dilation", 1)
        if not isinstance(groups, (int, np.integer)) or groups < 1 or C_out % groups:
            raise ValueError(f"groups must be a positive int dividing C_out={C_out}, got {groups!r}")
        self.groups = int(groups)
        self.activation = check_activation(activation)
        self.neuron_kind = activation

    def options(self):
        """``stride``, ``padding``, ``dilation``, ``groups`` as keywords."""
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                    groups=self.groups)

    def infer_shape(self, input_shapes):
        C, H, W = self.image(input_shapes[0])
        C_out, Cg, kh, kw = self.weight.shape
        if Cg * self.groups != C:
            raise self.error(f"weight expects {Cg * self.groups} input channels "
                             f"({Cg} × {self.groups} groups), the source has {C}")
        Ho = output_size(H, kh, self.stride[0], self.padding[0], self.dilation[0])
        Wo = output_size(W, kw, self.stride[1], self.padding[1], self.dilation[1])
        if Ho < 1 or Wo < 1:
            raise self.error(f"a {kh}×{kw} kernel does not fit the {H}×{W} input")
        return C_out, Ho, Wo

    def forward(self, inputs, ops=layer_ops):
        return self.activate(self.linear(0, inputs[0], ops=ops) + self.bias[:, None, None])

    def linear(self, source, F, g=identity, gamma=None, ops=layer_ops):
        """``T_{g(W)} F``: the convolution with kernel ``g(W)`` (no bias)."""
        w = np.broadcast_to(np.asarray(g(self.weight, gamma), float), self.weight.shape)
        return ops.conv2d(F, w, **self.options())

    def linear_t(self, source, S, g=identity, gamma=None, ops=layer_ops):
        """``Tᵀ_{g(W)} S``: the transposed convolution with kernel ``g(W)``."""
        w = np.broadcast_to(np.asarray(g(self.weight, gamma), float), self.weight.shape)
        return ops.conv2d_t(S, w, self.input_shapes[0][1:], **self.options())

    def expression(self):
        c, u, v = self.index_symbols()
        C_out, Cg, kh, kw = self.weight.shape
        k, p, q = sp.Idx("c'", Cg), sp.Idx("p", kh), sp.Idx("q", kw)
        (sh, sw), (ph, pw), (dh, dw) = self.stride, self.padding, self.dilation
        channel = k if self.groups == 1 else sp.floor(c / (C_out // self.groups)) * Cg + k
        w, b, x = sp.IndexedBase("w"), sp.IndexedBase("b"), sp.IndexedBase(self.sources[0])
        term = w[c, k, p, q] * x[channel, u * sh + p * dh - ph, v * sw + q * dw - pw]
        z = sp.Sum(term, (k, 0, Cg - 1), (p, 0, kh - 1), (q, 0, kw - 1)) + b[c]
        return sp.Eq(sp.IndexedBase(self.name)[c, u, v], with_activation(z, self.activation))

    def parameters(self):
        """``{"w": weight, "b": bias}``: the arrays the expression's ``w`` and ``b`` index."""
        return {"w": self.weight, "b": self.bias}

    @property
    def fan_in(self):
        return int(np.prod(self.weight.shape[1:]))

    def connections(self, out):
        C, H, W = self.input_shapes[0]
        C_out, Cg, kh, kw = self.weight.shape
        c, u, v = np.unravel_index(out, self.shape)
        k, p, q = (a.ravel() for a in np.meshgrid(np.arange(Cg), np.arange(kh), np.arange(kw),
                                                  indexing="ij"))
        r = u[:, None] * self.stride[0] + p * self.dilation[0] - self.padding[0]
        s = v[:, None] * self.stride[1] + q * self.dilation[1] - self.padding[1]
        channel = (c // (C_out // self.groups))[:, None] * Cg + k
        inside = (r >= 0) & (r < H) & (s >= 0) & (s < W)  # zero padding adds no edge
        dst = np.broadcast_to(np.arange(len(out))[:, None], inside.shape)[inside]
        src = ((channel * H + r) * W + s)[inside]
        weight = self.weight[c[:, None], k, p, q][inside]
        return [(dst, src, weight)]


def fold_batchnorm(layer, gamma, beta, mean, var, eps=1e-5):
    """A new :class:`Dense` or :class:`Conv2d` with a following BatchNorm folded in.

    ``BN(z) = γ (z − μ) / √(σ² + ε) + β`` per output channel, so the folded
    layer has ``w' = w · s`` and ``b' = (b − μ) · s + β`` with ``s = γ / √(σ² + ε)``.

    Parameters
    ----------
    layer : Dense or Conv2d
        Not yet in a network; its activation is kept (BN sits before the ReLU).
    gamma, beta, mean, var : array-like, shape (C_out,)
    eps : float

    Returns
    -------
    Dense or Conv2d

    Examples
    --------
    >>> d = fold_batchnorm(Dense([[1.0, 2.0]], [1.0]), [2.0], [0.5], [1.0], [3.0], eps=1.0)
    >>> d.weight.tolist(), d.bias.tolist()
    ([[1.0, 2.0]], [0.5])
    """
    if not isinstance(layer, (Dense, Conv2d)):
        raise TypeError(f"fold_batchnorm folds into a Dense or Conv2d layer, got {type(layer).__name__}")
    n = layer.weight.shape[0]
    g, bt, mu, vr = (as_array(a, f"BatchNorm {what}", (n,))
                     for a, what in zip((gamma, beta, mean, var), ("gamma", "beta", "mean", "var")))
    if (vr + eps <= 0).any():
        raise ValueError("BatchNorm var + eps must be positive")
    scale = g / np.sqrt(vr + eps)
    weight = layer.weight * scale.reshape((n,) + (1,) * (layer.weight.ndim - 1))
    bias = (layer.bias - mu) * scale + bt
    if isinstance(layer, Dense):
        return Dense(weight, bias, activation=layer.activation, rule=layer.rule)
    return Conv2d(weight, bias, activation=layer.activation, rule=layer.rule, **layer.options())
