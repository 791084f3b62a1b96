"""Network-level honesty: one-line verdicts name every problem, rules fit
their inputs, parameters are checked, and rule names state their bias
convention. Each test is a repro of a misleading result."""
from fractions import Fraction

import pytest

import symdtd
from symdtd import Box, Network, Positive, Real, propagate, verify
from symdtd.rules import Rule, check_parameters, get_rule


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
