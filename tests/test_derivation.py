"""The derivation engine: the five built-in rules must come out as the table of docs/maths.md states them."""
import pytest
import sympy as sp

import symdtd
from symdtd.derivation.taylor import derive, neuron_symbols, rewrite_gates

POS, NEG = (lambda w: sp.Max(w, 0)), (lambda w: sp.Min(w, 0))


def closed_form(rule, s, k):
    """The rule column of the rules table (docs/maths.md), typed in by hand (not from the code)."""
    n = range(s.n)
    x, w, l, h, g, xj = s.x, s.w, s.l, s.h, s.gamma, s.x_out
    numerators = {
        "w2": lambda i: w[i] ** 2,
        "z+": lambda i: x[i] * POS(w[i]),
        "zB": lambda i: x[i] * w[i] - l[i] * POS(w[i]) - h[i] * NEG(w[i]),
        "z": lambda i: x[i] * w[i],
        "gamma": lambda i: x[i] * (w[i] + g * POS(w[i])),
    }[rule]
    return numerators(k) / sp.Add(*[numerators(i) for i in n]) * xj


@pytest.mark.parametrize("rule", ["w2", "z+", "zB", "z", "gamma"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_builtin_rule_equals_closed_form(rule, n):
    d = derive(rule, n=n)
    for k in range(n):
        assert sp.simplify(d.rule[k] - closed_form(rule, d.space, k)) == 0


@pytest.mark.parametrize("rule", ["w2", "z+", "zB", "z", "gamma"])
def test_general_rule_equals_closed_form_after_expanding_the_sum(rule):
    d = derive(rule)
    s = d.space
    concrete = derive(rule, n=3).space
    # substitute n = 3 and the indexed symbols by the concrete ones
    expr = d.rule.subs(s.size, 3).doit()
    mapping = {}
    for base, row in ((s.x, concrete.x), (s.w, concrete.w), (s.l, concrete.l), (s.h, concrete.h)):
        for k in range(3):
            mapping[base[k + 1]] = row[k]
    expected = closed_form(rule, concrete, 1)
    got = expr.subs(s.i, 2).xreplace(mapping).xreplace({s.gamma: concrete.gamma})
    assert sp.simplify(got - expected) == 0


def test_five_named_steps_hold_equations():
    d = derive("z+")
    assert [step.key for step in d.steps] == list("abcde")
    for step in d.steps:
        assert step.explanation and all(isinstance(eq, sp.Eq) for eq in step.equations)
    # step (c) solves for t: t = z / Σ v w
    assert d.steps[2].equations[0].lhs == d.space.t


def test_step_d_is_eq1_with_generic_direction():
    d = derive("w2", n=2)
    s = d.space
    substitute = d.steps[3]
    assert substitute.eq1 == substitute.equation.rhs
    assert sp.simplify(substitute.eq1 - s.v[0] * s.w[0] / (s.v[0] * s.w[0] + s.v[1] * s.w[1]) * s.x_out) == 0


def test_root_lies_on_hyperplane_numerically():
    d = derive("zB", n=2)
    s = d.space
    values = {s.x[0]: sp.Rational(1, 2), s.x[1]: sp.Rational(1, 3), s.w[0]: 2, s.w[1]: -1,
              s.b: sp.Rational(-1, 10), s.l[0]: 0, s.l[1]: 0, s.h[0]: 1, s.h[1]: 1}
    x_root = [xt.xreplace(values) for xt in d.root["x_tilde"]]
    assert 2 * x_root[0] - x_root[1] - sp.Rational(1, 10) == 0


def test_symbols_mapping_roles():
    d = derive("zB", n=2)
    assert [str(v) for v in d.symbols["x"]] == ["x_1", "x_2"]
    assert [str(v) for v in d.symbols["w"]] == ["w_1", "w_2"]
    assert {"b", "l", "h"} <= set(d.symbols) and "gamma" not in d.symbols
    assert "gamma" in derive("gamma", n=2).symbols


def test_user_direction_callable_and_list_agree():
    s = neuron_symbols(2, "z+")
    from_list = derive([s.x[0], s.x[1]], n=2, domain=symdtd.Positive())
    from_callable = derive(lambda x: x, n=2, domain=symdtd.Positive())
    z_rule = derive("z", n=2)
    for a, b, c in zip(from_list.rule, from_callable.rule, z_rule.rule):
        assert sp.simplify(a - c) == 0 and sp.simplify(b - c) == 0


def test_local_numerator_scalar_form():
    q, syms = derive("gamma").local_numerator()
    x, w, g = syms["x"], syms["w"], syms["gamma"]
    assert sp.simplify(q - x * (w + g * sp.Max(w, 0))) == 0


def test_rewrite_gates_identity_holds_for_all_signs():
    w = sp.Symbol("w", real=True)
    for value in (-2, 0, 3):
        assert (w * sp.Heaviside(w, 0)).subs(w, value) == rewrite_gates(w * sp.Heaviside(w, 0)).subs(w, value)
        assert (w * sp.Heaviside(-w, 0)).subs(w, value) == rewrite_gates(w * sp.Heaviside(-w, 0)).subs(w, value)


@pytest.mark.parametrize("bad, message", [
    (dict(rule="nope"), "unknown rule 'nope'"),
    (dict(rule="z+", n=0), "positive integer"),
    (dict(rule="z+", n=-3), "positive integer"),
])
def test_bad_input_raises_value_error(bad, message):
    with pytest.raises(ValueError, match=message):
        derive(**bad)


def test_direction_of_wrong_length():
    s = neuron_symbols(3)
    with pytest.raises(ValueError, match="direction has 2 entries"):
        derive([s.x[0], s.x[1]], n=3)


def test_direction_with_unknown_argument():
    with pytest.raises(ValueError, match="unknown argument"):
        derive(lambda x, q: x, n=2)


def test_renderings():
    d = derive("z+")
    text = str(d)
    assert "(a) Taylor" in text and "(e)" in text
    assert text.splitlines()[-1].strip() == "[x_j]_i = x_i·w_i⁺ / Σ_{i'=1}^{n} x_{i'}·w_{i'}⁺ · x_j"
    assert "\\frac{x_{i} {w_{i}}^{+}}" in d.to_latex()
    assert d._repr_latex_().startswith("$") and "$$" in d.to_markdown()


def test_cached_derivation_is_the_same_object():
    assert derive("zB") is derive("zB")
