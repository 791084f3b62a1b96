"""Dense and convolution layer nodes, and BatchNorm folding.

A layer node stands for many neurons that compute the same thing at
different indices. It carries

* its parameters as arrays (PyTorch's layouts: ``Dense.weight`` is
  ``(n_out, n_in)`` like ``torch.nn.Linear``, ``Conv2d.weight`` is
  ``(C_out, C_in / groups, kh, kw)``): biases in float64, weights in float64,
  or in float32 when they are given as a float32 array (a float32 model's:
  every float32 number is a float64 number, so nothing is lost, and VGG-16's
  weights take 0.55 GB instead of 1.1 GB; a float64 pass converts them once,
  exactly, and keeps the copy);
* :meth:`~symdtd.network.layer_base.Layer.expression`: **one SymPy equation for a generic neuron** in
  index notation (:class:`sympy.IndexedBase`), printable, e.g. for a
  convolution ``conv1[c, u, v] = Max(0, b[c] + Sum(w[c, c', p, q]·x[c', u + p, v + q], …))``;
  a source index outside the source's shape reads 0 (zero padding);
* a NumPy :meth:`~symdtd.network.layer_base.Layer.forward` and, for the
  layers with a linear map ``T``, :meth:`~symdtd.network.layer_base.Layer.linear`
  (``T`` with its weights passed through a function ``g``, as the separable
  rules need) and :meth:`~symdtd.network.layer_base.Layer.linear_t` (the
  transposed map ``Tᵀ``; for a convolution the transposed convolution);
* :meth:`~symdtd.network.layer_base.Layer.connections`: the neuron-level edges
  of some of its neurons, used by :meth:`~symdtd.network.layer_graph.LayerNetwork.neurons`.

The base class :class:`~symdtd.network.layer_base.Layer` and its helpers are in
:mod:`symdtd.network.layer_base`.

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
from .layer_base import Layer, as_array, check_activation, identity, with_activation
from .layer_ops import output_size, pair

__all__ = ["Dense", "Conv2d", "fold_batchnorm"]

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
        self.weight = as_array(weight, "Dense weight", keep_float32=True)
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
        return self.activate(self.affine(inputs[0], ops), ops)

    def affine(self, F, ops=layer_ops):
        """``W F + b``: the map with its bias, before the activation."""
        return ops.dense(F, self.modified_weight(identity, None, F.dtype), bias=self.bias)

    def linear(self, source, F, g=identity, gamma=None, ops=layer_ops):
        """``T_{g(W)} F``: the linear map with weights ``g(W)`` (no bias)."""
        return ops.dense(F, self.modified_weight(g, gamma, F.dtype))

    def linear_t(self, source, S, g=identity, gamma=None, ops=layer_ops):
        """``Tᵀ_{g(W)} S``: the transposed map."""
        return ops.dense_t(S, self.modified_weight(g, gamma, S.dtype))

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
        self.weight = as_array(weight, "Conv2d weight", keep_float32=True)
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
        return self.activate(self.affine(inputs[0], ops), ops)

    def affine(self, F, ops=layer_ops):
        """``W * F + b``: the convolution with its bias, before the activation."""
        return ops.conv2d(F, self.modified_weight(identity, None, F.dtype), bias=self.bias, **self.options())

    def linear(self, source, F, g=identity, gamma=None, ops=layer_ops):
        """``T_{g(W)} F``: the convolution with kernel ``g(W)`` (no bias)."""
        return ops.conv2d(F, self.modified_weight(g, gamma, F.dtype), **self.options())

    def linear_t(self, source, S, g=identity, gamma=None, ops=layer_ops):
        """``Tᵀ_{g(W)} S``: the transposed convolution with kernel ``g(W)``."""
        return ops.conv2d_t(S, self.modified_weight(g, gamma, S.dtype), self.input_shapes[0][1:],
                            **self.options())

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
