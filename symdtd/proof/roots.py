"""Whether a root point ``x̃ = x − t·v`` lies in the input domain, for given numbers.

The one numeric home of the *root in domain* check: the counterexample
search (:mod:`symdtd.proof.counterexample`), the network check
(:func:`symdtd.proof.network_roots.root_checks`) and the root plot
(:func:`symdtd.see.rootplot.find_root`) all decide with :func:`root_failures`.
(The symbolic claim, proved for all numbers, is
:func:`symdtd.proof.sign_claims.root_in_domain`.)

The claim is ``t ≥ 0`` (the root lies ahead of the data point), ``t ≤ 1``
on a bounded domain (not on ℝⁿ), and every coordinate of ``x̃`` in the
domain. Numbers may be exact (``int``, :class:`fractions.Fraction`, SymPy
rationals: compared exactly) or floats (give a tolerance *tol*). An open
box side (``±∞``) constrains nothing.

Examples
--------
>>> from fractions import Fraction
>>> from symdtd import Box, Positive
>>> root_failures([Fraction(1, 2), 0], Positive(), t=Fraction(1, 3))
[]
>>> root_failures([2, -1], Box(0, 1), t=2)
['t ≤ 1', 'x̃_i ≥ l_i', 'x̃_i ≤ h_i']
>>> in_domain([1.0 + 1e-12], Box(0, 1), tol=1e-9)
True
"""
from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ..core.domains import Box, Domain, Positive, Real

__all__ = ["root_failures", "in_domain", "T_NONNEGATIVE", "T_AT_MOST_ONE", "ABOVE_LOW",
           "BELOW_HIGH", "NONNEGATIVE"]

#: the sub-claims of "root in domain", by the labels the reports use
T_NONNEGATIVE, T_AT_MOST_ONE = "t ≥ 0", "t ≤ 1"
ABOVE_LOW, BELOW_HIGH, NONNEGATIVE = "x̃_i ≥ l_i", "x̃_i ≤ h_i", "x̃_i ≥ 0"


def root_failures(point: Sequence[object], domain: Domain, *, t: object = None,
                  bounds: tuple | None = None, tol: float = 0) -> list[str]:
    """The sub-claims of *root in domain* that fail at these numbers (``[]``: in the domain).

    Parameters
    ----------
    point : sequence of numbers
        The coordinates of the root ``x̃`` (or of any point to check).
    domain : Domain
        The input domain: ℝⁿ, ℝⁿ₊ or a box.
    t : number, optional
        The step to the root; checked ``t ≥ 0`` and, on a bounded domain,
        ``t ≤ 1``. None: only the point is checked.
    bounds : (lows, highs), optional
        Per-coordinate bounds of a box, overriding its own (the values of a
        symbolic box's ``l_i``, ``h_i``); ``None`` or ``±∞`` entries are
        open sides. A symbolic box without *bounds* constrains nothing.
    tol : number
        Slack for float comparisons (0: exact).

    Returns
    -------
    list of str
        In this order, those of ``"t ≥ 0"``, ``"t ≤ 1"``, ``"x̃_i ≥ l_i"``,
        ``"x̃_i ≤ h_i"`` (a box) or ``"x̃_i ≥ 0"`` (ℝⁿ₊) that fail.

    Raises
    ------
    ValueError
        Bounds whose length is not the point's.

    Examples
    --------
    >>> from symdtd import Real
    >>> root_failures([-5, 7], Real(), t=-1)
    ['t ≥ 0']
    >>> root_failures([0, 3], Box(0, float("inf")), t=1)
    []
    """
    point = list(point)
    failed = []
    if t is not None:
        if t < -tol:
            failed.append(T_NONNEGATIVE)
        if not isinstance(domain, Real) and t > 1 + tol:
            failed.append(T_AT_MOST_ONE)
    if isinstance(domain, Real):
        return failed
    if isinstance(domain, Box):
        lows, highs = _box_bounds(domain, bounds, len(point))
        if any(low is not None and p < low - tol for p, low in zip(point, lows)):
            failed.append(ABOVE_LOW)
        if any(high is not None and p > high + tol for p, high in zip(point, highs)):
            failed.append(BELOW_HIGH)
    elif isinstance(domain, Positive):
        if any(p < -tol for p in point):
            failed.append(NONNEGATIVE)
    elif domain.violations([float(p) for p in point]).any():
        failed.append(NONNEGATIVE)   # another domain: its own test, one label
    return failed


def in_domain(point: Sequence[object], domain: Domain, *, bounds: tuple | None = None,
              tol: float = 0) -> bool:
    """True when every coordinate of *point* lies in *domain* (see :func:`root_failures`).

    Parameters
    ----------
    point : sequence of numbers
    domain : Domain
    bounds : (lows, highs), optional
        Box bounds overriding the domain's own.
    tol : number
        Slack for float comparisons.

    Returns
    -------
    bool

    Examples
    --------
    >>> in_domain([0, 2], Positive()), in_domain([-1], Positive())
    (True, False)
    """
    return not root_failures(point, domain, bounds=bounds, tol=tol)


def _box_bounds(domain: Box, bounds, n):
    """``(lows, highs)`` of length *n*, with ``None`` for an open side."""
    if bounds is None:
        if domain.symbolic:
            return [None] * n, [None] * n
        bounds = domain.exact_bounds(n)
    lows, highs = (list(b) for b in bounds)
    if len(lows) != n or len(highs) != n:
        raise ValueError(f"bounds have {len(lows)} and {len(highs)} entries for a point of "
                         f"{n} coordinates")
    return [_finite(v) for v in lows], [_finite(v) for v in highs]


def _finite(value):
    if value is None:
        return None
    if isinstance(value, sp.Basic):
        return value if value.is_finite else None
    return value if abs(value) != float("inf") else None
