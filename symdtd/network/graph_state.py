"""A network's graph and the record of its changes: the base of :class:`~symdtd.network.graph.Network`.

:class:`GraphState` holds the ``nx.DiGraph`` (``graph``) and everything a
network needs to trust it: checked additions of nodes (a new name, existing
sources, all edges at once) and the noticing of direct edits of the graph.
Every change made through the network's methods bumps a version; a direct
edit — nodes or edges added or removed (counted by the graph) or attribute
values changed (compared with a snapshot) — is noticed when the network is
next used (:meth:`GraphState._sync`), which re-checks the graph, so a bad edit
is a ``ValueError`` naming the node or edge, never a stale result. Whatever
is cached (expressions, the numeric forward plan) is keyed by the version.

Examples
--------
>>> from symdtd import Network
>>> net = Network.from_dense([[[1]], [[2]]])
>>> version = net._sync()
>>> net.graph.edges["h1_1", "y1"]["weight"] = 3
>>> net._sync() > version
True
"""
from __future__ import annotations

from functools import partial
from itertools import repeat
from operator import is_

import sympy as sp

from . import neurons
from .kind_registry import kind_named
from .neurons import NetworkGraph, as_weight

__all__ = ["GraphState", "INPUT"]

#: the kind name of input nodes (compared in the hot paths, where a lookup would cost)
INPUT = kind_named("input").name


def _same_items(data, items):
    """True when the attribute dict *data* holds exactly *items* (the same objects)."""
    return len(data) == len(items) and all(
        k is k2 and v is v2 for (k, v), (k2, v2) in zip(data.items(), items))


class GraphState:
    """A network's graph, its checked additions and the record of its changes.

    The base class of :class:`~symdtd.network.graph.Network`, which adds
    the public building, structure, rule and forward methods; subclasses
    must provide ``expr(node)`` (the lazy ``expr`` node attribute calls
    it), ``validate()`` and ``changed()``.

    Attributes
    ----------
    graph : networkx.DiGraph
        The graph itself (a :class:`~symdtd.network.neurons.NetworkGraph`,
        which counts structural edits).
    """

    def __init__(self):
        self.graph = NetworkGraph()
        self._outputs = None
        self._version = 0  # bumped on every change; keys the numeric forward plan
        self._snapshot = None  # attribute values when last looked at (see _sync)
        self._own_edits = 0  # graph._edits after this network's own last change

    # ------------------------------------------------------------ checked changes
    def _add_pool(self, name, inputs, kind, rule):
        self._check_new_name(name)
        if isinstance(inputs, (str, dict)) or not hasattr(inputs, "__iter__"):
            raise TypeError(f"pooling neuron {name!r}: inputs must be a list of node names")
        sources = self._check_sources(name, list(inputs))
        kind_class = kind_named(kind)
        kind_class.check_rule(name, rule)
        self._add_node(name, kind=kind, bias=0, rule=rule, symbol=kind_class.symbol(name),
                       edges=((s, 1) for s in sources))

    def _check_new_name(self, name):
        if not isinstance(name, str) or not name:
            raise TypeError(f"node names must be non-empty strings, got {name!r}")
        if name in self.graph:
            raise ValueError(f"a node named {name!r} is already in the network")

    def _check_sources(self, name, sources):
        if not sources:
            raise ValueError(f"neuron {name!r} has no inputs")
        for source in sources:
            if source not in self.graph:
                raise ValueError(f"neuron {name!r}: input {source!r} is not in the network")
        if len(set(sources)) != len(sources):
            raise ValueError(f"neuron {name!r}: an input is listed twice")
        return sources

    def _add_node(self, name, edges=(), **attrs):
        # everything is validated by now, so the graph changes all at once
        edges = [(s, name, {"weight": w}) for s, w in edges]
        before = self.graph._edits
        self.graph.add_node(name, **attrs)
        self.graph.add_edges_from(edges)
        self.graph.nodes[name].builder = partial(type(self).expr, self, name)
        self._touch(before)

    # ------------------------------------------------------------- direct edits
    def _normalize(self):
        """After direct edits: weights and biases set as strings, fractions, NumPy
        scalars… are stored as :func:`~symdtd.network.neurons.as_weight` makes them, and
        nodes added directly get a lazy ``expr``."""
        def plain(value):
            return type(value) in (int, float) or isinstance(value, sp.Basic)

        for node, data in self.graph.nodes(data=True):
            if data["kind"] != INPUT and not plain(data["bias"]):
                data["bias"] = as_weight(data["bias"], f"bias of neuron {node!r}")
            if getattr(data, "builder", False) is None:
                data.builder = partial(type(self).expr, self, node)
        for u, v, edge in self.graph.edges(data=True):
            if not plain(edge["weight"]):
                edge["weight"] = as_weight(edge["weight"], f"weight of edge {u!r} -> {v!r}")

    def _check(self, edges=True):
        neurons.check_graph(self.graph, edges=edges)
        for n in self._outputs or ():
            if n not in self.graph or self.graph.nodes[n].get("kind") in (INPUT, None):
                raise ValueError(f"output {n!r} is not a neuron of the network")

    def _touch(self, edits_before=None):
        """Record a change made through this network's own (checked) methods.

        *edits_before*: ``graph._edits`` before a structural change; when no
        direct edit came before it, the graph's count is this network's again.
        """
        self._version += 1
        self._snapshot = None
        if edits_before is not None and edits_before == self._own_edits:
            self._own_edits = self.graph._edits

    def _sync(self):
        """Notice direct edits of ``graph`` since the last look; returns the version.

        Structural edits (nodes or edges added or removed: counted by the
        graph) and changed attribute values (compared with a snapshot: one
        C-level pass over the edges) run :meth:`validate`, whose error names
        the bad edit, and bump the version, which drops the cached forward
        plan and whatever else is keyed by it.
        """
        G = self.graph
        structural = G._edits != self._own_edits
        if self._snapshot is not None and not structural:
            nodes, edge_dicts, weights = self._snapshot
            # the very same objects (an equal value of another type is a change too)
            if (all(map(is_, map(dict.get, edge_dicts, repeat("weight")), weights))
                    and all(map(_same_items, (d for _, d in G.nodes(data=True)), nodes))):
                return self._version
            self.validate()
        elif structural:
            self.validate()
        else:  # changed by this network's methods; node attributes may have been edited since
            self._check(edges=False)
        edge_dicts = [d for _, _, d in G.edges(data=True)]
        self._snapshot = ([tuple(d.items()) for _, d in G.nodes(data=True)], edge_dicts,
                          list(map(dict.get, edge_dicts, repeat("weight"))))
        return self._version
