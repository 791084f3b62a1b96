"""Dense layers as arrays: :meth:`Network.from_dense` input and the float64 pass.

Two places where a :class:`~symdtd.network.graph.Network` meets NumPy arrays:

* :func:`dense_layers` checks the weight matrices and bias vectors of
  :meth:`Network.from_dense <symdtd.network.graph.Network.from_dense>` and names
  the neurons, before the network is built;
* :func:`numeric_plan` and :func:`forward_pass` run the batched float64
  forward pass of :meth:`Network.forward <symdtd.network.graph.Network.forward>`.

Numeric arrays become nested lists of Python numbers (no per-edge NumPy or
SymPy objects, so 266k edges build in well under a second); object arrays
are checked entry by entry with :func:`~symdtd.network.neurons.as_weight`.

Examples
--------
>>> from symdtd.network.dense import dense_layers
>>> layers = dense_layers([[[1, -1], [2, 1]], [[1], [1]]], [[0, -1], [0]])
>>> layers.names
[['x1', 'x2'], ['h1_1', 'h1_2'], ['y1']]
>>> layers.weights[0], layers.biases[0]
([[1, -1], [2, 1]], [0, -1])
"""
from __future__ import annotations

import math
import sys
from functools import partial
from typing import NamedTuple

import networkx as nx
import numpy as np
import sympy as sp

from ..core.domains import Box, Domain, Positive
from ..core.numbers import real_number
from .kind_registry import kind_named
from .neurons import as_weight

__all__ = ["DenseLayers", "dense_layers", "dense_network", "numeric_plan", "forward_pass"]


class DenseLayers(NamedTuple):
    """Checked layers: node names per layer, input domains, weights, biases."""

    names: list
    domains: list
    weights: list
    biases: list


def dense_layers(weights, biases=None, input_domain=None, *, input_names=None,
                 output_names=None, hidden_prefix="h"):
    """Check the arguments of :meth:`Network.from_dense
    <symdtd.network.graph.Network.from_dense>` (same meaning); ValueError or
    TypeError naming the bad argument.

    Returns
    -------
    DenseLayers
        ``names`` per layer (inputs first), one domain per input, the weight
        matrices as nested lists ``(n_in, n_out)`` and the bias vectors.
    """
    mats = [_matrix(W, f"weights[{k}]") for k, W in enumerate(weights)]
    if not mats:
        raise ValueError("weights: give at least one weight matrix")
    for k in range(1, len(mats)):
        if len(mats[k]) != len(mats[k - 1][0]):
            raise ValueError(f"weights[{k}] has {len(mats[k])} rows but layer {k} "
                             f"has {len(mats[k - 1][0])} neurons")
    sizes = [len(mats[0])] + [len(W[0]) for W in mats]
    biases = [[0] * n for n in sizes[1:]] if biases is None else list(biases)
    if len(biases) != len(mats):
        raise ValueError(f"biases: expected {len(mats)} vectors, got {len(biases)}")
    biases = [_vector(b, sizes[k + 1], f"biases[{k}]") for k, b in enumerate(biases)]
    names = [_names(input_names, sizes[0], "x", "input_names")]
    names += [[f"{hidden_prefix}{k}_{j + 1}" for j in range(n)]
              for k, n in enumerate(sizes[1:-1], start=1)]
    names.append(_names(output_names, sizes[-1], "y", "output_names"))
    flat = [n for layer in names for n in layer]
    if len(set(flat)) != len(flat):
        raise ValueError("from_dense: node names are not unique")
    domains = _split_domain(Positive() if input_domain is None else input_domain, sizes[0])
    return DenseLayers(names, domains, mats, biases)


def _matrix(W, what):
    arr = np.asarray(W)
    if arr.ndim != 2 or 0 in arr.shape:
        raise ValueError(f"{what} must be a non-empty 2-D matrix (n_in, n_out), got shape {arr.shape}")
    return _entries(arr, what)


def _vector(b, n, what):
    arr = np.asarray(b).ravel()
    if arr.shape != (n,):
        raise ValueError(f"{what} has {arr.size} entries, expected {n}")
    return _entries(arr, what)


def _entries(arr, what):
    """Nested lists of checked Python numbers (or exact/symbolic SymPy entries)."""
    if arr.dtype.kind in "iuf":
        bad = np.argwhere(~np.isfinite(arr))
        if len(bad):
            raise ValueError(f"{what}{''.join(f'[{i}]' for i in bad[0])} is not finite "
                             f"({arr[tuple(bad[0])]})")
        return arr.tolist()  # Python numbers: no per-edge NumPy or SymPy objects
    if arr.ndim == 1:
        return [as_weight(v, f"{what}[{j}]") for j, v in enumerate(arr.tolist())]
    return [[as_weight(v, f"{what}[{i}][{j}]") for j, v in enumerate(row)]
            for i, row in enumerate(arr.tolist())]


def _names(names, n, prefix, what):
    if names is None:
        return [f"{prefix}{k + 1}" for k in range(n)]
    names = list(names)
    if len(names) != n:
        raise ValueError(f"{what} has {len(names)} names, expected {n}")
    return names


def _split_domain(domain, n):
    if not isinstance(domain, Domain):
        raise TypeError(f"input_domain must be a Domain, got {type(domain).__name__}")
    if isinstance(domain, Box) and not domain.symbolic:
        lows, highs = (v if isinstance(v, list) else [v] * n for v in (domain.low, domain.high))
        for side, values in (("low", lows), ("high", highs)):
            if len(values) != n:
                raise ValueError(f"input_domain: the Box has {len(values)} {side} bounds "
                                 f"for {n} inputs")
        return [Box(lo, hi) for lo, hi in zip(lows, highs)]
    return [domain] * n


# --------------------------------------------------------------------- forward
def numeric_plan(graph):
    """The float64 forward plan of a network graph: ``(order, index, steps)``.

    ``order`` is a topological order of the nodes and ``index`` their
    columns; each step ``(column, kind, predecessor columns, weights, bias)``
    computes one neuron (``kind`` is the :class:`~symdtd.network.kinds.NeuronKind`).
    ValueError naming the edge or neuron if a weight or
    bias is symbolic, not a number or not finite as a float64.
    """
    order = list(nx.topological_sort(graph))
    index = {n: k for k, n in enumerate(order)}
    steps = []
    for n in order:
        data = graph.nodes[n]
        kind = kind_named(data["kind"])
        if kind.is_input:
            continue
        preds = graph.pred[n]
        w = _float_array([e.get("weight") for e in preds.values()], n,
                         lambda k, p=list(preds), n=n: f"weight of edge {p[k]!r} -> {n!r}")
        b = _float_array([data.get("bias")], n, lambda k, n=n: f"bias of neuron {n!r}")[0]
        steps.append((index[n], kind, np.array([index[p] for p in preds]), w, b))
    return order, index, steps


def _float_array(values, neuron, what):
    """Checked weights of *neuron* as float64; *what(k)* names value k in errors."""
    if all(type(v) is float or type(v) is int for v in values):
        try:
            arr = np.array(values, dtype=float)
        except OverflowError:
            arr = None
        if arr is not None and np.isfinite(arr).all():
            return arr
    out = []
    for k, v in enumerate(values):
        v = as_weight(v, what(k))
        if isinstance(v, sp.Basic) and v.free_symbols:
            raise ValueError(f"neuron {neuron!r}: the numeric forward pass needs numeric "
                             f"weights and bias; the {what(k)} is symbolic ({v})")
        try:
            f = float(v)
        except OverflowError:
            f = math.inf
        if not math.isfinite(f):
            raise ValueError(f"neuron {neuron!r}: the {what(k)} is too large for float64 "
                             f"(|value| > {sys.float_info.max:.4g})")
        out.append(f)
    return np.array(out, dtype=float)


def _input_array(X, inputs):
    """*X* as a float64 array ``(batch, n_inputs)``; TypeError or ValueError naming the input."""
    arr = np.asarray(X)
    n = len(inputs)
    single = arr.ndim == 1
    if single:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != n:
        raise ValueError(f"X must have shape (batch, {n}) or ({n},), one column per input, "
                         f"got shape {np.shape(X)}")
    kind = arr.dtype.kind
    if kind == "O":
        out = np.empty(arr.shape)
        for (r, c), v in np.ndenumerate(arr):
            what = f"X[{r}, {c}] (input {inputs[c]!r})"
            v = real_number(v, what)
            try:
                f = float(v)
            except OverflowError:
                f = math.inf
            out[r, c] = f
            if not math.isfinite(f):
                raise ValueError(f"{what} is too large for float64")
        return out, single
    if kind not in "iuf":
        raise TypeError(f"X must hold real numbers (int or float), got dtype {arr.dtype}")
    with np.errstate(over="ignore"):
        out = arr.astype(np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError(f"X has NaN or inf in rows {np.flatnonzero(bad.any(axis=1))[:5].tolist()}: "
                         f"X[{r}, {c}] = {arr[r, c]} for input {inputs[c]!r}")
    return out, single


def forward_pass(X, inputs, outputs, plan, nodes=False):
    """The float64 forward pass of :meth:`Network.forward
    <symdtd.network.graph.Network.forward>` (same *X*, *nodes* and result).

    *inputs* and *outputs* are the network's; *plan* is called for the
    :func:`numeric_plan` once *X* has passed its checks: finite real
    numbers (TypeError for complex, dates, strings, bools; ValueError for
    NaN, inf or a wrong shape, naming the input). A neuron whose value
    overflows float64 is a ValueError naming it.
    """
    X, single = _input_array(X, inputs)
    order, index, steps = plan()
    A = np.zeros((X.shape[0], len(order)))
    A[:, [index[n] for n in inputs]] = X
    with np.errstate(over="ignore", invalid="ignore"):
        for k, kind, pred_idx, w, b in steps:
            if kind.selects:
                V = A[:, pred_idx]
                A[:, k] = np.take_along_axis(V, kind.choose_batch(V)[:, None], axis=1)[:, 0]
                continue
            A[:, k] = kind.activate_batch(A[:, pred_idx] @ w + b)
    finite = np.isfinite(A).all(axis=0)
    if not finite.all():
        k = int(np.flatnonzero(finite == 0)[0])  # the first in topological order: the culprit
        r = int(np.flatnonzero(~np.isfinite(A[:, k]))[0])
        raise ValueError(f"neuron {order[k]!r} overflows float64 in row {r} ({A[r, k]}): the "
                         "weights or inputs are too large for the float forward pass; scale "
                         "them down or use propagate(..., arithmetic='exact')")
    if nodes:
        return {n: (A[0, index[n]] if single else A[:, index[n]]) for n in order}
    out = A[:, [index[n] for n in outputs]]
    return out[0] if single else out


def dense_network(cls, weights, biases=None, input_domain=None, *, input_names=None,
                  output_names=None, hidden_prefix="h", maxpool="winner"):
    """The layered MLP of :meth:`Network.from_dense <symdtd.network.graph.Network.from_dense>`
    as a *cls* network: its nodes and edges added in bulk (266k edges build in well under a second).

    Examples
    --------
    >>> from symdtd.network.graph import Network
    >>> dense_network(Network, [[[1], [2]]]).graph.nodes["y1"]["expr"]
    x1 + 2*x2
    """
    layers = dense_layers(weights, biases, input_domain, input_names=input_names,
                          output_names=output_names, hidden_prefix=hidden_prefix)
    names = layers.names
    net = cls(maxpool=maxpool)
    for name, domain in zip(names[0], layers.domains):
        net.add_input(name, domain)
    before = net.graph._edits
    for k, (W, b) in enumerate(zip(layers.weights, layers.biases)):
        kind = kind_named("linear" if k == len(layers.weights) - 1 else "relu")
        src, dst = names[k], names[k + 1]
        # plain tuples and Python numbers: 266k edges build in well under a second
        net.graph.add_nodes_from((d, {"kind": kind.name, "bias": b[j], "rule": None,
                                      "symbol": kind.symbol(d)})
                                 for j, d in enumerate(dst))
        net.graph.add_edges_from((s, d, {"weight": W[i][j]})
                                 for i, s in enumerate(src) for j, d in enumerate(dst))
        for d in dst:
            net.graph.nodes[d].builder = partial(cls.expr, net, d)
    net._touch(before)
    return net
