"""Pooling layer nodes: sum, average, max and adaptive average pooling over 2-D windows.

Layer nodes as in :mod:`symdtd.network.layers`. Sum, average and adaptive
average pooling are linear maps with one weight per output neuron (1,
``1/divisor``, ``1/window size``) on a 0/1 window map, so their modified map
is ``T_{g(c)} F = g(c) ⊙ Σ_window F``. Their neurons at neuron level:

============================  ======================================================
layer                         neurons (kinds of :class:`~symdtd.network.graph.Network`)
============================  ======================================================
:class:`SumPool2d`            ``sumpool``: ``x = Σ x_i``
:class:`AvgPool2d`            ``relu`` with weights ``1/divisor`` and bias 0 (inputs
                              ≥ 0, so ``max(0, ·)`` is the identity), as
                              ``ConvNetBuilder`` builds it
:class:`AdaptiveAvgPool2d`    ``relu`` with weights ``1/window size``, bias 0
:class:`MaxPool2d`            ``maxpool`` (winner-take-all or proportional)
============================  ======================================================

Pooling needs inputs ≥ 0 (:class:`~symdtd.network.layer_graph.LayerNetwork`
checks it). Zero padding adds no edge; for max-pooling padded cells never win.

Examples
--------
>>> import numpy as np
>>> pool = MaxPool2d(2)
>>> pool.bind("pool1", ["h"], [(1, 4, 4)])
(1, 2, 2)
>>> pool.expression()
Eq(pool1[c, u, v], max(h[c, p + 2*u, q + 2*v], (p, 0, 1), (q, 0, 1)))
>>> pool.forward([np.arange(16.0).reshape(1, 1, 4, 4)])[0, 0]
array([[ 5.,  7.],
       [13., 15.]])
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import layer_ops
from .layer_base import Layer, identity
from .layer_ops import adaptive_matrix, output_size, pair, window_sum

__all__ = ["WindowPool", "SumPool2d", "AvgPool2d", "MaxPool2d", "AdaptiveAvgPool2d", "WINDOW_MAX"]

#: the unevaluated ``max(value, (p, 0, kh − 1), (q, 0, kw − 1))`` of max-pooling expressions
WINDOW_MAX = sp.Function("max")


class WindowPool(Layer):
    """Pooling over ``kernel_size`` windows moved by ``stride`` (default: the kernel size).

    Parameters
    ----------
    kernel_size, stride, padding : int or pair
        Padding at most half the kernel (as PyTorch).
    ceil_mode : bool
        PyTorch's ``ceil_mode``: a last, partial window at the bottom and
        right where the windows do not cover the padded input.
    """

    def __init__(self, kernel_size, stride=None, padding=0, *, ceil_mode=False, rule=None):
        super().__init__(rule)
        self.ceil_mode = bool(ceil_mode)
        self.kernel = pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel if stride is None else pair(stride, "stride", 1)
        self.padding = pair(padding, "padding")
        if self.padding[0] > self.kernel[0] // 2 or self.padding[1] > self.kernel[1] // 2:
            raise ValueError(f"padding must be at most half the kernel, got {padding!r}")

    def infer_shape(self, input_shapes):
        C, H, W = self.image(input_shapes[0])
        Ho = output_size(H, self.kernel[0], self.stride[0], self.padding[0], ceil_mode=self.ceil_mode)
        Wo = output_size(W, self.kernel[1], self.stride[1], self.padding[1], ceil_mode=self.ceil_mode)
        if Ho < 1 or Wo < 1:
            raise self.error(f"a {self.kernel[0]}×{self.kernel[1]} window does not fit the "
                             f"{H}×{W} input")
        return C, Ho, Wo

    @property
    def fan_in(self):
        return self.kernel[0] * self.kernel[1]

    def window_weight(self):
        """The weight of every edge into a neuron, broadcastable to the output shape."""
        return 1.0

    def linear(self, source, F, g=identity, gamma=None, ops=layer_ops):
        """``g(c) ⊙ Σ_window F``: the window sum with modified weights."""
        return self.scaled(self.modified_scale(g, gamma, F.dtype), ops.window_sum(
            F, self.kernel, self.stride, self.padding, self.ceil_mode), ops)

    def linear_t(self, source, S, g=identity, gamma=None, ops=layer_ops):
        """The transposed map: ``g(c) ⊙ S`` added back onto each window's cells."""
        scaled = self.scaled(self.modified_scale(g, gamma, S.dtype), S, ops)
        return ops.window_sum_t(scaled, self.input_shapes[0][1:], self.kernel, self.stride,
                                self.padding, self.ceil_mode)

    def forward(self, inputs, ops=layer_ops):
        return self.linear(0, inputs[0], ops=ops)

    def window_term(self):
        """``(x[c, u·s + p − pad, v·s + q − pad], p, q)`` of the generic neuron."""
        c, u, v = self.index_symbols()
        p, q = sp.Idx("p", self.kernel[0]), sp.Idx("q", self.kernel[1])
        x = sp.IndexedBase(self.sources[0])
        at = (c, u * self.stride[0] + p - self.padding[0], v * self.stride[1] + q - self.padding[1])
        return x[at], (p, 0, self.kernel[0] - 1), (q, 0, self.kernel[1] - 1)

    def expression(self):
        term, *limits = self.window_term()
        value = sp.Sum(term, *limits) * self.window_weight()
        return sp.Eq(sp.IndexedBase(self.name)[tuple(self.index_symbols())], value)

    def connections(self, out):
        C, H, W = self.input_shapes[0]
        c, u, v = np.unravel_index(out, self.shape)
        p, q = (a.ravel() for a in np.meshgrid(np.arange(self.kernel[0]),
                                               np.arange(self.kernel[1]), indexing="ij"))
        r = u[:, None] * self.stride[0] - self.padding[0] + p
        s = v[:, None] * self.stride[1] - self.padding[1] + q
        inside = (r >= 0) & (r < H) & (s >= 0) & (s < W)
        dst = np.broadcast_to(np.arange(len(out))[:, None], inside.shape)[inside]
        src = ((c[:, None] * H + r) * W + s)[inside]
        weight = np.broadcast_to(np.asarray(self.window_weight(), float),
                                 self.shape).ravel()[out]
        return [(dst, src, weight[dst])]


class SumPool2d(WindowPool):
    """Sum-pooling ``y[c, u, v] = Σ_{p, q} x[c, u·s + p, v·s + q]``."""

    neuron_kind = "sumpool"


class AvgPool2d(WindowPool):
    """Average pooling, as PyTorch's ``AvgPool2d``.

    The divisor is *divisor* when given (``divisor_override``); else, with
    ``count_include_pad=True``, the window's cells inside the padded input
    (``kh·kw`` but for ``ceil_mode``'s partial windows), with
    ``count_include_pad=False`` its cells inside the input. So the weight
    ``1/n[u, v]`` may depend on the position.
    """

    neuron_kind = "relu"

    def __init__(self, kernel_size, stride=None, padding=0, *, divisor=None, count_include_pad=True,
                 ceil_mode=False, rule=None):
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode, rule=rule)
        self.divisor, self.count_include_pad = divisor, bool(count_include_pad)
        if divisor is not None and not divisor > 0:
            raise ValueError(f"divisor must be positive, got {divisor!r}")

    def divisors(self):
        """The divisor of each output position: a number, or an ``(Ho, Wo)`` array."""
        if self.divisor is not None:
            return self.divisor
        kh, kw = self.kernel
        if self.count_include_pad and not self.ceil_mode:
            return kh * kw
        H, W = self.input_shapes[0][1:]
        if self.count_include_pad:   # cells inside the padded input
            rows, cols = (np.minimum(np.arange(n) * s - p + k, size + p) - (np.arange(n) * s - p)
                          for n, s, p, k, size in zip(self.shape[1:], self.stride, self.padding,
                                                      self.kernel, (H, W)))
            counts = np.outer(rows, cols).astype(float)
        else:
            ones = np.ones((1, 1, H, W))
            counts = window_sum(ones, self.kernel, self.stride, self.padding, self.ceil_mode)[0, 0]
        return kh * kw if (counts == kh * kw).all() else counts

    def window_weight(self):
        divisor = self.divisors()
        return 1.0 / np.asarray(divisor, float) if np.ndim(divisor) else 1.0 / divisor

    def parameters(self):
        """``{"n": divisors}`` when the divisor depends on the position (else empty)."""
        return {"n": self.divisors()} if np.ndim(self.divisors()) else {}

    def expression(self):
        term, *limits = self.window_term()
        divisor = self.divisors()
        if np.ndim(divisor):
            divisor = sp.IndexedBase("n")[tuple(self.index_symbols()[1:])]
        value = sp.Sum(term, *limits) / divisor
        return sp.Eq(sp.IndexedBase(self.name)[tuple(self.index_symbols())], value)


class MaxPool2d(WindowPool):
    """Max-pooling ``y[c, u, v] = max_{p, q} x[c, u·s + p, v·s + q]``.

    *rule* ``"winner"`` or ``"proportional"`` (default: the network's ``maxpool``).
    """

    neuron_kind = "maxpool"

    def forward(self, inputs, ops=layer_ops):
        return self.argmax(inputs[0], ops)[0]

    def winners(self, x):
        """The flat index (in one ``H×W`` plane) of each window's first maximum."""
        return self.argmax(x)[1]

    def argmax(self, x, ops=layer_ops):
        """``(maxima, winners)``: each window's maximum and the flat index of its first maximiser."""
        return ops.window_argmax(x, self.kernel, self.stride, self.padding, self.ceil_mode)

    def expression(self):
        term, *limits = self.window_term()
        return sp.Eq(sp.IndexedBase(self.name)[tuple(self.index_symbols())],
                     WINDOW_MAX(term, *(sp.Tuple(*lim) for lim in limits)))


class AdaptiveAvgPool2d(Layer):
    """Adaptive average pooling to ``output_size`` (PyTorch's windows).

    Window ``u`` covers rows ``⌊u·H/Ho⌋ ≤ r < ⌈(u+1)·H/Ho⌉`` (columns likewise);
    each neuron is the mean of its window.
    """

    neuron_kind = "relu"

    def __init__(self, output_size, *, rule=None):
        super().__init__(rule)
        self.output_hw = pair(output_size, "output_size", 1)

    def infer_shape(self, input_shapes):
        C, H, W = self.image(input_shapes[0])
        Ho, Wo = self.output_hw
        if Ho > H or Wo > W:
            raise self.error(f"output size {Ho}×{Wo} exceeds the {H}×{W} input")
        return C, Ho, Wo

    def matrices(self):
        """The 0/1 window matrices ``(Ho, H)`` and ``(Wo, W)`` (made once)."""
        if "window_matrices" not in self.__dict__:
            _, H, W = self.input_shapes[0]
            self.window_matrices = adaptive_matrix(H, self.output_hw[0]), adaptive_matrix(W, self.output_hw[1])
        return self.window_matrices

    @property
    def fan_in(self):
        Ah, Aw = self.matrices()
        return int(Ah.sum(axis=1).max() * Aw.sum(axis=1).max())

    def window_weight(self):
        Ah, Aw = self.matrices()
        return 1.0 / np.outer(Ah.sum(axis=1), Aw.sum(axis=1))

    def linear(self, source, F, g=identity, gamma=None, ops=layer_ops):
        return self.scaled(self.modified_scale(g, gamma, F.dtype), ops.adaptive_sum(F, *self.matrices()), ops)

    def linear_t(self, source, S, g=identity, gamma=None, ops=layer_ops):
        scaled = self.scaled(self.modified_scale(g, gamma, S.dtype), S, ops)
        return ops.adaptive_sum_t(scaled, *self.matrices())

    def forward(self, inputs, ops=layer_ops):
        return self.linear(0, inputs[0], ops=ops)

    def expression(self):
        c, u, v = self.index_symbols()
        (_, H, W), (Ho, Wo) = self.input_shapes[0], self.output_hw
        r, s = sp.Idx("r", H), sp.Idx("s", W)
        r0, r1 = sp.floor(u * H / Ho), sp.ceiling((u + 1) * H / Ho)
        s0, s1 = sp.floor(v * W / Wo), sp.ceiling((v + 1) * W / Wo)
        total = sp.Sum(sp.IndexedBase(self.sources[0])[c, r, s], (r, r0, r1 - 1), (s, s0, s1 - 1))
        return sp.Eq(sp.IndexedBase(self.name)[c, u, v], total / ((r1 - r0) * (s1 - s0)))

    def connections(self, out):
        C, H, W = self.input_shapes[0]
        Ah, Aw = self.matrices()
        c, u, v = np.unravel_index(out, self.shape)
        cells = Ah[u][:, :, None] * Aw[v][:, None, :]          # (len(out), H, W), one window each
        dst, r, s = np.nonzero(cells)
        src = (c[dst] * H + r) * W + s
        return [(dst, src, self.window_weight()[u[dst], v[dst]])]
