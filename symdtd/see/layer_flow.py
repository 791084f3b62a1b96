"""Relevance flow through a layer network: one graphviz node per layer.

:func:`render_layers` draws a :class:`~symdtd.network.layer_graph.LayerNetwork`
as its DAG of layers, the way :func:`~symdtd.see.flow.render` draws a neuron
network: each node gives the layer's name, type, shape and rule and, with a
:class:`~symdtd.compiler.layer_pass.LayerExplanation`, the total relevance
``ΣR`` that reached the layer and its conservation residual ``ΣR − passed``
(what it received minus what it passed on to its sources: 0 up to rounding,
shown as 0 below 10⁻¹² of the largest ``|ΣR|``, except where a zero
denominator kept relevance back). Nodes are filled on the
one diverging scale of :mod:`symdtd.see.colors` (red > 0, white 0, blue < 0,
limits ``±max |ΣR|``); each edge ``source → reader`` carries the relevance the
reader sent back to that source, with width ∝ its magnitude, its colour by
sign and its arrow the way relevance flows. Residual additions are octagons
labelled ``⊕``, concatenations trapezia whose edges name their channels, so
skip connections and inception branches show at a glance.

The neuron-level graph of a small part of a big network is drawn by
:func:`~symdtd.see.flow.render` on a window: ``net.neurons(window=...)``,
then :func:`~symdtd.propagation.backward.propagate` (see the guide page on
pictures at scale).

Examples
--------
>>> import numpy as np
>>> from symdtd.core.domains import Box
>>> from symdtd.compiler.layer_pass import compile_layers
>>> from symdtd.network.layer_graph import LayerNetwork
>>> from symdtd.network.layers import Dense
>>> net = LayerNetwork()
>>> _ = net.add_input("x", (2,), Box(0, 1))
>>> _ = net.add_layer("h", Dense([[1.0, 1.0], [-1.0, 1.0]], [0.0, -1.0]))
>>> _ = net.add_layer("y", Dense([[1.0, 1.0]], activation="linear"))
>>> e = compile_layers(net).explain(np.array([[1.0, 0.5]]))
>>> g = render_layers(net, e)
>>> g.node_ids
{'x': 'L0', 'h': 'L1', 'y': 'L2'}
>>> line = next(x.strip() for x in g.source.splitlines() if x.strip().startswith("L1 ["))
>>> print(line.replace(" fill", "\\n    fill"))
L1 [label="h\\nDense 2\\nrule zB\\nΣR = 1.5\\nΣR − passed = 0"
    fillcolor="#b2182b" fontcolor="#ffffff" shape=box style="rounded,filled"]
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..compiler.layer_pass import LayerExplanation
from ..network.kind_registry import kind_named
from ..network.layer_graph import LayerNetwork
from . import colors
from .flowgraph import FlowGraph, dot_text, format_value, legend_label

__all__ = ["render_layers", "layer_shape_text"]

_MIN_WIDTH, _MAX_WIDTH = 0.6, 8.0   # edge penwidth range (points), as in flow.render
_ROUNDING = 1e-12                   # residuals below this share of max |ΣR| are shown as 0


def layer_shape_text(shape: tuple) -> str:
    """A layer's per-sample shape as ``C×H×W`` (or ``n``).

    Parameters
    ----------
    shape : tuple of int
        The shape.

    Returns
    -------
    str
        The sizes joined by ``×``.

    Examples
    --------
    >>> layer_shape_text((3, 224, 224)), layer_shape_text((10,))
    ('3×224×224', '10')
    """
    return "×".join(str(int(s)) for s in shape)


def render_layers(net: LayerNetwork, explanation: LayerExplanation | None = None, *, row: int = 0,
                  rules: Mapping[str, str] | None = None, rankdir: str = "TB", digits: int = 3,
                  title: str | None = None) -> FlowGraph:
    """Draw a layer network and, optionally, the relevance reaching each layer.

    Parameters
    ----------
    net : LayerNetwork
        The network to draw.
    explanation : LayerExplanation, optional
        The result of ``compile_layers(net).explain(X, ...)``; edges carry the
        relevance each reader sent to its source (its ``flows``). None draws
        the network alone.
    row : int
        Which row of a batched explanation to show.
    rules : dict, optional
        ``{layer: rule name}`` to print, e.g. a compiled network's ``rules``;
        default: :meth:`LayerNetwork.rule_for
        <symdtd.network.layer_graph.LayerNetwork.rule_for>`.
    rankdir : {"TB", "LR", "BT", "RL"}
        Direction of the DAG (default: inputs at the top).
    digits : int
        Significant digits of the numbers.
    title : str, optional
        Graph title (default: the explained output, target and value).

    Returns
    -------
    FlowGraph
        A ``graphviz.Digraph`` whose ``.source`` is the DOT text and whose
        ``node_ids`` maps layer names to node ids (``L0``, ``L1``, … in
        topological order).

    Raises
    ------
    TypeError
        *net* is not a LayerNetwork, or *explanation* not a LayerExplanation.
    ValueError
        *row* outside the explanation's batch, a bad *rankdir*.

    Examples
    --------
    >>> from symdtd.core.domains import Box
    >>> from symdtd.network.layer_graph import LayerNetwork
    >>> from symdtd.network.join_layers import Add
    >>> from symdtd.network.layers import Dense
    >>> net = LayerNetwork()
    >>> _ = net.add_input("x", (2,), Box(0, 1))
    >>> _ = net.add_layer("a", Dense([[1.0, 0.0], [0.0, 1.0]]))
    >>> _ = net.add_layer("sum", Add(), ["a", "x"])
    >>> g = render_layers(net)
    >>> [line.strip() for line in g.source.splitlines() if "->" in line]
    ['L0 -> L1', 'L1 -> L2', 'L0 -> L2']
    """
    if not isinstance(net, LayerNetwork):
        raise TypeError(f"render_layers needs a LayerNetwork, got {type(net).__name__}")
    if explanation is not None and not isinstance(explanation, LayerExplanation):
        raise TypeError("explanation must be the LayerExplanation of compile_layers(net).explain, "
                        f"got {type(explanation).__name__}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"rankdir must be TB, LR, BT or RL, got {rankdir!r}")
    fmt = lambda v: format_value(v, digits, 40)  # noqa: E731
    order = net.order()
    ids = {name: f"L{k}" for k, name in enumerate(order)}
    totals, passed, flows = _row_values(explanation, row)
    vmax = max((abs(v) for v in totals.values()), default=0.0)
    graph = FlowGraph("layer_flow", graph_attr={
        "rankdir": rankdir, "nodesep": "0.3", "ranksep": "0.5", "fontname": "Helvetica",
        "labelloc": "t", "outputorder": "edgesfirst"},
        node_attr={"style": "filled", "fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.6"})
    title = title if title is not None else _title(net, explanation, row, fmt)
    if title:
        graph.attr(label=dot_text(title))
    for name in order:
        lines, attrs = _node(net, name, rules, fmt)
        if name in totals:
            lines.append(f"ΣR = {fmt(totals[name])}")
            if name in passed:
                residual = totals[name] - passed[name]
                residual = 0.0 if abs(residual) <= _ROUNDING * vmax else residual
                lines.append(f"ΣR − passed = {fmt(residual)}")
        fill = colors.diverging_hex(totals.get(name, 0.0), vmax)
        attrs.update(fillcolor=fill, fontcolor=colors.text_color(totals.get(name, 0.0), vmax))
        if name == net.output:
            attrs["peripheries"] = "2"
        graph.node(ids[name], label=dot_text(*lines), **dict(sorted(attrs.items())))
    emax = max((abs(v) for v in flows.values()), default=0.0)
    for reader in order:
        layer = net.layer(reader)
        for slot, source in enumerate(layer.sources):
            graph.edge(ids[source], ids[reader], **_edge(layer, slot, source, flows, emax, fmt))
    if explanation is not None:
        graph.node("legend", label=legend_label(vmax, True, fmt, "scale" if vmax else "none"),
                   shape="plaintext", style="", fontsize="10")
    graph.node_ids = ids
    return graph


def _row_values(explanation, row):
    """``totals``, ``passed`` and ``flows`` of one row, as floats (empty without an explanation)."""
    if explanation is None:
        return {}, {}, {}
    batch = len(np.atleast_1d(explanation.output))
    if not isinstance(row, (int, np.integer)) or not -batch <= row < batch:
        raise ValueError(f"row must be an int in [0, {batch}), got {row!r}")
    pick = lambda d: {k: float(np.asarray(v)[row]) for k, v in d.items()}  # noqa: E731
    return pick(explanation.totals), pick(explanation.passed), pick(getattr(explanation, "flows", {}))


def _title(net, explanation, row, fmt):
    if explanation is None:
        return None
    target = int(np.atleast_1d(explanation.target)[row])
    value = float(np.atleast_1d(explanation.output)[row])
    return f"relevance of {net.output}[{target}] = {fmt(value)} (row {row})"


def _node(net, name, rules, fmt):
    """The label lines (name, type and shape, rule) and the shape of one layer's node."""
    layer = net.layer(name)
    kind, cls = layer.neuron_kind, type(layer).__name__
    shape = layer_shape_text(layer.shape)
    if kind == "input":
        return [name, f"input {shape}", repr(layer.domain)], {"shape": "box"}
    linear = kind != "view" and not kind_named(kind).nonnegative  # no ReLU after the map
    if cls == "Add":
        lines, attrs = [f"⊕ {name}", f"Add {shape}" + (", linear" if linear else "")], {"shape": "octagon"}
    elif cls == "Concat":
        lines, attrs = [name, f"Concat {shape}"], {"shape": "trapezium"}
    elif kind == "view":
        lines, attrs = [name, f"{cls} {shape}"], {"shape": "parallelogram"}
    else:
        pooling = {"sumpool": "hexagon", "maxpool": "invhouse"}
        lines = [name, f"{cls} {shape}" + (", linear" if linear else "")]
        attrs = {"shape": pooling[kind]} if kind in pooling else {"shape": "box", "style": "rounded,filled"}
    if kind != "view":
        rule = rules[name] if rules is not None and name in rules else net.rule_for(name).name
        lines.append(f"rule {rule}")
    return lines, attrs


def _edge(layer, slot, source, flows, emax, fmt):
    """Attributes of the edge *source* → *layer*: relevance sent back along it, channels of a concat."""
    attrs, lines = {}, []
    if type(layer).__name__ == "Concat":
        start = sum(shape[0] for shape in layer.input_shapes[:slot])
        lines.append(f"channels {start}–{start + layer.input_shapes[slot][0] - 1}")
    key = (source, layer.name)
    if key in flows:
        value = flows[key]
        attrs.update(dir="back", color=colors.sign_hex(value),
                     penwidth=f"{_MIN_WIDTH + (_MAX_WIDTH - _MIN_WIDTH) * (abs(value) / emax if emax else 0):.3g}")
        lines.insert(0, f"R = {fmt(value)}")
    if lines:
        attrs["label"] = dot_text(*lines)
    return attrs
