"""Network-level honesty: one-line verdicts name every problem, rules fit
their inputs, parameters are checked, and rule names state their bias
convention. Each test is a repro of a misleading result."""
from fractions import Fraction

import pytest

import symdtd
from symdtd import Box, Network, Positive, Real, propagate, verify
from symdtd.core.rules import Rule, check_parameters, get_rule


def positive_bias_net():
    net = Network()
    net.add_input("a")
    net.add_input("b")
    net.add_neuron("h", {"a": 1, "b": -1}, bias=1)
    return net


def test_one_line_verdict_names_roots_outside_and_positive_bias():
    # by hand at a = 1, b = 0: z⁺ root search with v = (a, 0), t = z / a = 2 > 1
    report = verify(positive_bias_net(), {"a": 1, "b": 0})
    assert report.status == "proved"
    line = report.verdict()
    assert "1 root outside the domain (h)" in line
    assert "1 neuron with a positive bias (h)" in line


def test_one_line_verdict_stays_plain_without_problems():
    from symdtd import examples
    report = verify(examples.figure3(), examples.example_inputs("figure3")[0])
    assert report.verdict() == "proved: Σ_p [x_f]_p − x_f = 0 (exact arithmetic)"


def test_z_plus_on_inputs_that_can_be_negative_is_reported_by_name():
    net = Network()
    net.add_input("x1", Box(-1, 1))
    net.add_input("x2", Box(-1, 1))
    net.add_neuron("h", {"x1": 1, "x2": -1}, bias=0)
    net.set_rule("h", "z+")
    # the proofs of z⁺ assume x ≥ 0; these inputs can be negative
    report = verify(net, {"x1": Fraction(-1, 2), "x2": -1})
    assert "h" in report.rule_mismatches
    assert "'z+'" in report.rule_mismatches["h"] and "'x1'" in report.rule_mismatches["h"]
    assert "rule outside its proved domain (h)" in report.verdict()


def test_default_rules_fit_their_inputs():
    from symdtd import examples
    for name in ("figure3", "xor", "skip_dag"):
        net = getattr(examples, name)()
        report = verify(net, examples.example_inputs(name)[0])
        assert report.rule_mismatches == {}, name


@pytest.mark.parametrize("gamma", [-1, -0.001, float("nan"), float("inf")])
def test_gamma_out_of_range_is_refused_everywhere(gamma):
    from symdtd import examples
    with pytest.raises(ValueError, match="gamma must be a finite number ≥ 0"):
        symdtd.compile(examples.figure3(), parameters={"gamma": gamma})
    with pytest.raises(ValueError, match="gamma must be a finite number ≥ 0"):
        Rule("g", "γ", Positive(), get_rule("gamma").direction, parameters={"gamma": gamma})


def test_parameters_must_be_known_real_numbers():
    with pytest.raises(ValueError, match="unknown rule parameter 'eps'"):
        check_parameters({"eps": 0.1})
    with pytest.raises(TypeError, match="gamma must be a real number"):
        check_parameters({"gamma": "1"})
    with pytest.raises(TypeError, match="must be a dict"):
        check_parameters([("gamma", 1)])
    assert check_parameters({"gamma": Fraction(1, 4)}) == {"gamma": Fraction(1, 4)}


def test_z_and_gamma_say_they_leave_the_bias_out():
    # the published LRP-0 divides by Σ x w + b: with b = -1/2 it hands on more than R
    x, w, b = [Fraction(1), Fraction(1)], [Fraction(1), Fraction(1)], Fraction(-1, 2)
    z = sum(xi * wi for xi, wi in zip(x, w)) + b
    published = sum(xi * wi / z * z for xi, wi in zip(x, w))
    assert published != z      # so "LRP-0" would be the wrong name for symdtd's z
    for name in ("z", "gamma"):
        rule = get_rule(name)
        assert "DTD form" in rule.title and "denominator" in rule.description
    net = Network()
    net.add_input("a", Positive())
    net.add_input("c", Positive())
    net.add_neuron("y", {"a": 1, "c": 1}, bias=b, rule="z")
    e = propagate(net, {"a": 1, "c": 1}, arithmetic="exact")
    assert e.total == e.output == z   # the DTD form conserves


def test_maths_page_states_assumptions_and_bias_conventions():
    from pathlib import Path
    text = (Path(__file__).parents[1] / "docs" / "maths.md").read_text(encoding="utf-8")
    assert "### What each proof assumes" in text
    assert "### Bias conventions" in text and "DTD form of LRP-0" in text


# ---- item: a neuron fed by bounded and real-valued inputs (the per-input rule)
def dead_relu_and_real_net():
    net = Network()
    net.add_input("a", Positive())
    net.add_input("r", Real())
    net.add_neuron("h", {"a": 1}, bias=-1)                      # relu(a − 1)
    net.add_neuron("y", {"h": 1, "r": 1}, bias=0, kind="linear")  # y = h + r
    return net


def test_dead_relu_next_to_a_real_input_receives_nothing():
    net = dead_relu_and_real_net()
    assert net.rule_for("y").name == "mixed"
    point = {"a": Fraction(1, 2), "r": 1}
    e = propagate(net, point, arithmetic="exact")
    # by hand: h = relu(1/2 − 1) = 0 so y = r = 1; the z⁺ term of h is x_h·w⁺ = 0,
    # the w² term of r is 1², so r takes all of y and h (and a) nothing
    assert e.output == 1
    assert e.relevance["h"] == 0 and e.relevance["a"] == 0 and e.relevance["r"] == 1
    f = propagate(net, point, arithmetic="float")
    assert f.relevance["h"] == 0.0 and f.relevance["r"] == 1.0
    import numpy as np
    compiled = symdtd.compile(net).explain(np.array([[0.5, 1.0]]))
    assert np.allclose(compiled.relevance, [[0.0, 1.0]], atol=1e-12)


def test_live_relu_next_to_a_real_input_gets_its_z_plus_share():
    net = dead_relu_and_real_net()
    point = {"a": 3, "r": Fraction(1, 2)}
    e = propagate(net, point, arithmetic="exact")
    # by hand: h = 2, y = 5/2; q_h = 2·1 = 2, q_r = 1² = 1: shares 2/3 and 1/3 of 5/2
    assert e.relevance["h"] == Fraction(5, 3) and e.relevance["r"] == Fraction(5, 6)
    import numpy as np
    compiled = symdtd.compile(net).explain(np.array([[3.0, 0.5]]))
    assert np.allclose(compiled.relevance, [[5 / 3, 5 / 6]], atol=1e-12)


def test_per_input_rule_is_derived_and_verified():
    from symdtd.derivation.per_input import derive_per_input
    d = derive_per_input([Positive(), Real()])
    report = verify(d)
    assert report.claim("conservation").verdict == "proved"
    assert report.claim("positivity").verdict == "proved"
    # the root can leave ℝ₊: by hand, w = (1, 1), b = 0, x = (1, 1): Σ v w = 1 + 1,
    # t = 2 / 2 = 1 is fine, but x = (1, 3): z = 4, t = 2, x̃_1 = 1 − 2 = −1 < 0
    assert report.claim("root in domain").verdict == "refuted"
    assert "x_1 ≥ 0" in report.assumptions and "x_2 ∈ ℝ" in report.assumptions
