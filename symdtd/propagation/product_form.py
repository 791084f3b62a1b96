"""The product form ``[x_f]_i = x_i · c_i`` of relevance, where the rules give it.

The seed paper's induction writes every relevance as the node's activation
times a factor, ``[x_f]_j = x_j c_j`` with ``c_f = 1``. That is true for a
node ``i`` exactly when every message it receives carries the factor
``x_i``: each successor's rule has a numerator ``q_ij = x_i · g_ij`` (z⁺, z,
γ, sum-pooling and proportional max-pooling, and zᴮ on a ≥ 0 predecessor,
whose box is ``[0, x_i]``), or the successor is a winner-take-all
max-pooling neuron that has the product form itself (the winner has
``x_i = x_j``). Then

``c_i = Σ_j g_ij · [x_f]_j / Σ_i' q_i'j``

(a zero denominator contributing 0), which is ``[x_f]_i / x_i`` where
``x_i ≠ 0`` and still defined where ``x_i = 0``. It is false for inputs of
zᴮ on a box (``q = x w − l w⁺ − h w⁻``) and of w² (``q = w²``): a pixel at
``x_i = 0`` can receive relevance. :class:`ProductForm` follows one
backward pass of :func:`~symdtd.propagation.backward.propagate` and keeps ``c`` only for the nodes
where the product form holds (:attr:`symdtd.propagation.explanation.Explanation.factors`).

Examples
--------
>>> import sympy as sp
>>> from symdtd.core.rules import get_rule
>>> cofactor(get_rule("z+"), ("l", "h"))
Max(0, w)
>>> cofactor(get_rule("zB"), ("l", "h")) is None          # a box input
True
>>> cofactor(get_rule("zB"), ("0", "x"))                  # a ReLU input: z+
w - Min(0, w)
"""
from __future__ import annotations

import functools

import sympy as sp

__all__ = ["ProductForm", "binding", "cofactor"]


def binding(network, node):
    """How the box rules bind ``(l, h)`` for predecessor *node*, as in :func:`~symdtd.propagation.backward.propagate`.

    ``"0"`` a zero bound, ``"x"`` the value itself (``≥ 0`` inputs act as
    ``[0, x]``, real ones as ``[x, x]``, an infinite bound as ``x``), ``"l"``
    / ``"h"`` a finite bound of a box.
    """
    kind = network.input_class(node)
    if kind == "positive":
        return ("0", "x")
    if kind == "real":
        return ("x", "x")
    domain = network.graph.nodes[node]["domain"]
    if domain.symbolic:
        return ("l", "h")
    return tuple("x" if sp.sympify(b, strict=True).is_infinite else name
                 for b, name in ((domain.low, "l"), (domain.high, "h")))


@functools.lru_cache(maxsize=256)
def cofactor(rule, bound):
    """``g = q / x`` for *rule*'s numerator with the bounds bound as *bound*, or
    None when ``x`` is not a factor of ``q`` (then the product form fails)."""
    from ..derivation.taylor import derive  # SymPy-heavy

    q, syms = derive(rule).local_numerator()
    if "x" not in syms:
        return None
    x = syms["x"]
    values = {"0": sp.Integer(0), "x": x}
    q = q.xreplace({syms[r]: values[b] for r, b in zip("lh", bound) if r in syms and b in values})
    if "unbounded" in syms:   # the per-input rule: (x, x) is a real-valued input
        q = q.xreplace({syms["unbounded"]: int(bound == ("x", "x"))})
    g = sp.cancel(q / x)
    return None if sp.denom(g).has(x) else g


class ProductForm:
    """The factors ``c`` of one backward pass, for nodes with the product form.

    Call :meth:`settle` when a node's relevance is final (before its
    messages are sent), then :meth:`rule_edges` or :meth:`winner_edges`
    for its messages. :attr:`factors` holds ``node -> c``.
    """

    def __init__(self, network, ar, output):
        self.network, self.ar, self.output = network, ar, output
        self.broken = set()        # nodes some message of which lacks the factor x
        self.parts = {}            # node with x = 0 -> contributions g_ij · R_j / D_j
        self.factors = {}
        self.bound = {}            # node -> binding(), asked once per node

    def settle(self, node, R, x):
        """Record ``c`` of *node* once all its messages are in."""
        if node in self.broken:
            return
        if node == self.output:
            self.factors[node] = self.ar.number(1, "c_f")
        elif self.ar.is_zero(x):
            self.factors[node] = self.ar.total(self.parts.get(node, []))
        else:
            self.factors[node] = self.ar.check(R / x, f"the factor of {node!r}")

    def rule_edges(self, rule, preds, envs, scale, x_values):
        """Messages ``q_ij · scale`` of a rule neuron (``scale`` None: zero denominator)."""
        for i, env, x in zip(preds, envs, x_values):
            if scale is None:   # nothing sent: 0 = x · 0
                continue
            if i not in self.bound:
                self.bound[i] = binding(self.network, i)
            g = cofactor(rule, self.bound[i])
            if g is None:
                self.broken.add(i)
            elif self.ar.is_zero(x):   # c = Σ g · R_j / D_j, with g at x = 0
                g = g.xreplace({s: sp.sympify(env[s.name], strict=True) for s in g.free_symbols
                                if env.get(s.name) is not None})
                self.parts.setdefault(i, []).append(self.ar.number(g, f"factor of {i!r}") * scale)

    def winner_edges(self, node, preds, shares, x_values):
        """Winner-take-all messages: ``share · [x_f]_node`` with ``x_winner = x_node``."""
        c = self.factors.get(node)
        for i, share, x in zip(preds, shares, x_values):
            if c is None:
                if not self.ar.is_zero(share):
                    self.broken.add(i)
            elif self.ar.is_zero(x):
                self.parts.setdefault(i, []).append(share * c)
