"""Networks of ReLU neurons as a networkx DAG carrying SymPy expressions.

A :class:`Network` wraps an ``nx.DiGraph`` (``network.graph``): one node per
neuron, one edge per connection. These attribute names are the contract used
by every other module (propagation, compilation, rendering, JSON):

Node attributes
    ``kind``
        ``"input"``, ``"relu"`` (``x = max(0, z)``), ``"linear"`` (``x = z``,
        an output that may be negative), ``"sumpool"`` (``x = Σ x_i``) or
        ``"maxpool"`` (``x = max_i x_i``).
    ``bias``
        ``b`` in ``z = Σ_i x_i w_i + b`` (``0`` for inputs and pools).
    ``domain``
        Inputs only: a :class:`~symdtd.domains.Domain` (``Real``, ``Positive``
        or a scalar ``Box``).
    ``rule``
        ``None`` (the default deep Taylor choice, see :meth:`Network.rule_for`),
        a rule name or a :class:`~symdtd.rules.Rule`; for max-pooling also
        ``"winner"`` or ``"proportional"``. Always ``None`` on inputs.
    ``symbol``
        The SymPy symbol of the neuron's activation (named like the node;
        nonnegative for inputs in ℝ₊, ReLU and pooling neurons).
    ``expr``
        The activation as a SymPy expression in the predecessors' symbols,
        e.g. ``Max(0, x1 - x2/2)``; an input's ``expr`` is its symbol. It is
        built on first read and cached, so large dense networks stay cheap.

Edge attribute
    ``weight``
        A Python number, a SymPy ``Rational`` or a SymPy symbol. Pooling
        edges carry weight ``1``.

Node names are strings. ``network.inputs`` lists the input nodes in insertion
order; ``network.outputs`` the output neurons (by default the neurons that
feed nothing, in insertion order). Build through the methods; after editing
``graph`` directly, call :meth:`Network.changed` (or :meth:`Network.validate`)
so cached expressions and the numeric forward plan are rebuilt.

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

import math
from fractions import Fraction
from functools import partial
from numbers import Number

import networkx as nx
import numpy as np
import sympy as sp

from .domains import Box, Domain, Positive, Real
from .rules import Rule, get_rule

__all__ = ["Network", "KINDS", "WINNER_TAKE_ALL", "as_weight"]

KINDS = ("input", "relu", "linear", "sumpool", "maxpool")
#: what :meth:`Network.rule_for` returns for a winner-take-all max-pooling neuron
WINNER_TAKE_ALL = "winner"
_MAXPOOL_MODES = ("winner", "proportional")
#: kinds whose activation is ≥ 0 (their successors see inputs in ℝ₊)
POSITIVE_KINDS = ("relu", "sumpool", "maxpool")


def as_weight(value, what):
    """Check and normalise a weight or bias; *what* names it in errors.

    Numbers stay Python numbers, ``Fraction`` and fraction strings (``"3/4"``)
    become ``Rational``; SymPy symbols are kept.

    >>> as_weight("3/4", "weight of edge a -> b")
    3/4
    >>> as_weight(float("nan"), "bias of neuron h")
    Traceback (most recent call last):
    ...
    ValueError: bias of neuron h is not finite (nan)
    """
    if value is None:
        raise ValueError(f"{what} is missing")
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be a number, got a bool")
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Fraction):
        value = sp.Rational(value.numerator, value.denominator)
    elif isinstance(value, str):
        try:
            value = sp.Rational(value)
        except (TypeError, ValueError, ZeroDivisionError, sp.SympifyError):
            raise ValueError(f"{what} {value!r} is not a number or a fraction like '3/4'") from None
    if isinstance(value, sp.Basic):
        if value.is_number and not value.is_finite:
            raise ValueError(f"{what} is not finite ({value})")
        if not value.is_number and not value.free_symbols:
            raise ValueError(f"{what} must be a number or a symbol, got {value}")
        return value
    if not isinstance(value, Number) or isinstance(value, complex):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{what} is not finite ({value})")
    return value


class _NodeAttributes(dict):
    """A node's attribute dict that builds ``expr`` on first read (then caches it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.builder = None

    def __missing__(self, key):
        if key == "expr" and self.builder is not None:
            value = self["expr"] = self.builder()
            return value
        raise KeyError(key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key):
        return dict.__contains__(self, key) or (key == "expr" and self.builder is not None)


class _Graph(nx.DiGraph):
    node_attr_dict_factory = _NodeAttributes


class Network:
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
        if maxpool not in _MAXPOOL_MODES:
            raise ValueError(f"maxpool must be one of {_MAXPOOL_MODES}, got {maxpool!r}")
        self.graph = _Graph()
        self.maxpool = maxpool
        self._outputs = None
        self._version = 0  # bumped on every change; keys the numeric forward plan
        self._plan = None

    # ----------------------------------------------------------------- builders
    def add_input(self, name, domain=None):
        """Add an input variable with its domain (default ``Positive()``)."""
        domain = Positive() if domain is None else domain
        self._check_new_name(name)
        if not isinstance(domain, Domain):
            raise TypeError(f"input {name!r}: domain must be a Domain, got {type(domain).__name__}")
        if isinstance(domain, Box) and (isinstance(domain.low, list) or isinstance(domain.high, list)):
            raise ValueError(f"input {name!r}: give a Box with scalar bounds (one input, one box)")
        nonnegative = isinstance(domain, Positive) or (
            isinstance(domain, Box) and not domain.symbolic and domain.low >= 0)
        symbol = sp.Symbol(name, nonnegative=True) if nonnegative else sp.Symbol(name, real=True)
        self._add_node(name, kind="input", bias=0, domain=domain, rule=None, symbol=symbol)

    def add_neuron(self, name, inputs, bias=0, kind="relu", rule=None):
        """Add a neuron ``x = max(0, Σ_i x_i w_i + b)`` (or ``x = z`` if linear).

        Parameters
        ----------
        name : str
        inputs : dict
            ``{source name: weight}``; sources must already be in the network.
        bias : number, optional
        kind : {"relu", "linear"}
        rule : str or Rule, optional
            Overrides the default rule (see :meth:`rule_for`).
        """
        if kind not in ("relu", "linear"):
            raise ValueError(f"neuron {name!r}: kind must be 'relu' or 'linear', got {kind!r}")
        self._check_new_name(name)
        if not isinstance(inputs, dict):
            raise TypeError(f"neuron {name!r}: inputs must be a dict {{source: weight}}")
        edges = self._check_sources(name, list(inputs))
        weights = [as_weight(inputs[s], f"weight of edge {s!r} -> {name!r}") for s in edges]
        bias = as_weight(bias, f"bias of neuron {name!r}")
        _check_rule(name, rule, kind)
        self._add_node(name, kind=kind, bias=bias, rule=rule, symbol=_neuron_symbol(name, kind),
                       edges=zip(edges, weights))

    def add_sum_pool(self, name, inputs, rule=None):
        """Add a sum-pooling neuron ``x = Σ_i x_i`` over the nodes *inputs*."""
        self._add_pool(name, inputs, "sumpool", rule)

    def add_max_pool(self, name, inputs, rule=None):
        """Add a max-pooling neuron ``x = max_i x_i``; *rule* may be ``"winner"``
        or ``"proportional"`` (default: the network's ``maxpool`` setting)."""
        self._add_pool(name, inputs, "maxpool", rule)

    def _add_pool(self, name, inputs, kind, rule):
        self._check_new_name(name)
        if isinstance(inputs, (str, dict)) or not hasattr(inputs, "__iter__"):
            raise TypeError(f"pooling neuron {name!r}: inputs must be a list of node names")
        sources = self._check_sources(name, list(inputs))
        _check_rule(name, rule, kind)
        self._add_node(name, kind=kind, bias=0, rule=rule, symbol=_neuron_symbol(name, kind),
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
        self.graph.add_node(name, **attrs)
        self.graph.add_edges_from(edges)
        self.graph.nodes[name].builder = partial(Network._build_expr, self, name)
        self._version += 1

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

        net = cls(maxpool=maxpool)
        for name, domain in zip(names[0], domains):
            net.add_input(name, domain)
        for k, (W, b) in enumerate(zip(mats, biases)):
            kind = "linear" if k == len(mats) - 1 else "relu"
            src, dst = names[k], names[k + 1]
            # plain tuples and Python numbers: 266k edges build in well under a second
            net.graph.add_nodes_from((d, {"kind": kind, "bias": b[j], "rule": None,
                                          "symbol": _neuron_symbol(d, kind)})
                                     for j, d in enumerate(dst))
            net.graph.add_edges_from((s, d, {"weight": W[i][j]})
                                     for i, s in enumerate(src) for j, d in enumerate(dst))
            for d in dst:
                net.graph.nodes[d].builder = partial(Network._build_expr, net, d)
        net._version += 1
        return net

    # ---------------------------------------------------------------- structure
    @property
    def inputs(self):
        """Names of the input nodes, in insertion order."""
        return [n for n, kind in self.graph.nodes(data="kind") if kind == "input"]

    @property
    def outputs(self):
        """Names of the output neurons (default: neurons feeding nothing)."""
        if self._outputs is not None:
            return list(self._outputs)
        return [n for n, kind in self.graph.nodes(data="kind")
                if kind != "input" and self.graph.out_degree(n) == 0]

    @outputs.setter
    def outputs(self, names):
        if names is not None:
            names = list(names)
            for n in names:
                if n not in self.graph or self.graph.nodes[n]["kind"] == "input":
                    raise ValueError(f"output {n!r} is not a neuron of the network")
        self._outputs = names

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
            net.graph.nodes[node].builder = partial(Network._build_expr, net, node)
        net.graph.add_edges_from((u, v, dict(d)) for u, v, d in self.graph.edges(data=True))
        net._outputs = None if self._outputs is None else list(self._outputs)
        net._version += 1
        return net

    def changed(self):
        """Forget cached ``expr`` attributes and the forward plan (after direct edits)."""
        for data in self.graph.nodes.values():
            if getattr(data, "builder", None) is not None:
                data.pop("expr", None)
        self._version += 1

    def validate(self):
        """Check the whole graph (after direct edits of ``graph``): ValueError if wrong.

        Checks acyclicity, kinds, that every neuron has inputs, weights and
        biases, and input domains; then calls :meth:`changed`.
        """
        self.changed()
        try:
            cycle = nx.find_cycle(self.graph)
        except nx.NetworkXNoCycle:
            cycle = None
        if cycle:
            path = " -> ".join([str(u) for u, _ in cycle] + [str(cycle[0][0])])
            raise ValueError(f"the network has a cycle: {path}")
        for node, data in self.graph.nodes(data=True):
            kind = data.get("kind")
            if kind not in KINDS:
                raise ValueError(f"node {node!r}: kind must be one of {KINDS}, got {kind!r}")
            if kind == "input":
                if self.graph.in_degree(node):
                    raise ValueError(f"input {node!r} has incoming edges")
                if not isinstance(data.get("domain"), Domain):
                    raise ValueError(f"input {node!r}: domain must be a Domain")
                continue
            if not self.graph.in_degree(node):
                raise ValueError(f"neuron {node!r} has no inputs")
            as_weight(data.get("bias"), f"bias of neuron {node!r}")
            _check_rule(node, data.get("rule"), kind)
            for source, edge in self.graph.pred[node].items():
                as_weight(edge.get("weight"), f"weight of edge {source!r} -> {node!r}")

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
        if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
            layers = self.layers()
            if not 0 <= target < len(layers):
                raise ValueError(f"layer {target} does not exist; the network has {len(layers)}")
            names = [n for n in layers[target] if self.graph.nodes[n]["kind"] != "input"]
        elif isinstance(target, str):
            names = [target]
        else:
            names = list(target)
        for name in names:  # validate all before changing any
            if name not in self.graph:
                raise ValueError(f"set_rule: {name!r} is not in the network")
            kind = self.graph.nodes[name]["kind"]
            if kind == "input":
                raise ValueError(f"set_rule: {name!r} is an input; inputs have no rule")
            _check_rule(name, rule, kind)
        for name in names:
            self.graph.nodes[name]["rule"] = rule
        self._version += 1

    def rule_for(self, node, maxpool=None):
        """The rule used to redistribute *node*'s relevance onto its inputs.

        Without an override the deep Taylor choice is made from the
        predecessors: z⁺ when all are ≥ 0 (ReLU, pooling, ℝ₊ inputs); zᴮ when
        some are box inputs and none is real-valued (then a ≥ 0 predecessor
        acts as the box ``[0, x_i]``, which gives its z⁺ term); w² when a
        predecessor is real-valued (ℝ input or linear neuron). Sum-pooling
        and proportional max-pooling use the z rule with unit weights
        (``[x_j]_i = x_i / Σ x_i' · x_j``).

        Returns
        -------
        Rule or str
            A :class:`~symdtd.rules.Rule`, or :data:`WINNER_TAKE_ALL` for a
            winner-take-all max-pooling neuron.
        """
        if node not in self.graph:
            raise ValueError(f"{node!r} is not in the network")
        data = self.graph.nodes[node]
        kind, rule = data["kind"], data["rule"]
        if kind == "input":
            raise ValueError(f"{node!r} is an input; inputs have no rule")
        if kind == "maxpool":
            mode = rule if rule in _MAXPOOL_MODES else None
            if rule is None:
                mode = maxpool or self.maxpool
            if mode == "winner":
                return WINNER_TAKE_ALL
            if mode == "proportional":
                return get_rule("z")
        if rule == "proportional":
            return get_rule("z")
        if rule is not None:
            return get_rule(rule)
        if kind == "sumpool":
            return get_rule("z")
        kinds = {self.input_class(p) for p in self.graph.pred[node]}
        if "real" in kinds:
            return get_rule("w2")
        if "box" in kinds:
            return get_rule("zB")
        return get_rule("z+")

    def input_class(self, node):
        """``"positive"``, ``"box"`` or ``"real"``: the values *node* can take.

        ReLU and pooling outputs and ℝ₊ inputs are ``"positive"``, box inputs
        ``"box"``, ℝ inputs and linear neurons ``"real"``.
        """
        data = self.graph.nodes[node]
        if data["kind"] in POSITIVE_KINDS:
            return "positive"
        if data["kind"] == "linear" or isinstance(data["domain"], Real):
            return "real"
        return "box" if isinstance(data["domain"], Box) else "positive"

    # ------------------------------------------------------------------ forward
    def _build_expr(self, node):
        data = self.graph.nodes[node]
        kind = data["kind"]
        if kind == "input":
            return data["symbol"]
        preds = self.graph.pred[node]
        args = [self.graph.nodes[p]["symbol"] for p in preds]
        if kind == "sumpool":
            return sp.Add(*args)
        if kind == "maxpool":
            return sp.Max(*args)
        z = sp.Add(*[sp.sympify(e["weight"]) * a for a, e in zip(args, preds.values())],
                   sp.sympify(data["bias"]))
        return sp.Max(0, z) if kind == "relu" else z

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
        X = np.asarray(X, dtype=float)
        single = X.ndim == 1
        X = np.atleast_2d(X)
        inputs = self.inputs
        if X.ndim != 2 or X.shape[1] != len(inputs):
            raise ValueError(f"X must have shape (batch, {len(inputs)}), got {np.shape(X)}")
        order, index, steps = self._numeric_plan()
        A = np.zeros((X.shape[0], len(order)))
        A[:, [index[n] for n in inputs]] = X
        for k, kind, pred_idx, w, b in steps:
            if kind == "maxpool":
                A[:, k] = A[:, pred_idx].max(axis=1)
                continue
            z = A[:, pred_idx] @ w + b
            A[:, k] = np.maximum(z, 0.0) if kind == "relu" else z
        if nodes:
            return {n: (A[0, index[n]] if single else A[:, index[n]]) for n in order}
        out = A[:, [index[n] for n in self.outputs]]
        return out[0] if single else out

    def _numeric_plan(self):
        if self._plan is not None and self._plan[0] == self._version:
            return self._plan[1]
        order = list(nx.topological_sort(self.graph))
        index = {n: k for k, n in enumerate(order)}
        steps = []
        for n in order:
            data = self.graph.nodes[n]
            if data["kind"] == "input":
                continue
            preds = self.graph.pred[n]
            try:
                w = np.array([float(e["weight"]) for e in preds.values()])
                b = float(data["bias"])
            except TypeError:
                raise ValueError(f"neuron {n!r}: the numeric forward pass needs numeric "
                                 "weights and bias, not symbols") from None
            steps.append((index[n], data["kind"], np.array([index[p] for p in preds]), w, b))
        self._plan = (self._version, (order, index, steps))
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
        from .propagate import forward_values  # propagate imports this module

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
        if output not in self.graph or self.graph.nodes[output]["kind"] == "input":
            raise ValueError(f"output {output!r} is not a neuron of the network")
        return output

    def __repr__(self):
        counts = (len(self.inputs), self.graph.number_of_nodes() - len(self.inputs),
                  len(self.outputs), self.graph.number_of_edges())
        words = ("input", "neuron", "output", "edge")
        return "Network(" + ", ".join(f"{c} {w}{'s' * (c != 1)}" for c, w in zip(counts, words)) + ")"


def _neuron_symbol(name, kind):
    return sp.Symbol(name, nonnegative=True) if kind in POSITIVE_KINDS else sp.Symbol(name, real=True)


def _check_rule(name, rule, kind):
    if rule is None or (kind == "maxpool" and rule in _MAXPOOL_MODES):
        return
    if rule == "proportional" and kind in ("sumpool", "maxpool"):
        return
    if isinstance(rule, Rule):
        return
    if not isinstance(rule, str):
        raise TypeError(f"neuron {name!r}: rule must be a name or a Rule, got {type(rule).__name__}")
    try:
        get_rule(rule)
    except ValueError as err:
        raise ValueError(f"neuron {name!r}: {err}") from None


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
        if len(lows) != n or len(highs) != n:
            raise ValueError(f"input_domain: the Box has {len(lows)} bounds for {n} inputs")
        return [Box(lo, hi) for lo, hi in zip(lows, highs)]
    return [domain] * n
