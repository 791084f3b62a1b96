"""Search for exact counterexamples to a derivation's sign claims.

Random small rationals are drawn under the derivation's own assumptions
(domain, bias sign, box with ``l ≤ 0 ≤ h``, ``γ ≥ 0``), kept only on the active
set (``z_j > 0``) with a non-zero denominator, and the claim is evaluated
exactly. A hit is a refutation: numbers that satisfy every assumption and
break the claim.

Examples
--------
>>> from symdtd import derive
>>> example = find_counterexample(derive("z", n=2), "positivity")
>>> sorted(example)
['b_j', 'w_1', 'w_2', 'x_1', 'x_2', 'x_j']
"""
from __future__ import annotations

import math
import random

import sympy as sp

from .domains import Box, Real

__all__ = ["find_counterexample"]


def _draw(rng, low, high, denominator):
    return sp.Rational(rng.randint(int(low * denominator), int(high * denominator)), denominator)


def _bias_range(b):
    if b.is_positive:
        return (sp.Rational(1, 4), 2)
    if b.is_nonnegative:
        return (0, 2)
    if b.is_nonpositive:
        return (-2, 0)
    return (-2, 2)


def _sample(d, rng, denominator):
    s = d.space
    values = {}
    boxed = isinstance(d.rule_def.domain, Box)
    numeric = boxed and not d.rule_def.domain.symbolic
    lows, highs = d.rule_def.domain.bounds(len(s.indices)) if numeric else (None, None)
    for k in s.indices:
        values[s.w[k]] = _draw(rng, -3, 3, denominator)
        if numeric:
            # a numeric box fixes the bounds; an open side is sampled 3 units wide
            low = sp.nsimplify(lows[k]) if math.isfinite(lows[k]) else None
            high = sp.nsimplify(highs[k]) if math.isfinite(highs[k]) else None
            base = low if low is not None else (high - 3 if high is not None else -3)
            top = high if high is not None else base + 3
            values[s.l[k]] = low if low is not None else -sp.oo
            values[s.h[k]] = high if high is not None else sp.oo
            values[s.x[k]] = base + (top - base) * _draw(rng, 0, 1, 4)
        elif boxed:
            low = values[s.l[k]] = _draw(rng, -2, 0, denominator)
            high = values[s.h[k]] = _draw(rng, 0, 2, denominator)
            values[s.x[k]] = low + (high - low) * _draw(rng, 0, 1, 4)
        elif isinstance(d.rule_def.domain, Real):
            values[s.x[k]] = _draw(rng, -3, 3, denominator)
        else:
            values[s.x[k]] = _draw(rng, 0, 3, denominator)
    values[s.b] = _draw(rng, *_bias_range(s.b), denominator)
    values[s.gamma] = _draw(rng, 0, 2, denominator)
    return values


def _breaks(d, claim, values):
    try:
        return _evaluate_break(d, claim, values)
    except TypeError:     # an infinite bound entered the formula: no verdict here
        return False


def _evaluate_break(d, claim, values):
    s = d.space
    z = s.preactivation().xreplace(values)
    if not z > 0:
        return False          # off the active set: nothing is claimed there
    values = {**values, s.x_out: z}
    denominator = d.denominator.xreplace(values)
    if denominator == 0:
        return False          # a zero denominator passes nothing on
    if claim == "positivity":
        return any(r.xreplace(values) < 0 for r in d.rule)
    t = d.root["t"].xreplace(values)
    if t < 0 or (not isinstance(d.rule_def.domain, Real) and t > 1):
        return True
    points = [x.xreplace(values) for x in d.root["x_tilde"]]
    return bool(any(d.rule_def.domain.violations([float(p) for p in points]))
                if not isinstance(d.rule_def.domain, Box) or not d.rule_def.domain.symbolic
                else any(p < values[s.l[k]] or p > values[s.h[k]]
                         for k, p in zip(s.indices, points)))


def find_counterexample(derivation, claim, *, seed=0, tries=600):
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
        Symbol name → value (``x_j`` included), or None if none was found.
    """
    if derivation.n is None:
        raise ValueError("find_counterexample needs a derivation with a concrete fan-in")
    if claim not in ("root in domain", "positivity"):
        raise ValueError(f"no counterexample search for claim {claim!r}")
    rng = random.Random(seed)
    s = derivation.space
    for attempt in range(tries):
        denominator = 1 if attempt < tries // 2 else 4
        values = _sample(derivation, rng, denominator)
        if _breaks(derivation, claim, values):
            used = set().union(*(r.free_symbols for r in derivation.rule),
                               s.preactivation().free_symbols)
            values[s.x_out] = s.preactivation().xreplace(values)
            return {str(k): v for k, v in sorted(values.items(), key=lambda kv: str(kv[0]))
                    if k in used or k == s.x_out}
    return None
