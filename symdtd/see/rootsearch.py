"""The root-point search of a 2-input neuron, computed: :func:`find_root` and :class:`RootPoint`.

The root comes from the derivation's own formula (``derive(rule, n=2).root``)
evaluated at the neuron's numbers; :mod:`symdtd.see.rootplot` draws it. The
checks of a neuron given as ``(w, b, x)`` and of a box are here too.

Examples
--------
>>> r = find_root("z+", (1, -1), -0.5, (1.5, 0.5))
>>> r.found, r.in_domain
(True, True)
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..core.domains import Box
from ..core.numbers import RealLike, real_number, to_sympy
from ..core.rules import Rule
from ..derivation.taylor import Derivation, derive
from ..proof.roots import in_domain

__all__ = ["RootPoint", "find_root", "neuron_items", "box_sides"]


@dataclass
class RootPoint:
    """The root a rule's search finds for one neuron and data point.

    Attributes
    ----------
    label : str
        The rule's title (``"z⁺ rule"``) or the label you gave it.
    t : sympy.Expr or None
        Step length along ``-v``; None when ``Σ v w = 0`` (no root on the line).
    x_tilde : tuple of sympy.Expr or None
        The root point, exact when the inputs were exact.
    direction : tuple of sympy.Expr
        The search direction ``v`` at the data point.
    in_domain : bool
        Whether the root lies in the rule's input domain.
    """

    label: str
    t: object
    x_tilde: tuple | None
    direction: tuple
    in_domain: bool

    @property
    def found(self) -> bool:
        """True when the search line meets ``z = 0``."""
        return self.x_tilde is not None

    @property
    def point(self):
        """The root as a float array (NaNs if there is none)."""
        return (np.array([float(c) for c in self.x_tilde]) if self.found
                else np.full(2, np.nan))


def find_root(rule: str | Rule | Callable | Derivation, w: Sequence[RealLike], b: RealLike,
              x: Sequence[RealLike], *, box: Sequence = (0, 1), gamma: RealLike | None = None,
              label: str | None = None) -> RootPoint:
    """Evaluate the derived root point of *rule* for a 2-input neuron.

    Parameters
    ----------
    rule : str, Rule, callable or Derivation
        Anything :func:`symdtd.derive` takes (a name, a Rule, a direction
        function ``lambda x, w: ...``), or a derivation with ``n=2``.
    w : pair of numbers
        The weights ``(w_1, w_2)``.
    b : number
        The bias.
    x : pair of numbers
        The data point.
    box : pair of numbers or pair of pairs, optional
        ``(l, h)`` bounds of the box, used by rules with ``l``/``h`` (zᴮ).
    gamma : number, optional
        γ of the γ rule (default: the rule's own default).
    label : str, optional
        Name shown in legends (default: the rule's title).

    Returns
    -------
    RootPoint

    Examples
    --------
    >>> r = find_root("z+", (1, -1), -sp.Rational(1, 2), (sp.Rational(3, 2), sp.Rational(1, 2)))
    >>> r.t, r.x_tilde, r.in_domain
    (1/3, (1, 1/2), True)
    >>> find_root("z+", (-1, -1), 0, (1, 1)).found    # no positive weight: no root
    False
    """
    d = rule if isinstance(rule, Derivation) else derive(rule, n=2)
    if d.n != 2:
        raise ValueError(f"find_root needs a derivation with fan-in 2, got n = {d.n}")
    syms = d.symbols
    w, x = _pair(w, "w"), _pair(x, "x")
    values = {syms["b"]: _value(b, "b")}
    values.update(zip(syms["x"], x))
    values.update(zip(syms["w"], w))
    low, high = box_sides(box)
    if "l" in syms:
        values.update(zip(syms["l"], low))
        values.update(zip(syms["h"], high))
    if "gamma" in syms:
        default = d.rule_def.parameters.get("gamma", sp.Rational(1, 4))
        values[syms["gamma"]] = _value(default if gamma is None else gamma, "gamma")
    label = label or (d.rule_def.title if d.rule_def.name != "custom" else "user direction")
    direction = tuple(v.xreplace(values) for v in d.root["v"])
    denominator = d.denominator.xreplace(values)
    free = denominator.free_symbols | set().union(*(v.free_symbols for v in direction))
    if free:
        raise ValueError(f"rule {label!r}: no value for {sorted(map(str, free))}; "
                         "give them through box= or gamma=")
    if denominator == 0:
        return RootPoint(label, None, None, direction, False)
    # the derivation's own root formula, not a recomputation
    t = d.root["t"].xreplace(values)
    x_tilde = tuple(e.xreplace(values) for e in d.root["x_tilde"])
    domain = d.assumptions.domain
    point = [float(c) for c in x_tilde]
    bounds = ([float(v) for v in low], [float(v) for v in high]) if isinstance(domain, Box) else None
    inside = in_domain(point, domain, bounds=bounds, tol=1e-9 * (1 + max(map(abs, point))))
    return RootPoint(label, t, x_tilde, direction, inside)


def _value(value, what):
    """A user's number as a SymPy number: checked, strings parsed as numbers only."""
    return to_sympy(real_number(value, what))


def _pair(values, what):
    if isinstance(values, (str, bytes, Mapping)) or not _is_pair(values):
        raise ValueError(f"{what} must be a pair of numbers, got {values!r}")
    return tuple(_value(v, f"{what}[{k}]") for k, v in enumerate(values))


def box_sides(box):
    """``(low pair, high pair)`` of SymPy numbers from ``(l, h)`` or ``((l1, l2), (h1, h2))``."""
    try:
        low, high = box
    except (TypeError, ValueError):
        raise ValueError(f"box must be a pair (low, high), got {box!r}") from None
    sides = []
    for side, name in ((low, "low"), (high, "high")):
        if isinstance(side, (str, bytes)) or np.ndim(side) == 0:
            side = (side, side)
        sides.append(_pair(side, f"box {name}"))
    for k, (lo, hi) in enumerate(zip(*sides)):
        if lo > hi:
            raise ValueError(f"box: low bound {lo} is greater than high bound {hi} (input {k + 1})")
    return sides


def _is_pair(value):
    try:
        return np.ndim(value) == 1 and len(value) == 2
    except (TypeError, ValueError):
        return False


def _is_scalar(value):
    try:
        return np.ndim(value) == 0
    except ValueError:   # a ragged tuple such as (w, b, x): not a scalar
        return False


def neuron_items(neurons):
    """A list of ``(w, b, x)`` from one neuron or several (tuples or dicts)."""
    if isinstance(neurons, Mapping) or (len(neurons) == 3 and _is_scalar(neurons[1])):
        neurons = [neurons]
    out = []
    for k, n in enumerate(neurons):
        try:
            w, b, x = (n["w"], n["b"], n["x"]) if isinstance(n, Mapping) else n
        except (TypeError, ValueError, KeyError):
            raise ValueError(f"neurons[{k}]: expected (w, b, x), got {n!r}") from None
        if np.shape(w) != (2,) or np.shape(x) != (2,) or not _is_scalar(b):
            raise ValueError(f"neurons[{k}]: expected (w, b, x) with 2 weights, a scalar "
                             f"bias and a 2-D data point, got {n!r}")
        w, x = _pair(w, f"neurons[{k}] w"), _pair(x, f"neurons[{k}] x")
        b = _value(b, f"neurons[{k}] b")
        if not all(np.isfinite(float(v)) for v in (*w, b, *x)):
            raise ValueError(f"neurons[{k}]: a value is too large to draw (beyond float64)")
        out.append((w, b, x))
    return out
