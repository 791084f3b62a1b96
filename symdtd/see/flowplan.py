"""What a relevance-flow figure shows, before any DOT is written.

:func:`plan_flow` reads a network, what :func:`~symdtd.see.flow.render` was
given (an explanation, a dict of relevance, or nothing) and the render options,
and decides: which neurons are left out, which layers collapse into one
summary node, which edges are drawn (aggregated between collapsed layers, the
``top_k`` strongest), what a highlight keeps bold, and the value and colour
scale of each node. :mod:`symdtd.see.flow` then only draws the plan.

Examples
--------
>>> from symdtd import examples, propagate
>>> net = examples.xor()
>>> e = propagate(net, {"x1": 1, "x2": 0}, arithmetic="exact")
>>> plan = plan_flow(net, FlowValues.of(net, e), collapse_above=None, top_k=2)
>>> len(plan.edges), [members for _, _, members in plan.items][:2]
(2, [['x1'], ['x2']])
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from numbers import Number

import networkx as nx
import sympy as sp

from ..network.graph import Network
from ..network.kind_registry import kind_named
from ..propagation.arithmetic import ARITHMETIC

__all__ = ["FlowValues", "EdgeGroup", "FlowPlan", "check_options", "plan_flow", "numeric"]


def numeric(value, point=None) -> float | None:
    """A float for numeric values; None for symbolic ones (or no value).

    *point* (input symbol -> number) evaluates a symbolic value at the point
    an explanation was made for (``propagate(..., at=...)``).

    >>> numeric(sp.Rational(1, 4)), numeric(sp.Symbol("a")), numeric(None)
    (0.25, None, None)
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


@dataclass
class FlowValues:
    """The values a figure shows: relevance, messages and activations (empty when not given).

    Parameters
    ----------
    relevance : dict
        Node -> relevance.
    messages : dict
        Edge ``(i, j)`` -> message.
    activations : dict
        Node -> activation.
    output : object
        The explained output's value (None without an explanation).
    output_node : str or None
        The explained output.
    point : dict
        Input symbol -> value where a symbolic explanation is evaluated for colours.
    at : dict
        Input name -> value of that point, as the explanation gives it.
    rules : dict
        Neuron -> name of the rule that redistributed its relevance.
    """

    relevance: dict = field(default_factory=dict)
    messages: dict = field(default_factory=dict)
    activations: dict = field(default_factory=dict)
    output: object = None
    output_node: str | None = None
    point: dict = field(default_factory=dict)
    at: dict = field(default_factory=dict)
    rules: dict = field(default_factory=dict)

    @classmethod
    def of(cls, network: Network, relevance: object) -> FlowValues:
        """Read what :func:`~symdtd.see.flow.render` was given; checks it belongs to *network*.

        Raises
        ------
        TypeError
            If *relevance* is neither an Explanation, a mapping nor None.
        ValueError
            If it names a node or an edge the network does not have.
        """
        if relevance is None:
            return cls()
        if hasattr(relevance, "relevance"):
            values = cls(dict(relevance.relevance), dict(getattr(relevance, "messages", {}) or {}),
                         dict(getattr(relevance, "activations", {}) or {}),
                         getattr(relevance, "output", None), getattr(relevance, "output_node", None))
            values.rules = dict(getattr(relevance, "rules", {}) or {})
        elif isinstance(relevance, Mapping):
            values = cls(dict(relevance))
        else:
            raise TypeError("relevance must be an Explanation (from propagate) or a dict "
                            f"{{node: value}}, got {type(relevance).__name__}")
        for node in values.relevance:
            if node not in network.graph:
                raise ValueError(f"relevance: {node!r} is not a node of the network")
        for i, j in values.messages:
            if not network.graph.has_edge(i, j):
                raise ValueError(f"relevance: message ({i!r}, {j!r}) is not an edge of the network")
        return values

    def locate(self, network: Network, relevance: object) -> None:
        """Set :attr:`at` and :attr:`point` from a symbolic explanation's ``at`` (if any).

        Raises
        ------
        ValueError
            If a value of ``at`` is not an exact number.
        """
        self.at = dict(getattr(relevance, "at", None) or {})
        G, exact = network.graph, ARITHMETIC["exact"]
        self.point = {G.nodes[p]["symbol"]: exact.number(v, f"input {p!r}")
                      for p, v in self.at.items() if p in G}

    def number(self, value) -> float | None:
        """*value* as a float, evaluated at :attr:`point` if symbolic (None if it stays symbolic)."""
        return numeric(value, self.point)


def check_options(network: Network, values: FlowValues, *, top_k: int | None, hide_inactive: bool,
                  collapse_above: int | str | None, keep_top: int, highlight: str | None) -> int | None:
    """Check the options of :func:`~symdtd.see.flow.render`; return ``collapse_above`` resolved.

    Raises
    ------
    ValueError
        Naming the first option that is out of range, or ``hide_inactive``
        without activations.
    """
    G = network.graph
    if hide_inactive and not values.activations:
        raise ValueError("hide_inactive needs activations: pass the Explanation from propagate")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive integer (the number of edges drawn) or None "
                         f"(all), got {top_k!r}")
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
    return collapse_above


@dataclass
class EdgeGroup:
    """The network edges drawn as one arrow: one edge, or all between two collapsed nodes.

    Parameters
    ----------
    message : object
        The sum of their messages (None without messages or when one is unknown).
    weight : object
        The weight of the first edge (shown for a single edge).
    members : list of (str, str)
        The network edges.
    """

    message: object
    weight: object
    members: list

    @property
    def count(self) -> int:
        """How many network edges the arrow stands for."""
        return len(self.members)


@dataclass
class FlowPlan:
    """What to draw: nodes (a neuron or a collapsed layer each), edges, highlight, colours.

    Parameters
    ----------
    layers : list of list of str
        The network's topological generations.
    items : list of (str, int, list of str)
        ``(DOT id, layer, members)`` per drawn node, in drawing order.
    ids : dict
        Network node -> DOT id of the node drawing it.
    hidden : set
        Inactive ReLU neurons left out (``hide_inactive``).
    excluded : set
        All network nodes left out.
    edges : dict
        ``(id_u, id_v)`` -> :class:`EdgeGroup`, the edges drawn.
    strength : dict
        ``(id_u, id_v)`` -> the number an edge's width follows (None if symbolic).
    emax : float
        Largest ``|strength|`` of the drawn edges (0.0 if none).
    values, numbers : dict
        DOT id -> the node's relevance (a collapsed layer's sum) and its float.
    vmax : float
        Largest ``|number|``: the colour scale's end.
    on_path_nodes, on_path_edges : set or None
        With a highlight, the DOT ids and edge keys on its paths to the outputs.
    """

    layers: list
    items: list
    ids: dict
    hidden: set
    excluded: set
    edges: dict
    strength: dict
    emax: float
    values: dict
    numbers: dict
    vmax: float
    on_path_nodes: set | None = None
    on_path_edges: set | None = None


def plan_flow(network: Network, values: FlowValues, *, collapse_above: int | None, top_k: int | None = None,
              hide_inactive: bool = False, keep_top: int = 0, highlight: str | None = None,
              explained_only: bool = True) -> FlowPlan:
    """Decide what a flow figure shows (options as :func:`~symdtd.see.flow.render`'s, checked).

    Returns
    -------
    FlowPlan
        The nodes, edges, highlight and colour scale.
    """
    G, rel, num = network.graph, values.relevance, values.number
    hidden = set()
    if hide_inactive:
        outputs = set(network.outputs)
        hidden = {n for n, kind in G.nodes(data="kind")
                  if kind_named(kind).gates and n not in outputs and num(values.activations.get(n)) == 0}
    # nodes left out: hidden inactive ones and, by default, those not explained
    excluded = hidden | ({n for n in G if n not in rel} if rel and explained_only else set())
    layers = network.layers()
    ids, items = _node_items(G, layers, excluded, collapse_above, keep_top, rel, num)
    edges = _edge_groups(G, excluded, ids, values.messages)
    strength = {key: num(e.message if values.messages else e.weight) for key, e in edges.items()}
    if top_k is not None:
        ranked = sorted(edges, key=lambda key: -abs(strength[key]) if strength[key] is not None
                        else math.inf)
        edges = {key: edges[key] for key in ranked[:top_k]}
    emax = max((abs(s) for key, s in strength.items() if key in edges and s is not None),
               default=0.0)
    node_values = {sid: _node_value(members, rel) for sid, _, members in items}
    numbers = {sid: num(v) for sid, v in node_values.items()}
    vmax = max((abs(x) for x in numbers.values() if x is not None), default=0.0)
    plan = FlowPlan(layers, items, ids, hidden, excluded, edges, strength, emax, node_values,
                    numbers, vmax)
    if highlight is not None:
        targets = {values.output_node} if values.output_node else set(network.outputs)
        plan.on_path_nodes, plan.on_path_edges = _on_paths(G, highlight, targets, ids, edges)
    return plan


def _node_items(G, layers, excluded, collapse_above, keep_top, rel, num: Callable):
    """One node per shown neuron, or per collapsed layer (its *keep_top* most relevant stay)."""
    ids, items = {}, []   # items: (dot id, layer, members)
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
    return ids, items


def _edge_groups(G, excluded, ids, messages):
    """The drawn edges, those between two collapsed nodes summed into one."""
    edges = {}
    for u, v, w in G.edges(data="weight"):
        if u in excluded or v in excluded:
            continue
        key = (ids[u], ids[v])
        # an edge outside the explained output's ancestry carries no relevance
        m = messages.get((u, v), 0) if messages else None
        group = edges.get(key)
        if group is None:
            edges[key] = EdgeGroup(m, w, [(u, v)])
        else:
            group.message = None if m is None else group.message + m
            group.members.append((u, v))
    return edges


def _node_value(members, rel):
    """The relevance a node shows: its neuron's, or a collapsed layer's sum (unexplained: 0)."""
    if len(members) == 1:
        return rel.get(members[0])
    known = [v for v in (rel.get(n) for n in members) if v is not None]
    return sum(known[1:], known[0]) if known else None


def _on_paths(G, highlight, targets, ids, edges):
    """DOT ids and edge keys on the paths from *highlight* to the *targets*."""
    downstream = nx.descendants(G, highlight) | {highlight}
    upstream = set(targets).union(*(nx.ancestors(G, t) for t in targets))
    path = downstream & (upstream | {highlight})
    nodes = {ids[n] for n in path if n in ids}
    keys = {key for key, group in edges.items()
            if any(u in path and v in path for u, v in group.members)}
    return nodes, keys
