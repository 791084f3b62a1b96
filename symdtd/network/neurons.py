"""The neurons of a :class:`~symdtd.network.graph.Network`: storage, checks, rule choice.

The node and edge attributes are documented once, in :mod:`symdtd.network.graph`.
This module holds what stores and decides them, one neuron (node) at a time:

* :class:`NetworkGraph` is the ``nx.DiGraph`` of a network; its node
  attribute dicts (:class:`NodeAttributes`) read ``expr`` from
  :meth:`Network.expr <symdtd.network.graph.Network.expr>`, which builds it
  with :func:`build_expr` (the kind's expression, :mod:`symdtd.network.kinds`);
* :func:`as_weight` checks and normalises a weight or a bias;
  :func:`input_symbol` an input's domain, :func:`check_rule` a rule override
  and :func:`check_graph` a whole graph after direct edits;
* :func:`input_class` says which values a node can take (whether a rule
  fits them: :mod:`symdtd.network.rule_fit`; the rule choice made from
  them: :mod:`symdtd.network.composites`).

Examples
--------
>>> from symdtd import examples
>>> from symdtd.network.neurons import as_weight, build_expr, input_class
>>> net = examples.xor()
>>> input_class(net, "x1"), input_class(net, "h1"), input_class(net, "y")
('box', 'positive', 'real')
>>> build_expr(net.graph, "h2")
Max(0, x1 + x2 - 1)
>>> as_weight("-1/2", "weight of edge h2 -> y")
-1/2
"""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import sympy as sp

from ..core.domains import Box, Domain, Real
from ..core.numbers import real_number, to_sympy
from .kind_registry import KINDS, kind_named

__all__ = ["KINDS", "NetworkGraph", "NodeAttributes", "build_expr",
           "as_weight", "input_symbol", "neuron_symbol", "check_rule", "check_graph",
           "rule_targets", "input_class", "is_unbounded"]



class NodeAttributes(dict):
    """A node's attribute dict whose ``expr`` is read from ``builder``.

    ``builder`` is the zero-argument function returning it, the node's
    :meth:`Network.expr <symdtd.network.graph.Network.expr>` (``None``: no
    ``expr``). ``expr`` is never stored in the dict: a
    :class:`~symdtd.network.graph.Network` caches it and rebuilds it when the
    node, its inputs or their weights change, so a direct edit of the graph
    never leaves a stale expression behind.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.builder = None

    def __missing__(self, key):
        if key == "expr" and self.builder is not None:
            return self.builder()
        raise KeyError(key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key):
        return dict.__contains__(self, key) or (key == "expr" and self.builder is not None)


def _counted(name):
    method = getattr(nx.DiGraph, name)

    def counted(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        finally:
            self._edits += 1

    counted.__name__ = counted.__qualname__ = name  # no docstring: kept out of the API pages
    return counted


#: the ``nx.DiGraph`` methods that add or remove nodes or edges
MUTATORS = ("add_node", "add_nodes_from", "remove_node", "remove_nodes_from", "add_edge",
            "add_edges_from", "add_weighted_edges_from", "remove_edge", "remove_edges_from",
            "update", "clear", "clear_edges")


class NetworkGraph(nx.DiGraph):
    """The ``nx.DiGraph`` of a network: node attributes are :class:`NodeAttributes`.

    Every method that adds or removes nodes or edges counts in ``_edits``,
    so a :class:`~symdtd.network.graph.Network` notices direct structural edits;
    attribute edits it notices by comparing values (see
    :meth:`Network.changed <symdtd.network.graph.Network.changed>`).
    """

    #: node attribute dicts: :class:`NodeAttributes`, with a lazy ``expr``
    node_attr_dict_factory = NodeAttributes
    #: structural changes so far (bumped by every method of :data:`MUTATORS`)
    _edits = 0

    add_node = _counted("add_node")
    add_nodes_from = _counted("add_nodes_from")
    remove_node = _counted("remove_node")
    remove_nodes_from = _counted("remove_nodes_from")
    add_edge = _counted("add_edge")
    add_edges_from = _counted("add_edges_from")
    add_weighted_edges_from = _counted("add_weighted_edges_from")
    remove_edge = _counted("remove_edge")
    remove_edges_from = _counted("remove_edges_from")
    update = _counted("update")
    clear = _counted("clear")
    clear_edges = _counted("clear_edges")


def build_expr(graph, node):
    """The activation of *node* in its predecessors' symbols (its ``expr``): its kind's
    :meth:`~symdtd.network.kinds.NeuronKind.expression`."""
    data = graph.nodes[node]
    kind = kind_named(data["kind"])
    if kind.is_input:
        return data["symbol"]
    preds = graph.pred[node]
    symbols = [graph.nodes[p]["symbol"] for p in preds]
    weights = bias = None
    if kind.weighted:
        weights = [to_sympy(as_weight(e.get("weight"), f"weight of edge {p!r} -> {node!r}"))
                   for p, e in preds.items()]
        bias = to_sympy(as_weight(data.get("bias"), f"bias of neuron {node!r}"))
    return kind.expression(symbols, weights, bias)


def as_weight(value, what):
    """Check and normalise a weight or bias; *what* names it in errors.

    Numbers stay Python numbers, ``Fraction``, ``Decimal`` and number strings
    (``"3/4"``, ``"-0.5"``, read by :func:`symdtd.core.numbers.parse_number`,
    never by SymPy's parser) become ``Rational``; SymPy symbols are kept.
    NaN, infinities, complex numbers (``sympy.I`` too), bools and integers
    past :data:`symdtd.core.numbers.MAX_DIGITS` digits are refused.

    >>> as_weight("3/4", "weight of edge a -> b")
    3/4
    >>> as_weight(float("nan"), "bias of neuron h")
    Traceback (most recent call last):
    ...
    ValueError: bias of neuron h is not finite (nan)
    """
    if value is None:
        raise ValueError(f"{what} is missing")
    return real_number(value, what, symbols=True)


def input_symbol(name, domain):
    """Check the domain of input *name*; its symbol (nonnegative if the domain is ≥ 0)."""
    if not isinstance(domain, Domain):
        raise TypeError(f"input {name!r}: domain must be a Domain, got {type(domain).__name__}")
    if isinstance(domain, Box) and (isinstance(domain.low, list) or isinstance(domain.high, list)):
        raise ValueError(f"input {name!r}: give a Box with scalar bounds (one input, one box)")
    return kind_named("input").symbol(name, domain)


def neuron_symbol(name, kind):
    """The SymPy symbol of a neuron of *kind*: nonnegative for ReLU and pooling, else real."""
    return kind_named(kind).symbol(name)


def check_rule(name, rule, kind):
    """Check a rule override of neuron *name* of *kind* (``None`` is always fine):
    :meth:`NeuronKind.check_rule <symdtd.network.kinds.NeuronKind.check_rule>`."""
    kind_named(kind).check_rule(name, rule)


def check_graph(graph, edges=True):
    """Check a whole network graph (:meth:`Network.validate
    <symdtd.network.graph.Network.validate>`): ValueError naming the first fault.

    Checks acyclicity, kinds, symbols, that every neuron has inputs,
    weights and biases (:func:`as_weight`), and input domains. With
    ``edges=False`` only what each node holds (no cycle search, no weights).
    """
    if edges and not nx.is_directed_acyclic_graph(graph):  # fast; find_cycle is not
        cycle = nx.find_cycle(graph)
        if cycle:
            path = " -> ".join([str(u) for u, _ in cycle] + [str(cycle[0][0])])
            raise ValueError(f"the network has a cycle: {path}")
    for node, data in graph.nodes(data=True):
        kind = data.get("kind")
        if kind is None and not data:
            succ = list(graph.succ[node])
            raise ValueError(f"node {node!r} has no attributes: was it created by an edge "
                             f"{node!r} -> {succ[0]!r} from a node not in the network?"
                             if succ else f"node {node!r} has no attributes (no kind)")
        try:
            kind = kind_named(kind)
        except ValueError as err:
            raise ValueError(f"node {node!r}: {err}") from None
        if not isinstance(data.get("symbol"), sp.Symbol):
            raise ValueError(f"node {node!r}: its symbol must be a SymPy Symbol, "
                             f"got {data.get('symbol')!r}")
        if kind.is_input:
            if graph.in_degree(node):
                raise ValueError(f"input {node!r} has incoming edges")
            if not isinstance(data.get("domain"), Domain):
                raise ValueError(f"input {node!r}: domain must be a Domain")
            continue
        if not graph.in_degree(node):
            raise ValueError(f"neuron {node!r} has no inputs")
        as_weight(data.get("bias"), f"bias of neuron {node!r}")
        kind.check_rule(node, data.get("rule"))
        pool = not kind.weighted
        if pool and data.get("bias") != 0:
            raise ValueError(f"pooling neuron {node!r} must have bias 0, got {data.get('bias')!r}")
        if edges:
            for source, edge in graph.pred[node].items():
                w = as_weight(edge.get("weight"), f"weight of edge {source!r} -> {node!r}")
                if pool and w != 1:
                    raise ValueError(f"pooling neuron {node!r}: the edge from {source!r} must "
                                     f"have weight 1, got {w}")


def rule_targets(network, target, rule):
    """The neurons :meth:`Network.set_rule <symdtd.network.graph.Network.set_rule>`
    changes, all checked (ValueError) before any is changed."""
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        layers = network.layers()
        if not 0 <= target < len(layers):
            raise ValueError(f"layer {target} does not exist; the network has {len(layers)}")
        names = [n for n in layers[target] if not kind_named(network.graph.nodes[n]["kind"]).is_input]
    elif isinstance(target, str):
        names = [target]
    else:
        names = list(target)
    for name in names:
        if name not in network.graph:
            raise ValueError(f"set_rule: {name!r} is not in the network")
        kind = kind_named(network.graph.nodes[name]["kind"])
        if kind.is_input:
            raise ValueError(f"set_rule: {name!r} is an input; inputs have no rule")
        kind.check_rule(name, rule)
    return names


def is_unbounded(network, node):
    """True when *node*'s values are bounded on neither side (ℝ inputs, linear
    neurons, a box open on both sides): the per-input rule moves it along its
    weight, where box rules cannot move it at all.
    """
    kind = input_class(network, node)
    if kind != "box":
        return kind == "real"
    domain = network.graph.nodes[node]["domain"]
    return not domain.symbolic and all(map(math.isinf, domain.bounds(1)[0] + domain.bounds(1)[1]))


def input_class(network, node):
    """``"positive"``, ``"box"`` or ``"real"``: the values *node* can take.

    ReLU and pooling outputs and ℝ₊ inputs are ``"positive"``, box inputs
    ``"box"``, ℝ inputs and linear neurons ``"real"``.
    """
    data = network.graph.nodes[node]
    kind = kind_named(data["kind"])
    if kind.nonnegative:
        return "positive"
    if not kind.is_input or isinstance(data["domain"], Real):
        return "real"
    return "box" if isinstance(data["domain"], Box) else "positive"
