"""Layer nodes that join or rearrange others: residual addition, channel concatenation, flatten.

Layer nodes as in :mod:`symdtd.network.layers`. :class:`Add` is a layer of
``relu_sum`` (or ``linear_sum``) neurons, :class:`~symdtd.network.kinds.ReLUSum`,
with weight 1 on each source and bias 0, so
its map ``T`` is the sum of its sources and ``T_{g}`` scales each by ``g(1)``.
:class:`Concat` and :class:`Flatten` are *views*: they make no neurons of
their own (their neurons are their sources'), and relevance passes through
them unchanged.

Examples
--------
>>> import numpy as np
>>> add = Add()
>>> add.bind("res", ["a", "b"], [(2, 3, 3), (2, 3, 3)])
(2, 3, 3)
>>> add.expression()
Eq(res[c, u, v], Max(0, a[c, u, v] + b[c, u, v]))
>>> cat = Concat()
>>> cat.bind("cat", ["a", "b"], [(2, 3, 3), (1, 3, 3)])
(3, 3, 3)
>>> cat.view(np.array([0, 17, 18, 26]))
(array([0, 0, 1, 1]), array([ 0, 17,  0,  8]))
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from . import layer_ops
from .layer_base import Layer, check_activation, identity, with_activation

__all__ = ["Add", "Concat", "Flatten"]


class Add(Layer):
    """Residual addition ``y[i] = act(a[i] + b[i] + …)`` of sources of one shape.

    Its neurons are ``relu_sum`` (or ``linear_sum``) neurons with weight 1
    on each source and bias 0; the paper's default gives them the z rule.
    """

    n_sources = None

    def __init__(self, *, activation="relu", rule=None):
        super().__init__(rule)
        self.activation = check_activation(activation)
        self.neuron_kind = f"{activation}_sum"  # unit-weight sum kinds: the default's z rule

    def infer_shape(self, input_shapes):
        for shape, source in zip(input_shapes[1:], self.sources[1:]):
            if shape != input_shapes[0]:
                what = "channel count" if len(shape) == len(input_shapes[0]) == 3 and \
                    shape[1:] == input_shapes[0][1:] else "shape"
                raise self.error(f"{what} mismatch: {self.sources[0]!r} has shape "
                                 f"{input_shapes[0]}, {source!r} has {shape}")
        return input_shapes[0]

    def forward(self, inputs, ops=layer_ops):
        return self.activate(sum(inputs[1:], inputs[0]), ops)

    def linear(self, source, F, g=identity, gamma=None, ops=layer_ops):
        """Source *source*'s share of the sum, weight ``g(1)`` (*F* itself when that is 1)."""
        weight = float(g(1.0, gamma))
        return F if weight == 1.0 else F * weight

    def linear_t(self, source, S, g=identity, gamma=None, ops=layer_ops):
        """``g(1) · S``, a new array."""
        return S * float(g(1.0, gamma))

    def expression(self):
        idx = self.index_symbols()
        value = sp.Add(*[sp.IndexedBase(s)[tuple(idx)] for s in self.sources])
        return sp.Eq(sp.IndexedBase(self.name)[tuple(idx)], with_activation(value, self.activation))

    def connections(self, out):
        return [(np.arange(len(out)), np.asarray(out), np.ones(len(out))) for _ in self.sources]


class Concat(Layer):
    """Channel concatenation of images with the same ``H×W`` (or of flat vectors).

    A view: its neurons are its sources' neurons, in order.
    """

    n_sources = None

    def infer_shape(self, input_shapes):
        first = input_shapes[0]
        for shape in input_shapes[1:]:
            if len(shape) != len(first) or shape[1:] != first[1:]:
                raise self.error(f"sources must agree on all but the channel axis: "
                                 f"{first} and {shape}")
        return (sum(s[0] for s in input_shapes),) + first[1:]

    def forward(self, inputs, ops=layer_ops):
        return ops.cat(inputs)

    def expression(self):
        idx = self.index_symbols()
        pieces, offset = [], 0
        for source, shape in zip(self.sources, self.input_shapes):
            at = (idx[0] - offset,) + tuple(idx[1:])
            pieces.append((sp.IndexedBase(source)[at], idx[0] < offset + shape[0]))
            offset += shape[0]
        pieces[-1] = (pieces[-1][0], True)
        return sp.Eq(sp.IndexedBase(self.name)[tuple(idx)], sp.Piecewise(*pieces))

    def view(self, out):
        """``(source number, source flat index)`` of the neurons at flat indices *out*."""
        # channel-major flat order: each source's channels are one contiguous block
        sizes = [int(np.prod(s)) for s in self.input_shapes]
        starts = np.cumsum([0] + sizes)
        which = np.searchsorted(starts, out, side="right") - 1
        return which, np.asarray(out) - starts[which]

    def split(self, R, ops=layer_ops):
        """Relevance of the concatenation split back onto its sources (on the backend *ops*)."""
        return ops.split(R, [s[0] for s in self.input_shapes])


class Flatten(Layer):
    """Read an image in ``(channel, row, column)`` order (``torch.nn.Flatten``). A view."""

    def infer_shape(self, input_shapes):
        return (int(np.prod(input_shapes[0])),)

    def forward(self, inputs, ops=layer_ops):
        return inputs[0].reshape(len(inputs[0]), -1)

    def expression(self):
        (k,) = self.index_symbols()
        shape = self.input_shapes[0]
        strides = np.cumprod((1,) + shape[::-1])[:-1][::-1]
        at = tuple(sp.floor(k / int(st)) % n if i else sp.floor(k / int(st))
                   for i, (st, n) in enumerate(zip(strides, shape)))
        return sp.Eq(sp.IndexedBase(self.name)[k], sp.IndexedBase(self.sources[0])[at])

    def view(self, out):
        return np.zeros(len(out), dtype=np.int64), np.asarray(out)
