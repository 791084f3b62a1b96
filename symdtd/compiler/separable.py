"""Separable terms of a rule's numerator: ``q = Σ_k f_k(x, l, h) · g_k(w, γ)``.

:func:`~symdtd.compiler.compiled.compile` evaluates a rule as matrix products only when its
numerator ``q`` (from :func:`symdtd.derive`) splits into terms whose first
factor involves the per-input quantities ``x, l, h`` only and whose second
factor involves the per-edge ones ``w, γ`` only. :func:`split_separable`
finds that split with SymPy (``Add.make_args``, ``as_independent``,
expanding a term that mixes both sides); a :class:`Term` holds one term
with its lambdified factors (built by :class:`symdtd.compiler.rule_kernels.RuleKernel`,
which is where ``sympy.lambdify`` is called).

Examples
--------
>>> import sympy as sp
>>> x, w, l, h = sp.symbols("x w l h")
>>> split_separable(x*w - l*sp.Max(0, w) - h*sp.Min(0, w), [w])   # the zB numerator
[(x, w), (h, -Min(0, w)), (l, -Max(0, w))]
>>> split_separable(x*sp.Heaviside(x*w), [w]) is None   # x·1[x w > 0] does not split
True
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

__all__ = ["Term", "split_separable", "INPUT_ROLES", "EDGE_ROLES"]

#: roles of the per-input quantities (the ``f`` side of a term)
INPUT_ROLES = ("x", "l", "h")
#: roles of the per-edge quantities (the ``g`` side of a term)
EDGE_ROLES = ("w", "gamma")


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
