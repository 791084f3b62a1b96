"""The steps of a derivation as small objects: inputs, SymPy result, check and printers.

Modelled on SymPy's ``manualintegrate`` (one class per rule of rewriting),
each step of the root search of a ReLU neuron ``z_j = Σ_i x_i w_ij + b_j``
is one class. A step is built from its inputs (the neuron's symbols, the
results of earlier steps), computes its result at once (:meth:`Step.apply`),
checks it (:meth:`Step.check`: a :class:`ValueError` naming the step when
the user's direction breaks it, an :class:`AssertionError` for an engine
bug) and prints itself (:meth:`Step.text`, :meth:`Step.latex`,
:meth:`Step.markdown`).

* (a) :class:`TaylorExpansion`: ``x_j = Σ_i w_i (x_i − x̃_i)``, exact on the active set;
* (b) :class:`SearchLine`: the root on the line ``x̃ = x − t·v``;
* (c) :class:`SolveForT`: ``t = z_j / Σ_i v_i w_i = x_j / Σ_i v_i w_i``;
* (d) :class:`SubstituteRoot`: Eq. 1, ``[x_j]_i = w_i v_i / Σ v w · x_j``;
* (e) :class:`SpecialiseDirection`: ``v`` put in and the gates rewritten with
  ``w⁺``/``w⁻``: ``[x_j]_i = q_i / Σ q · x_j``.

Step (e) reads and inserts the direction through
:mod:`symdtd.derivation.directions`. :func:`run_steps` runs the steps in
order; :func:`~symdtd.derivation.taylor.derive` assembles the
:class:`~symdtd.derivation.taylor.Derivation` from their results.

Examples
--------
>>> from symdtd.core.symbols import NeuronSymbols
>>> s = NeuronSymbols(2)
>>> line = SearchLine(s)
>>> solved = SolveForT(s, line.root_condition)
>>> solved.t_active
x_j/(v_1*w_1 + v_2*w_2)
>>> print(solved.text())
(c) solve for t: z_j(x − t v) = z_j − t Σ v w is linear in t; on the active set z_j = x_j
    t = (b_j + w_1·x_1 + w_2·x_2)/(v_1·w_1 + v_2·w_2)
    t = x_j/(v_1·w_1 + v_2·w_2)
>>> from symdtd import get_rule
>>> run_steps(get_rule("z+"), s, direction=[s.w[1], -s.w[0]])   # Σ v w = w_2 w_1 − w_1 w_2
Traceback (most recent call last):
...
ValueError: step (e) specialise the direction: Σ_i v_i·w_i is identically 0 for this direction, ...
"""
from __future__ import annotations

import sympy as sp

from ..core.algebra import rewrite_gates, split_sum
from ..core.rules import Rule
from ..core.symbols import NeuronSymbols
from . import printing as display
from .directions import direction_expr, direction_exprs, substitute_direction

__all__ = ["Step", "TaylorExpansion", "SearchLine", "SolveForT", "SubstituteRoot",
           "SpecialiseDirection", "run_steps", "direction_expr"]


class Step:
    """One named step of a derivation; subclasses compute, check and print it.

    Building a step computes its result (:meth:`apply`) and checks it
    (:meth:`check`) at once.

    Parameters
    ----------
    space : NeuronSymbols
        The symbols of the neuron the step works on (its inputs, weights,
        bias and relevance shares).

    Attributes
    ----------
    key : str
        ``"a"`` … ``"e"``.
    name : str
        Short title of the step.
    explanation : str
        One line saying what is done and why.
    equations : tuple of sympy.Eq
        The step's equations (the first is the main one), set by :meth:`apply`.
    """

    key = ""
    name = ""
    explanation = ""

    def __init__(self, space: NeuronSymbols):
        self.space = space
        #: the generic input shown in one-input equations
        self.pos = space.indices[0]
        self.equations = self.apply()
        self.check()

    def apply(self) -> tuple:
        """Compute the step's result (as attributes); return its equations."""
        raise NotImplementedError

    def check(self) -> None:
        """Check the result; raise a ValueError naming the step if it is broken."""

    def fail(self, message):
        """A ValueError that names this step."""
        return ValueError(f"step ({self.key}) {self.name}: {message}")

    @property
    def equation(self):
        """The main equation of the step."""
        return self.equations[0]

    def share_label(self):
        """``[x_j]_i`` of the generic input (1-based for a concrete fan-in)."""
        s = self.space
        return s.relevance(self.pos + 1 if not s.general else self.pos)

    def text(self) -> str:
        """The step as plain text."""
        lines = [f"({self.key}) {self.name}: {self.explanation}"]
        lines += ["    " + display.text_eq(eq) for eq in self.equations]
        return "\n".join(lines)

    def latex(self) -> str:
        """The step's equations as LaTeX (an ``align*`` body)."""
        return " \\\\\n".join(display.latex_eq(eq) for eq in self.equations)

    def markdown(self) -> str:
        """The step as Markdown: a bold title, then one ``$$`` block per equation."""
        parts = [f"**({self.key}) {self.name}.** {self.explanation}"]
        parts += [f"$$ {display.latex_eq(eq, align=False)} $$" for eq in self.equations]
        return "\n\n".join(parts)

    def __repr__(self):
        return f"<{type(self).__name__} ({self.key}) {self.name}>"


class TaylorExpansion(Step):
    """(a) The first-order Taylor expansion of ``z_j`` at a root ``x̃``.

    Result: ``gradient`` (input → ``∂z_j/∂x̃_i = w_i``), ``expansion``
    (``Σ_i w_i (x_i − x̃_i)``) and ``term`` (the generic input's term).
    Check: the expansion is exact (``z_j(x) − z_j(x̃)``; ``z_j`` is linear).
    """

    key, name = "a", "Taylor expansion at a root point"
    explanation = ("on the active set z_j is linear, so the first-order expansion at a root "
                   "x̃ (z_j(x̃) = 0) is exact; each input's term is its relevance")

    def apply(self):
        s = self.space
        z_root = s.preactivation(lambda k: s.x_root[k])
        if s.general:
            self.gradient = {k: sp.diff(s.w[k] * s.x_root[k] + s.b, s.x_root[k]) for k in s.indices}
            self.expansion = s.total(lambda k: sp.diff(s.w[k] * s.x_root[k], s.x_root[k])
                                     * (s.x[k] - s.x_root[k]))
        else:
            self.gradient = {k: sp.diff(z_root, s.x_root[k]) for k in s.indices}
            self.expansion = s.total(lambda k: self.gradient[k] * (s.x[k] - s.x_root[k]))
        self.z_root = z_root
        self.term = self.gradient[self.pos] * (s.x[self.pos] - s.x_root[self.pos])
        return (_Eq(s.x_out, self.expansion), _Eq(self.share_label(), self.term))

    def check(self):
        s = self.space
        if s.general:
            exact = split_sum(s.preactivation()) - split_sum(self.z_root) - split_sum(self.expansion)
        else:
            exact = s.preactivation() - self.z_root - self.expansion
        if sp.expand(exact) != 0:
            raise AssertionError("step (a): the Taylor expansion of z_j is not exact")  # engine bug


class SearchLine(Step):
    """(b) The root sought on the line ``x̃ = x − t·v`` from the data point.

    Result: ``on_line`` (input → ``x_i − t v_i``) and ``root_condition``
    (``z_j(x − t v)``, to be set to 0). Check: at ``t = 0`` the line is at
    the data point (``root_condition`` is ``z_j``).
    """

    key, name = "b", "root on the search line"
    explanation = "look for the root along the direction v starting from the data point"

    def apply(self):
        s = self.space
        self.on_line = {k: s.x[k] - s.t * s.v[k] for k in s.indices}
        self.root_condition = s.preactivation(lambda k: s.x[k] - s.t * s.v[k])
        return (_Eq(s.x_root[self.pos], self.on_line[self.pos]), _Eq(self.root_condition, 0))

    def check(self):
        s = self.space
        at_start = split_sum(self.root_condition).subs(s.t, 0)
        if sp.expand(at_start - split_sum(s.preactivation())) != 0:
            raise AssertionError("step (b): the search line does not start at x")  # engine bug


class SolveForT(Step):
    """(c) Solve ``z_j(x − t·v) = 0`` for ``t``.

    Parameters
    ----------
    space : NeuronSymbols
    root_condition : sympy.Expr
        ``z_j(x − t v)`` from :class:`SearchLine`.

    Result: ``t_general`` (the solution in ``x, w, b, v``), ``denominator_v``
    (``Σ_i v_i w_i``), ``z_expr`` (``z_j``) and ``t_active`` (``x_j / Σ v w``).
    Check: a unique solution (ValueError otherwise) of the form
    ``z_j / Σ v w`` (AssertionError otherwise).
    """

    key, name = "c", "solve for t"
    explanation = "z_j(x − t v) = z_j − t Σ v w is linear in t; on the active set z_j = x_j"

    def __init__(self, space, root_condition):
        self.root_condition = root_condition
        super().__init__(space)

    def apply(self):
        s = self.space
        # the equation is linear in t (sums split by linearity), so solve_linear
        # gives the single solution (and is far cheaper than the general solve)
        self.unknown, solution = sp.solve_linear(split_sum(self.root_condition), symbols=[s.t])
        self.t_general = sp.factor_terms(solution)
        self.denominator_v = s.total(lambda k: s.v[k] * s.w[k])
        self.z_expr = s.preactivation()
        self.t_active = s.x_out / self.denominator_v
        return (_Eq(s.t, self.z_expr / self.denominator_v), _Eq(s.t, self.t_active))

    def check(self):
        s = self.space
        if self.unknown != s.t:
            raise self.fail("z(x - t v) = 0 has no unique solution for t")
        if sp.expand(self.t_general * self.denominator_v - split_sum(self.z_expr)) != 0:
            raise AssertionError("solved t does not have the form z / Σ v w")  # engine bug


class SubstituteRoot(Step):
    """(d) Substitute the root into the Taylor term: the seed paper's Eq. 1.

    Parameters
    ----------
    space : NeuronSymbols
    term : sympy.Expr
        The generic input's Taylor term (:class:`TaylorExpansion`).
    on_line : sympy.Expr
        The generic input's root coordinate ``x_i − t v_i`` (:class:`SearchLine`).
    t_active : sympy.Expr
        ``x_j / Σ v w`` (:class:`SolveForT`).

    Result: ``eq1`` (``[x_j]_i = w_i v_i / Σ v w · x_j``). Check: it is that
    expression.
    """

    key, name = "d", "substitute the root (Eq. 1)"
    explanation = "x_i − x̃_i = t v_i, so each term is w_i v_i / Σ v w · x_j"

    def __init__(self, space, term, on_line, t_active):
        self.term, self.on_line, self.t_active = term, on_line, t_active
        super().__init__(space)

    def apply(self):
        s, pos = self.space, self.pos
        self.eq1 = sp.factor_terms(self.term.xreplace({s.x_root[pos]: self.on_line})
                                   .xreplace({s.t: self.t_active}))
        return (_Eq(self.share_label(), self.eq1),)

    def check(self):
        s, pos = self.space, self.pos
        expected = s.w[pos] * s.v[pos] / s.total(lambda k: s.v[k] * s.w[k]) * s.x_out
        if sp.expand(self.eq1 - expected) != 0:
            raise AssertionError("step (d): Eq. 1 is not w_i v_i / Σ v w · x_j")  # engine bug


class SpecialiseDirection(Step):
    """(e) Put the chosen direction into Eq. 1 and simplify (gates as ``w⁺``/``w⁻``).

    Parameters
    ----------
    space : NeuronSymbols
    rule : Rule
        The rule whose direction is used (its description is the explanation).
    direction : list of sympy.Expr or None
        One expression per input (concrete fan-in), or None for the rule's
        own local direction.
    eq1 : sympy.Expr
        Eq. 1 with the generic direction ``v`` (:class:`SubstituteRoot`).

    Result: ``v_at`` (input → ``v_i``), ``numerators`` (input → ``q_i``),
    ``denominator`` (``Σ q``) and ``shares`` (input → ``q_i / Σ q · x_j``).

    Raises
    ------
    TypeError
        A direction entry that is text or not a SymPy expression.
    ValueError
        A direction of the wrong length or in foreign symbols, and (the
        check) a direction with ``Σ_i v_i w_i ≡ 0``: its line never meets
        the hyperplane.
    """

    key, name = "e", "specialise the direction"

    def __init__(self, space, rule: Rule, direction, eq1):
        self.rule, self.direction, self.eq1 = rule, direction, eq1
        self.explanation = rule.description or "insert the chosen search direction and simplify"
        super().__init__(space)

    def apply(self):
        s = self.space
        given = direction_exprs(self.rule, self.direction, s)
        if s.general:
            def v_at(k):
                return direction_expr(self.rule.direction_at(**s.local(k)))
        else:
            def v_at(k):
                return given[k]
        self.v_at = v_at
        self.numerators = {k: _simplified(v_at(k) * s.w[k]) for k in s.indices}
        if s.general:
            self.denominator = s.total(lambda k: _simplified(v_at(k) * s.w[k]))
        else:
            self.denominator = sp.Add(*self.numerators.values())
        self.shares = {k: self.numerators[k] / self.denominator * s.x_out for k in s.indices}
        if s.general:   # one generic input i stands for all
            return (_Eq(s.v[self.pos], v_at(self.pos)),
                    _Eq(self.share_label(), self.shares[self.pos]))
        # a concrete fan-in: every input's direction and share, in input order
        return tuple(eq for k in s.indices
                     for eq in (_Eq(s.v[k], given[k]), _Eq(s.relevance(k + 1), self.shares[k])))

    def check(self):
        s, pos = self.space, self.pos
        # a local direction's sum vanishes for every n only if its term does
        total = self.numerators[pos] if s.general else self.denominator
        if sp.cancel(sp.together(total)) == 0:
            raise self.fail("Σ_i v_i·w_i is identically 0 for this direction, so the search "
                            "line never meets z_j = 0")
        # the tidy q / Σ q · x_j form must be Eq. 1 with v inserted, nothing else
        derived = substitute_direction(self.eq1, s, self.v_at)
        if not s.general and not _is_zero(rewrite_gates(derived) - self.shares[pos]):
            raise AssertionError("specialised Eq. 1 does not match the rule")  # engine bug


def run_steps(rule: Rule, space: NeuronSymbols, direction=None) -> list:
    """The five steps (a)–(e) for *rule* on the neuron *space*, each applied and checked.

    Parameters
    ----------
    rule : Rule
    space : NeuronSymbols
    direction : list of sympy.Expr, optional
        One direction entry per input instead of the rule's own direction.

    Returns
    -------
    list of Step

    Examples
    --------
    >>> from symdtd import get_rule
    >>> from symdtd.core.symbols import NeuronSymbols
    >>> steps = run_steps(get_rule("w2"), NeuronSymbols(2))
    >>> [step.key for step in steps], steps[-1].shares[0]
    (['a', 'b', 'c', 'd', 'e'], w_1**2*x_j/(w_1**2 + w_2**2))
    """
    expansion = TaylorExpansion(space)
    line = SearchLine(space)
    solved = SolveForT(space, line.root_condition)
    eq1 = SubstituteRoot(space, expansion.term, line.on_line[expansion.pos], solved.t_active)
    special = SpecialiseDirection(space, rule, direction, eq1.eq1)
    return [expansion, line, solved, eq1, special]


def _simplified(product):
    """``q_i = v_i w_i`` expanded, gates rewritten as ``w⁺``/``w⁻``, common factors pulled out."""
    return sp.factor_terms(rewrite_gates(sp.expand(product)))


def _Eq(lhs, rhs):
    """A displayed equation, left unevaluated: SymPy's attempt to decide ``lhs == rhs``
    (assumption queries on sums and products) was half the time of a derivation."""
    return sp.Eq(lhs, rhs, evaluate=False)


def _is_zero(expr) -> bool:
    """Cheap rational normalisation first; simplify only if that is not enough."""
    return sp.cancel(sp.together(expr)) == 0 or sp.simplify(expr) == 0
