"""Relevance flow with graphviz: the seed paper's Figure 3 for any network.

:func:`render` reads a :class:`~symdtd.network.graph.Network` and, optionally, an
:class:`~symdtd.propagation.explanation.Explanation`, and returns a :class:`FlowGraph` (a
``graphviz.Digraph``): one column per topological generation, each neuron
labelled with its name, activation ``x`` and relevance ``R = [x_f]_i`` and
filled on one diverging scale (red > 0, white 0, blue < 0; one legend);
each edge ``i → j`` drawn with width ∝ ``|[[x_f]_j]_i|``, coloured by the
message's sign, its arrow pointing the way relevance flows (from ``j`` back
to ``i``). Jupyter shows the graph inline; ``.render()`` writes SVG, PNG or
PDF. Without Graphviz's ``dot`` program the DOT source still works and
writing an image raises :class:`GraphvizNotFoundError`, which says how to
install it.

Examples
--------
>>> from symdtd import Network, propagate
>>> net = Network.from_dense([[[1, 1], [1, 1]], [[1], [-2]]], [[0, -1], [0]])
>>> e = propagate(net, {"x1": 1, "x2": "1/2"}, arithmetic="exact")
>>> g = render(net, e)
>>> g.node_ids["x2"], g.node_ids["y1"]
('n1', 'n4')
>>> print(next(line.strip() for line in g.source.splitlines() if "n1 [" in line))
n1 [label="x2\\nx = 1/2\\nR = 1/6" fillcolor="#e5b2b8" fontcolor="#000000" shape=box]
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..network.graph import Network
from ..network.kind_registry import kind_named
from ..network.layer_graph import LayerNetwork, neuron_network
from ..propagation.explanation import Explanation
from . import colors
from .flowgraph import INSTALL_HINT, FlowGraph, GraphvizNotFoundError, dot_text, format_value, legend_label, write
from .flowplan import FlowValues, check_options, plan_flow

__all__ = ["render", "render_to_files", "write", "FlowGraph", "GraphvizNotFoundError",
           "INSTALL_HINT"]

_MIN_WIDTH, _MAX_WIDTH = 0.4, 6.0   # edge penwidth range (points)
_FADE = "40"                        # alpha suffix for what a highlight pushes back


def render(network: Network | LayerNetwork, relevance: Explanation | Mapping | None = None, *, top_k: int | None = None,
           hide_inactive: bool = False, collapse_above: int | str | None = "auto", keep_top: int = 0,
           highlight: str | None = None, show_messages: bool = True, show_weights: bool = False,
           explained_only: bool = True, rankdir: str = "LR", digits: int = 3, max_label: int = 40,
           title: str | None = None) -> FlowGraph:
    """Draw a network and how relevance flows through it.

    Parameters
    ----------
    network : Network or LayerNetwork
        The network to draw (a layer network: its neuron view, refused above
        10⁶ edges; draw a window, ``net.neurons(window=...)``).
    relevance : Explanation or dict, optional
        The result of :func:`~symdtd.propagation.backward.propagate` (relevance, messages and
        activations are shown), or a dict ``{node: relevance}``; None draws
        the network alone (edges by weight).
    top_k : int, optional
        Draw only the *k* edges (``k ≥ 1``) with the largest ``|message|``
        (``|weight|`` without an explanation); symbolic messages rank last.
    hide_inactive : bool
        Leave out ReLU neurons whose activation is 0 (needs an explanation).
        Inputs and outputs are always shown.
    collapse_above : int, "auto" or None
        Draw each layer with more than this many (shown) nodes as one
        summary node: its count, relevance total and active neurons. "auto"
        (default) collapses layers wider than 24 when the network has more
        than 100 nodes; None never collapses.
    keep_top : int
        In a collapsed layer, keep the *keep_top* neurons of largest
        ``|R|`` as their own nodes; the summary node holds the rest.
    highlight : str, optional
        A node (usually an input) whose paths to the outputs stay bold;
        everything else fades.
    show_messages, show_weights : bool
        Label edges with the message ``[[x_f]_j]_i`` and/or the weight.
    explained_only : bool
        With an explanation, draw only the nodes it covers (the explained
        output and its ancestors), not the other outputs.
    rankdir : {"LR", "BT", "TB", "RL"}
        Direction of the layers (default inputs left, output right).
    digits : int
        Significant digits of float labels.
    max_label : int
        Longer fractions are shown as floats, longer expressions cut with "…".
    title : str, optional
        Graph title (default: the explained output and its value).

    Returns
    -------
    FlowGraph
        A ``graphviz.Digraph``; ``.source`` is the DOT text.

    Examples
    --------
    >>> from symdtd import examples, propagate
    >>> net = examples.figure3()
    >>> e = propagate(net, examples.example_inputs("figure3")[0], arithmetic="exact")
    >>> g = render(net, e, top_k=3, highlight="x1")
    >>> g.source.count(" -> ")
    3
    >>> "legend" in g.source
    True
    """
    network = neuron_network(network, "render")
    values = FlowValues.of(network, relevance)
    collapse_above = check_options(network, values, top_k=top_k, hide_inactive=hide_inactive,
                                   collapse_above=collapse_above, keep_top=keep_top, highlight=highlight)
    values.locate(network, relevance)
    plan = plan_flow(network, values, collapse_above=collapse_above, top_k=top_k,
                     hide_inactive=hide_inactive, keep_top=keep_top, highlight=highlight,
                     explained_only=explained_only)
    fmt = lambda v: format_value(v, digits, max_label)  # noqa: E731
    graph = _new_graph(rankdir, _title(title, values, fmt))
    graph.summaries = _draw_nodes(graph, network, plan, values, fmt, network_alone=relevance is None)
    _draw_edges(graph, plan, values, fmt, show_messages=show_messages, show_weights=show_weights)
    _draw_legend(graph, plan.vmax, values, fmt)
    graph.node_ids = plan.ids
    return graph


def _new_graph(rankdir, title):
    """An empty flow graph: the layout, fonts and (if any) the title."""
    graph = FlowGraph("relevance_flow", graph_attr={
        "rankdir": rankdir, "nodesep": "0.12", "ranksep": "0.9", "outputorder": "edgesfirst",
        "fontname": "Helvetica", "labelloc": "t"},
        node_attr={"style": "filled", "fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.6"})
    if title:
        graph.attr(label=dot_text(title))
    return graph


def _title(title, values, fmt):
    """The title given, or by default the explained output, its value and the colours' point."""
    if title is None and values.output_node is not None:
        title = f"relevance of {values.output_node} = {fmt(values.output)}"
        if values.point:
            title += "; colours at " + ", ".join(f"{k} = {fmt(v)}" for k, v in values.at.items())
    return title


def _neuron_node(network, n, value, values, fmt, network_alone):
    """Label lines and shape of one neuron's node."""
    G = network.graph
    lines = [n]
    if n in values.activations:
        lines.append(f"x = {fmt(values.activations[n])}")
    if values.relevance:
        lines.append(f"R = {fmt(value)}")
    if n in values.rules:   # the rule that redistributed this neuron's relevance
        lines.append(f"rule: {values.rules[n]}")
    kind = kind_named(G.nodes[n]["kind"])
    if network_alone and not kind.is_input:   # the network alone: say what it computes
        lines.append(kind.name + (f", b = {fmt(G.nodes[n]['bias'])}" if kind.weighted else ""))
    attrs = {"shape": kind.shape}
    if n in network.outputs:
        attrs["peripheries"] = "2"
    return lines, attrs


def _layer_node(network, k, members, value, plan, values, fmt):
    """Label lines, shape and summary of a collapsed layer's node."""
    acts, layer = values.activations, plan.layers[k]
    gated = bool(acts) and any(kind_named(network.graph.nodes[n]["kind"]).gates for n in members)
    active = sum(1 for n in members if values.number(acts.get(n)) not in (0, None))
    more = " more" if len(members) < len(layer) - len(plan.excluded & set(layer)) else ""
    lines = [f"layer {k}: {len(members)}{more} nodes"]
    if gated:   # only gating kinds (ReLU) can be inactive; inputs are just values
        lines.append(f"active {active}/{len(members)}")
    if values.relevance:
        lines.append(f"ΣR = {fmt(value)}")
    if plan.hidden & set(layer):
        lines.append(f"({len(plan.hidden & set(layer))} inactive hidden)")
    summary = {"layer": k, "members": members, "count": len(members), "total": value,
               "active": active if gated else None}
    return lines, {"shape": "box3d"}, summary


def _draw_nodes(graph, network, plan, values, fmt, network_alone):
    """Add the nodes, filled on the one colour scale, one rank per layer; return the summaries."""
    by_layer, summaries = {}, {}
    for sid, k, members in plan.items:
        value, number = plan.values[sid], plan.numbers[sid]
        if len(members) == 1:
            lines, attrs = _neuron_node(network, members[0], value, values, fmt, network_alone)
        else:
            lines, attrs, summaries[sid] = _layer_node(network, k, members, value, plan, values, fmt)
        fill = colors.diverging_hex(number, plan.vmax) if number is not None else (
            "#eeeeee" if values.relevance and value is not None else colors.ZERO)
        attrs.update(fillcolor=fill, fontcolor=colors.text_color(number or 0.0, plan.vmax))
        if plan.on_path_nodes is not None:
            if sid in plan.on_path_nodes:
                attrs.update(penwidth="3")
            else:
                attrs.update(color="#999999", fontcolor="#999999", fillcolor=fill + _FADE)
        by_layer.setdefault(k, []).append(sid)
        graph.node(sid, label=dot_text(*lines), **dict(sorted(attrs.items())))
    for k, sids in by_layer.items():   # one column (row) per topological generation
        with graph.subgraph(name=f"rank{k}") as sub:
            sub.attr(rank="same")
            for sid in sids:
                sub.node(sid)
    return summaries


def _draw_edges(graph, plan, values, fmt, *, show_messages, show_weights):
    """Add the edges: width by |message| (or |weight|), colour by sign, labels as asked."""
    use_messages = bool(values.messages)
    for key, group in plan.edges.items():
        s = plan.strength[key]
        attrs = {"dir": "back"} if use_messages else {}
        attrs["color"] = colors.sign_hex(s)
        width = 1.0 if s is None else _MIN_WIDTH + (_MAX_WIDTH - _MIN_WIDTH) * (
            abs(s) / plan.emax if plan.emax else 0.0)
        attrs["penwidth"] = f"{width:.3g}"
        lines = []
        if show_messages and use_messages:
            lines.append(("Σ " if group.count > 1 else "") + fmt(group.message))
        if show_weights and group.count == 1:
            lines.append(f"w = {fmt(group.weight)}")
        if group.count > 1:
            lines.append(f"{group.count} edges")
        if lines:
            attrs["label"] = dot_text(*lines)
        if plan.on_path_edges is not None and key not in plan.on_path_edges:
            attrs["color"] += _FADE
        graph.edge(*key, **attrs)


def _draw_legend(graph, vmax, values, fmt):
    """Add the legend of the colour scale, below everything."""
    if vmax:
        scale = "scale"
    elif not values.relevance:
        scale = "none"
    elif all(values.number(v) is not None for v in values.relevance.values()):
        scale = "zero"   # numbers, all 0 (an output of 0 has nothing to redistribute)
    else:
        scale = "symbolic"
    graph.node("legend", label=legend_label(vmax, bool(values.messages), fmt, scale), shape="plaintext",
               style="", fontsize="10")
    with graph.subgraph(name="legend_rank") as sub:
        sub.attr(rank="sink")
        sub.node("legend")


def render_to_files(network: Network, relevance: Explanation | Mapping | None, stem: str | os.PathLike,
                    formats: Sequence[str] = ("svg", "png"), **options: object) -> list[Path]:
    """Render once and write ``stem.<format>`` for each format; return the paths.

    Parameters
    ----------
    network : Network
        The network to draw.
    relevance : Explanation or dict or None
        What to show on it, as for :func:`render`.
    stem : str or pathlib.Path
        The path of the files without their suffix.
    formats : sequence of str
        The suffixes to write (default ``("svg", "png")``); ``"gv"`` and
        ``"dot"`` write the DOT source, the others run Graphviz's ``dot``.
    **options
        The keywords of :func:`render`.

    Returns
    -------
    list of pathlib.Path
        The files written, one per format.

    Raises
    ------
    GraphvizNotFoundError
        When an image format is asked for and ``dot`` is missing.

    Examples
    --------
    >>> import tempfile
    >>> from symdtd import examples, propagate
    >>> net = examples.xor()
    >>> e = propagate(net, {"x1": 1, "x2": 0}, arithmetic="exact")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = render_to_files(net, e, Path(tmp) / "xor", formats=("gv",))
    ...     [p.name for p in paths]
    ['xor.gv']
    """
    graph = render(network, relevance, **options)
    stem = Path(stem)
    return [write(graph, stem.with_name(f"{stem.name}.{fmt}")) for fmt in formats]
