"""Relevance flow with graphviz: the seed paper's Figure 3 for any network.

:func:`render` reads a :class:`~symdtd.network.graph.Network` and, optionally, an
:class:`~symdtd.propagation.backward.Explanation`, and returns a :class:`FlowGraph` (a
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

import math
from collections.abc import Mapping
from numbers import Number
from pathlib import Path

import networkx as nx
import sympy as sp

from ..network.kind_registry import kind_named
from ..propagation.arithmetic import ARITHMETIC
from . import colors
from .flowgraph import INSTALL_HINT, FlowGraph, GraphvizNotFoundError, dot_text, format_value, legend_label, write

__all__ = ["render", "render_to_files", "write", "FlowGraph", "GraphvizNotFoundError",
           "INSTALL_HINT"]

_MIN_WIDTH, _MAX_WIDTH = 0.4, 6.0   # edge penwidth range (points)
_FADE = "40"                        # alpha suffix for what a highlight pushes back


# ------------------------------------------------------------------ values
def _number(value, point=None):
    """A float for numeric values; None for symbolic ones (or no value).

    *point* (input symbol -> number) evaluates a symbolic value at the point
    an explanation was made for (``propagate(..., at=...)``).
    """
    if value is None:
        return None
    if isinstance(value, Number):
        return float(value)
    if point and isinstance(value, sp.Basic) and value.free_symbols:
        value = value.xreplace(point)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _explanation_parts(network, relevance):
    """``(relevance, messages, activations, output, output_node)`` from what was given."""
    if relevance is None:
        return {}, {}, {}, None, None
    if hasattr(relevance, "relevance"):
        parts = (dict(relevance.relevance), dict(getattr(relevance, "messages", {}) or {}),
                 dict(getattr(relevance, "activations", {}) or {}),
                 getattr(relevance, "output", None), getattr(relevance, "output_node", None))
    elif isinstance(relevance, Mapping):
        parts = dict(relevance), {}, {}, None, None
    else:
        raise TypeError("relevance must be an Explanation (from propagate) or a dict "
                        f"{{node: value}}, got {type(relevance).__name__}")
    for node in parts[0]:
        if node not in network.graph:
            raise ValueError(f"relevance: {node!r} is not a node of the network")
    for i, j in parts[1]:
        if not network.graph.has_edge(i, j):
            raise ValueError(f"relevance: message ({i!r}, {j!r}) is not an edge of the network")
    return parts


def _point(network, relevance):
    """Input symbol -> value of the point a symbolic explanation was made at."""
    at = getattr(relevance, "at", None) or {}
    G = network.graph
    exact = ARITHMETIC["exact"]
    return {G.nodes[p]["symbol"]: exact.number(v, f"input {p!r}") for p, v in at.items() if p in G}


# ------------------------------------------------------------------ render
def render(network, relevance=None, *, top_k=None, hide_inactive=False, collapse_above="auto",
           keep_top=0, highlight=None, show_messages=True, show_weights=False, explained_only=True,
           rankdir="LR", digits=3, max_label=40, title=None) -> FlowGraph:
    """Draw a network and how relevance flows through it.

    Parameters
    ----------
    network : Network
    relevance : Explanation or dict, optional
        The result of :func:`symdtd.propagation.backward` (relevance, messages and
        activations are shown), or a dict ``{node: relevance}``; None draws
        the network alone (edges by weight).
    top_k : int, optional
        Draw only the *k* edges with the largest ``|message|`` (``|weight|``
        without an explanation); symbolic messages rank last.
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
    G = network.graph
    rel, msgs, acts, out_value, out_node = _explanation_parts(network, relevance)
    if hide_inactive and not acts:
        raise ValueError("hide_inactive needs activations: pass the Explanation from propagate")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0):
        raise ValueError(f"top_k must be a non-negative integer, got {top_k!r}")
    if collapse_above == "auto":
        collapse_above = 24 if G.number_of_nodes() > 100 else None
    elif collapse_above is not None and (not isinstance(collapse_above, int) or collapse_above < 1):
        raise ValueError(f"collapse_above must be a positive integer, 'auto' or None, "
                         f"got {collapse_above!r}")
    if isinstance(keep_top, bool) or not isinstance(keep_top, int) or keep_top < 0:
        raise ValueError(f"keep_top must be a non-negative integer, got {keep_top!r}")
    if highlight is not None and highlight not in G:
        raise ValueError(f"highlight: {highlight!r} is not in the network; inputs are "
                         f"{network.inputs}")
    outputs = set(network.outputs)
    point = _point(network, relevance)
    num = lambda v: _number(v, point)  # noqa: E731
    fmt = lambda v: format_value(v, digits, max_label)  # noqa: E731

    hidden = set()
    if hide_inactive:
        hidden = {n for n, kind in G.nodes(data="kind")
                  if kind == "relu" and n not in outputs and num(acts.get(n)) == 0}

    # nodes left out: hidden inactive ones and, by default, those not explained
    excluded = hidden | ({n for n in G if n not in rel} if rel and explained_only else set())

    # ---- nodes: one per neuron, or one per collapsed layer
    layers = network.layers()
    ids, items, summaries = {}, [], {}   # items: (dot id, layer, members)
    position = {n: k for k, n in enumerate(G)}
    for k, layer in enumerate(layers):
        shown = [n for n in layer if n not in excluded]
        collapse = collapse_above is not None and len(shown) > collapse_above
        kept = set(shown)
        if collapse:   # the keep_top most relevant stay visible, the rest is summarised
            kept = set(sorted(shown, key=lambda n: -abs(num(rel.get(n)) or 0.0))[:keep_top])
        for n in shown:
            if n in kept:
                ids[n] = f"n{position[n]}"
                items.append((ids[n], k, [n]))
        rest = [n for n in shown if n not in kept]
        if rest:
            sid = f"layer{k}"
            items.append((sid, k, rest))
            ids.update((n, sid) for n in rest)

    # ---- edges, aggregated between collapsed layers
    use_messages = bool(msgs)
    edges = {}   # (id_u, id_v) -> [message sum, weight, count, members]
    for u, v, w in G.edges(data="weight"):
        if u in excluded or v in excluded:
            continue
        key = (ids[u], ids[v])
        # an edge outside the explained output's ancestry carries no relevance
        m = msgs.get((u, v), 0) if use_messages else None
        entry = edges.get(key)
        if entry is None:
            edges[key] = [m, w, 1, [(u, v)]]
        else:
            entry[0] = None if m is None else entry[0] + m
            entry[2] += 1
            entry[3].append((u, v))
    strength = {key: num(e[0] if use_messages else e[1]) for key, e in edges.items()}
    if top_k is not None:
        ranked = sorted(edges, key=lambda key: -abs(strength[key]) if strength[key] is not None
                        else math.inf)
        edges = {key: edges[key] for key in ranked[:top_k]}
    emax = max((abs(s) for key, s in strength.items() if key in edges and s is not None),
               default=0.0)

    # ---- highlight: nodes and edges on the paths from the chosen node to an output
    on_path_nodes = on_path_edges = None
    if highlight is not None:
        targets = {out_node} if out_node else outputs
        downstream = nx.descendants(G, highlight) | {highlight}
        upstream = set(targets).union(*(nx.ancestors(G, t) for t in targets))
        path = downstream & (upstream | {highlight})
        on_path_nodes = {ids[n] for n in path if n in ids}
        on_path_edges = {key for key, e in edges.items()
                         if any(u in path and v in path for u, v in e[3])}

    # ---- node values and the one colour scale
    def node_value(members):
        if len(members) == 1:
            return rel.get(members[0])
        known = [v for v in (rel.get(n) for n in members) if v is not None]  # unexplained: 0
        return sum(known[1:], known[0]) if known else None

    values = {sid: node_value(members) for sid, _, members in items}
    numbers = {sid: num(v) for sid, v in values.items()}
    vmax = max((abs(x) for x in numbers.values() if x is not None), default=0.0)

    graph = FlowGraph("relevance_flow", graph_attr={
        "rankdir": rankdir, "nodesep": "0.12", "ranksep": "0.9", "outputorder": "edgesfirst",
        "fontname": "Helvetica", "labelloc": "t"},
        node_attr={"style": "filled", "fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.6"})
    if title is None and out_node is not None:
        title = f"relevance of {out_node} = {fmt(out_value)}"
        if point:
            title += "; colours at " + ", ".join(f"{k} = {fmt(v)}" for k, v in relevance.at.items())
    if title:
        graph.attr(label=dot_text(title))

    by_layer = {}
    for sid, k, members in items:
        value = values[sid]
        number = numbers[sid]
        if len(members) == 1:
            n = members[0]
            lines = [n]
            if n in acts:
                lines.append(f"x = {fmt(acts[n])}")
            if rel:
                lines.append(f"R = {fmt(value)}")
            kind = kind_named(G.nodes[n]["kind"])
            if relevance is None and not kind.is_input:   # the network alone: say what it computes
                bias = G.nodes[n]["bias"]
                lines.append(kind.name + (f", b = {fmt(bias)}" if kind.weighted else ""))
            attrs = {"shape": kind.shape}
            if n in outputs:
                attrs["peripheries"] = "2"
        else:
            gated = acts and any(G.nodes[n]["kind"] == "relu" for n in members)
            active = sum(1 for n in members if num(acts.get(n)) not in (0, None))
            more = " more" if len(members) < len(layers[k]) - len(excluded & set(layers[k])) else ""
            lines = [f"layer {k}: {len(members)}{more} nodes"]
            if gated:   # only ReLUs can be inactive; inputs are just values
                lines.append(f"active {active}/{len(members)}")
            if rel:
                lines.append(f"ΣR = {fmt(value)}")
            if hidden & set(layers[k]):
                lines.append(f"({len(hidden & set(layers[k]))} inactive hidden)")
            attrs = {"shape": "box3d"}
            summaries[sid] = {"layer": k, "members": members, "count": len(members),
                              "total": value, "active": active if gated else None}
        fill = colors.diverging_hex(number, vmax) if number is not None else (
            "#eeeeee" if rel and value is not None else colors.ZERO)
        attrs.update(fillcolor=fill, fontcolor=colors.text_color(number or 0.0, vmax))
        if on_path_nodes is not None:
            if sid in on_path_nodes:
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

    for key, (m, w, count, _members) in edges.items():
        s = strength[key]
        attrs = {"dir": "back"} if use_messages else {}
        attrs["color"] = colors.sign_hex(s)
        width = 1.0 if s is None else _MIN_WIDTH + (_MAX_WIDTH - _MIN_WIDTH) * (
            abs(s) / emax if emax else 0.0)
        attrs["penwidth"] = f"{width:.3g}"
        lines = []
        if show_messages and use_messages:
            lines.append(("Σ " if count > 1 else "") + fmt(m))
        if show_weights and count == 1:
            lines.append(f"w = {fmt(w)}")
        if count > 1:
            lines.append(f"{count} edges")
        if lines:
            attrs["label"] = dot_text(*lines)
        if on_path_edges is not None and key not in on_path_edges:
            attrs["color"] += _FADE
        graph.edge(*key, **attrs)

    scale = "scale" if vmax else ("symbolic" if rel else "none")
    graph.node("legend", label=legend_label(vmax, use_messages, fmt, scale), shape="plaintext",
               style="", fontsize="10")
    with graph.subgraph(name="legend_rank") as sub:
        sub.attr(rank="sink")
        sub.node("legend")
    graph.node_ids = ids
    graph.summaries = summaries
    return graph


def render_to_files(network, relevance, stem, formats=("svg", "png"), **options):
    """Render once and write ``stem.<format>`` for each format; return the paths.

    *options* are those of :func:`render`.

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
