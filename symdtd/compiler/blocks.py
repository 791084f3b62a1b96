"""Lay a network out as blocks of neurons: the build step of :func:`~symdtd.compiler.compiled.compile`.

Each topological generation becomes one :class:`Generation`: its forward
matrices (one per source generation), its max-pooling table and its blocks,
one per rule (:class:`~symdtd.compiler.kernels.Block`). A block's edges from one source
generation, for one binding of the box bounds, form a
:class:`~symdtd.compiler.segments.Segment`; each matrix is stored dense or sparse by the
density of its edges (:func:`~symdtd.compiler.segments.use_dense`, ``dense_threshold``).
The rule of every neuron is the composite's
(:func:`symdtd.network.rule_choice.rule_for`), asked once per distinct (kind,
rule attribute, classes of the predecessors) when the composite's choice
depends on nothing else (``composite.by_class``), else once per neuron. A
pooling rule's redistribution is its own: winner-take-all runs on the
generation's max-pool table, proportional pooling as the z rule with unit
weights (:mod:`symdtd.network.pooling`). The rule kernels come
from the caller (:func:`symdtd.compiler.rule_kernels.rule_kernel`), so this module itself
uses no SymPy.

Examples
--------
>>> import numpy as np
>>> from symdtd import examples
>>> from symdtd.compiler.rule_kernels import rule_kernel
>>> blocks = NetworkBlocks(examples.skip_dag(), np.float64, rule_kernel)
>>> [(gen.index, [(b.name, len(b.cols)) for b in gen.blocks]) for gen in blocks.gens]
[(1, [('zB', 2)]), (2, [('z+', 1)]), (3, [('zB', 1)])]
>>> blocks.n_edges, blocks.edge_names()[:2]
(10, [('x1', 'h1'), ('x2', 'h1')])
"""
from __future__ import annotations

from operator import itemgetter

import networkx as nx
import numpy as np

from ..network.kind_registry import kind_named, positive_bias
from ..network.pooling import PoolingRule, WinnerTakeAll
from ..network.rule_choice import as_composite, rule_for
from .batch import as_floats
from .kernels import Block, MaxPool
from .segments import Matrix, Segment, SegmentEdges, SourceBounds, Storage, use_dense

__all__ = ["NetworkBlocks", "Generation", "DENSE_THRESHOLD"]

#: a block's edges from one generation use a dense matrix above this density
DENSE_THRESHOLD = 0.02
_weight = itemgetter("weight")
_BOUND = {(False, False): "", (False, True): ", h=x", (True, False): ", l=x",
          (True, True): ", l=h=x"}


class Generation:
    """One topological generation: forward matrices, pooling table, blocks.

    Attributes
    ----------
    index : int
        The generation's number (0 is the inputs).
    names : list of str
        Its neurons, in column order.
    fwd : list of (int, Matrix)
        Source generation and weight matrix of each forward product.
    maxpool : MaxPool or None
        The table of the selecting (max-pooling) neurons.
    blocks : list of Block
    activations : list of (NeuronKind, ndarray or None)
        Each kind whose activation is not ``x = z``, with its columns
        (``None``: the whole generation); its
        :meth:`~symdtd.network.kinds.NeuronKind.activate_batch` applies it.
    bias, keep_p
        The bias row and whether the pre-activation is kept for the backward pass.
    """

    def __init__(self, index, names):
        self.index, self.names, self.n = index, names, len(names)
        self.fwd, self.maxpool, self.blocks = [], None, []


class NetworkBlocks:
    """A network's neurons grouped into blocks, with the weights as matrices.

    Parameters
    ----------
    network : Network
        Numeric weights and biases.
    dtype : numpy.dtype
        float32 or float64 (the caller checks it).
    kernel_for : callable
        ``kernel_for(rule, l_is_x=False, h_is_x=False)`` returns the rule's
        :class:`~symdtd.compiler.rule_kernels.RuleKernel`: :func:`symdtd.compiler.rule_kernels.rule_kernel`.
    composite : Composite, optional
        Chooses each neuron's rule (:mod:`symdtd.network.composites`).
    dense_threshold : float
        As for :func:`~symdtd.compiler.compiled.compile`.

    Attributes
    ----------
    inputs, outputs : list of str
    names : list of list of str
        The neurons of each generation, in column order.
    gens : list of Generation
        Generations 1, 2, … (generation 0 is the inputs).
    out : ndarray of int, shape (n_outputs, 2)
        Generation and column of each output.
    positive_bias : list of str
    rules : dict
        ``neuron -> rule name`` (``"winner"``, ``"proportional"`` for pooling rules).
    n_edges : int
    edge_ends : list of (list of str, ndarray)
        Per generation: the source and destination column of each edge.
    kernels : dict
        ``{(rule name, binding): RuleKernel}`` of the rules in use.

    Raises
    ------
    ValueError
        A cycle, a neuron without inputs, no inputs or outputs, a symbolic
        weight or bias, a rule parameter missing, a box rule on an input with
        a symbolic ``Box()``.
    """

    def __init__(self, network, dtype, kernel_for, *, composite=None,
                 dense_threshold=DENSE_THRESHOLD):
        self.dtype = np.dtype(dtype)
        self._kernel_for = kernel_for
        if hasattr(network, "_sync"):
            network._sync()  # direct edits of the graph are checked first
        G = network.graph
        try:
            layers = network.layers()
        except nx.NetworkXUnfeasible:
            raise ValueError("the network has a cycle; compile needs a DAG") from None
        self.inputs, self.outputs = network.inputs, network.outputs
        if not layers or layers[0] != self.inputs:
            stray = [n for n in (layers or [[]])[0] if not kind_named(G.nodes[n]["kind"]).is_input]
            raise ValueError(f"neuron {stray[0]!r} has no inputs" if stray
                             else "the network has no inputs")
        if not self.outputs:
            raise ValueError("the network has no output neuron")
        self.names = layers
        self._pos = {n: (g, c) for g, names in enumerate(layers) for c, n in enumerate(names)}
        self._index = {n: k for k, n in enumerate(self._pos)}
        self._gen_of, self._col_of = np.array(list(self._pos.values())).reshape(-1, 2).T
        self.out = np.array([self._pos[o] for o in self.outputs]).reshape(-1, 2)
        self._bindings, self.edge_ends = {}, []
        self.kernels, self.positive_bias, self.n_edges, self.rules = {}, [], 0, {}
        composite = as_composite(composite)
        self.gens = [self._generation(network, g, composite, dense_threshold)
                     for g in range(1, len(layers))]

    # ------------------------------------------------------------------ build
    def _generation(self, network, g, composite, threshold):
        G, names, dtype = network.graph, self.names[g], self.dtype
        gen = Generation(g, names)
        kinds, biases, attrs, srcs, dsts, ws = [], [], [], [], [], []
        for c, v in enumerate(names):
            # networkx's adjacency dict itself: the public views read each edge through
            # Python calls (G.pred: +20-35 % compile time on 270k edges, G.in_edges: +60 %)
            data, pred = G.nodes[v], G._pred[v]
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
        w = as_floats(ws, lambda k: f"weight of edge {srcs[k]!r} -> {names[dsts[k]]!r}")
        b = as_floats(biases, lambda k: f"bias of neuron {names[k]!r}")
        kinds = np.array(kinds)
        kind_of = {k: kind_named(str(k)) for k in np.unique(kinds)}
        affine_col = np.isin(kinds, [k for k, kind in kind_of.items() if kind.weighted])
        self.positive_bias += [names[k] for k in np.flatnonzero(positive_bias(kinds, b))]
        node = np.fromiter(map(self._index.__getitem__, srcs), np.int64, len(srcs))
        sg, sc = self._gen_of[node], self._col_of[node]
        dst = np.array(dsts, dtype=np.int64)
        rules = self._rules(network, names, kinds, attrs, sg, sc, dst, composite)
        e_id = np.arange(self.n_edges, self.n_edges + len(w))
        self.n_edges += len(w)
        self.edge_ends.append((srcs, dst))
        gen.bias = b.astype(dtype)
        gen.activations = []
        for k, kind in kind_of.items():
            if not kind.identity and not kind.selects:
                cols = np.flatnonzero(kinds == k)
                gen.activations.append((kind, None if len(cols) == gen.n else cols))
        selecting = [kind for kind in kind_of.values() if kind.selects]
        if len(selecting) > 1:
            raise ValueError(f"generation {g} mixes selecting kinds {[k.name for k in selecting]}; "
                             "compile takes one per generation")
        pool = np.isin(kinds, [kind.name for kind in selecting])
        for s in np.unique(sg[~pool[dst]]):
            m = ~pool[dst] & (sg == s)
            gen.fwd.append((s, _matrix(sc[m], dst[m], w[m], (len(self.names[s]), gen.n),
                                       dtype, threshold)))
        if pool.any():
            gen.maxpool = self._maxpool_table(gen, np.flatnonzero(pool), pool[dst], sg, sc, dst,
                                              e_id, selecting[0])
        groups = {}
        for c, rule in enumerate(rules):
            groups.setdefault(id(rule), (rule, []))[1].append(c)
        block_of = np.empty(gen.n, dtype=np.int64)
        for k, (_, cols) in enumerate(groups.values()):
            block_of[cols] = k
        for k, (rule, cols) in enumerate(groups.values()):
            self.rules.update((names[c], rule.name) for c in cols)
            cols = np.array(cols)
            if isinstance(rule, WinnerTakeAll):
                gen.blocks.append(Block(g, cols, gen.n, rule, [], None, dtype, gen.maxpool))
                continue
            local = np.full(gen.n, -1)
            local[cols] = np.arange(len(cols))
            em = block_of[dst] == k
            taylor = rule.taylor_rule if isinstance(rule, PoolingRule) else rule
            segs = self._segments(network, taylor, threshold, len(cols), sg[em], sc[em],
                                  local[dst[em]], e_id[em], w[em])
            bplus = np.where(affine_col[cols], np.maximum(b[cols], 0), 0)
            gen.blocks.append(Block(g, cols, gen.n, rule, segs, bplus, dtype,
                                    affine=not pool[cols].any()))
        gen.keep_p = any(bl.reuse for bl in gen.blocks)
        return gen

    def _rules(self, network, names, kinds, attrs, sg, sc, dst, composite):
        """The rule of every neuron, asked once per distinct (kind, rule attribute,
        classes of the predecessors) — what a ``by_class`` composite's choice depends on."""
        if not composite.by_class:
            return [rule_for(network, v, composite) for v in names]
        present = np.zeros(len(names), dtype=np.int64)
        code = np.concatenate([self._classes(network, s) for s in range(len(self.names))])
        offsets = np.cumsum([0] + [len(n) for n in self.names])
        edge_code = code[offsets[sg] + sc]
        for k in range(3):
            present |= (np.bincount(dst[edge_code == k], minlength=len(names)) > 0) << k
        cache, rules = {}, []
        for c, v in enumerate(names):
            attr = attrs[c] if attrs[c] is None or isinstance(attrs[c], str) else id(attrs[c])
            key = (kinds[c], attr, present[c])
            if key not in cache:
                cache[key] = rule_for(network, v, composite)
            rules.append(cache[key])
        return rules

    def _classes(self, network, s):
        """``network.input_class`` of generation *s*'s nodes: 0 positive, 1 box, 2 real."""
        key = ("classes", s)
        if key not in self._bindings:
            codes = {"positive": 0, "box": 1, "real": 2}
            self._bindings[key] = np.array([codes[network.input_class(n)]
                                            for n in self.names[s]], dtype=np.int64)
        return self._bindings[key]

    def _segments(self, network, rule, threshold, n_out, sg, sc, dst, e_id, w):
        base = self._kernel_for(rule)
        gamma = _parameter(rule, "gamma") if base.parameters else None
        segs = []
        for s in np.unique(sg):
            m = np.flatnonzero(sg == s)
            n_s = len(self.names[s])
            lx, hx, lv, hv = self._binding(network, s, rule) if base.uses_bounds else (
                np.zeros(n_s, bool), np.zeros(n_s, bool), np.zeros(n_s), np.zeros(n_s))
            key = lx[sc[m]] * 2 + hx[sc[m]]
            for k in np.unique(key):
                mk = m[key == k]
                kernel = self._kernel_for(rule, bool(k & 2), bool(k & 1))
                self.kernels[(rule.name, kernel.binding)] = kernel
                segs.append(Segment(kernel, SegmentEdges(s, n_s, sc[mk], dst[mk], e_id[mk], w[mk]),
                                    SourceBounds(lv, hv, gamma), Storage(n_out, self.dtype, threshold)))
        return segs

    def _binding(self, network, s, rule):
        """Box bounds of generation *s*'s nodes as propagate uses them: (l is x,
        h is x, l value, h value); ≥ 0 nodes act as [0, x], real ones as [x, x]."""
        if s not in self._bindings:
            rows = []
            for node in self.names[s]:
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

    def _maxpool_table(self, gen, cols, mask, sg, sc, dst, e_id, kind):
        sources, offsets, total = [], {}, 0
        for s in np.unique(sg[mask]):
            n = len(self.names[s])
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
        return MaxPool(cols, gen.n, sources, idx, edge_idx, kind)

    # --------------------------------------------------------------- display
    def edge_names(self):
        """``[(source, target), …]`` in the order of the edge ids."""
        return [(u, names[c]) for names, (srcs, dst) in zip(self.names[1:], self.edge_ends)
                for u, c in zip(srcs, dst.tolist())]

    def describe(self):
        """One line per block (see :meth:`symdtd.compiler.compiled.CompiledNetwork.describe`)."""
        lines = []
        for gen in self.gens:
            for b in gen.blocks:
                lines.append(f"generation {gen.index}: {b.name}, {len(b.cols)} neurons")
                lines += [f"    from generation {s.src}: {s.n_src}×{len(b.cols)} "
                          f"{'dense' if s.dense else 'sparse'}, {len(s.e_id)} edges"
                          f"{_BOUND[s.kernel.binding]}{'' if s.kernel.separable else ', edge-wise'}"
                          for s in b.segments] or ["    a max-pool table (winner takes all)"]
        return "\n".join(lines)


# ------------------------------------------------------------------ helpers
def _parameter(rule, name):
    """The value of parameter *name* on the rule instance (what ``propagate`` reads too)."""
    if name in rule.parameters:
        return float(rule.parameters[name])
    raise ValueError(f"rule {rule.name!r} needs parameter {name!r}; give the rule a value: "
                     f"rule.with_parameters({name}=...) "
                     f"or compile(..., parameters={{{name!r}: value}})")


def _matrix(rows, cols, values, shape, dtype, threshold):
    return Matrix(rows, cols, values, shape, dtype, use_dense(len(values), shape, threshold))
