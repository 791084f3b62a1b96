"""Compile a network to batched NumPy propagation: ``symdtd.compile(network)``.

The only module that calls :func:`sympy.lambdify`. The rules are not
hand-coded: each rule's numerator ``q(x, w, l, h, γ)`` comes from
:func:`symdtd.derive`; :class:`RuleKernel` splits it with SymPy into
separable terms ``f_k(x, l, h) · g_k(w, γ)`` (``Add.make_args``,
``as_independent``) and lambdifies each factor with common-subexpression
elimination. :class:`CompiledNetwork` groups the neurons into blocks — one
per topological generation and rule — whose weights are dense matrices where
the block is dense and ``scipy.sparse`` ones where it is not (skip
connections, pooling, arbitrary DAGs); :mod:`symdtd.kernels` runs them:

* forward: ``P = Σ_src A_src @ W``, ``A = max(0, P + b)`` (ReLU columns);
* backward: ``Z = Σ_k f_k(A_src) @ g_k(W)`` (the ``x·w`` term reuses ``P``),
  ``S = R / Z`` (0 where ``Z = 0``), ``R_src += Σ_k f_k(A_src) * (S @ g_k(W).T)``.

The answers are those of ``propagate(..., arithmetic="exact")`` — same
rules, same zero-denominator, bound and positive-bias conventions — in
floating point. A zero denominator gives 0 (never NaN or inf); ``Z`` also
counts as zero when parts of it computed apart cancel to rounding level
(``|Z| ≤ 2⁻³⁶ Σ|part|`` in float64, ``2⁻¹³`` in float32), as ``X @ W``
and zᴮ's folded ``−l·w⁺ − h·w⁻`` do at a box corner where every ``q`` is 0. A numerator that does not split (a user direction such as
``x·1[x w > 0]``) is evaluated edge by edge over the batch instead:
correct, but slower (``batch × edges`` work and memory).

Examples
--------
>>> import numpy as np
>>> from symdtd import Network, Box, compile
>>> net = Network.from_dense([[[1, -1], [1, 1]], [[1], [1]]], [[0, -1], [0]],
...                          input_domain=Box(0, 1))
>>> model = compile(net)
>>> X = np.array([[1.0, 0.5], [0.25, 0.0]])
>>> model.forward(X)
array([[1.5 ],
       [0.25]])
>>> e = model.explain(X)
>>> e.relevance
array([[1.  , 0.5 ],
       [0.25, 0.  ]])
>>> e.conservation.residual
array([0., 0.])
>>> [(t.f, t.g) for t in rule_kernel("zB").terms]
[(x, w), (h, -Min(0, w)), (l, -Max(0, w))]
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from operator import itemgetter

import networkx as nx
import numpy as np
import sympy as sp

from .domains import Box
from .kernels import (BatchExplanation, Block, ConservationReport, MaxPool, Matrix, Pass,
                      Segment, _add, _floats, check_inputs, check_target, use_dense)
from .network import WINNER_TAKE_ALL
from .rules import get_rule

__all__ = ["compile", "CompiledNetwork", "BatchExplanation", "ConservationReport",
           "RuleKernel", "Term", "rule_kernel", "split_separable", "lambdify"]

#: a block's edges from one generation use a dense matrix above this density
DENSE_THRESHOLD = 0.02
#: roles of a per-input quantity (``f`` side) and of a per-edge one (``g`` side)
INPUT_ROLES = ("x", "l", "h")
EDGE_ROLES = ("w", "gamma")
_weight = itemgetter("weight")
_BOUND = {(False, False): "", (False, True): ", h=x", (True, False): ", l=x",
          (True, True): ", l=h=x"}


def lambdify(args, expr):
    """``sympy.lambdify`` for NumPy with common-subexpression elimination."""
    return sp.lambdify(args, expr, modules=[np], cse=True)  # the module: no `from numpy import *`


@dataclass(frozen=True)
class Term:
    """One separable term ``f(x, l, h) · g(w, γ)`` of a numerator.

    Attributes
    ----------
    f, g : sympy.Expr
        The two factors.
    f_fn, g_fn : callable
        ``f_fn(x, l, h)`` and ``g_fn(w, gamma)``, lambdified for NumPy.
    batch : bool
        True when ``f`` depends on ``x``, i.e. changes from row to row.
    """

    f: sp.Expr
    g: sp.Expr
    f_fn: object
    g_fn: object
    batch: bool

    @property
    def is_xw(self) -> bool:
        """True for the term ``x · w`` (its products are the forward pass's)."""
        return self.f.is_Symbol and self.f.name == "x" and self.g.is_Symbol and self.g.name == "w"


def split_separable(q, edge_symbols):
    """Split *q* into ``[(f, g), …]`` with ``g`` holding every *edge_symbols*.

    Terms with the same ``f`` are merged; numeric coefficients go to ``g``.
    Returns None if some term mixes edge symbols with the others.

    >>> x, w, l = sp.symbols("x w l")
    >>> split_separable(x*w + 2*x*w**2 - l*sp.Max(0, w), [w])
    [(x, 2*w**2 + w), (l, -Max(0, w))]
    >>> split_separable(sp.Max(0, x*w), [w]) is None
    True
    """
    edge_symbols = set(edge_symbols)
    groups = {}
    for term in sp.Add.make_args(q):
        pieces = _split_term(term, edge_symbols)
        if pieces is None:  # e.g. x*(w + l): expanding separates it
            pieces = [_split_term(t, edge_symbols) for t in sp.Add.make_args(sp.expand(term))]
            if any(p is None for p in pieces):
                return None
            pieces = [p[0] for p in pieces]
        for f, g in pieces:
            groups[f] = groups.get(f, sp.Integer(0)) + g
    return [(f, g) for f, g in groups.items() if g != 0]


def _split_term(term, edge_symbols):
    coeff, rest = term.as_coeff_Mul()
    f, g = rest.as_independent(*edge_symbols, as_Add=False)
    if g.free_symbols - edge_symbols:
        return None
    return [(f, coeff * g)]


class RuleKernel:
    """The vectorised NumPy kernel of one rule, generated from its derived numerator.

    Parameters
    ----------
    rule : str or Rule
    l_is_x, h_is_x : bool
        Bind the box bounds to the input itself, as :mod:`symdtd.propagate`
        does for a ≥ 0 predecessor (``l = 0`` constant, ``h = x``), a
        real-valued one (``l = h = x``) or an infinite bound. The
        substitution is symbolic, so the split is redone on the bound ``q``
        (e.g. zᴮ on a ReLU input becomes ``x · (w − w⁻) = x · w⁺``).

    Attributes
    ----------
    q : sympy.Expr
        The numerator after binding.
    symbols : dict
        Role → symbol, for all of ``x, w, l, h, gamma``.
    terms : list of Term or None
        The separable terms; None if ``q`` does not split.
    q_fn : callable
        ``q_fn(x, w, l, h, gamma)``: the whole numerator, used by the
        edge-wise fallback and to check the split.
    """

    def __init__(self, rule, l_is_x=False, h_is_x=False):
        from .derivation import derive  # SymPy-heavy; only needed when compiling

        self.rule = get_rule(rule)
        q, syms = derive(self.rule).local_numerator()
        s = {r: syms.get(r, sp.Symbol(r, real=True)) for r in INPUT_ROLES + EDGE_ROLES}
        self.symbols = s
        self.binding = (bool(l_is_x), bool(h_is_x))
        self.q = q.xreplace({k: s["x"] for k, on in ((s["l"], l_is_x), (s["h"], h_is_x)) if on})
        self.uses_bounds = self.q.has(s["l"]) or self.q.has(s["h"])
        self.parameters = [r for r in ("gamma",) if self.q.has(s[r])]
        f_args = [s[r] for r in INPUT_ROLES]
        g_args = [s[r] for r in EDGE_ROLES]
        self.q_fn = lambdify(f_args[:1] + g_args[:1] + f_args[1:] + g_args[1:], self.q)
        pairs = split_separable(self.q, g_args)
        self.terms = None if pairs is None else [
            Term(f, g, lambdify(f_args, f), lambdify(g_args, g), f.has(s["x"]))
            for f, g in pairs]

    @property
    def separable(self) -> bool:
        """True when ``q`` splits into ``f(x, l, h) · g(w, γ)`` terms."""
        return self.terms is not None

    def source(self) -> str:
        """The generated Python source of every lambdified function, annotated.

        >>> print(rule_kernel("z+").source())  # doctest: +ELLIPSIS
        # rule z+: q(x, w, l, h, gamma) = x*Max(0, w)
        # separable: q = f_1*g_1
        # term 1: f_1 = x  (changes per row), g_1 = Max(0, w)
        def f_1(x, l, h):
            return x
        def g_1(w, gamma):
            return reduce(maximum, [0, w])...
        """
        lines = [f"# rule {self.rule.name}: q(x, w, l, h, gamma) = {self.q}"]
        if self.binding != (False, False):
            bound = [r for r, on in zip("lh", self.binding) if on]
            lines[0] += f"   (with {' and '.join(bound)} bound to x)"
        if not self.separable:
            lines.append("# not separable: evaluated edge by edge over the batch (slower)")
            lines.append(_named_source(self.q_fn, "q"))
            return "\n".join(lines)
        lines.append("# separable: q = " + " + ".join(
            f"f_{k}*g_{k}" for k in range(1, len(self.terms) + 1)))
        for k, t in enumerate(self.terms, 1):
            kind = "changes per row" if t.batch else "constant per input"
            lines.append(f"# term {k}: f_{k} = {t.f}  ({kind}), g_{k} = {t.g}")
            lines.append(_named_source(t.f_fn, f"f_{k}"))
            lines.append(_named_source(t.g_fn, f"g_{k}"))
        return "\n".join(lines)

    def __repr__(self):
        split = f"{len(self.terms)} terms" if self.separable else "not separable"
        return f"RuleKernel({self.rule.name!r}, q={self.q}, {split})"


def _named_source(fn, name):
    return inspect.getsource(fn).replace("_lambdifygenerated", name).rstrip()


@functools.lru_cache(maxsize=128)
def _kernel(rule, l_is_x, h_is_x):
    return RuleKernel(rule, l_is_x, h_is_x)


def rule_kernel(rule, l_is_x=False, h_is_x=False) -> RuleKernel:
    """The (cached) :class:`RuleKernel` of *rule* for one binding of the bounds.

    >>> rule_kernel("zB", h_is_x=True).terms[0].g   # zB on a ReLU input is z+
    w - Min(0, w)
    """
    return _kernel(get_rule(rule), bool(l_is_x), bool(h_is_x))


def compile(network, dtype=np.float64, *, maxpool=None, parameters=None,
            dense_threshold=DENSE_THRESHOLD):
    """Compile *network* to batched NumPy forward and explanation passes.

    Parameters
    ----------
    network : Network
        Numeric weights and biases (numbers or exact ``Rational``).
    dtype : {numpy.float64, numpy.float32}
    maxpool : {"winner", "proportional"}, optional
        Overrides the network's max-pooling mode.
    parameters : dict, optional
        Rule parameters, e.g. ``{"gamma": 0.5}``; default: each rule's own.
    dense_threshold : float
        Density (edges / matrix entries) from which a block's weights are
        stored as a dense matrix rather than a sparse one.

    Returns
    -------
    CompiledNetwork

    Raises
    ------
    ValueError
        A symbolic weight or bias, a cycle, a neuron without inputs, a rule
        parameter missing, a box rule on an input with a symbolic ``Box()``.
    """
    return CompiledNetwork(network, dtype, maxpool=maxpool, parameters=parameters,
                           dense_threshold=dense_threshold)


class _Generation:
    """One topological generation: forward matrices, pooling table, blocks."""

    def __init__(self, index, names):
        self.index, self.names, self.n = index, names, len(names)
        self.fwd, self.maxpool, self.blocks = [], None, []


class CompiledNetwork:
    """A network compiled to NumPy; build it with :func:`compile`.

    Attributes
    ----------
    inputs, outputs : list of str
        Input columns of ``X`` and the outputs ``target`` indexes.
    dtype : numpy.dtype
    positive_bias : list of str
        Neurons with a positive bias: their root point leaves the domain.
    rules : dict
        ``neuron -> rule name`` (``"winner"`` for winner-take-all pooling).
    n_edges : int
    """

    def __init__(self, network, dtype=np.float64, *, maxpool=None, parameters=None,
                 dense_threshold=DENSE_THRESHOLD):
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}")
        G = network.graph
        try:
            layers = network.layers()
        except nx.NetworkXUnfeasible:
            raise ValueError("the network has a cycle; compile needs a DAG") from None
        self.inputs, self.outputs = network.inputs, network.outputs
        if not layers or layers[0] != self.inputs:
            stray = [n for n in (layers or [[]])[0] if G.nodes[n]["kind"] != "input"]
            raise ValueError(f"neuron {stray[0]!r} has no inputs" if stray
                             else "the network has no inputs")
        if not self.outputs:
            raise ValueError("the network has no output neuron")
        self._names = layers
        self._pos = {n: (g, c) for g, names in enumerate(layers) for c, n in enumerate(names)}
        self._index = {n: k for k, n in enumerate(self._pos)}
        self._gen_of, self._col_of = np.array(list(self._pos.values())).reshape(-1, 2).T
        self._out = np.array([self._pos[o] for o in self.outputs]).reshape(-1, 2)
        self._domains = [G.nodes[p]["domain"] for p in self.inputs]
        self._low = np.array([_bound(d, 0) for d in self._domains])
        self._high = np.array([_bound(d, 1) for d in self._domains])
        self._bindings, self._edge_ends = {}, []
        self._kernels, self.positive_bias, self.n_edges, self.rules = {}, [], 0, {}
        self._gens = [self._generation(network, g, maxpool, parameters or {}, dense_threshold)
                      for g in range(1, len(layers))]

    # ------------------------------------------------------------------ build
    def _generation(self, network, g, maxpool, parameters, threshold):
        G, names, dtype = network.graph, self._names[g], self.dtype
        gen = _Generation(g, names)
        kinds, biases, attrs, srcs, dsts, ws = [], [], [], [], [], []
        for c, v in enumerate(names):
            data, pred = G.nodes[v], G._pred[v]  # the adjacency dict: bulk reads are 3× faster
            kinds.append(data["kind"])
            biases.append(data["bias"])
            attrs.append(data["rule"])
            srcs.extend(pred)
            try:
                ws.extend(map(_weight, pred.values()))
            except KeyError:
                u = next(u for u, e in pred.items() if "weight" not in e)
                raise ValueError(f"weight of edge {u!r} -> {v!r} is missing") from None
            dsts.extend([c] * len(pred))
        w = _floats(ws, lambda k: f"weight of edge {srcs[k]!r} -> {names[dsts[k]]!r}")
        b = _floats(biases, lambda k: f"bias of neuron {names[k]!r}")
        kinds = np.array(kinds)
        affine_col = np.isin(kinds, ("relu", "linear"))
        self.positive_bias += [names[k] for k in np.flatnonzero(affine_col & (b > 0))]
        node = np.fromiter(map(self._index.__getitem__, srcs), np.int64, len(srcs))
        sg, sc = self._gen_of[node], self._col_of[node]
        dst = np.array(dsts, dtype=np.int64)
        rules = self._rules(network, names, kinds, attrs, sg, sc, dst, maxpool)
        e_id = np.arange(self.n_edges, self.n_edges + len(w))
        self.n_edges += len(w)
        self._edge_ends.append((srcs, dst))
        gen.bias = b.astype(dtype)
        relu = kinds == "relu"
        gen.floor = (0.0 if relu.all() else None if not relu.any()
                     else np.where(relu, 0.0, -np.inf).astype(dtype))
        pool = kinds == "maxpool"
        for s in np.unique(sg[~pool[dst]]):
            m = ~pool[dst] & (sg == s)
            gen.fwd.append((s, _matrix(sc[m], dst[m], w[m], (len(self._names[s]), gen.n),
                                       dtype, threshold)))
        if pool.any():
            gen.maxpool = self._maxpool_table(gen, np.flatnonzero(pool), pool[dst], sg, sc, dst,
                                              e_id)
        groups = {}
        for c, rule in enumerate(rules):
            groups.setdefault(id(rule), (rule, []))[1].append(c)
        block_of = np.empty(gen.n, dtype=np.int64)
        for k, (rule, cols) in enumerate(groups.values()):
            block_of[cols] = k
        for k, (rule, cols) in enumerate(groups.values()):
            self.rules.update((names[c], getattr(rule, "name", rule)) for c in cols)
            cols = np.array(cols)
            if rule == WINNER_TAKE_ALL:
                gen.blocks.append(Block(g, cols, gen.n, "winner", [], None, dtype, gen.maxpool))
                continue
            local = np.full(gen.n, -1)
            local[cols] = np.arange(len(cols))
            em = block_of[dst] == k
            segs = self._segments(network, rule, parameters, threshold, len(cols), sg[em], sc[em],
                                  local[dst[em]], e_id[em], w[em])
            bplus = np.where(affine_col[cols], np.maximum(b[cols], 0), 0)
            gen.blocks.append(Block(g, cols, gen.n, rule, segs, bplus, dtype,
                                    affine=not pool[cols].any()))
        gen.keep_p = any(bl.reuse for bl in gen.blocks)
        return gen

    def _rules(self, network, names, kinds, attrs, sg, sc, dst, maxpool):
        """``network.rule_for`` of every neuron, asked once per distinct (kind, rule
        attribute, classes of the predecessors) — what the rule choice depends on."""
        present = np.zeros(len(names), dtype=np.int64)
        code = np.concatenate([self._classes(network, s) for s in range(len(self._names))])
        offsets = np.cumsum([0] + [len(n) for n in self._names])
        edge_code = code[offsets[sg] + sc]
        for k in range(3):
            present |= (np.bincount(dst[edge_code == k], minlength=len(names)) > 0) << k
        cache, rules = {}, []
        for c, v in enumerate(names):
            attr = attrs[c] if attrs[c] is None or isinstance(attrs[c], str) else id(attrs[c])
            key = (kinds[c], attr, present[c])
            if key not in cache:
                cache[key] = network.rule_for(v, maxpool=maxpool)
            rules.append(cache[key])
        return rules

    def _classes(self, network, s):
        """``network.input_class`` of generation *s*'s nodes: 0 positive, 1 box, 2 real."""
        key = ("classes", s)
        if key not in self._bindings:
            codes = {"positive": 0, "box": 1, "real": 2}
            self._bindings[key] = np.array([codes[network.input_class(n)]
                                            for n in self._names[s]], dtype=np.int64)
        return self._bindings[key]

    def _segments(self, network, rule, parameters, threshold, n_out, sg, sc, dst, e_id, w):
        base = rule_kernel(rule)
        gamma = _parameter(rule, "gamma", parameters) if base.parameters else None
        segs = []
        for s in np.unique(sg):
            m = np.flatnonzero(sg == s)
            n_s = len(self._names[s])
            lx, hx, lv, hv = self._binding(network, s, rule) if base.uses_bounds else (
                np.zeros(n_s, bool), np.zeros(n_s, bool), np.zeros(n_s), np.zeros(n_s))
            key = lx[sc[m]] * 2 + hx[sc[m]]
            for k in np.unique(key):
                mk = m[key == k]
                kernel = rule_kernel(rule, bool(k & 2), bool(k & 1))
                self._kernels[(rule.name, kernel.binding)] = kernel
                segs.append(Segment(kernel, s, n_s, sc[mk], dst[mk], e_id[mk], w[mk], lv, hv,
                                    gamma, n_out, self.dtype, threshold))
        return segs

    def _binding(self, network, s, rule):
        """Box bounds of generation *s*'s nodes as propagate uses them: (l is x,
        h is x, l value, h value); ≥ 0 nodes act as [0, x], real ones as [x, x]."""
        if s not in self._bindings:
            rows = []
            for node in self._names[s]:
                kind = network.input_class(node)
                if kind == "box":
                    d = network.graph.nodes[node]["domain"]
                    if d.symbolic:
                        raise ValueError(f"input {node!r} has a symbolic Box(); rule {rule.name!r} "
                                         "needs numeric bounds to be compiled")
                    lo, hi = float(d.low), float(d.high)
                    rows.append((np.isinf(lo), np.isinf(hi), 0.0 if np.isinf(lo) else lo,
                                 0.0 if np.isinf(hi) else hi))
                else:
                    rows.append((kind == "real", True, 0.0, 0.0))
            lx, hx, lv, hv = (np.array(col) for col in zip(*rows))
            self._bindings[s] = (lx.astype(bool), hx.astype(bool), lv.astype(float),
                                 hv.astype(float))
        return self._bindings[s]

    def _maxpool_table(self, gen, cols, mask, sg, sc, dst, e_id):
        sources, offsets, total = [], {}, 0
        for s in np.unique(sg[mask]):
            n = len(self._names[s])
            sources.append((int(s), total, n))
            offsets[s] = total
            total += n
        position = np.full(gen.n, -1)
        position[cols] = np.arange(len(cols))
        k = position[dst[mask]]
        fan = np.bincount(k, minlength=len(cols))
        rank = np.arange(len(k)) - np.concatenate([[0], np.cumsum(fan)[:-1]])[k]
        idx = np.full((len(cols), fan.max()), total)
        edge_idx = np.zeros((len(cols), fan.max()), dtype=np.int64)
        idx[k, rank] = np.array([offsets[s] for s in sg[mask]]) + sc[mask]
        edge_idx[k, rank] = e_id[mask]
        return MaxPool(cols, gen.n, sources, idx, edge_idx)

    # ------------------------------------------------------------------- run
    def forward(self, X):
        """The outputs for a batch.

        Parameters
        ----------
        X : array-like, shape (batch, n_inputs)
            Columns in the order of :attr:`inputs` (a 1-D array is one row).
            Values outside the input domains are allowed here (not NaN/inf).

        Returns
        -------
        numpy.ndarray, shape (batch, len(outputs))
        """
        X = check_inputs(X, self.inputs, self._domains, self._low, self._high, self.dtype,
                         domain=False)
        A, _, _ = self._forward(X)
        return np.stack([A[g][:, c] for g, c in self._out], axis=1)

    def explain(self, X, target=None, *, return_neurons=False, return_edges=False,
                absorb_bias=False):
        """Deep Taylor decomposition of one output per row onto the inputs.

        Parameters
        ----------
        X : array-like, shape (batch, n_inputs)
            Columns in the order of :attr:`inputs` (a 1-D array is one row);
            every value must lie in its input's domain.
        target : int, str or array-like, optional
            Index into :attr:`outputs` (or an output's name), or one per row.
            Optional when there is a single output.
        return_neurons : bool
            Also return every neuron's relevance.
        return_edges : bool
            Also return every edge's message (``batch × edges`` memory).
        absorb_bias : bool
            Put ``b⁺`` in the denominators, as ``propagate(absorb_bias=True)``.

        Returns
        -------
        BatchExplanation

        Raises
        ------
        ValueError
            Wrong width or dtype of ``X``, NaN or inf in ``X``, a value outside
            its input's domain, a ``target`` out of range; the message names
            the argument and the offending rows.
        """
        X = check_inputs(X, self.inputs, self._domains, self._low, self._high, self.dtype)
        t = check_target(target, len(X), self.outputs)
        A, P, slots = self._forward(X)
        sizes = [len(n) for n in self._names]
        ps = Pass(A, P, slots, sizes, self.n_edges if return_edges else None, absorb_bias)
        batch = len(X)
        og, oc = self._out[t, 0], self._out[t, 1]
        x_f = np.empty(batch, self.dtype)
        for g in np.unique(og):
            rows = np.flatnonzero(og == g)
            x_f[rows] = A[g][rows, oc[rows]]
            ps.R[g] = np.zeros((batch, sizes[g]), self.dtype)
            ps.R[g][rows, oc[rows]] = x_f[rows]
        totals = {}
        for gen in reversed(self._gens):
            Rg = ps.R[gen.index]
            for block in gen.blocks:
                Rb = None if Rg is None else Rg if block.full else Rg[:, block.cols]
                totals[block] = np.zeros(batch) if Rb is None else Rb.sum(axis=1, dtype=float)
                if Rb is not None and Rb.any():
                    block.run(ps, Rb)
        blocks = [(f"generation {b.gen}: {b.name} ({len(b.cols)} neurons)", totals[b])
                  for gen in self._gens for b in gen.blocks]
        R = [r if r is not None else np.zeros((batch, n), self.dtype) for r, n in zip(ps.R, sizes)]
        report = ConservationReport(R[0].sum(axis=1, dtype=float) - x_f, x_f.astype(float), ps.lost,
                                    ps.zero_count, ps.absorbed, blocks,
                                    list(self.positive_bias), self.dtype)
        neurons = np.concatenate(R[1:], axis=1) if return_neurons else None
        return BatchExplanation(R[0], x_f, t, self.inputs, self.outputs, report, neurons,
                                [n for names in self._names[1:] for n in names] if return_neurons
                                else None, ps.edges, self.edge_names() if return_edges else None)

    def _forward(self, X):
        A, P, slots = [X], [None], [None]
        for gen in self._gens:
            Pg = None
            for src, M in gen.fwd:
                Pg = _add(Pg, M.left(A[src]))
            if Pg is None:
                Pg = np.zeros((len(X), gen.n), self.dtype)
            if gen.keep_p:
                Ag = Pg + gen.bias
            else:
                Ag = Pg
                Ag += gen.bias
            if gen.floor is not None:
                np.maximum(Ag, gen.floor, out=Ag)
            slots.append(gen.maxpool.forward(A, Ag) if gen.maxpool else None)
            A.append(Ag)
            P.append(Pg if gen.keep_p else None)
        return A, P, slots

    # --------------------------------------------------------------- display
    def edge_names(self):
        """``[(source, target), …]`` in the order of the ``edges`` columns."""
        return [(u, names[c]) for names, (srcs, dst) in zip(self._names[1:], self._edge_ends)
                for u, c in zip(srcs, dst.tolist())]

    @property
    def kernels(self):
        """``{(rule name, binding): RuleKernel}`` of the rules in use."""
        return dict(self._kernels)

    def source(self):
        """The generated NumPy source of every rule kernel in use (for teaching)."""
        return "\n\n".join(k.source() for k in self._kernels.values())

    def describe(self):
        """One line per block: generation, rule, size, and each source's storage.

        >>> from symdtd import examples
        >>> print(compile(examples.skip_dag()).describe())
        generation 1: zB, 2 neurons
            from generation 0: 3×2 dense, 3 edges
            from generation 0: 3×2 dense, 2 edges, h=x
        generation 2: z+, 1 neurons
            from generation 1: 2×1 dense, 2 edges
        generation 3: zB, 1 neurons
            from generation 0: 3×1 dense, 1 edges
            from generation 1: 2×1 dense, 1 edges, h=x
            from generation 2: 1×1 dense, 1 edges, h=x
        """
        lines = []
        for gen in self._gens:
            for b in gen.blocks:
                lines.append(f"generation {gen.index}: {b.name}, {len(b.cols)} neurons")
                lines += [f"    from generation {s.src}: {s.n_src}×{len(b.cols)} "
                          f"{'dense' if s.dense else 'sparse'}, {len(s.e_id)} edges"
                          f"{_BOUND[s.kernel.binding]}{'' if s.kernel.separable else ', edge-wise'}"
                          for s in b.segments] or ["    a max-pool table (winner takes all)"]
        return "\n".join(lines)

    def __repr__(self):
        n_blocks = sum(len(g.blocks) for g in self._gens)
        return (f"CompiledNetwork({len(self.inputs)} inputs, {len(self.outputs)} outputs, "
                f"{len(self._gens)} generations, {n_blocks} blocks, {self.dtype})")


# ------------------------------------------------------------------ helpers
def _bound(domain, side):
    if isinstance(domain, Box) and domain.symbolic:
        return (-np.inf, np.inf)[side]
    low, high = domain.bounds(1)
    return float((low, high)[side][0])


def _parameter(rule, name, parameters):
    if name in parameters:
        return float(parameters[name])
    if name in rule.parameters:
        return float(rule.parameters[name])
    raise ValueError(f"rule {rule.name!r} needs parameter {name!r}; "
                     f"pass compile(..., parameters={{{name!r}: value}})")


def _matrix(rows, cols, values, shape, dtype, threshold):
    return Matrix(rows, cols, values, shape, dtype, use_dense(len(values), shape, threshold))
