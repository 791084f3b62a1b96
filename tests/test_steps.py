"""The derivation's step objects, its recorded assumptions, and the one numeric root-in-domain check.

Expected expressions are typed in by hand from docs/maths.md ("One ReLU neuron",
"Choosing the root: a line search" and the rules table), never taken from the code.
"""
import dataclasses
import math
from fractions import Fraction

import pytest
import sympy as sp

from symdtd import Box, Positive, Real, derive, get_rule, verify
from symdtd.core.symbols import NeuronSymbols, neuron_symbols
from symdtd.derivation.assumptions import Assumptions
from symdtd.derivation.steps import (
    SearchLine,
    SolveForT,
    SpecialiseDirection,
    Step,
    SubstituteRoot,
    TaylorExpansion,
    run_steps,
)
from symdtd.proof.counterexample import find_counterexample
from symdtd.proof.roots import in_domain, root_failures

POS, NEG = (lambda w: sp.Max(w, 0)), (lambda w: sp.Min(w, 0))

#: the direction column of the rules table (docs/maths.md), input k, written with gates as w⁺/w⁻
Q_BY_HAND = {
    "w2": lambda s, k: s.w[k] ** 2,
    "z+": lambda s, k: s.x[k] * POS(s.w[k]),
    "zB": lambda s, k: s.x[k] * s.w[k] - s.l[k] * POS(s.w[k]) - s.h[k] * NEG(s.w[k]),
}
RULES = sorted(Q_BY_HAND)


def same(a, b):
    return sp.simplify(sp.expand(a - b)) == 0


def steps_for(rule, n=2):
    s = NeuronSymbols(n, get_rule(rule).domain)
    return s, run_steps(get_rule(rule), s)


# ---- each step's result against docs/maths.md, n = 2 -------------------------------

@pytest.mark.parametrize("rule", RULES)
def test_step_results_at_fan_in_two(rule):
    s, (a, b, c, d, e) = steps_for(rule)
    (x1, x2), (w1, w2), (r1, r2), (v1, v2) = s.x, s.w, s.x_root, s.v
    bj, t, xj = s.b, s.t, s.x_out
    # (a) x_j = Σ_i w_i (x_i − x̃_i), the first input's term w_1 (x_1 − x̃_1)
    assert same(a.expansion, w1 * (x1 - r1) + w2 * (x2 - r2))
    assert same(a.term, w1 * (x1 - r1))
    assert a.gradient == {0: w1, 1: w2}
    # (b) x̃ = x − t v, and z_j(x − t v)
    assert b.on_line == {0: x1 - t * v1, 1: x2 - t * v2}
    assert same(b.root_condition, w1 * (x1 - t * v1) + w2 * (x2 - t * v2) + bj)
    # (c) t = z_j / Σ v w, = x_j / Σ v w on the active set
    assert same(c.t_general, (w1 * x1 + w2 * x2 + bj) / (v1 * w1 + v2 * w2))
    assert same(c.t_active, xj / (v1 * w1 + v2 * w2))
    # (d) Eq. 1: [x_j]_1 = v_1 w_1 / Σ v w · x_j
    assert same(d.eq1, v1 * w1 / (v1 * w1 + v2 * w2) * xj)
    # (e) q_i = v_i w_i with the gates rewritten; [x_j]_i = q_i / Σ q · x_j
    q = [Q_BY_HAND[rule](s, k) for k in range(2)]
    for k in range(2):
        assert same(e.numerators[k], q[k])
        assert same(e.shares[k], q[k] / (q[0] + q[1]) * xj)
    assert same(e.denominator, q[0] + q[1])


@pytest.mark.parametrize("rule", RULES)
def test_derive_keeps_the_step_objects_and_their_results(rule):
    d = derive(rule, n=2)
    assert [type(step) for step in d.steps] == [TaylorExpansion, SearchLine, SolveForT,
                                                SubstituteRoot, SpecialiseDirection]
    assert all(isinstance(step, Step) for step in d.steps)
    q = [Q_BY_HAND[rule](d.space, k) for k in range(2)]
    assert same(d.rule[1], q[1] / (q[0] + q[1]) * d.space.x_out)
    assert d.steps[-1].shares[1] is not None and same(d.steps[-1].shares[1], d.rule[1])


def test_general_fan_in_steps_use_sums():
    s = NeuronSymbols(None, Positive())
    a, b, c, d, e = run_steps(get_rule("z+"), s)
    i, k = s.i, s.k
    assert a.expansion == sp.Sum(s.w[k] * (s.x[k] - s.x_root[k]), (k, 1, s.size))
    assert same(c.t_active, s.x_out / sp.Sum(s.v[k] * s.w[k], (k, 1, s.size)))
    assert same(e.numerators[i], s.x[i] * POS(s.w[i]))


# ---- each step's check fires -------------------------------------------------------

def test_zero_denominator_direction_names_step_e():
    s = neuron_symbols(2)
    # Σ v w = w_2 w_1 − w_1 w_2 ≡ 0: the search line is parallel to the hyperplane
    with pytest.raises(ValueError, match=r"^step \(e\) specialise the direction: Σ_i v_i·w_i is "
                                         r"identically 0"):
        derive([s.w[1], -s.w[0]], n=2)


@pytest.mark.parametrize("direction", [lambda w: 0, lambda x, w: x - x])
def test_zero_local_direction_names_step_e_for_any_fan_in(direction):
    for n in (None, 3):
        with pytest.raises(ValueError, match=r"step \(e\) specialise the direction"):
            derive(direction, n=n)


def test_solve_for_t_without_t_names_step_c():
    s = NeuronSymbols(2)
    # z_j alone (no t): there is nothing to solve for
    with pytest.raises(ValueError, match=r"^step \(c\) solve for t: .* no unique solution for t"):
        SolveForT(s, s.preactivation())


def test_substitute_root_check_fires_on_a_wrong_t():
    s = NeuronSymbols(2)
    a = TaylorExpansion(s)
    b = SearchLine(s)
    with pytest.raises(AssertionError, match=r"step \(d\)"):
        SubstituteRoot(s, a.term, b.on_line[0], s.x_out)     # t = x_j: the denominator is lost


def test_taylor_and_line_checks_fire_on_a_broken_result():
    class DroppedTerm(TaylorExpansion):
        def apply(self):
            equations = super().apply()
            self.expansion = self.term          # only the first input's term
            return equations

    class WrongStart(SearchLine):
        def apply(self):
            equations = super().apply()
            self.root_condition += 1            # not z_j at t = 0
            return equations

    with pytest.raises(AssertionError, match=r"step \(a\)"):
        DroppedTerm(NeuronSymbols(2))
    with pytest.raises(AssertionError, match=r"step \(b\)"):
        WrongStart(NeuronSymbols(2))


def test_direction_entries_are_checked_by_step_e():
    s = NeuronSymbols(2)
    rule = get_rule("z")
    with pytest.raises(TypeError, match="not text"):
        SpecialiseDirection(s, rule, ["x_1", s.x[1]], s.x_out)
    with pytest.raises(ValueError, match="direction has 1 entries"):
        SpecialiseDirection(s, rule, [s.x[0]], s.x_out)


# ---- printers ------------------------------------------------------------------------

def test_step_printers_on_one_input():
    s = NeuronSymbols(1)
    line = SearchLine(s)
    solved = SolveForT(s, line.root_condition)
    assert solved.text() == ("(c) solve for t: z_j(x − t v) = z_j − t Σ v w is linear in t; "
                             "on the active set z_j = x_j\n"
                             "    t = (b_j + w_1·x_1)/(v_1·w_1)\n"
                             "    t = x_j/(v_1·w_1)")
    assert solved.latex() == ("t &= \\frac{b_{j} + w_{1} x_{1}}{v_{1} w_{1}} \\\\\n"
                              "t &= \\frac{x_{j}}{v_{1} w_{1}}")
    assert solved.markdown() == ("**(c) solve for t.** z_j(x − t v) = z_j − t Σ v w is linear in t; "
                                 "on the active set z_j = x_j\n\n"
                                 "$$ t = \\frac{b_{j} + w_{1} x_{1}}{v_{1} w_{1}} $$\n\n"
                                 "$$ t = \\frac{x_{j}}{v_{1} w_{1}} $$")
    assert line.text().splitlines()[1:] == ["    x̃_1 = -t·v_1 + x_1", "    b_j + w_1·(-t·v_1 + x_1) = 0"]


def test_derivation_prints_its_steps_in_order():
    d = derive("zB", n=2)
    assert d.to_markdown() == "\n\n".join([f"### {d.title()}"] + [step.markdown() for step in d.steps])
    assert str(d) == "\n\n".join([d.title()] + [step.text() for step in d.steps])
    assert d.steps[-1].text().startswith("(e) specialise the direction: ")


# ---- the recorded assumptions ---------------------------------------------------------

def test_assumptions_of_named_rules_and_bias_overrides():
    assert derive("z+", bias="positive").assumptions == Assumptions(Positive(), "positive", "z+", {})
    assert derive("w2", n=2).assumptions == Assumptions(Real(), "nonpositive", "w2", {})
    gamma = derive("gamma").assumptions
    assert gamma.rule == "gamma" and gamma.parameters == {"gamma": sp.Rational(1, 4)}
    zb = derive("zB", bias="real").assumptions
    assert zb.domain == Box() and zb.bias == "real" and zb.bias_text() == "b_j any real"
    assert derive("z+", bias="nonnegative").bias == "nonnegative"   # the old attribute reads the record


def test_assumptions_of_user_directions():
    d = derive(lambda x: x, n=2, domain=Box(0, 1), bias="real")
    assert d.assumptions == Assumptions(Box(0, 1), "real", "custom", {})
    s = neuron_symbols(2, domain=Positive(), bias="positive")
    listed = derive([s.x[0], s.x[1]], n=2, domain=Positive(), bias="positive")
    assert listed.assumptions.domain == Positive() and listed.assumptions.bias == "positive"


def test_bias_checks_of_the_record():
    record = Assumptions(Positive(), "positive", "z+")
    assert not record.bias_allows(0) and record.bias_allows(Fraction(1, 9))
    assert Assumptions(Positive(), "nonpositive", "z+").bias_allows(0)
    assert not Assumptions(Positive(), "nonpositive", "z+").bias_allows(sp.Rational(1, 9))
    with pytest.raises(ValueError, match="bias assumption must be one of"):
        Assumptions(Positive(), "negative", "z+")


def test_verify_refutes_root_in_domain_from_the_recorded_positive_bias():
    d = derive("z+", n=2, bias="positive")
    report = verify(d)
    claim = report.claim("root in domain")
    assert claim.verdict == "refuted" and claim.counterexample["b_j"] > 0
    assert "b_j > 0" in report.assumptions


def test_counterexample_search_draws_the_bias_from_the_record():
    positive = derive("z+", n=2, bias="positive")
    assert find_counterexample(positive, "root in domain") is not None
    # same symbols (b_j still carries positive=True), record saying b_j ≤ 0: every bias
    # drawn is ≤ 0, where z⁺'s root is in the domain, so no witness exists
    recorded = dataclasses.replace(positive, assumptions=dataclasses.replace(
        positive.assumptions, bias="nonpositive"))
    assert recorded.space.b.is_positive
    assert find_counterexample(recorded, "root in domain") is None


# ---- the one numeric root-in-domain check ---------------------------------------------

@pytest.mark.parametrize("point, t, failed", [
    ([Fraction(1, 2), 0], Fraction(1, 3), []),               # inside, on the boundary x̃_2 = 0
    ([0, 0], 0, []),                                           # t = 0 and the corner
    ([1, 1], 1, []),                                           # t = 1 is allowed
    ([Fraction(-1, 10), 1], Fraction(1, 2), ["x̃_i ≥ 0"]),     # outside
    ([1, 1], Fraction(-1, 2), ["t ≥ 0"]),                      # t < 0
    ([1, 1], Fraction(3, 2), ["t ≤ 1"]),                       # t > 1
    ([-1, 1], 2, ["t ≤ 1", "x̃_i ≥ 0"]),
])
def test_root_failures_on_the_orthant(point, t, failed):
    assert root_failures(point, Positive(), t=t) == failed


def test_root_failures_on_the_whole_space_ask_only_t_nonnegative():
    assert root_failures([-7, 9], Real(), t=5) == []
    assert root_failures([0], Real(), t=sp.Rational(-1, 3)) == ["t ≥ 0"]


@pytest.mark.parametrize("domain, point, failed", [
    (Box(0, 1), [0, 1], []),                                   # both boundaries
    (Box(0, 1), [Fraction(1, 2), Fraction(3, 2)], ["x̃_i ≤ h_i"]),
    (Box(0, 1), [Fraction(-1, 2), Fraction(1, 2)], ["x̃_i ≥ l_i"]),
    (Box(0, [1, 2]), [Fraction(3, 2), Fraction(3, 2)], ["x̃_i ≤ h_i"]),   # per-input bounds
    (Box(0, [2, 1]), [Fraction(3, 2), Fraction(1, 2)], []),
    (Box(0, math.inf), [0, 10 ** 9], []),                      # open above
    (Box(-math.inf, 1), [-10 ** 9, 2], ["x̃_i ≤ h_i"]),        # open below
    (Box(0.5, 1), [sp.Rational(1, 2), 1], []),                 # float bound, exact point
])
def test_root_failures_on_boxes(domain, point, failed):
    assert root_failures(point, domain, t=Fraction(1, 2)) == failed


def test_symbolic_box_takes_bounds_or_constrains_nothing():
    assert root_failures([5, -5], Box()) == []
    bounds = ([sp.Rational(-1, 2), 0], [1, sp.Rational(1, 3)])
    assert root_failures([sp.Rational(-1, 2), sp.Rational(1, 3)], Box(), bounds=bounds) == []
    assert root_failures([-1, Fraction(1, 2)], Box(), bounds=bounds) == ["x̃_i ≥ l_i", "x̃_i ≤ h_i"]
    assert root_failures([0, 0], Box(), bounds=([None, -1], [None, math.inf])) == []
    with pytest.raises(ValueError, match="bounds have 1 and 1 entries for a point of 2"):
        root_failures([0, 0], Box(), bounds=([0], [1]))


def test_floats_use_the_tolerance_exact_numbers_do_not():
    assert in_domain([1.0 + 1e-12, -1e-12], Box(0, 1), tol=1e-9)
    assert not in_domain([1.0 + 1e-12], Box(0, 1))
    assert not in_domain([Fraction(-1, 10 ** 30)], Positive())
    assert root_failures([0.5], Box(0, 1), t=1.0 + 1e-12, tol=1e-9) == []


def test_verify_reads_the_bias_from_the_record_not_from_the_symbols():
    positive = derive("z+", n=2, bias="positive")
    assert verify(positive).claim("root in domain").verdict == "refuted"
    # the same derivation, its record saying b_j ≤ 0 while b_j still carries positive=True:
    # verify follows the record (t ≤ 1 ⇔ Σ x w⁻ + b ≤ 0 holds for b ≤ 0, docs/maths.md)
    recorded = dataclasses.replace(positive, assumptions=dataclasses.replace(
        positive.assumptions, bias="nonpositive"))
    report = verify(recorded)
    assert "b_j ≤ 0" in report.assumptions and "b_j > 0" not in report.assumptions
    assert report.claim("root in domain").verdict == "proved"


def test_a_concrete_fan_in_shows_every_input():
    # derive zB -n 2 printed only [x_j]_1; every input's v_i and share is shown now, and each
    # equals the zB row of docs/maths.md: (x_i w_i − l_i w_i⁺ − h_i w_i⁻) / Σ(·) · x_j
    from symdtd import derive

    d = derive("zB", n=2)
    text = d.steps[-1].text()
    for label in ("v_1 =", "[x_j]_1 =", "v_2 =", "[x_j]_2 ="):
        assert label in text
    s = d.space
    q = [s.x[k] * s.w[k] - s.l[k] * sp.Max(0, s.w[k]) - s.h[k] * sp.Min(0, s.w[k]) for k in range(2)]
    shares = [eq.rhs for eq in d.steps[-1].equations[1::2]]
    values = {s.x[0]: sp.Rational(1, 2), s.x[1]: 2, s.w[0]: 3, s.w[1]: -1, s.l[0]: 0, s.l[1]: -1,
              s.h[0]: 1, s.h[1]: 3, s.x_out: sp.Rational(7, 2)}
    for k in range(2):
        hand = (q[k] / (q[0] + q[1]) * s.x_out).subs(values)
        assert sp.simplify(shares[k].subs(values).rewrite(sp.Piecewise) - hand) == 0
