"""Networks of ReLU neurons as a networkx DAG carrying SymPy expressions.

A :class:`Network` wraps an ``nx.DiGraph`` (``network.graph``): one node per
neuron, one edge per connection. These attribute names are the contract used
by every other module (propagation, compilation, rendering, JSON):

Node attributes
    ``kind``
        ``"input"``, ``"relu"`` (``x = max(0, z)``), ``"linear"`` (``x = z``,
        an output that may be negative), ``"sumpool"`` (``x = Σ x_i``),
        ``"maxpool"`` (``x = max_i x_i``), ``"relu_sum"`` or ``"linear_sum"``
        (a residual addition: unit weights, bias 0): the name of a kind class of
        :mod:`symdtd.network.kinds`, which every pass asks.
    ``bias``
        ``b`` in ``z = Σ_i x_i w_i + b`` (``0`` for inputs and pools).
    ``domain``
        Inputs only: a :class:`~symdtd.core.domains.Domain` (``Real``, ``Positive``
        or a scalar ``Box``).
    ``rule``
        ``None`` (the choice of the composite in use, see :meth:`Network.rule_for`),
        a rule name or a :class:`~symdtd.core.rules.Rule`; for pooling also a
        pooling rule (:mod:`symdtd.network.pooling`): ``"winner"`` (max-pooling)
        or ``"proportional"``. It overrides every composite. Always ``None`` on inputs.
    ``symbol``
        The SymPy symbol of the neuron's activation (named like the node;
        nonnegative for inputs in ℝ₊, ReLU and pooling neurons).
    ``expr``
        The activation as a SymPy expression in the predecessors' symbols,
        e.g. ``Max(0, x1 - x2/2)``; an input's ``expr`` is its symbol. It is
        built on first read and cached, so large dense networks stay cheap
        (the same as :meth:`Network.expr`).

Edge attribute
    ``weight``
        A Python number, a SymPy ``Rational`` or a SymPy symbol. Pooling
        edges carry weight ``1``.

Node names are strings. ``network.inputs`` lists the input nodes in insertion
order; ``network.outputs`` the output neurons (by default the neurons that
feed nothing, in insertion order). Build through the methods. The graph may
also be edited directly (``net.graph.edges["h", "y"]["weight"] = 4``): the
network notices such edits when it is next used — the numeric forward plan
and cached expressions are rebuilt and the graph is checked
(:meth:`Network.validate`), so a bad edit is a ``ValueError`` naming the
node or edge, never a stale or garbage result.

Examples
--------
>>> from symdtd import Network, Box
>>> net = Network()
>>> net.add_input("x1", Box(0, 1)); net.add_input("x2", Box(0, 1))
>>> net.add_neuron("h", {"x1": 1, "x2": -1}, bias=0)
>>> net.add_neuron("y", {"h": 2, "x1": 1}, kind="linear")
>>> net.graph.nodes["y"]["expr"]
2*h + x1
>>> net.inputs, net.outputs, net.layers()
(['x1', 'x2'], ['y'], [['x1', 'x2'], ['h'], ['y']])
>>> net.rule_for("h").name, net.rule_for("y").name
('zB', 'zB')
>>> net.forward([[1.0, 0.25]])
array([[2.5]])
"""
from __future__ import annotations

from functools import partial

import networkx as nx

from ..core.domains import Positive
from ..propagation.arithmetic import forward_values
from . import neurons
from .dense import dense_network, forward_pass, numeric_plan
from .graph_state import INPUT, GraphState
from .kind_base import MAXPOOL_MODES
from .kind_registry import KINDS, kind_named, registered
from .neurons import as_weight, build_expr, input_symbol
from .pooling import WINNER_TAKE_ALL

__all__ = ["Network", "KINDS", "WINNER_TAKE_ALL", "as_weight"]


class Network(GraphState):
    """A directed acyclic graph of ReLU, linear and pooling neurons.

    Parameters
    ----------
    maxpool : {"winner", "proportional"}
        Default redistribution of max-pooling neurons: all relevance to the
        largest input (first one on ties), or in proportion to the inputs.

    Attributes
    ----------
    graph : networkx.DiGraph
        The graph itself; attributes as in the module docstring.
    """

    def __init__(self, maxpool="winner"):
        if maxpool not in MAXPOOL_MODES:
            raise ValueError(f"maxpool must be one of {MAXPOOL_MODES}, got {maxpool!r}")
        super().__init__()
        self.maxpool = maxpool
        self._plan = None
        self._exprs = {}  # node -> (what expr was built from, expr)

    # ----------------------------------------------------------------- builders
    def add_input(self, name, domain=None):
        """Add an input variable with its domain (default ``Positive()``)."""
        domain = Positive() if domain is None else domain
        self._check_new_name(name)
        symbol = input_symbol(name, domain)  # checks the domain
        self._add_node(name, kind=INPUT, bias=0, domain=domain, rule=None, symbol=symbol)

    def add_neuron(self, name, inputs, bias=0, kind="relu", rule=None):
        """Add a neuron ``x = max(0, Σ_i x_i w_i + b)`` (or ``x = z`` if linear).

        Parameters
        ----------
        name : str
        inputs : dict
            ``{source name: weight}``; sources must already be in the network.
        bias : number, optional
        kind : {"relu", "linear", "relu_sum", "linear_sum"}
            Or the name of another weighted kind registered with
            :func:`symdtd.network.kind_registry.register`. The ``*_sum`` kinds
            are residual additions: weights 1 and bias 0 (ValueError otherwise).
        rule : str or Rule, optional
            Overrides the default rule (see :meth:`rule_for`).
        """
        kind_class = kind_named(kind) if kind in registered() else None
        if kind_class is None or kind_class.is_input or not kind_class.weighted:
            added = [k for k in registered() if kind_named(k).weighted and k not in KINDS]  # added: not built in
            added = f" (or an added weighted kind: {', '.join(map(repr, added))})" if added else ""
            raise ValueError(f"neuron {name!r}: kind must be 'relu' or 'linear'{added}, got {kind!r}")
        self._check_new_name(name)
        if not isinstance(inputs, dict):
            raise TypeError(f"neuron {name!r}: inputs must be a dict {{source: weight}}")
        edges = self._check_sources(name, list(inputs))
        weights = [as_weight(inputs[s], f"weight of edge {s!r} -> {name!r}") for s in edges]
        bias = as_weight(bias, f"bias of neuron {name!r}")
        if kind_class.sums and (bias != 0 or any(w != 1 for w in weights)):
            raise ValueError(f"neuron {name!r}: a {kind} neuron is a unit-weight sum: every "
                             f"weight 1 and bias 0, got weights {weights} and bias {bias}")
        kind_class.check_rule(name, rule)
        self._add_node(name, kind=kind, bias=bias, rule=rule, symbol=kind_class.symbol(name),
                       edges=zip(edges, weights))

    def add_sum_pool(self, name, inputs, rule=None):
        """Add a sum-pooling neuron ``x = Σ_i x_i`` over the nodes *inputs*."""
        self._add_pool(name, inputs, "sumpool", rule)

    def add_max_pool(self, name, inputs, rule=None):
        """Add a max-pooling neuron ``x = max_i x_i``; *rule* may be ``"winner"``
        or ``"proportional"`` (default: the network's ``maxpool`` setting)."""
        self._add_pool(name, inputs, "maxpool", rule)

    @classmethod
    def from_dense(cls, weights, biases=None, input_domain=None, *, input_names=None,
                   output_names=None, hidden_prefix="h", maxpool="winner"):
        """Build a layered MLP: ReLU hidden layers and a linear output layer.

        Parameters
        ----------
        weights : list of array-like
            Matrices of shape ``(n_in, n_out)`` (scikit-learn's ``coefs_``).
        biases : list of array-like, optional
            One vector per layer (default zeros), like ``intercepts_``.
        input_domain : Domain, optional
            Shared by all inputs (default ``Positive()``); a ``Box`` with
            per-input bounds gives each input its own box.
        input_names, output_names : list of str, optional
            Default ``x1..xn`` and ``y1..ym``; hidden neurons are
            ``{hidden_prefix}{layer}_{k}`` (1-based).

        Examples
        --------
        >>> net = Network.from_dense([[[1, -1], [2, 1]], [[1], [1]]], [[0, -1], [0]])
        >>> net.inputs, net.outputs, net.graph.nodes["h1_2"]["expr"]
        (['x1', 'x2'], ['y1'], Max(0, -x1 + x2 - 1))
        """
        return dense_network(cls, weights, biases, input_domain, input_names=input_names,
                             output_names=output_names, hidden_prefix=hidden_prefix, maxpool=maxpool)

    # ---------------------------------------------------------------- structure
    @property
    def inputs(self):
        """Names of the input nodes, in insertion order."""
        return [n for n, kind in self.graph.nodes(data="kind") if kind == INPUT]

    @property
    def outputs(self):
        """Names of the output neurons (default: neurons feeding nothing)."""
        if self._outputs is not None:
            return list(self._outputs)
        return [n for n, kind in self.graph.nodes(data="kind")
                if kind != INPUT and self.graph.out_degree(n) == 0]

    @outputs.setter
    def outputs(self, names):
        if names is not None:
            names = list(names)
            for n in names:
                if n not in self.graph or self.graph.nodes[n].get("kind") in (INPUT, None):
                    raise ValueError(f"output {n!r} is not a neuron of the network")
        self._outputs = names
        self._version += 1

    def layers(self):
        """Topological generations, each a list of names in insertion order.

        Generation 0 holds the nodes without predecessors (the inputs); a
        neuron is in the generation after its latest predecessor.
        """
        position = {n: k for k, n in enumerate(self.graph)}
        return [sorted(gen, key=position.get) for gen in nx.topological_generations(self.graph)]

    def copy(self):
        """An independent copy (the graph and its attributes, expressions rebuilt lazily)."""
        net = type(self)(maxpool=self.maxpool)
        for node, data in self.graph.nodes(data=True):
            attrs = {k: v for k, v in data.items() if k != "expr"}
            net.graph.add_node(node, **attrs)
            net.graph.nodes[node].builder = partial(Network.expr, net, node)
        net.graph.add_edges_from((u, v, dict(d)) for u, v, d in self.graph.edges(data=True))
        net._outputs = None if self._outputs is None else list(self._outputs)
        net._touch(0)
        return net

    def changed(self):
        """Forget cached expressions and the forward plan now.

        Not needed after direct edits of ``graph``: they are noticed when
        the network is next used (see :meth:`validate`).
        """
        self._exprs.clear()
        self._snapshot = None
        self._version += 1

    def validate(self):
        """Check the whole graph: ValueError (or TypeError) naming the first fault.

        Checks acyclicity, kinds, symbols, that every neuron has inputs,
        weights and biases, input domains and the outputs; then calls
        :meth:`changed`. Runs by itself, when the network is next used,
        after a direct edit of ``graph``.
        """
        self._check()
        self._normalize()
        self.changed()
        self._own_edits = self.graph._edits

    # -------------------------------------------------------------------- rules
    def set_rule(self, target, rule):
        """Override the rule of a neuron, a layer or several neurons.

        Parameters
        ----------
        target : str, int or iterable of str
            A neuron name, a generation index of :meth:`layers` (its input
            nodes are skipped) or a list of neuron names.
        rule : str, Rule or None
            ``None`` restores the default choice.
        """
        names = neurons.rule_targets(self, target, rule)  # all checked before any changes
        for name in names:
            self.graph.nodes[name]["rule"] = rule
        self._touch()

    def rule_for(self, node, composite=None, *, maxpool=None):
        """The rule used to redistribute *node*'s relevance onto its inputs.

        An override set with :meth:`set_rule` (or ``add_*(rule=...)``), else
        the choice of *composite* (default: the deep Taylor choice of
        :class:`~symdtd.network.composites.PaperDefault`: z⁺, zᴮ or w² from the
        predecessors' :meth:`input_class`; pooling rules for pooling), see
        :func:`symdtd.network.rule_choice.rule_for`. *maxpool*
        (``"winner"`` or ``"proportional"``) is a shortcut for a composite
        with that max-pooling rule.

        Returns
        -------
        Rule or PoolingRule
            A :class:`~symdtd.core.rules.Rule`, or a pooling rule such as
            :data:`~symdtd.network.pooling.WINNER_TAKE_ALL`.
        """
        from .rule_choice import rule_for

        return rule_for(self, node, composite, maxpool=maxpool)

    def input_class(self, node):
        """``"positive"``, ``"box"`` or ``"real"``: the values *node* can take.

        ReLU and pooling outputs and ℝ₊ inputs are ``"positive"``, box inputs
        ``"box"``, ℝ inputs and linear neurons ``"real"``.
        """
        return neurons.input_class(self, node)

    # ------------------------------------------------------------------ forward
    def expr(self, node):
        """The activation of *node* as an expression of its predecessors' symbols.

        Built by its kind (:meth:`NeuronKind.expression
        <symdtd.network.kinds.NeuronKind.expression>`; an input's is its
        symbol) and cached until the node, its inputs or their weights
        change, directly in ``graph`` too. ``graph.nodes[node]["expr"]``
        reads the same (the node attribute dicts call this method).

        Examples
        --------
        >>> net = Network.from_dense([[[1], [-1]], [[2]]], [[1], [0]])
        >>> net.expr("h1_1"), net.expr("y1")
        (Max(0, x1 - x2 + 1), 2*h1_1)
        """
        G = self.graph
        if node not in G:
            raise ValueError(f"{node!r} is not in the network")
        if G._edits != self._own_edits:  # nodes or edges added or removed directly
            self._sync()
        data = G.nodes[node]
        # what the expression is built from: rebuilt when any of it changes
        key = (data.get("kind"), data.get("bias"), type(data.get("bias")), data.get("symbol"),
               [(p, G.nodes[p].get("symbol"), e.get("weight"), type(e.get("weight")))
                for p, e in G.pred[node].items()])
        cached = self._exprs.get(node)
        if cached is not None and cached[0] == key:
            return cached[1]
        expr = build_expr(G, node)
        self._exprs[node] = (key, expr)
        return expr

    def forward(self, X, nodes=False):
        """Numeric forward pass (float64, batched).

        Parameters
        ----------
        X : array-like, shape (batch, n_inputs) or (n_inputs,)
            Columns in the order of :attr:`inputs`.
        nodes : bool
            Return every node's activation instead of the outputs.

        Returns
        -------
        numpy.ndarray or dict
            Shape ``(batch, n_outputs)`` (``(n_outputs,)`` for 1-D *X*), in
            the order of :attr:`outputs`; with ``nodes=True`` a dict
            ``{node: array of shape (batch,)}`` (``()`` for 1-D *X*).
        """
        self._sync()
        return forward_pass(X, self.inputs, self.outputs, self._numeric_plan, nodes)

    def _numeric_plan(self):  # forward() has just called _sync()
        if self._plan is None or self._plan[0] != self._version:
            self._plan = (self._version, numeric_plan(self.graph))
        return self._plan[1]

    def symbolic_forward(self, at=None):
        """Every node's activation as an expression of the input symbols.

        Parameters
        ----------
        at : dict, optional
            A point ``{input name: number}``. Without it activations are
            piecewise (``Max``); with it, each is the linear expression valid
            on the activation region of that point.

        Examples
        --------
        >>> net = Network.from_dense([[[1], [-1]], [[2]]])
        >>> net.symbolic_forward()["y1"]
        2*Max(0, x1 - x2)
        >>> net.symbolic_forward(at={"x1": 2, "x2": 1})["y1"]
        2*x1 - 2*x2
        """
        return forward_values(self, None, arithmetic="symbolic", at=at)

    def output_expr(self, output=None, at=None):
        """The output neuron's activation as an expression of the input symbols."""
        output = self._output_name(output)
        return self.symbolic_forward(at=at)[output]

    def _output_name(self, output):
        if output is None:
            outputs = self.outputs
            if len(outputs) != 1:
                raise ValueError(f"the network has {len(outputs)} outputs {outputs}; "
                                 "choose one with output=")
            return outputs[0]
        if output not in self.graph or self.graph.nodes[output]["kind"] == INPUT:
            raise ValueError(f"output {output!r} is not a neuron of the network")
        return output

    def __repr__(self):
        counts = (len(self.inputs), self.graph.number_of_nodes() - len(self.inputs),
                  len(self.outputs), self.graph.number_of_edges())
        words = ("input", "neuron", "output", "edge")
        return "Network(" + ", ".join(f"{c} {w}{'s' * (c != 1)}" for c, w in zip(counts, words)) + ")"
