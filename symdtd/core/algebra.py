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

import math
from fractions import Fraction

import sympy as sp

__all__ = ["rewrite_gates", "split_sum", "exact_function"]


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


def exact_function(expr):
    """A Python function evaluating *expr* exactly on ``fractions.Fraction`` values.

    The function takes ``{symbol: Fraction}`` and returns a ``Fraction``; it
    walks the expression tree once (Add, Mul, integer powers, Max, Min,
    ``Heaviside``, ``Abs``, ``sign``), so evaluating it costs a few
    arithmetic operations instead of rebuilding SymPy trees. A division by
    zero raises ``ZeroDivisionError``; anything else unsupported raises
    ``NotImplementedError`` when the function is built.

    >>> x, w = sp.symbols("x w", real=True)
    >>> from fractions import Fraction
    >>> f = exact_function(x * sp.Max(0, w) / (1 + x) + sp.Heaviside(-w, 0))
    >>> f({x: Fraction(1, 2), w: Fraction(-3)})
    Fraction(1, 1)
    """
    return _exact(sp.sympify(expr, strict=True))


def _exact(e):
    if e.is_Symbol or isinstance(e, sp.Indexed):
        return lambda env: env[e]
    if e.is_Rational:
        c = Fraction(int(e.p), int(e.q))
        return lambda env: c
    parts = [_exact(a) for a in e.args]
    if e.is_Add:
        return lambda env: sum((p(env) for p in parts), Fraction(0))
    if e.is_Mul:
        return lambda env: math.prod((p(env) for p in parts), start=Fraction(1))
    if e.is_Pow and e.exp.is_Integer:
        k = int(e.exp)
        base = parts[0]
        return lambda env: base(env) ** k
    if isinstance(e, (sp.Max, sp.Min)):
        pick = max if isinstance(e, sp.Max) else min
        return lambda env: pick(p(env) for p in parts)
    if isinstance(e, sp.Heaviside):
        at_zero = Fraction(1, 2) if len(e.args) == 1 else None
        if at_zero is None:
            h0 = e.args[1]
            if not h0.is_Rational:
                raise NotImplementedError("Heaviside with a symbolic value at 0")
            at_zero = Fraction(int(h0.p), int(h0.q))
        arg = parts[0]
        def gate(env):
            a = arg(env)
            return Fraction(1) if a > 0 else (at_zero if a == 0 else Fraction(0))
        return gate
    if isinstance(e, sp.Abs):
        return lambda env: abs(parts[0](env))
    if isinstance(e, sp.sign):
        return lambda env: (lambda a: Fraction((a > 0) - (a < 0)))(parts[0](env))
    raise NotImplementedError(type(e).__name__)
