"""The numeric paths agree with the exact one (issue 10, items 9, 10 and 12).

Expected values are worked out by hand in the comments (Fraction arithmetic),
not copied from symdtd's output.
"""
import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from symdtd import Box, Network, Real, compile, propagate
from symdtd.propagation.arithmetic import UNIT_ROUNDOFF, NegativeOutputWarning, zero_denominator


def tiny_denominator_net():
    # h = relu(1 − a) on a ∈ [0, 1], y = 5·2⁴⁰·h. At a = 1 − 2⁻⁴⁰: h = 2⁻⁴⁰, y = 5.
    # zᴮ on h: q = a·w − l·w⁺ − h·w⁻ = −a + 1 = 2⁻⁴⁰ ≠ 0 (l = 0, h = 1, w = −1),
    # the only input, so [y]_a = R_h = 5 exactly.
    net = Network()
    net.add_input("a", Box(0, 1))
    net.add_neuron("h", {"a": -1}, bias=1)
    net.add_neuron("y", {"h": 5 * 2 ** 40}, kind="linear")
    return net


def test_a_tiny_real_denominator_is_not_zero_in_compile():
    net, a = tiny_denominator_net(), 1 - 2.0 ** -40
    assert Fraction(a) == 1 - Fraction(1, 2 ** 40)  # the float is exact
    exact = propagate(net, {"a": a}, arithmetic="exact")
    assert exact.input_relevance == {"a": 5} and exact.lost == {}
    assert propagate(net, {"a": a}, arithmetic="float").input_relevance == {"a": 5.0}
    e = compile(net).explain(np.array([[a]]))
    assert e.relevance.tolist() == [[5.0]]
    assert e.conservation.lost.tolist() == [0.0]
    assert e.conservation.zero_denominators.tolist() == [0]


def test_the_zero_rule_is_the_rounding_bound_of_the_sum():
    # |Z| ≤ n·u·M: u = 2⁻⁵³ (float64), 2⁻²⁴ (float32), 0 (exact)
    assert UNIT_ROUNDOFF["float64"] == 2.0 ** -53 and UNIT_ROUNDOFF["float32"] == 2.0 ** -24
    assert zero_denominator(3 * 2.0 ** -53 * 2, 2.0, 3)          # on the bound
    assert not zero_denominator(3 * 2.0 ** -52 * 2, 2.0, 3)      # twice the bound
    assert not zero_denominator(2.0 ** -40, 2.0, 2 ** 10)        # the repro, even for fan-in 1023
    assert zero_denominator(2.0 ** -30, 2.0, 2, "float32")
    assert not zero_denominator(sp.Rational(1, 2 ** 200), 1, 10 ** 6, "exact")
    Z = np.array([0.0, 1e-17, 1e-3])
    assert zero_denominator(Z, np.array([1.0, 1.0, 1.0]), 4).tolist() == [True, True, False]


@pytest.mark.filterwarnings("ignore::symdtd.propagation.arithmetic.NegativeOutputWarning")   # y < 0 here
def test_a_tiny_single_part_denominator_is_kept_by_every_path():
    # z on y = 0.1·x1 + w2·x2, w2 = −(0.1 + 2⁻⁵⁶) (the next float), x = (1, 1):
    # Σ q = −2⁻⁵⁶ = y exactly, so [y]_i = q_i / Σ q · y = q_i: (0.1, w2).
    w2 = -(0.1 + 2.0 ** -56)
    assert Fraction(0.1) + Fraction(w2) == -Fraction(1, 2 ** 56)
    net = Network()
    net.add_input("x1", Real())
    net.add_input("x2", Real())
    net.add_neuron("y", {"x1": 0.1, "x2": w2}, kind="linear", rule="z")
    point = {"x1": 1.0, "x2": 1.0}
    exact = propagate(net, point, arithmetic="exact").input_relevance
    assert exact == {"x1": sp.Rational(0.1), "x2": sp.Rational(w2)}
    assert propagate(net, point, arithmetic="float").input_relevance == {"x1": 0.1, "x2": w2}
    assert compile(net).explain(np.array([[1.0, 1.0]])).relevance.tolist() == [[0.1, w2]]


def all_zero_weights_net():
    # y = 0·a + 1: w² has Σ_i w_i² = 0, so y keeps its relevance x_f = 1 (lost)
    net = Network()
    net.add_input("a", Real())
    net.add_neuron("y", {"a": 0}, bias=1, kind="linear")
    return net


def test_an_all_zero_w2_block_loses_its_relevance_like_propagate():
    net = all_zero_weights_net()
    exact = propagate(net, {"a": 1}, arithmetic="exact")
    assert exact.lost == {"y": 1} and exact.zero_denominators == ["y"]
    e = compile(net).explain(np.array([[1.0], [-2.5]]), return_edges=True)
    assert e.relevance.tolist() == [[0.0], [0.0]] and e.edges.tolist() == [[0.0], [0.0]]
    assert e.conservation.lost.tolist() == [1.0, 1.0]
    assert e.conservation.zero_denominators.tolist() == [1, 1]
    assert e.conservation.conserved().all()


def two_logits_net():
    # h = relu(x1 + x2), y1 = 2h, y2 = −h on x ∈ [0, 1]²
    return Network.from_dense([[[1], [1]], [[2, -1]]], [[0], [0, 0]], input_domain=Box(0, 1))


def test_propagate_warns_when_the_explained_output_is_negative():
    net = two_logits_net()
    # x = (1, 1/2): h = 3/2, y2 = −3/2 < 0
    with pytest.warns(NegativeOutputWarning, match=r"output 'y2' is negative \(-3/2\)"):
        e = propagate(net, {"x1": 1, "x2": "1/2"}, output="y2", arithmetic="exact")
    assert e.output == sp.Rational(-3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # a positive output: no warning
        propagate(net, {"x1": 1, "x2": "1/2"}, output="y1", arithmetic="float")
        propagate(net, {"x1": 0, "x2": 0}, output="y2", arithmetic="float")   # x_f = 0


def test_compiled_explain_names_the_rows_with_a_negative_output():
    model = compile(two_logits_net())
    X = np.array([[1.0, 0.5], [0.0, 0.0], [0.5, 0.5], [0.25, 0.0]])
    # y2 = −(x1 + x2): rows 2 and 3 explain y2 < 0; row 1 has y2 = 0; row 0 explains y1 = 3
    with pytest.warns(NegativeOutputWarning, match=r"rows \[2, 3\] \(outputs \['y2'\]\)"):
        e = model.explain(X, target=[0, 1, 1, 1])
    assert e.output.tolist() == [3.0, 0.0, -1.0, -0.25]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.explain(X, target=0)


def test_negative_output_warning_is_public():
    import symdtd
    assert symdtd.NegativeOutputWarning is NegativeOutputWarning
    assert issubclass(NegativeOutputWarning, UserWarning)
