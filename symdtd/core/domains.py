"""Input domains of a neuron: the whole space, the positive orthant, a box.

A domain says where a neuron's inputs may lie. It decides which rule deep
Taylor decomposition picks (w² on ℝⁿ, z⁺ on ℝⁿ₊, zᴮ on a box) and what
"the root lies in the domain" means when a rule is verified.

Examples
--------
>>> from symdtd import Real, Positive, Box
>>> Positive().contains([0.0, 2.5])
True
>>> Box(0, 1).contains([0.5, 1.5])
False
>>> Box(-1, [1, 2]).bounds(2)
([-1.0, -1.0], [1.0, 2.0])
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real as _RealNumber

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from .numbers import RealLike, check_integer, parse_number

__all__ = ["Domain", "Real", "Positive", "Box", "exact_number"]


class Domain:
    """Base class of input domains.

    Subclasses set :attr:`name` (short text), :attr:`latex` and
    :attr:`x_assumptions` (the SymPy assumptions an input symbol carries).
    """

    name = "domain"
    latex = r"D"
    x_assumptions: dict = {"real": True}

    def contains(self, values: ArrayLike) -> bool:
        """Return True when every value lies in the domain (NaN never does)."""
        return bool(np.all(self.violations(values) == 0))

    def violations(self, values: ArrayLike) -> np.ndarray:
        """Return a boolean array, True where a value lies outside the domain."""
        arr = np.asarray(values, dtype=float)
        return ~np.isfinite(arr)

    def bounds(self, n: int) -> tuple[list[float], list[float]]:
        """Numeric ``(low, high)`` lists of length *n* (``-inf``/``inf`` if open)."""
        return [-math.inf] * n, [math.inf] * n

    def exact_bounds(self, n: int) -> tuple[list[sp.Expr], list[sp.Expr]]:
        """``(low, high)`` lists of length *n* as exact SymPy numbers (``±oo`` if open).

        Floats become the exact binary fraction they stand for, so a proof
        about the bounds is a proof about the numbers the user gave.

        >>> Box(0.5, [1, 2]).exact_bounds(2)
        ([1/2, 1/2], [1, 2])
        >>> Positive().exact_bounds(1)
        ([0], [oo])
        """
        lows, highs = self.bounds(n)
        return [exact_number(v) for v in lows], [exact_number(v) for v in highs]

    def assumption_text(self) -> str:
        """The assumption on the inputs, as a report prints it."""
        return f"x ∈ {self.name}"

    def to_dict(self) -> dict:
        """A JSON-ready description, read back by :func:`Domain.from_dict`."""
        return {"type": type(self).__name__.lower()}

    @staticmethod
    def from_dict(data: dict, numeric: bool = False) -> Domain:
        """Build a domain from :meth:`to_dict` output; ValueError if malformed.

        Unknown fields are refused. Bounds are numbers or number strings
        (:func:`symdtd.core.numbers.parse_number`; ``"inf"``/``"-inf"`` too);
        ``null`` bounds make a symbolic ``Box()`` unless *numeric* (as in
        network files), where they are refused.

        >>> Domain.from_dict({"type": "box", "low": "-1/2", "high": 1})
        Box(low=-1/2, high=1)
        >>> Domain.from_dict({"type": "box", "low": None, "high": None}, numeric=True)
        Traceback (most recent call last):
        ...
        ValueError: box domain: 'low' and 'high' must be numbers, got None and None
        """
        if not isinstance(data, dict) or "type" not in data:
            raise ValueError(f"domain must be an object with a 'type' field, got {data!r}")
        kind = data["type"]
        allowed = {"type", "low", "high"} if kind == "box" else {"type"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(sorted(map(str, unknown)))} in a "
                             f"{kind!r} domain" if isinstance(kind, str) else
                             f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        if kind == "real":
            return Real()
        if kind == "positive":
            return Positive()
        if kind == "box":
            if "low" not in data or "high" not in data:
                raise ValueError("box domain needs 'low' and 'high' fields")
            low, high = data["low"], data["high"]
            if numeric and (low is None or high is None):
                raise ValueError(f"box domain: 'low' and 'high' must be numbers, got {low!r} "
                                 f"and {high!r}")
            return Box(_from_json_number(low, "low"), _from_json_number(high, "high"))
        raise ValueError(f"unknown domain type {kind!r}; expected 'real', 'positive' or 'box'")

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self):
        return hash(repr(self))

    def __repr__(self):
        return f"{type(self).__name__}()"


class Real(Domain):
    """The whole space ℝⁿ: inputs may take any finite value (w² rule)."""

    name = "ℝⁿ"
    latex = r"\mathbb{R}^n"
    x_assumptions = {"real": True}


class Positive(Domain):
    """The positive orthant ℝⁿ₊: inputs are ≥ 0, as ReLU outputs are (z⁺ rule)."""

    name = "ℝⁿ₊"
    latex = r"\mathbb{R}^n_{+}"
    x_assumptions = {"nonnegative": True}

    def violations(self, values: ArrayLike) -> np.ndarray:
        arr = np.asarray(values, dtype=float)
        return ~np.isfinite(arr) | (arr < 0)

    def bounds(self, n: int) -> tuple[list[float], list[float]]:
        return [0.0] * n, [math.inf] * n

    def assumption_text(self) -> str:
        return "x_i ≥ 0"


class Box(Domain):
    """A box ``low ≤ x ≤ high``, with scalar or per-input bounds (zᴮ rule).

    Parameters
    ----------
    low, high : number or sequence of numbers, optional
        The bounds. Leave both out for a *symbolic* box (bounds ``l_i``,
        ``h_i`` kept as symbols, as in a derivation). ``high`` may be
        ``math.inf`` for inputs bounded below only.

    Raises
    ------
    ValueError
        If a bound is not a number, is NaN, or ``low > high`` anywhere.

    Examples
    --------
    >>> Box(0, 1)
    Box(low=0, high=1)
    >>> Box(2, 1)
    Traceback (most recent call last):
    ...
    ValueError: Box: low bound 2 is greater than high bound 1 (input 0)
    """

    name = "box"
    latex = r"[l, h]"
    x_assumptions = {"real": True}

    def __init__(self, low: RealLike | Sequence[RealLike] | None = None,
                 high: RealLike | Sequence[RealLike] | None = None) -> None:
        if (low is None) != (high is None):
            raise ValueError("Box: give both low and high, or neither for a symbolic box")
        self.low = _check_bound(low, "low")
        self.high = _check_bound(high, "high")
        if low is not None:
            lows, highs = _broadcast(self.low, self.high)
            for index, (lo, hi) in enumerate(zip(lows, highs)):
                if lo > hi:
                    raise ValueError(
                        f"Box: low bound {lo} is greater than high bound {hi} (input {index})")

    @property
    def symbolic(self) -> bool:
        """True for a box whose bounds are symbols (no numbers given)."""
        return self.low is None

    @property
    def per_input(self) -> bool:
        """True when the bounds differ per input (given as sequences)."""
        return isinstance(self.low, list) or isinstance(self.high, list)

    def bounds(self, n: int) -> tuple[list[float], list[float]]:
        if self.symbolic:
            raise ValueError("Box: a symbolic box has no numeric bounds")
        lows, highs = _broadcast(self.low, self.high, n)
        return [float(v) for v in lows], [float(v) for v in highs]

    def exact_bounds(self, n: int) -> tuple[list[sp.Expr], list[sp.Expr]]:
        if self.symbolic:
            raise ValueError("Box: a symbolic box has no numeric bounds")
        lows, highs = _broadcast(self.low, self.high, n)
        return [exact_number(v) for v in lows], [exact_number(v) for v in highs]

    def assumption_text(self) -> str:
        if self.symbolic:
            return "l_i ≤ x_i ≤ h_i with l_i ≤ 0 ≤ h_i"
        if not self.per_input:
            return _interval("x_i", self.low, self.high)
        lows, highs = _broadcast(self.low, self.high)
        return ", ".join(_interval(f"x_{k}", lo, hi)
                         for k, (lo, hi) in enumerate(zip(lows, highs), start=1))

    def violations(self, values: ArrayLike) -> np.ndarray:
        arr = np.asarray(values, dtype=float)
        bad = ~np.isfinite(arr)
        if self.symbolic:
            return bad
        n = arr.shape[-1] if arr.ndim else 1
        low, high = (np.asarray(b, dtype=float) for b in self.bounds(n))
        return bad | (arr < low) | (arr > high)

    def to_dict(self) -> dict:
        return {"type": "box", "low": _to_json_number(self.low),
                "high": _to_json_number(self.high)}

    def __repr__(self):
        if self.symbolic:
            return "Box()"
        return f"Box(low={self.low!r}, high={self.high!r})"


def exact_number(value: RealLike) -> sp.Expr:
    """A real number as an exact SymPy number: floats exactly, ``±inf`` as ``±oo``.

    >>> exact_number(0.1) == sp.Rational(3602879701896397, 36028797018963968)
    True
    >>> exact_number(float("-inf"))
    -oo
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, float):
        if math.isinf(value):
            return sp.oo if value > 0 else -sp.oo
        return sp.Rational(value)   # exact: the float's own binary fraction
    return sp.Rational(value)


def _interval(x, low, high):
    """``low ≤ x ≤ high``, leaving out an open side."""
    open_low = isinstance(low, float) and math.isinf(low)
    open_high = isinstance(high, float) and math.isinf(high)
    if open_low and open_high:
        return f"{x} ∈ ℝ"
    if open_low:
        return f"{x} ≤ {_show(high)}"
    if open_high:
        return f"{x} ≥ {_show(low)}"
    return f"{_show(low)} ≤ {x} ≤ {_show(high)}"


def _show(value):
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return str(value)


def _check_bound(value, label):
    if value is None:
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_check_bound(v, label) for v in np.asarray(value, dtype=object).ravel()]
    if isinstance(value, sp.Basic):
        if not value.is_number:
            raise ValueError(f"Box: {label} bound must be a number, got {value}")
        if value.is_extended_real is not True:
            raise ValueError(f"Box: {label} bound must be a real number, got {value}")
        if value.is_Rational:
            check_integer(value.p, f"Box: {label} bound")
            check_integer(value.q, f"Box: {label} bound")
        return value
    if not isinstance(value, _RealNumber) or isinstance(value, bool):
        raise TypeError(f"Box: {label} bound must be a number or a sequence of numbers, "
                        f"got {type(value).__name__}")
    if isinstance(value, int):
        check_integer(value, f"Box: {label} bound")
    if math.isnan(float(value)):
        raise ValueError(f"Box: {label} bound is NaN")
    return value


def _broadcast(low, high, n=None):
    lows = low if isinstance(low, list) else None
    highs = high if isinstance(high, list) else None
    size = n or max(len(lows or [0]), len(highs or [0]))
    for seq, label in ((lows, "low"), (highs, "high")):
        if seq is not None and len(seq) != size:
            raise ValueError(f"Box: {label} has {len(seq)} bounds, expected {size}")
    return (lows or [low] * size), (highs or [high] * size)


def _to_json_number(value):
    if isinstance(value, list):
        return [_to_json_number(v) for v in value]
    if isinstance(value, sp.Rational) and not value.is_Integer:
        return str(value)
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, sp.Basic):
        return int(value) if value.is_Integer else float(value)
    return value


def _from_json_number(value, label="bound"):
    if isinstance(value, list):
        return [_from_json_number(v, label) for v in value]
    if isinstance(value, str):
        if value in ("inf", "-inf"):
            return float(value)
        return parse_number(value, f"box {label} bound")
    return value
