"""Exact rewritings the derivation and the proofs use.

* :func:`rewrite_gates` — ``w·1[w > 0] = max(0, w)`` and ``w·1[w < 0] = min(0, w)``;
* :func:`split_sum` — linearity of a sum: distribute it over its terms and
  pull out the factors that do not depend on the index.

Both are identities; neither changes the value of an expression.

Examples
--------
>>> import sympy as sp
>>> i, n = sp.symbols("i n", integer=True, positive=True)
>>> a, t = sp.IndexedBase("a"), sp.Symbol("t")
>>> split_sum(sp.Sum(t * a[i] + a[i] ** 2, (i, 1, n)))
t*Sum(a[i], (i, 1, n)) + Sum(a[i]**2, (i, 1, n))
"""
from __future__ import annotations

import sympy as sp

__all__ = ["rewrite_gates", "split_sum"]


def rewrite_gates(expr):
    """Rewrite ``w·1[w > 0]`` as ``Max(0, w)`` and ``w·1[−w > 0]`` as ``Min(0, w)``.

    The identities hold for every real ``w`` (both sides vanish at 0), so
    this is exact; it is how ``v_i w_i`` becomes ``x_i w⁺_i`` and the like.

    >>> w, x = sp.symbols("w x", real=True)
    >>> rewrite_gates(w * x * sp.Heaviside(w, 0) - w * sp.Heaviside(-w, 0))
    x*Max(0, w) - Min(0, w)
    """
    if expr.is_Atom:
        return expr
    if isinstance(expr, sp.Sum):
        return sp.Sum(rewrite_gates(expr.function), *expr.limits)
    if isinstance(expr, sp.Indexed):
        return expr
    rebuilt = expr.func(*[rewrite_gates(arg) for arg in expr.args])
    if rebuilt.is_Mul and rebuilt.has(sp.Heaviside):
        return sp.Add(*[_rewrite_term(term) for term in sp.Add.make_args(sp.expand_mul(rebuilt))])
    return rebuilt


def _take_factor(factors, base):
    """Remove one power of *base* from *factors*; False if it is not there."""
    for position, factor in enumerate(factors):
        if factor == base:
            del factors[position]
            return True
        if (factor.is_Pow and factor.base == base and factor.exp.is_Integer
                and factor.exp > 1):
            factors[position] = base ** (factor.exp - 1)
            return True
    return False


def _rewrite_term(term):
    factors = list(sp.Mul.make_args(term))
    for gate in [f for f in factors if isinstance(f, sp.Heaviside)]:
        argument = gate.args[0]
        if _take_factor(factors, argument):
            factors.remove(gate)
            factors.append(sp.Max(argument, 0))
        elif _take_factor(factors, -argument):
            factors.remove(gate)
            factors.append(sp.Min(-argument, 0))
    return sp.Mul(*factors)


def split_sum(expr):
    """Distribute sums over their terms and pull out factors free of the index."""
    def split(s):
        (index, *_), = s.limits
        pieces = []
        for term in sp.Add.make_args(sp.expand(s.function)):
            free, dependent = term.as_independent(index, as_Add=False)
            pieces.append(free * sp.Sum(dependent, *s.limits))
        return sp.Add(*pieces)
    return expr.replace(lambda e: isinstance(e, sp.Sum), split)
