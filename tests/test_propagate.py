"""Relevance propagation: hand-computed cases, conservation, the three arithmetics."""
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symdtd
from symdtd import examples
from symdtd.core.domains import Box, Positive, Real
from symdtd.core.rules import Rule
from symdtd.network.graph import Network
from symdtd.propagation.backward import propagate

R = sp.Rational


def test_xor_by_hand():
    net = examples.xor()
    # x = (3/4, 1/2): h1 = 5/4, h2 = max(0, 5/4 - 1) = 1/4, y = 5/4 - 2/4 = 3/4.
    # output, z+: q_h1 = 5/4 * 1, q_h2 = 1/4 * max(0, -2) = 0  ->  R_h1 = 3/4, R_h2 = 0.
    # h1, zB on [0, 1]: q_i = x_i w_i - 0 * w_i^+ - 1 * w_i^- = x_i (weights +1):
    #   R_x1 = 3/4 / (5/4) * 3/4 = 9/20,  R_x2 = 1/2 / (5/4) * 3/4 = 3/10.
    e = propagate(net, {"x1": R(3, 4), "x2": R(1, 2)}, arithmetic="exact")
    assert e.output == R(3, 4) and e.output_node == "y" and e.arithmetic == "exact"
    assert e.relevance["h1"] == R(3, 4) and e.relevance["h2"] == 0
    assert e.input_relevance == {"x1": R(9, 20), "x2": R(3, 10)}
    assert e.messages[("x1", "h1")] == R(9, 20) and e.messages[("x2", "h2")] == 0
    assert e.factors["h1"] == R(3, 4) / R(5, 4) and e.factors["y"] == 1
    assert e.rules == {"y": "z+", "h1": "zB", "h2": "zB"}
    # the corners: all relevance on the active pixel; (1, 1) gives y = 0
    assert propagate(net, {"x1": 1, "x2": 0}, arithmetic="exact").input_relevance == {"x1": 1, "x2": 0}
    assert propagate(net, {"x1": 0, "x2": 1}, arithmetic="exact").input_relevance == {"x1": 0, "x2": 1}
    assert propagate(net, {"x1": 1, "x2": 1}, arithmetic="exact").input_relevance == {"x1": 0, "x2": 0}


def test_figure3_by_hand():
    net = examples.figure3()
    # x = (1, 1/2, 1/2): h1 = 1 + 1/4 - 1/2 - 1/4 = 1/2, h2 = -1/2 + 1/2 + 1/2 = 1/2,
    # h3 = 1 - 1/2 + 1/4 - 1/2 = 1/4, y = 1/2 + 1 - 1/8 = 11/8.
    # y (z+): q = (1/2, 2 * 1/2, 0), sum 3/2 -> R_h1 = 11/24, R_h2 = 11/12, R_h3 = 0.
    # h1 (z+): q = (1, 1/2 * 1/2, 0), sum 5/4 -> x1: 4/5 * 11/24 = 11/30, x2: 1/5 * 11/24 = 11/120.
    # h2 (z+): q = (0, 1/2, 1/2), sum 1 -> x2: 11/24, x3: 11/24.
    e = propagate(net, {"x1": 1, "x2": R(1, 2), "x3": R(1, 2)}, arithmetic="exact")
    assert e.output == R(11, 8)
    assert [e.relevance[h] for h in ("h1", "h2", "h3")] == [R(11, 24), R(11, 12), 0]
    assert e.messages[("x2", "h1")] == R(11, 120) and e.messages[("x2", "h2")] == R(11, 24)
    assert e.input_relevance == {"x1": R(11, 30), "x2": R(11, 120) + R(11, 24), "x3": R(11, 24)}
    # product structure: c_x2 = sum_j w+_j R_j / sum_j  = (1/2)(11/24)/(5/4) + 1 (11/12)/1 = 11/10
    assert e.factors["x2"] == R(11, 10) and e.factors["h1"] == R(11, 12)
    # x = (2, 1, 0): h1 = 9/4, h2 = 0, h3 = 1/2, y = 2; all to h1, then 2 : 1/2 : 0.
    e = propagate(net, {"x1": 2, "x2": 1, "x3": 0}, arithmetic="exact")
    assert e.input_relevance == {"x1": R(8, 5), "x2": R(2, 5), "x3": 0}


def test_w2_rule_on_real_inputs_by_hand():
    net = Network()
    net.add_input("a", Real())
    net.add_input("b", Real())
    net.add_neuron("h", {"a": 1, "b": 2})
    # a = -1, b = 1: h = 1; w2 gives weights^2 / sum: 1/5 and 4/5
    e = propagate(net, {"a": -1, "b": 1}, arithmetic="exact")
    assert e.input_relevance == {"a": R(1, 5), "b": R(4, 5)}


def pools():
    net = Network()
    for n in "abc":
        net.add_input(n)
    net.add_max_pool("p", ["a", "b"])
    net.add_sum_pool("s", ["b", "c"])
    net.add_neuron("y", {"p": 1, "s": 2}, kind="linear")
    return net


def test_pooling_by_hand():
    point = {"a": 1, "b": 3, "c": 1}
    # p = 3, s = 4, y = 11; y (z+): R_p = 3, R_s = 8; s proportional: b 6, c 2
    e = propagate(pools(), point, arithmetic="exact")
    assert e.input_relevance == {"a": 0, "b": 9, "c": 2}  # winner-take-all: b gets R_p
    e = propagate(pools(), point, arithmetic="exact", maxpool="proportional")
    assert e.input_relevance == {"a": R(3, 4), "b": R(9, 4) + 6, "c": 2}
    sym = propagate(pools())
    assert sp.cancel(sp.piecewise_fold(sym.total - sym.output)) == 0


def test_zero_denominator_gives_zero_messages_and_is_counted():
    net = Network()
    net.add_input("a")
    net.add_input("b")
    net.add_neuron("h", {"a": 1, "b": -1})
    net.add_neuron("y", {"h": 1}, bias=-1, kind="linear")
    for arithmetic in ("exact", "float"):
        e = propagate(net, {"a": 0, "b": 0}, arithmetic=arithmetic)
        assert e.output == -1 and "negative" in e.note
        assert e.zero_denominators == ["h", "y"] and e.lost == {"y": -1}
        assert all(m == 0 and not (isinstance(m, float) and math.isnan(m))
                   for m in e.messages.values())
        assert e.total == 0


def test_positive_bias_reported_and_absorbed():
    net = Network()
    net.add_input("a")
    net.add_neuron("h", {"a": 1}, bias=1)
    e = propagate(net, {"a": 1}, arithmetic="exact")
    assert e.positive_bias == ["h"] and e.input_relevance == {"a": 2}  # still conserved
    e = propagate(net, {"a": 1}, arithmetic="exact", absorb_bias=True)
    assert e.input_relevance == {"a": 1} and e.absorbed == {"h": 1}


def test_custom_rule_and_gamma():
    net = examples.figure3()
    net.set_rule("h1", Rule("square", "x^2", Positive(), lambda x: x ** 2))
    net.set_rule("h2", "gamma")
    point = examples.example_inputs("figure3")[0]
    e = propagate(net, point, arithmetic="exact")
    assert e.total == e.output and e.rules["h1"] == "square" and e.rules["h2"] == "gamma"
    # h1 with q = x^2 w: q = (1, 1/8, -1/4), sum 7/8 -> x1 gets 8/7 of R_h1 = 11/24
    assert e.messages[("x1", "h1")] == R(8, 7) * R(11, 24)
    # a direction outside the fast evaluator (Abs): q = x w |w| = (1, 1/8, -1/2), sum 5/8
    net.set_rule("h1", Rule("absw", "x|w|", Positive(), lambda x, w: x * sp.Abs(w)))
    e = propagate(net, point, arithmetic="exact")
    assert e.messages[("x1", "h1")] == R(8, 5) * R(11, 24) and e.total == e.output
    assert propagate(net, point, arithmetic="float").messages[("x1", "h1")] == pytest.approx(11 / 15)


@pytest.mark.parametrize("name", examples.names())
def test_symbolic_conservation_on_examples(name):
    net = examples.get(name)
    e = propagate(net)  # input symbols, piecewise activations
    assert sp.cancel(sp.together(e.total - e.output)) == 0
    for point in examples.example_inputs(name):
        region = propagate(net, at=point)
        assert sp.cancel(sp.together(region.total - region.output)) == 0
        exact = propagate(net, point, arithmetic="exact")
        subs = {net.graph.nodes[p]["symbol"]: v for p, v in point.items()}
        for p, r in region.input_relevance.items():  # the closed form at the point
            assert sp.sympify(r).xreplace(subs) == exact.relevance[p]


@pytest.mark.parametrize("name", examples.names())
def test_float_matches_exact(name):
    net = examples.get(name)
    for point in examples.example_inputs(name):
        exact = propagate(net, point, arithmetic="exact")
        flt = propagate(net, point, arithmetic="float")
        assert isinstance(flt.output, float)
        for n, r in exact.relevance.items():
            assert abs(flt.relevance[n] - float(r)) < 1e-12


def test_symbolic_weights():
    a, w = sp.symbols("a w", positive=True)
    net = Network()
    net.add_input("x")
    net.add_input("z")
    net.add_neuron("h", {"x": w, "z": 1})
    e = propagate(net, {"x": a, "z": 1})
    assert sp.simplify(e.relevance["x"] - a * w) == 0
    with pytest.raises(ValueError, match="weight of edge 'x' -> 'h' is symbolic"):
        propagate(net, {"x": 1, "z": 1}, arithmetic="exact")


def test_errors():
    net = examples.figure3()
    with pytest.raises(ValueError, match="input 'x2' = -1 lies outside its domain"):
        propagate(net, {"x1": 1, "x2": -1, "x3": 0}, arithmetic="exact")
    with pytest.raises(ValueError, match=r"input 'x1' = 2\.0 lies outside its domain Box"):
        propagate(examples.xor(), {"x1": 2, "x2": 0}, arithmetic="float")
    with pytest.raises(ValueError, match="missing value for input 'x3'"):
        propagate(net, {"x1": 1, "x2": 1}, arithmetic="exact")
    with pytest.raises(ValueError, match="unknown input 'x9'"):
        propagate(net, {"x1": 1, "x2": 1, "x3": 1, "x9": 0}, arithmetic="exact")
    with pytest.raises(ValueError, match="inputs are required"):
        propagate(net, arithmetic="exact")
    with pytest.raises(ValueError, match="arithmetic must be one of"):
        propagate(net, arithmetic="decimal")
    with pytest.raises(ValueError, match="output 'h9' is not a neuron"):
        propagate(net, output="h9")
    two = Network.from_dense([np.ones((2, 2))])
    with pytest.raises(ValueError, match="choose one with output="):
        propagate(two, {"x1": 1, "x2": 1}, arithmetic="exact")
    assert propagate(two, {"x1": 1, "x2": 1}, output="y2", arithmetic="exact").output == 2


def test_module_is_callable_as_the_function():
    assert symdtd.propagate(examples.xor(), {"x1": 1, "x2": 0}, arithmetic="exact").output == 1


# ----------------------------------------------------------- random DAGs (hypothesis)
quarter = st.integers(-8, 8).map(lambda k: R(k, 4))


@st.composite
def dags(draw):
    net = Network()
    point = {}
    for k in range(draw(st.integers(1, 3))):
        domain = draw(st.sampled_from([Positive(), Box(0, 1), Real()]))
        net.add_input(f"x{k}", domain)
        low = -1 if isinstance(domain, Real) else 0
        point[f"x{k}"] = R(draw(st.integers(4 * low, 4)), 4)
    nodes = list(point)
    count = draw(st.integers(1, 5))
    for k in range(count):
        # any earlier nodes: skip connections happen whenever an older node is picked
        sources = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=4, unique=True))
        weights = {s: draw(quarter) for s in sources}
        bias = -draw(st.integers(0, 2)) * R(1, 4)
        kind = "linear" if k == count - 1 else "relu"
        net.add_neuron(f"n{k}", weights, bias=bias, kind=kind)
        nodes.append(f"n{k}")
    return net, point, nodes[-1]


@settings(max_examples=40, deadline=None)
@given(dags())
def test_exact_conservation_on_random_dags(case):
    net, point, out = case
    e = propagate(net, point, output=out, arithmetic="exact")
    lost = sum(e.lost.values())
    assert e.total + lost == e.output  # every bit accounted for
    if not e.lost:
        assert e.total == e.output
    flt = propagate(net, point, output=out, arithmetic="float")
    assert abs(flt.total - float(e.total)) < 1e-12
    assert not any(isinstance(v, float) and math.isnan(v) for v in flt.relevance.values())
