"""Search for exact counterexamples to a derivation's sign claims.

Random small rationals are drawn under the derivation's own assumptions —
the input domain as given (a numeric box is its bounds; the symbolic box is
``l ≤ 0 ≤ h``), the bias sign as ``Derivation.assumptions`` records it,
``γ ≥ 0`` — kept only on the active set
(``z_j > 0``) with a non-zero denominator, and the claim is evaluated
exactly (the root-in-domain test is :func:`symdtd.proof.roots.root_failures`).
Before a hit is reported it is checked once more, exactly and on
its own: every symbol the claim depends on is bound, every assumption holds
(strict ones strictly), and the claim fails at those numbers. A witness that
does not pass is never reported.

Examples
--------
>>> from symdtd import derive
>>> example = find_counterexample(derive("z", n=2), "positivity")
>>> sorted(example)
['b_j', 'w_1', 'w_2', 'x_1', 'x_2', 'x_j']
>>> witness_problems(derive("z", n=2), "positivity", {**example, "b_j": 1})
['b_j = 1 breaks its assumption (nonpositive)', 'x_j = ... is not z_j = ...']
"""
from __future__ import annotations

import math
import random
from fractions import Fraction

import sympy as sp

from ..core.algebra import exact_function
from ..core.domains import Box, Real
from ..derivation.taylor import Derivation
from .roots import in_domain, root_failures

__all__ = ["find_counterexample", "witness_problems", "failed_checks", "CLAIMS"]

#: the claims a counterexample can be searched for
CLAIMS = ("root in domain", "positivity")
_SIGNS = ("positive", "negative", "nonnegative", "nonpositive")


def _draw(rng, low, high, denominator):
    """A rational ``k / denominator`` in ``[low, high]`` (exact; no truncation)."""
    first = math.ceil(sp.Rational(low) * denominator)
    last = math.floor(sp.Rational(high) * denominator)
    return sp.Rational(rng.randint(first, last), denominator)


def _bias_value(bias, rng, denominator):
    """A bias meeting the derivation's recorded assumption *bias* (``"positive"``, ...)."""
    if bias == "positive":
        return _draw(rng, sp.Rational(1, denominator), 2, denominator)
    if bias == "nonnegative":
        return _draw(rng, 0, 2, denominator)
    if bias == "nonpositive":
        return _draw(rng, -2, 0, denominator)
    return _draw(rng, -2, 2, denominator)


def _box_value(rng, low, high):
    """An input in ``[low, high]``; an open side is sampled 3 units wide."""
    if not low.is_finite and not high.is_finite:
        low, high = sp.Integer(-3), sp.Integer(3)
    elif not low.is_finite:
        low = high - 3
    elif not high.is_finite:
        high = low + 3
    return low + (high - low) * _draw(rng, 0, 1, 8)


def _sample(d, rng, denominator):
    s = d.space
    domain = d.assumptions.domain
    values = {}
    numeric = isinstance(domain, Box) and not domain.symbolic
    lows, highs = domain.exact_bounds(s.n) if numeric else (None, None)
    for k in s.indices:
        values[s.w[k]] = _draw(rng, -3, 3, denominator)
        if numeric:
            values[s.x[k]] = _box_value(rng, lows[k], highs[k])
            for symbol, bound in ((s.l[k], lows[k]), (s.h[k], highs[k])):
                if bound.is_finite:
                    values[symbol] = bound   # the bounds are the numbers given
        elif isinstance(domain, Box):
            low = values[s.l[k]] = _draw(rng, -2, 0, denominator)
            high = values[s.h[k]] = _draw(rng, 0, 2, denominator)
            values[s.x[k]] = low + (high - low) * _draw(rng, 0, 1, 4)
        elif isinstance(domain, Real):
            values[s.x[k]] = _draw(rng, -3, 3, denominator)
        else:
            values[s.x[k]] = _draw(rng, 0, 3, denominator)
    values[s.b] = _bias_value(d.assumptions.bias, rng, denominator)
    values[s.gamma] = _draw(rng, 0, 2, denominator)
    return values


def _claim_symbols(d):
    """Every symbol the claims about *d* depend on (rule, root, domain)."""
    s = d.space
    exprs = [*d.rule, d.root["t"], *d.root["x_tilde"], s.preactivation()]
    found = set().union(*(sp.sympify(e, strict=True).free_symbols for e in exprs))
    if isinstance(d.assumptions.domain, Box):
        numeric = not d.assumptions.domain.symbolic
        lows, highs = d.assumptions.domain.exact_bounds(s.n) if numeric else (None, None)
        for k in s.indices:
            for symbol, bound in ((s.l[k], lows and lows[k]), (s.h[k], highs and highs[k])):
                if not numeric or bound.is_finite:
                    found.add(symbol)
    return found - {s.t}


def _bounds(d, values):
    """The box bounds at *values* (a symbolic box's ``l_i``, ``h_i``), or None (the domain's own)."""
    s, domain = d.space, d.assumptions.domain
    if isinstance(domain, Box) and domain.symbolic:
        return [values[s.l[k]] for k in s.indices], [values[s.h[k]] for k in s.indices]
    return None


def failed_checks(derivation, witness) -> list:
    """The sub-claims a witness breaks, by the labels the reports use.

    ``"t ≥ 0"``, ``"t ≤ 1"`` (bounded domains), ``"x̃_i ≥ 0"`` (ℝⁿ₊),
    ``"x̃_i ≥ l_i"``, ``"x̃_i ≤ h_i"`` (boxes) for the root, and
    ``"[x_j]_i ≥ 0"`` for positivity.

    >>> from symdtd import derive
    >>> d = derive("z+", n=1, bias="positive")
    >>> failed_checks(d, {"x_1": 1, "w_1": 1, "b_j": 1, "x_j": 2})
    ['t ≤ 1', 'x̃_i ≥ 0']
    """
    d, s = derivation, derivation.space
    by_name = {str(sym): sym for sym in _claim_symbols(d) | {s.x_out, s.b, s.gamma}}
    return _failures(d, {by_name[k]: sp.sympify(v, strict=True)
                         for k, v in witness.items() if k in by_name})


_POSITIVITY = "[x_j]_i ≥ 0"


def _failures(d, values):
    """The labels of the sub-claims that fail at *values* (symbol → number)."""
    points = [x.xreplace(values) for x in d.root["x_tilde"]]
    failed = root_failures(points, d.assumptions.domain, t=d.root["t"].xreplace(values),
                           bounds=_bounds(d, values))
    if any(r.xreplace(values) < 0 for r in d.rule):
        failed.append(_POSITIVITY)
    return failed


def _claim_fails(d, claim, values):
    """True/False: the claim fails/holds at *values* (on the active set)."""
    failed = _failures(d, values)
    if claim == "positivity":
        return _POSITIVITY in failed
    return any(label != _POSITIVITY for label in failed)


def witness_problems(derivation, claim, witness):
    """What is wrong with a counterexample, or ``[]`` if it is valid.

    A valid witness binds every symbol the claim depends on, meets every
    assumption of the derivation exactly (strict ones strictly: ``x_j > 0``,
    a positive bias), lies on the active set with ``x_j = z_j`` and a
    non-zero denominator, and breaks the claim.

    Parameters
    ----------
    derivation : Derivation
        With a concrete fan-in.
    claim : {"root in domain", "positivity"}
    witness : dict
        Symbol name → exact value, as :func:`find_counterexample` returns it.

    Returns
    -------
    list of str
    """
    d, s = derivation, derivation.space
    by_name = {str(sym): sym for sym in _claim_symbols(d) | {s.x_out, s.b, s.gamma}}
    values, problems = {}, []
    for name, value in witness.items():
        if name not in by_name:
            problems.append(f"{name} is not a symbol of this claim")
            continue
        value = (sp.nsimplify(value) if isinstance(value, float)
                 else sp.sympify(value, strict=True))
        if not (value.is_Rational or value.is_Integer):
            problems.append(f"{name} = {value} is not an exact rational")
            continue
        values[by_name[name]] = value
    missing = sorted(str(sym) for sym in _claim_symbols(d) | {s.x_out} if sym not in values)
    if missing:
        problems.append(f"unbound: {', '.join(missing)}")
    if problems:
        return problems
    for sym, value in values.items():
        if sym == s.b:      # the bias assumption as the derivation records it
            if not d.assumptions.bias_allows(value):
                problems.append(f"{sym} = {value} breaks its assumption ({d.assumptions.bias})")
            continue
        for sign in _SIGNS:
            if sym.assumptions0.get(sign) and not getattr(value, f"is_{sign}"):
                problems.append(f"{sym} = {value} breaks its assumption ({sign})")
    domain = d.assumptions.domain
    numeric_box = isinstance(domain, Box) and not domain.symbolic
    lows, highs = domain.exact_bounds(s.n) if numeric_box else _bounds(d, values) or (None, None)
    for k in s.indices:
        data = values[s.x[k]]
        if not in_domain([data], domain, bounds=lows and ([lows[k]], [highs[k]])):
            problems.append(f"{s.x[k]} = {data} lies outside the domain")
    z = s.preactivation().xreplace(values)
    if values[s.x_out] != z:
        problems.append(f"x_j = {values[s.x_out]} is not z_j = {z}")
    elif not z > 0:
        problems.append(f"z_j = {z} is off the active set")
    if d.denominator.xreplace(values) == 0:
        problems.append("the denominator Σ q vanishes")
    if not problems and not _claim_fails(d, claim, values):
        problems.append(f"the claim {claim!r} holds at these numbers")
    return problems


class _Evaluator:
    """The claim's expressions as exact ``Fraction`` functions (fast screening).

    Screening only: a hit is confirmed with SymPy by :func:`witness_problems`.
    """

    def __init__(self, d):
        s = d.space
        self.d = d
        try:
            self.z = exact_function(s.preactivation())
            self.denominator = exact_function(d.denominator)
            self.rule = [exact_function(r) for r in d.rule]
            self.t = exact_function(d.root["t"])
            self.x_tilde = [exact_function(x) for x in d.root["x_tilde"]]
        except NotImplementedError:
            self.z = None     # an unusual expression: screen with SymPy instead

    def breaks(self, claim, values):
        if self.z is None:
            return _breaks_sympy(self.d, claim, values)
        d, s = self.d, self.d.space
        env = {k: Fraction(int(v.p), int(v.q)) for k, v in values.items()}
        try:
            z = self.z(env)
            if not z > 0:
                return False      # off the active set: nothing is claimed there
            env[s.x_out] = z
            if self.denominator(env) == 0:
                return False      # a zero denominator passes nothing on
            if claim == "positivity":
                return any(r(env) < 0 for r in self.rule)
            t = self.t(env)
            points = [x(env) for x in self.x_tilde]
        except (ZeroDivisionError, KeyError):   # undefined, or an open bound
            return False
        return bool(root_failures(points, d.assumptions.domain, t=t, bounds=_bounds(d, values)))


def _breaks_sympy(d, claim, values):
    s = d.space
    z = s.preactivation().xreplace(values)
    if not z > 0:
        return False
    values = {**values, s.x_out: z}
    denominator = d.denominator.xreplace(values)
    if not denominator.is_finite or denominator == 0:
        return False
    try:
        return _claim_fails(d, claim, values)
    except TypeError:         # an undefined value (zoo, nan) entered: no verdict here
        return False


def find_counterexample(derivation: Derivation, claim: str, *, seed: int = 0,
                        tries: int = 600) -> dict | None:
    """Exact numbers breaking *claim* ("root in domain" or "positivity"), or None.

    Parameters
    ----------
    derivation : Derivation
        A derivation with a concrete fan-in.
    claim : str
        ``"root in domain"`` or ``"positivity"``.
    seed : int
        Seed of the random search (the search is deterministic).
    tries : int
        How many samples to draw.

    Returns
    -------
    dict or None
        Symbol name → value for every symbol the claim depends on (``x_j``
        included), checked by :func:`witness_problems`; None if no valid
        witness was found.
    """
    if derivation.n is None:
        raise ValueError("find_counterexample needs a derivation with a concrete fan-in")
    if claim not in CLAIMS:
        raise ValueError(f"no counterexample search for claim {claim!r}")
    rng = random.Random(seed)
    s = derivation.space
    keep = _claim_symbols(derivation) | {s.x_out}
    screen = _Evaluator(derivation)
    for attempt in range(tries):
        denominator = 1 if attempt < tries // 2 else 4
        values = _sample(derivation, rng, denominator)
        if screen.breaks(claim, values):
            values[s.x_out] = s.preactivation().xreplace(values)
            witness = {str(k): v for k, v in sorted(values.items(), key=lambda kv: str(kv[0]))
                       if k in keep}
            if not witness_problems(derivation, claim, witness):
                return witness
    return None
