"""The root-point search of one ReLU neuron, carried out as named SymPy steps.

A neuron ``x_j = max(0, z_j)``, ``z_j = Σ_i w_i x_i + b_j`` is linear on its
active set, so a first-order Taylor expansion at a root point ``x̃``
(``z_j(x̃) = 0``) is exact there. Searching the root on the line
``x̃ = x − t·v`` and identifying the terms of the expansion gives the
relevance of each input. :func:`derive` performs that search for a given
direction ``v`` in five steps, each an object of :mod:`symdtd.derivation.steps`:

(a) Taylor expansion at the root, (b) the root on the search line,
(c) solving ``z_j(x̃) = 0`` for ``t``, (d) substituting, which gives the seed
paper's Eq. 1, (e) specialising ``v`` and simplifying to the rule. The
:class:`Derivation` gathers their results and records its assumptions
(:class:`~symdtd.derivation.assumptions.Assumptions`).

Examples
--------
>>> from symdtd import derive
>>> d = derive("z+")
>>> print(d.steps[-1].text().splitlines()[-1])
    [x_j]_i = x_i·w_i⁺ / Σ_{i'=1}^{n} x_{i'}·w_{i'}⁺ · x_j
>>> derive("w2", n=2).rule[0]
w_1**2*x_j/(w_1**2 + w_2**2)
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import sympy as sp

from ..core.algebra import rewrite_gates
from ..core.domains import Domain, Real
from ..core.limits import check_fan_in
from ..core.numbers import RealLike
from ..core.rules import Rule, get_rule
from ..core.symbols import NeuronSymbols, neuron_symbols
from . import printing as display
from .assumptions import Assumptions
from .at_point import PointDerivation, point_values
from .steps import Step, run_steps

__all__ = ["derive", "Derivation", "Step", "Assumptions", "neuron_symbols", "rewrite_gates"]


@dataclass(eq=False)
class Derivation:
    """The result of :func:`derive`: the steps, the rule, the root and the symbols.

    :func:`derive` builds it; you read its attributes (each parameter is kept
    under its own name) and print it with ``str``, :meth:`to_latex` or
    :meth:`to_markdown`.

    Parameters
    ----------
    rule_def : Rule
        The rule (name, domain and search direction) that was derived.
    n : int or None
        The fan-in (None: arbitrary).
    steps : list of Step
        The five step objects (a)–(e) of :mod:`symdtd.derivation.steps`.
    rule : list of sympy.Expr or sympy.Expr
        Per-input relevance ``[x_j]_i``: one expression per input for a
        concrete fan-in, one expression in the index ``i`` otherwise.
    numerator : list or sympy.Expr
        ``q_i = v_i w_i`` after simplification, so that
        ``[x_j]_i = q_i / Σ q · x_j``.
    denominator : sympy.Expr
        ``Σ_i q_i``, the sum the shares are divided by.
    root : dict
        ``"t"`` (in terms of ``x``, ``w``, ``b``), ``"t_active"`` (in terms of
        ``x_j``) and ``"x_tilde"`` (the root point, per input).
    symbols : dict
        Role → symbol(s): ``"x"``, ``"w"`` (lists in input order or indexed
        bases), ``"b"``, ``"x_j"``, ``"t"`` and ``"l"``, ``"h"``, ``"gamma"``
        where the rule has them.
    space : NeuronSymbols
        The neuron's symbols the steps were written in.
    assumptions : Assumptions
        The input domain, the bias assumption, the rule's name and its
        parameters (:class:`~symdtd.derivation.assumptions.Assumptions`);
        the proofs read them here.
    local : bool, default True
        True when the direction is a function of one input's quantities, so
        the rule holds for every fan-in (False for a list of expressions for
        one fan-in).

    Examples
    --------
    >>> d = derive("zB", n=2, bias="real")
    >>> d.assumptions.bias, d.assumptions.domain
    ('real', Box())
    >>> [step.key for step in d.steps], type(d.steps[2]).__name__
    (['a', 'b', 'c', 'd', 'e'], 'SolveForT')
    """

    rule_def: Rule
    n: int | None
    steps: list
    rule: object
    numerator: object
    denominator: object
    root: dict
    symbols: dict
    space: NeuronSymbols = field(repr=False)
    #: the domain, bias, rule and parameters the derivation assumes; the proofs read them here
    assumptions: Assumptions = field(repr=False)
    #: True when the direction is a function of one input's quantities, so the
    #: rule holds for every fan-in (False for a list of expressions for one n)
    local: bool = True

    @property
    def name(self) -> str:
        """The rule's name."""
        return self.rule_def.name

    @property
    def bias(self) -> str:
        """The assumption on the bias ``b_j`` (``assumptions.bias``): "nonpositive", "real", ..."""
        return self.assumptions.bias

    def local_numerator(self):
        """``q`` as an expression of scalar symbols ``x, w, l, h, gamma``.

        Only for an arbitrary fan-in derivation of a local direction; this
        is what networks and the compiler evaluate edge by edge.

        >>> q, syms = derive("zB").local_numerator()
        >>> q
        -h*Min(0, w) - l*Max(0, w) + w*x
        """
        if not self.space.general:
            raise ValueError("local_numerator needs a derivation with arbitrary fan-in (n=None)")
        i = self.space.i
        roles = (("x", self.space.x), ("w", self.space.w), ("l", self.space.l),
                 ("h", self.space.h), ("unbounded", self.space.unbounded))
        scalars = {role: sp.Symbol(role, **_scalar_assumptions(base)) for role, base in roles}
        mapping = {self.space.at(base, i): scalars[role] for role, base in roles}
        q = self.numerator.xreplace(mapping)
        scalars["gamma"] = self.space.gamma
        used = {role: s for role, s in scalars.items() if q.has(s)}
        return q, used

    def at(self, *, w: Sequence[RealLike], b: RealLike, x: Sequence[RealLike],
           l: RealLike | Sequence[RealLike] | None = None,
           h: RealLike | Sequence[RealLike] | None = None,
           gamma: RealLike | None = None) -> PointDerivation:
        """The derivation at one point: every step with its numbers beside the symbols.

        The fan-in is the number of ``x`` values (a derivation for an
        arbitrary fan-in is derived again for it). The values are put into
        this derivation's own expressions: ``z_j``, ``v``, ``Σ v w``, ``t``,
        the root ``x̃``, each share and their sum ``R_j``. Exact inputs
        (integers, ``Fraction``, strings such as ``"1/4"``) stay exact.

        Parameters
        ----------
        w : sequence of numbers
            The weights, one per input.
        b : number
            The bias.
        x : sequence of numbers
            The data point; must lie in the rule's domain.
        l, h : number or sequence of numbers, optional
            Box bounds for rules that use them (zᴮ).
        gamma : number, optional
            γ of the γ rule (default: the rule's own value).

        Returns
        -------
        PointDerivation
            Prints with ``str``, ``to_markdown()`` and ``to_latex()``.

        Raises
        ------
        ValueError
            A wrong number of values, missing bounds, a point outside the
            domain, a bad number string, or ``len(x)`` different from a
            concrete fan-in of this derivation.

        Examples
        --------
        >>> walk = derive("zB").at(w=[1, -1], b=0, x=["1/2", "1/2"], l=0, h=1)
        >>> walk.z, walk.v, walk.t, walk.shares
        (0, [1/2, -1/2], None, [0, 0])
        >>> derive("z+", n=2).at(w=[1], b=0, x=[1])
        Traceback (most recent call last):
        ...
        ValueError: x has 1 values, but this derivation is for fan-in 2
        """
        if isinstance(x, (str, bytes)) or not (hasattr(x, "__len__") and hasattr(x, "__iter__")):
            raise TypeError(f"x must be a sequence of numbers, one per input, got {type(x).__name__}")
        if self.n is not None and len(x) != self.n:
            raise ValueError(f"x has {len(x)} values, but this derivation is for fan-in {self.n}")
        if self.n is None:
            concrete = derive(self.rule_def, n=len(x), bias=self.bias)
        else:
            concrete = self
        return PointDerivation(concrete, point_values(concrete, w, b, x, l=l, h=h, gamma=gamma))

    # ---- rendering -------------------------------------------------------
    def title(self) -> str:
        """One line naming the rule, the fan-in and the domain."""
        fan_in = "n" if self.n is None else str(self.n)
        return (f"Derivation of the {self.rule_def.title} "
                f"(fan-in {fan_in}, domain {self.rule_def.domain.name})")

    def __str__(self):
        return "\n\n".join([self.title()] + [step.text() for step in self.steps])

    def to_latex(self) -> str:
        """The whole derivation as a LaTeX fragment (one ``align*`` per step)."""
        parts = [f"\\textbf{{{display.latex_escape(self.title())}}}"]
        for step in self.steps:
            parts.append(f"\\paragraph{{({step.key}) {display.latex_escape(step.name)}}} "
                         f"{display.latex_escape(step.explanation)}")
            parts.append("\\begin{align*}\n" + step.latex() + "\n\\end{align*}")
        return "\n".join(parts)

    def to_markdown(self) -> str:
        """The whole derivation as Markdown with ``$$`` LaTeX blocks."""
        return "\n\n".join([f"### {self.title()}"] + [step.markdown() for step in self.steps])

    def _repr_latex_(self):
        body = " \\\\ ".join(f"\\text{{({s.key}) {s.name}}} & \\quad " +
                             " ,\\quad ".join(display.latex_eq(eq, align=False)
                                              for eq in s.equations)
                             for s in self.steps)
        return f"$\\begin{{array}}{{ll}} {body} \\end{{array}}$"

    def _repr_markdown_(self):
        return self.to_markdown()


def _scalar_assumptions(base):
    # an IndexedBase keeps its assumptions on the label symbol
    label = base.label if isinstance(base, sp.IndexedBase) else base
    return {k: v for k, v in label.assumptions0.items()
            if k in ("real", "nonnegative", "nonpositive", "positive") and v}


def _build(rule: Rule, n, direction, bias):
    """Run the steps (a)–(e) and gather their results into a :class:`Derivation`."""
    s = NeuronSymbols(n, rule.domain, bias)
    steps = run_steps(rule, s, direction)
    special = steps[-1]
    v_at, numerators, denominator = special.v_at, special.numerators, special.denominator
    t_rule = s.preactivation() / denominator
    x_tilde = {k: s.x[k] - t_rule * v_at(k) for k in s.indices}
    symbols = {"x": s.x, "w": s.w, "b": s.b, "x_j": s.x_out, "t": s.t}
    used = sp.Add(*numerators.values(), *[v_at(k) for k in s.indices])
    for role, base in (("l", s.l), ("h", s.h)):
        if any(used.has(s.at(base, k)) for k in s.indices):
            symbols[role] = base
    if used.has(s.gamma):
        symbols["gamma"] = s.gamma
    root = {"t": t_rule, "t_active": s.x_out / denominator}
    if s.general:
        rule_out, numer_out = special.shares[s.i], numerators[s.i]
        root.update(x_tilde=x_tilde[s.i], v=v_at(s.i))
    else:
        rule_out = [special.shares[k] for k in s.indices]
        numer_out = [numerators[k] for k in s.indices]
        root.update(x_tilde=[x_tilde[k] for k in s.indices], v=[v_at(k) for k in s.indices])
    assumptions = Assumptions(rule.domain, bias, rule.name, dict(rule.parameters))
    return Derivation(rule, n, steps, rule_out, numer_out, denominator, root, symbols, s,
                      assumptions, local=direction is None)


@functools.lru_cache(maxsize=256)
def _cached(rule, n, bias):
    return _build(rule, n, None, bias)


@functools.lru_cache(maxsize=256)
def _user_rule(direction, domain):
    # one Rule per (function, domain), so derivations of it are cached too
    name = getattr(direction, "__name__", "custom")
    return Rule("custom" if name == "<lambda>" else name, "user direction rule",
                domain, direction, "the user's search direction")


def derive(rule: str | Rule | Callable[..., object] | Sequence[object], n: int | None = None, *,
           domain: Domain | None = None, bias: str | None = None) -> Derivation:
    """Derive a deep Taylor rule from its search direction, step by step.

    Parameters
    ----------
    rule : str, Rule, callable or sequence of sympy.Expr
        A built-in name (``"w2"``, ``"z+"``, ``"zB"``, ``"z"``, ``"gamma"``),
        a registered :class:`~symdtd.core.rules.Rule`, a *local* direction
        function taking any of ``x, w, l, h, gamma`` (one input's
        quantities), or one SymPy expression per input written in the
        symbols of :func:`neuron_symbols` (needs a concrete *n*).
    n : int, optional
        Fan-in. ``None`` (default) derives for an arbitrary fan-in with
        indexed symbols and sums.
    domain : Domain, optional
        Input domain of a user direction (default ℝⁿ). Ignored for rules
        that carry their own domain.
    bias : str, optional
        Assumption on the bias ``b_j``: ``"nonpositive"`` (the rule's
        default), ``"real"`` or ``"positive"``.

    Returns
    -------
    Derivation

    Raises
    ------
    ValueError
        Unknown rule name, direction of the wrong length, fan-in < 1.
    symdtd.core.limits.LimitExceeded
        A fan-in over ``LIMITS.derive_fan_in`` (a ValueError; see :mod:`symdtd.core.limits`).

    Examples
    --------
    >>> d = derive(lambda x, w: x * w**2, n=2)
    >>> d.rule[0]
    w_1**3*x_1*x_j/(w_1**3*x_1 + w_2**3*x_2)
    >>> derive("z+", n=0)
    Traceback (most recent call last):
    ...
    ValueError: fan-in n must be a positive integer, got 0
    """
    check_fan_in("derive_fan_in", n, "derive")  # the SymPy work grows fast with n
    if isinstance(rule, (str, Rule)):
        rule_obj = get_rule(rule)
        return _cached(rule_obj, n, bias or rule_obj.bias)
    if callable(rule):
        return _cached(_user_rule(rule, domain or Real()), n, bias or "nonpositive")
    if isinstance(rule, (list, tuple)):
        if n is None:
            n = len(rule)
        rule_obj = Rule("custom", "user direction rule", domain or Real(),
                        lambda x: x, "the user's search direction")
        return _build(rule_obj, n, list(rule), bias or "nonpositive")
    raise TypeError(f"rule must be a rule name, a Rule, a direction function or a list of "
                    f"expressions, got {type(rule).__name__}")
