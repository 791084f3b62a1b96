"""The root-point search of one ReLU neuron, carried out as named SymPy steps.

A neuron ``x_j = max(0, z_j)``, ``z_j = Σ_i w_i x_i + b_j`` is linear on its
active set, so a first-order Taylor expansion at a root point ``x̃``
(``z_j(x̃) = 0``) is exact there. Searching the root on the line
``x̃ = x − t·v`` and identifying the terms of the expansion gives the
relevance of each input. :func:`derive` performs that search for a given
direction ``v`` in five steps:

(a) Taylor expansion at the root, (b) the root on the search line,
(c) solving ``z_j(x̃) = 0`` for ``t``, (d) substituting, which gives the seed
paper's Eq. 1, (e) specialising ``v`` and simplifying to the rule.

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
from dataclasses import dataclass, field

import sympy as sp

from ..core.algebra import rewrite_gates, split_sum
from ..core.domains import Real
from ..core.limits import check_fan_in
from ..core.rules import Rule, get_rule
from ..core.symbols import NeuronSymbols, neuron_symbols
from . import printing as display

__all__ = ["derive", "Derivation", "Step", "neuron_symbols", "rewrite_gates"]

@dataclass
class Step:
    """One named step of a derivation.

    Attributes
    ----------
    key : str
        ``"a"`` … ``"e"``.
    name : str
        Short title of the step.
    explanation : str
        One line saying what is done and why.
    equations : tuple of sympy.Eq
        The step's equations (the first is the main one).
    """

    key: str
    name: str
    explanation: str
    equations: tuple

    @property
    def equation(self):
        """The main equation of the step."""
        return self.equations[0]

    def text(self) -> str:
        """The step as plain text."""
        lines = [f"({self.key}) {self.name}: {self.explanation}"]
        lines += ["    " + display.text_eq(eq) for eq in self.equations]
        return "\n".join(lines)

    def latex(self) -> str:
        """The step as LaTeX (an ``align*`` body)."""
        return " \\\\\n".join(display.latex_eq(eq) for eq in self.equations)


@dataclass(eq=False)
class Derivation:
    """The result of :func:`derive`: the steps, the rule, the root and the symbols.

    Attributes
    ----------
    rule_def : Rule
        The rule (name, domain and search direction) that was derived.
    n : int or None
        The fan-in (None: arbitrary).
    steps : list of Step
        The five steps (a)–(e).
    rule : list of sympy.Expr or sympy.Expr
        Per-input relevance ``[x_j]_i``: one expression per input for a
        concrete fan-in, one expression in the index ``i`` otherwise.
    numerator : list or sympy.Expr
        ``q_i = v_i w_i`` after simplification, so that
        ``[x_j]_i = q_i / Σ q · x_j``.
    root : dict
        ``"t"`` (in terms of ``x``, ``w``, ``b``), ``"t_active"`` (in terms of
        ``x_j``) and ``"x_tilde"`` (the root point, per input).
    symbols : dict
        Role → symbol(s): ``"x"``, ``"w"`` (lists in input order or indexed
        bases), ``"b"``, ``"x_j"``, ``"t"`` and ``"l"``, ``"h"``, ``"gamma"``
        where the rule has them.
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
    #: True when the direction is a function of one input's quantities, so the
    #: rule holds for every fan-in (False for a list of expressions for one n)
    local: bool = True
    #: the assumption on the bias ``b_j``: "nonpositive", "real", "positive"
    #: or "nonnegative" (the symbol ``b_j`` carries it)
    bias: str = "nonpositive"

    @property
    def name(self) -> str:
        """The rule's name."""
        return self.rule_def.name

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
        parts = [f"### {self.title()}"]
        for step in self.steps:
            parts.append(f"**({step.key}) {step.name}.** {step.explanation}")
            parts += [f"$$ {display.latex_eq(eq, align=False)} $$" for eq in step.equations]
        return "\n\n".join(parts)

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


def _expr(value):
    """A direction entry as a SymPy expression; text is refused, never parsed."""
    if isinstance(value, (str, bytes)):
        raise TypeError(f"a search direction must be SymPy expressions (or numbers), not text: "
                        f"{value!r}; build it from the symbols of neuron_symbols()")
    try:
        return sp.sympify(value, strict=True)
    except sp.SympifyError:
        raise TypeError(f"a search direction must be SymPy expressions (or numbers), got "
                        f"{type(value).__name__}") from None


def _is_zero(expr) -> bool:
    """Cheap rational normalisation first; simplify only if that is not enough."""
    return sp.cancel(sp.together(expr)) == 0 or sp.simplify(expr) == 0


def _direction_exprs(rule, direction, space):
    """The search direction ``v_i`` per input position, as SymPy expressions."""
    if direction is None:
        return {k: _expr(rule.direction_at(**space.local(k))) for k in space.indices}
    if space.general:
        raise ValueError("a direction given as a list of expressions needs a concrete fan-in n")
    if len(direction) != space.n:
        raise ValueError(f"direction has {len(direction)} entries, expected one per input "
                         f"(n = {space.n})")
    known = {*space.x, *space.w, *space.l, *space.h, *space.unbounded, space.gamma}
    exprs = {}
    for k, v in zip(space.indices, direction):
        v = _expr(v)
        foreign = sorted(str(sym) for sym in v.free_symbols if sym not in known)
        if foreign:
            # same name, other assumptions: a different SymPy symbol
            raise ValueError(
                f"direction entry {k + 1} uses {', '.join(foreign)}, which are not the "
                f"symbols of this neuron; write it with neuron_symbols({space.n}, "
                f"domain=..., bias=...) for the same domain and bias as derive")
        exprs[k] = v
    return exprs


def _substitute_direction(expr, space, v_of):
    """Replace every ``v_k`` in *expr* by the direction of input *k*."""
    if space.general:
        return expr.replace(
            lambda e: isinstance(e, sp.Indexed) and e.base == space.v,
            lambda e: v_of(e.indices[0]))
    return expr.xreplace({space.v[k]: v_of(k) for k in space.indices})


def _build(rule: Rule, n, direction, bias):
    space = NeuronSymbols(n, rule.domain, bias)
    s = space
    pos = space.indices[0]   # the generic input shown in one-input equations
    R = s.relevance

    # (a) Taylor expansion at a root point (exact: z is linear on the active set)
    z_root = s.preactivation(lambda k: s.x_root[k])
    gradient = {k: sp.diff(z_root, s.x_root[k]) if not s.general
                else sp.diff(s.w[k] * s.x_root[k] + s.b, s.x_root[k]) for k in s.indices}
    expansion = s.total(lambda k: (gradient[k] if not s.general
                                   else sp.diff(s.w[k] * s.x_root[k], s.x_root[k]))
                        * (s.x[k] - s.x_root[k]))
    step_a = Step("a", "Taylor expansion at a root point",
                  "on the active set z_j is linear, so the first-order expansion at a root "
                  "x̃ (z_j(x̃) = 0) is exact; each input's term is its relevance",
                  (sp.Eq(s.x_out, expansion),
                   sp.Eq(R(pos + 1 if not s.general else pos),
                         gradient[pos] * (s.x[pos] - s.x_root[pos]))))

    # (b) restrict the root to the search line x̃ = x − t v
    on_line = {k: s.x[k] - s.t * s.v[k] for k in s.indices}
    root_condition = s.preactivation(lambda k: s.x[k] - s.t * s.v[k])
    step_b = Step("b", "root on the search line",
                  "look for the root along the direction v starting from the data point",
                  (sp.Eq(s.x_root[pos], on_line[pos]), sp.Eq(root_condition, 0)))

    # (c) solve z(x − t v) = 0 for t
    # the equation is linear in t (sums split by linearity), so solve_linear
    # gives the single solution (and is far cheaper than the general solve)
    unknown, t_solution = sp.solve_linear(split_sum(root_condition), symbols=[s.t])
    if unknown != s.t:
        raise ValueError(f"rule {rule.name!r}: z(x - t v) = 0 has no unique solution for t")
    t_general = sp.factor_terms(t_solution)
    denominator_v = s.total(lambda k: s.v[k] * s.w[k])
    z_expr = s.preactivation()
    if sp.expand(t_general * denominator_v - split_sum(z_expr)) != 0:
        raise AssertionError("solved t does not have the form z / Σ v w")  # engine bug
    t_active = s.x_out / denominator_v
    step_c = Step("c", "solve for t",
                  "z_j(x − t v) = z_j − t Σ v w is linear in t; on the active set z_j = x_j",
                  (sp.Eq(s.t, z_expr / denominator_v), sp.Eq(s.t, t_active)))

    # (d) substitute the root into the Taylor term: the seed paper's Eq. 1
    term = gradient[pos] * (s.x[pos] - s.x_root[pos])
    eq1 = sp.factor_terms(term.xreplace({s.x_root[pos]: on_line[pos]}).xreplace({s.t: t_active}))
    step_d = Step("d", "substitute the root (Eq. 1)",
                  "x_i − x̃_i = t v_i, so each term is w_i v_i / Σ v w · x_j",
                  (sp.Eq(R(pos + 1 if not s.general else pos), eq1),))

    # (e) specialise the direction and simplify
    v_of = _direction_exprs(rule, direction, s)
    if s.general:
        def v_at(k):
            return _expr(rule.direction_at(**s.local(k)))
    else:
        def v_at(k):
            return v_of[k]
    numerators = {k: sp.factor_terms(rewrite_gates(sp.expand(v_at(k) * s.w[k])))
                  for k in s.indices}
    if s.general:
        denominator = s.total(lambda k: sp.factor_terms(rewrite_gates(sp.expand(v_at(k) * s.w[k]))))
    else:
        denominator = sp.Add(*numerators.values())
    rules = {k: numerators[k] / denominator * s.x_out for k in s.indices}
    derived = _substitute_direction(eq1, s, v_at)
    # the tidy q / Σ q · x_j form must be Eq. 1 with v inserted, nothing else
    if not s.general and not _is_zero(rewrite_gates(derived) - rules[pos]):
        raise AssertionError("specialised Eq. 1 does not match the rule")  # engine bug
    step_e = Step("e", "specialise the direction",
                  rule.description or "insert the chosen search direction and simplify",
                  (sp.Eq(s.v[pos], v_of[pos] if not s.general else v_at(pos)),
                   sp.Eq(R(pos + 1 if not s.general else pos), rules[pos])))

    t_rule = z_expr / denominator
    x_tilde = {k: s.x[k] - t_rule * v_at(k) for k in s.indices}
    symbols = {"x": s.x, "w": s.w, "b": s.b, "x_j": s.x_out, "t": s.t}
    used = sp.Add(*numerators.values(), *[v_at(k) for k in s.indices])
    for role, base in (("l", s.l), ("h", s.h)):
        if any(used.has(s.at(base, k)) for k in s.indices):
            symbols[role] = base
    if used.has(s.gamma):
        symbols["gamma"] = s.gamma
    if s.general:
        rule_out, numer_out = rules[s.i], numerators[s.i]
        root = {"t": t_rule, "t_active": s.x_out / denominator, "x_tilde": x_tilde[s.i]}
    else:
        rule_out = [rules[k] for k in s.indices]
        numer_out = [numerators[k] for k in s.indices]
        root = {"t": t_rule, "t_active": s.x_out / denominator,
                "x_tilde": [x_tilde[k] for k in s.indices]}
    root["v"] = (v_at(s.i) if s.general else [v_at(k) for k in s.indices])
    return Derivation(rule, n, [step_a, step_b, step_c, step_d, step_e], rule_out,
                      numer_out, denominator, root, symbols, space, local=direction is None,
                      bias=bias)


@functools.lru_cache(maxsize=256)
def _cached(rule, n, bias):
    return _build(rule, n, None, bias)


@functools.lru_cache(maxsize=256)
def _user_rule(direction, domain):
    # one Rule per (function, domain), so derivations of it are cached too
    name = getattr(direction, "__name__", "custom")
    return Rule("custom" if name == "<lambda>" else name, "user direction rule",
                domain, direction, "the user's search direction")


def derive(rule, n=None, *, domain=None, bias=None) -> Derivation:
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
