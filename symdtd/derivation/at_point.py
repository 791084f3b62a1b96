"""A derivation walked through at one numeric point: every step with its numbers.

:meth:`Derivation.at <symdtd.derivation.taylor.Derivation.at>` puts a neuron's
weights ``w``, bias ``b`` and data point ``x`` (and the box bounds ``l``,
``h`` or ``γ`` where the rule has them) into the derivation's own
expressions, step by step: ``z_j``, the search direction ``v``, ``Σ v w``,
``t``, the root ``x̃`` (and ``z_j(x̃) = 0``), each input's share ``[x_j]_i``
and their sum, which is the neuron's relevance ``R_j = x_j``. Exact inputs
(integers, fractions, strings like ``"1/4"``) give exact rationals; a float
anywhere gives floats.

Examples
--------
>>> from symdtd import derive
>>> walk = derive("z+").at(w=[1, -1], b="-1/4", x=["3/2", "1/2"])
>>> walk.t, walk.x_tilde, walk.shares
(1/2, [3/4, 1/2], [3/4, 0])
>>> print(str(walk).splitlines()[3])
    z_j = b_j + w_1·x_1 + w_2·x_2 = 3/4
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy as sp

from ..core.domains import Box, Positive
from ..core.numbers import RealLike, real_number, to_sympy
from . import printing as display

__all__ = ["PointDerivation", "point_values"]


def _number(value, what):
    return to_sympy(real_number(value, what))


def _row(values, what, n=None):
    """A scalar or a sequence as a list of SymPy numbers (length *n* when given)."""
    if isinstance(values, (str, bytes)) or not (hasattr(values, "__len__") and hasattr(values, "__iter__")):
        if n is None or what in ("w", "x"):
            raise TypeError(f"{what} must be a sequence of numbers, one per input, got "
                            f"{type(values).__name__}")
        return [_number(values, what)] * n
    row = [_number(v, f"{what}_{k}") for k, v in enumerate(values, start=1)]
    if n is not None and len(row) != n:
        raise ValueError(f"{what} has {len(row)} values, expected one per input (n = {n})")
    return row


def point_values(derivation, w: Sequence[RealLike], b: RealLike, x: Sequence[RealLike], *,
                 l: RealLike | Sequence[RealLike] | None = None,
                 h: RealLike | Sequence[RealLike] | None = None,
                 gamma: RealLike | None = None) -> dict:
    """The values of a concrete fan-in derivation's symbols at one point, checked.

    Parameters
    ----------
    derivation : Derivation
        A derivation for a concrete fan-in ``n``.
    w, x : sequence of numbers
        Weights and data point, ``n`` values each (numbers or number strings).
    b : number
        The bias.
    l, h : number or sequence of numbers, optional
        Box bounds, needed by rules with ``l``/``h`` in their direction (zᴮ).
    gamma : number, optional
        γ, for rules that have it (default: the rule's own value).

    Returns
    -------
    dict
        SymPy symbol -> SymPy number.

    Raises
    ------
    ValueError
        A wrong number of values, a missing bound or γ, a data point outside
        the rule's domain, or a bad number (the message names the part).
    TypeError
        A value that is not a number.

    Examples
    --------
    >>> from symdtd import derive
    >>> sorted(map(str, point_values(derive("w2", n=1), [2], 0, [1])))
    ['b_j', 'w_1', 'x_1']
    >>> point_values(derive("zB", n=1), [2], 0, [1])
    Traceback (most recent call last):
    ...
    ValueError: the zᴮ rule needs the box bounds: give l and h (l=0 h=1)
    """
    n = derivation.n
    syms = derivation.symbols
    values = {syms["b"]: _number(b, "b")}
    values.update(zip(syms["w"], _row(w, "w", n)))
    xs = _row(x, "x", n)
    values.update(zip(syms["x"], xs))
    title = derivation.rule_def.title.replace(" rule", "")
    if "l" in syms:
        if l is None or h is None:
            raise ValueError(f"the {title} rule needs the box bounds: give l and h (l=0 h=1)")
        lows, highs = _row(l, "l", n), _row(h, "h", n)
        for k, (lo, hi) in enumerate(zip(lows, highs), start=1):
            if lo > hi:
                raise ValueError(f"l_{k} = {lo} is greater than h_{k} = {hi}")
        values.update(zip(syms["l"], lows))
        values.update(zip(syms["h"], highs))
    if "gamma" in syms:
        default = derivation.rule_def.parameters.get("gamma")
        if gamma is None and default is None:
            raise ValueError(f"the {title} rule needs gamma (gamma=1/4)")
        value = _number(default if gamma is None else gamma, "gamma")
        if value < 0:
            raise ValueError(f"gamma must be ≥ 0, got {value}")
        values[syms["gamma"]] = value
    _check_domain(derivation, xs, values)
    return values


def _check_domain(derivation, xs, values):
    domain = derivation.assumptions.domain
    name = derivation.rule_def.title
    for k, value in enumerate(xs, start=1):
        if isinstance(domain, Positive) and value < 0:
            raise ValueError(f"x_{k} = {value} is outside the {name}'s domain ℝⁿ₊ (x_i ≥ 0)")
        if isinstance(domain, Box):
            syms = derivation.symbols
            low, high = (values[syms["l"][k - 1]], values[syms["h"][k - 1]]) if "l" in syms \
                else (None, None)
            if low is not None and not low <= value <= high:
                raise ValueError(f"x_{k} = {value} is outside the box [l_{k}, h_{k}] = "
                                 f"[{low}, {high}] of the {name}")


def _show(value) -> str:
    """An exact number as SymPy writes it (``3/4``), a float with 6 significant digits."""
    value = sp.sympify(value, strict=True)
    if value.is_Rational:
        return str(value)
    text = f"{float(value):.6g}"
    return "0" if text == "-0" else text


@dataclass
class _Line:
    lhs: str          # text; the LaTeX form is in latex_lhs
    formula: object   # a SymPy expression (printed symbolically) or None
    value: object     # a SymPy number, or text
    latex_lhs: str = ""


@dataclass
class _StepLines:
    key: str
    name: str
    note: str
    lines: list = field(default_factory=list)


@dataclass(eq=False)
class PointDerivation:
    """A derivation at one point: the steps with their values (see :meth:`Derivation.at`).

    Print it with ``str``, :meth:`to_markdown` or :meth:`to_latex`.

    Parameters
    ----------
    derivation : Derivation
        The derivation for the concrete fan-in ``n = len(x)``.
    values : dict
        The point: SymPy symbol -> number (:func:`point_values`).

    Attributes
    ----------
    z : sympy.Expr
        ``z_j = Σ w x + b``.
    active : bool
        ``z_j > 0``. An inactive neuron has ``x_j = 0`` and no relevance.
    v : list
        The search direction at the data point, one entry per input.
    vw : sympy.Expr
        ``Σ_i v_i w_i``.
    t : sympy.Expr or None
        The step to the root (None when inactive or ``Σ v w = 0``).
    x_tilde : list or None
        The root point.
    shares : list
        ``[x_j]_i`` per input (zeros when inactive; None when no root).
    total : sympy.Expr or None
        ``Σ_i [x_j]_i``, the relevance ``R_j`` the neuron redistributes.

    Examples
    --------
    >>> from symdtd import derive
    >>> walk = derive("w2").at(w=[1, 1], b=-3, x=[1, 1])
    >>> walk.active, walk.shares, walk.total
    (False, [0, 0], 0)
    """

    derivation: object
    values: dict

    def __post_init__(self):
        d, vals = self.derivation, self.values
        s = d.symbols
        self.z = d.space.preactivation().xreplace(vals)
        self.active = bool(self.z > 0)
        self.x_j = self.z if self.active else sp.Integer(0)
        self.v = [e.xreplace(vals) for e in d.root["v"]]
        self.vw = sp.Add(*[vi * vals[wi] for vi, wi in zip(self.v, s["w"])])
        self.t = self.x_tilde = None
        self.shares = self.total = None
        if not self.active:
            self.shares, self.total = [sp.Integer(0)] * d.n, sp.Integer(0)
        elif self.vw != 0:
            self.t = d.root["t"].xreplace(vals)
            self.x_tilde = [e.xreplace(vals) for e in d.root["x_tilde"]]
            at = {**vals, s["x_j"]: self.x_j}
            self.shares = [e.xreplace(at) for e in d.rule]
            self.total = sp.Add(*self.shares)

    # ---- the lines of each step --------------------------------------------
    def point_text(self) -> str:
        """``w = (1, -1), b = -1/4, x = (3/2, 1/2)`` (and ``l``, ``h``, ``γ``)."""
        s, vals = self.derivation.symbols, self.values
        parts = [f"w = ({', '.join(_show(vals[w]) for w in s['w'])})",
                 f"b = {_show(vals[s['b']])}",
                 f"x = ({', '.join(_show(vals[x]) for x in s['x'])})"]
        for role in ("l", "h"):
            if role in s:
                parts.append(f"{role} = ({', '.join(_show(vals[v]) for v in s[role])})")
        if "gamma" in s:
            parts.append(f"γ = {_show(vals[s['gamma']])}")
        return ", ".join(parts)

    def title(self) -> str:
        """One line: the rule, the point, the fan-in and the domain."""
        d = self.derivation
        return (f"Derivation of the {d.rule_def.title} at {self.point_text()} "
                f"(fan-in {d.n}, domain {d.rule_def.domain.name})")

    def _steps(self):
        d, s, space = self.derivation, self.derivation.symbols, self.derivation.space
        n = d.n
        steps = {step.key: step for step in d.steps}
        out = []
        a = _StepLines("a", steps["a"].name, "z_j at the data point; x_j = max(0, z_j)")
        a.lines.append(_Line("z_j", space.preactivation(), self.z, "z_j"))
        state = "active: x_j = z_j" if self.active else "inactive"
        a.lines.append(_Line("x_j", None, f"{_show(self.x_j)} ({state})", "x_j"))
        if d.bias == "nonpositive" and self.values[s["b"]] > 0:
            a.note += ("; note: b_j > 0 although the derivation assumes b_j ≤ 0, so the root "
                       "may leave the domain")
        out.append(a)
        if not self.active:
            out.append(_StepLines(
                "b", "no root search",
                f"z_j = {_show(self.z)} ≤ 0: the neuron is inactive (x_j = max(0, z_j) = 0), "
                "so it has no relevance to redistribute and no root is searched; every share "
                "[x_j]_i is 0"))
            return out
        b = _StepLines("b", steps["b"].name, "x̃ = x − t·v, with this rule's direction v at the "
                       "data point")
        for k in range(n):
            b.lines.append(_Line(f"v_{k + 1}", d.root["v"][k], self.v[k], f"v_{{{k + 1}}}"))
        out.append(b)
        c = _StepLines("c", steps["c"].name, "t = z_j / Σ v w")
        c.lines.append(_Line("Σ v w", sp.Add(*[space.v[k] * space.w[k] for k in range(n)]),
                             self.vw, r"\sum_i v_i w_i"))
        if self.t is None:
            c.note = ("Σ v w = 0: the search line is parallel to the hyperplane z_j = 0 and "
                      "never meets it, so this rule finds no root here and gives no shares")
            out.append(c)
            return out
        c.lines.append(_Line("t", sp.Symbol("z_j") / sp.Symbol("Σvw"), self.t, "t"))
        out.append(c)
        root = _StepLines("d", steps["d"].name, "the root x̃ = x − t·v lies on the hyperplane "
                          "z_j(x̃) = Σ w x̃ + b = 0")
        for k in range(n):
            root.lines.append(_Line(f"x̃_{k + 1}", s["x"][k] - s["t"] * space.v[k],
                                    self.x_tilde[k], rf"\tilde{{x}}_{{{k + 1}}}"))
        on_plane = sp.Add(*[self.values[w] * xt for w, xt in zip(s["w"], self.x_tilde)],
                          self.values[s["b"]])
        shown = _show(on_plane)
        if not on_plane.is_Rational and abs(on_plane) < 1e-9:
            shown = f"{shown} (0 up to float rounding)"
        root.lines.append(_Line("z_j(x̃)", None, shown, r"z_j(\tilde{x})"))
        root.lines.append(_Line("x̃ in the domain", None, self._root_in_domain(),
                                r"\tilde{x} \in D"))
        out.append(root)
        e = _StepLines("e", steps["e"].name, "each share [x_j]_i = v_i w_i / Σ v w · x_j; they sum "
                       "to R_j = x_j")
        for k in range(n):
            e.lines.append(_Line(f"[x_j]_{k + 1}", d.rule[k], self.shares[k], f"[x_j]_{{{k + 1}}}"))
        e.lines.append(_Line("Σ_i [x_j]_i", None, f"{_show(self.total)} = x_j = R_j",
                             r"\sum_i [x_j]_i"))
        out.append(e)
        return out

    def _root_in_domain(self) -> str:
        d, s = self.derivation, self.derivation.symbols
        domain = d.assumptions.domain
        low = high = None
        if isinstance(domain, Positive):
            low = [0] * d.n
        elif isinstance(domain, Box) and "l" in s:
            low = [self.values[v] for v in s["l"]]
            high = [self.values[v] for v in s["h"]]
        bad = [k + 1 for k, xt in enumerate(self.x_tilde)
               if (low is not None and xt < low[k]) or (high is not None and xt > high[k])]
        if not bad:
            return f"yes ({domain.name})"
        return f"no: x̃_{', x̃_'.join(map(str, bad))} outside the {domain.name}"

    def _value(self, line):
        return line.value if isinstance(line.value, str) else _show(line.value)

    # ---- printers ----------------------------------------------------------
    def __str__(self):
        blocks = [self.title()]
        for step in self._steps():
            rows = [f"({step.key}) {step.name}: {step.note}"]
            for line in step.lines:
                formula = ""
                if line.formula is not None:
                    shown = display.text(line.formula).replace("Σvw", "Σ v w")
                    if shown != self._value(line):
                        formula = f" = {shown}"
                rows.append(f"    {line.lhs}{formula} = {self._value(line)}")
            blocks.append("\n".join(rows))
        return "\n\n".join(blocks)

    def _latex_line(self, line, align):
        parts = []
        if line.formula is not None:
            parts.append(display.latex(line.formula).replace(r"Σvw", r"\sum_i v_i w_i"))
        if isinstance(line.value, str):
            parts.append(f"\\text{{{display.latex_escape(line.value)}}}")
        elif sp.sympify(line.value, strict=True).is_Rational:
            parts.append(sp.latex(sp.sympify(line.value, strict=True)))
        else:
            parts.append(self._value(line))
        return f"{line.latex_lhs} {'&=' if align else '='} " + " = ".join(parts)

    def to_latex(self) -> str:
        """The walk-through as a LaTeX fragment (one ``align*`` per step)."""
        out = [f"\\textbf{{{display.latex_escape(self.title())}}}"]
        for step in self._steps():
            out.append(f"\\paragraph{{({step.key}) {display.latex_escape(step.name)}}} "
                       f"{display.latex_escape(step.note)}")
            if step.lines:
                out.append("\\begin{align*}\n" + " \\\\\n".join(
                    self._latex_line(line, True) for line in step.lines) + "\n\\end{align*}")
        return "\n".join(out)

    def to_markdown(self) -> str:
        """The walk-through as Markdown with ``$$`` LaTeX blocks."""
        out = [f"### {self.title()}"]
        for step in self._steps():
            out.append(f"**({step.key}) {step.name}.** {step.note}")
            out += [f"$$ {self._latex_line(line, False)} $$" for line in step.lines]
        return "\n\n".join(out)

    def _repr_markdown_(self):
        return self.to_markdown()
