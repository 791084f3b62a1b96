"""The fx nodes of :func:`~symdtd.real.fx_import.layers_from_torch` that only pass a tensor on or describe its shape.

:class:`FxShapes` is the part of the importer's walk over a traced graph
that handles the identity-like operations (``Identity``, dropout in eval
mode), flattening and reshaping (a :class:`~symdtd.network.join_layers.Flatten`
view where the layout changes) and the size queries (``x.size()``,
``x.shape``, indexing them), which give numbers, not layers.

Examples
--------
>>> import pytest
>>> torch = pytest.importorskip("torch")
>>> from symdtd.real.fx_import import layers_from_torch
>>> class Net(torch.nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.fc = torch.nn.Linear(4, 2)
...     def forward(self, x):
...         return self.fc(torch.nn.functional.dropout(x.reshape(x.size(0), -1), training=False))
>>> layers_from_torch(Net().eval(), (1, 2, 2)).order()
['x', 'reshape', 'fc']
"""
from __future__ import annotations

import numpy as np

from ..network.join_layers import Flatten
from .fx_graph import BATCH

__all__ = ["FxShapes"]


class FxShapes:
    """The importer's handlers of identities, flattening, reshaping and size queries.

    A mixin of the importer's reader (:mod:`symdtd.real.fx_import`), which
    gives ``env`` (fx node -> layer name or value), ``tensor``, ``value``,
    ``shape``, ``add``, ``where`` and ``unsupported``.
    """

    def on_identity(self, node, args):
        self.env[node] = self.tensor(args["input"], node)

    def on_dropout(self, node, args):
        if args["training"] is not False:
            raise self.unsupported(node, "F.dropout with training=True drops at random even in eval "
                                         "mode; pass training=self.training")
        self.on_identity(node, args)

    def on_flatten(self, node, args):
        src = self.tensor(args["input"], node)
        ndim = len(self.shape(src)) + 1
        start, end = args["start_dim"] % ndim, args["end_dim"] % ndim
        if start == end:
            self.env[node] = src
        elif (start, end) == (1, ndim - 1):
            self.env[node] = self.add(node, Flatten(), [src])
        else:
            raise self.unsupported(node, f"flattening dims {args['start_dim']}..{args['end_dim']} "
                                         "(only everything but the batch axis: start_dim=1)")

    def on_reshape(self, node, args):
        src = self.tensor(args["input"], node)
        dims = args["shape"]
        dims = [self.value(d) for d in (dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list))
                                        else dims)]
        shape, n = self.shape(src), int(np.prod(self.shape(src)))
        rest = dims[1:]
        if not dims or not (dims[0] is BATCH or (dims[0] == -1 and -1 not in rest)) or \
                not all(isinstance(d, int) and (d > 0 or d == -1) for d in rest) or rest.count(-1) > 1:
            raise self.unsupported(node, f"a reshape to {dims} (only (batch, -1) or (-1, n) flattening)")
        known = int(np.prod([d for d in rest if d != -1]))
        target = tuple(n // known if d == -1 else d for d in rest)
        if int(np.prod(target)) != n:
            raise ValueError(f"from_torch: {self.where(node)}: cannot reshape {shape} to {tuple(rest)}")
        if target == shape:
            self.env[node] = src
        elif len(target) == 1:
            self.env[node] = self.add(node, Flatten(), [src])
        else:
            raise self.unsupported(node, f"a reshape of {shape} to {target} (only flattening)")

    def on_size(self, node, args):
        src = self.tensor(args["input"], node)
        full = (BATCH,) + self.shape(src)
        self.env[node] = full if args["dim"] is None else full[args["dim"]]

    def on_getattr(self, node, args):
        value, attr = self.value(args["args"][0]), args["args"][1]
        if not isinstance(value, str) or attr != "shape":
            raise self.unsupported(node, f"reading .{attr} (only .shape)")
        self.env[node] = (BATCH,) + self.shape(value)

    def on_getitem(self, node, args):
        value, index = self.value(args["args"][0]), self.value(args["args"][1])
        if not isinstance(value, tuple):
            raise self.unsupported(node, "indexing or slicing a tensor")
        self.env[node] = value[index]
