"""Network construction, validation, rule assignment and forward passes."""
import math

import numpy as np
import pytest
import sympy as sp

from symdtd import examples
from symdtd.core.domains import Box, Positive, Real
from symdtd.core.rules import Rule
from symdtd.network.graph import Network
from symdtd.network.pooling import PROPORTIONAL, WINNER_TAKE_ALL
from symdtd.propagation.backward import forward_values

R = sp.Rational


def snapshot(net):
    return (list(net.graph.nodes(data="kind")), sorted(net.graph.edges(data="weight")))


def small():
    net = Network()
    net.add_input("a", Positive())
    net.add_input("b", Box(0, 1))
    net.add_neuron("h", {"a": 1, "b": R(-1, 2)}, bias=R(-1, 4))
    net.add_neuron("y", {"h": 2, "a": -1}, kind="linear")
    return net


def test_attributes_and_lazy_expr():
    net = small()
    h = net.graph.nodes["h"]
    assert h["kind"] == "relu" and h["bias"] == R(-1, 4) and h["rule"] is None
    assert h["symbol"] == sp.Symbol("h", nonnegative=True)
    assert "expr" in h and h.get("expr") == sp.Max(0, sp.Symbol("a", nonnegative=True)
                                                   - sp.Symbol("b", nonnegative=True) / 2 - R(1, 4))
    assert net.graph.nodes["a"]["expr"] == net.graph.nodes["a"]["symbol"]
    assert net.graph.nodes["a"]["domain"] == Positive()
    assert net.graph.edges["h", "y"]["weight"] == 2
    assert net.inputs == ["a", "b"] and net.outputs == ["y"]
    assert net.layers() == [["a", "b"], ["h"], ["y"]]


def test_symbol_assumptions_follow_domain():
    net = Network()
    net.add_input("r", Real())
    net.add_input("p", Box(-1, 1))
    assert net.graph.nodes["r"]["symbol"].is_nonnegative is None
    assert net.graph.nodes["p"]["symbol"].is_real


@pytest.mark.parametrize("call, message", [
    (lambda n: n.add_neuron("z", {"nope": 1}), "input 'nope' is not in the network"),
    (lambda n: n.add_neuron("z", {}), "neuron 'z' has no inputs"),
    (lambda n: n.add_neuron("z", {"a": None}), "weight of edge 'a' -> 'z' is missing"),
    (lambda n: n.add_neuron("z", {"a": math.inf}), "weight of edge 'a' -> 'z' is not finite"),
    (lambda n: n.add_neuron("z", {"a": 1}, bias=float("nan")), "bias of neuron 'z' is not finite"),
    (lambda n: n.add_neuron("h", {"a": 1}), "'h' is already in the network"),
    (lambda n: n.add_neuron("z", {"a": 1}, kind="tanh"), "kind must be 'relu' or 'linear'"),
    (lambda n: n.add_neuron("z", {"a": 1}, rule="nope"), "neuron 'z': unknown rule 'nope'"),
    (lambda n: n.add_sum_pool("z", []), "neuron 'z' has no inputs"),
    (lambda n: n.add_max_pool("z", ["a", "ghost"]), "input 'ghost' is not in the network"),
    (lambda n: n.add_input("c", Box(0, [1, 2])), "scalar bounds"),
    (lambda n: n.set_rule(["h", "a"], "z"), "'a' is an input"),
    (lambda n: n.set_rule(7, "z"), "layer 7 does not exist"),
])
def test_bad_input_raises_and_leaves_network_unchanged(call, message):
    net = small()
    before = snapshot(net)
    with pytest.raises(ValueError, match=message):
        call(net)
    assert snapshot(net) == before
    assert [net.graph.nodes[n]["rule"] for n in ("h", "y")] == [None, None]


def test_validate_finds_cycles_and_missing_weights():
    net = small()
    net.graph.add_edge("y", "h", weight=1)
    with pytest.raises(ValueError, match="cycle"):
        net.validate()
    net = small()
    del net.graph.edges["h", "y"]["weight"]
    with pytest.raises(ValueError, match="weight of edge 'h' -> 'y' is missing"):
        net.validate()
    small().validate()


def test_default_rules():
    net = examples.xor()
    assert [net.rule_for(n).name for n in ("h1", "h2", "y")] == ["zB", "zB", "z+"]
    assert {net.rule_for(n).name for n in ("h1", "h2", "h3", "y")
            for net in [examples.figure3()]} == {"z+"}
    mixed = examples.skip_dag()
    assert mixed.rule_for("h1").name == "zB" and mixed.rule_for("h3").name == "z+"
    net = Network()
    net.add_input("r", Real())
    net.add_input("p")
    net.add_neuron("h", {"r": 1})
    net.add_neuron("k", {"r": 1, "p": 1})
    net.add_neuron("o", {"h": 1}, kind="linear")
    net.add_neuron("after_linear", {"o": 1, "h": 1})
    # a real-valued and a bounded input together get the per-input rule
    assert [net.rule_for(n).name for n in ("h", "k", "o", "after_linear")] == \
        ["w2", "mixed", "z+", "mixed"]
    with pytest.raises(ValueError, match="inputs have no rule"):
        net.rule_for("r")


def test_pool_rules_and_overrides():
    net = Network()
    for n in "abc":
        net.add_input(n)
    net.add_max_pool("m", ["a", "b"])
    net.add_sum_pool("s", ["b", "c"])
    net.add_max_pool("m2", ["a", "c"], rule="proportional")
    assert net.rule_for("m") == WINNER_TAKE_ALL
    assert net.rule_for("m", maxpool="proportional") is PROPORTIONAL
    assert net.rule_for("s").name == "z" and net.rule_for("m2") is PROPORTIONAL
    assert PROPORTIONAL.taylor_rule.name == "z"  # proportional pooling is z with unit weights
    assert net.graph.edges["a", "m"]["weight"] == 1
    assert net.graph.nodes["m"]["expr"] == sp.Max(*[net.graph.nodes[n]["symbol"] for n in "ab"])
    assert Network(maxpool="proportional").maxpool == "proportional"
    with pytest.raises(ValueError, match="maxpool must be"):
        Network(maxpool="average")


def test_set_rule_by_node_layer_and_list():
    net = examples.figure3()
    net.set_rule("h1", "z")
    assert net.rule_for("h1").name == "z" and net.rule_for("h2").name == "z+"
    net.set_rule(1, "gamma")
    assert {net.rule_for(n).name for n in ("h1", "h2", "h3")} == {"gamma"}
    custom = Rule("mine", "mine", Positive(), lambda x, w: x)
    net.set_rule(["h2", "y"], custom)
    assert net.rule_for("y") is custom
    net.set_rule(1, None)
    assert net.rule_for("h1").name == "z+"


def test_from_dense_structure_and_types():
    W1 = np.array([[1.0, -2.0, 0.5], [0.25, 1.0, -1.0]])
    W2 = np.array([[1.0], [2.0], [-1.0]])
    net = Network.from_dense([W1, W2], [np.array([0, -1.0, 0]), np.array([0.5])],
                             input_domain=Box(0, [1, 2]))
    assert net.inputs == ["x1", "x2"] and net.outputs == ["y1"]
    assert net.layers()[1] == ["h1_1", "h1_2", "h1_3"]
    assert net.graph.nodes["h1_2"]["kind"] == "relu" and net.graph.nodes["y1"]["kind"] == "linear"
    assert net.graph.nodes["x2"]["domain"] == Box(0, 2)
    assert type(net.graph.edges["x1", "h1_2"]["weight"]) is float
    assert net.graph.edges["x1", "h1_2"]["weight"] == -2.0
    assert net.graph.nodes["h1_2"]["bias"] == -1.0
    exact = Network.from_dense([[[R(1, 3)], ["2/3"]]])
    assert exact.graph.edges["x2", "y1"]["weight"] == R(2, 3)
    named = Network.from_dense([W1, W2], input_names=["u", "v"], output_names=["out"])
    assert named.inputs == ["u", "v"] and named.outputs == ["out"]


def test_numeric_forward_matches_exact_forward():
    for name in examples.names():
        net = examples.get(name)
        points = examples.example_inputs(name)
        X = np.array([[float(p[n]) for n in net.inputs] for p in points])
        out = net.forward(X)
        assert out.shape == (len(points), 1)
        for row, point in zip(out, points):
            exact = forward_values(net, point, "exact")
            assert row[0] == pytest.approx(float(exact[net.outputs[0]]), abs=1e-12)
        every = net.forward(X[0], nodes=True)
        assert set(every) == set(net.graph) and np.ndim(every["h1"]) == 0
        assert net.forward(X[0]).shape == (1,)


def test_forward_errors():
    net = small()
    with pytest.raises(ValueError, match=r"shape \(batch, 2\)"):
        net.forward(np.ones((3, 5)))
    w = sp.Symbol("w")
    net.add_neuron("s", {"a": w})
    with pytest.raises(ValueError, match="neuron 's'.*numeric weights"):
        net.forward([[1.0, 0.5]])


def test_symbolic_forward_piecewise_and_region():
    net = examples.xor()
    x1, x2 = (net.graph.nodes[n]["symbol"] for n in ("x1", "x2"))
    assert net.output_expr() == x1 + x2 - 2 * sp.Max(0, x1 + x2 - 1)
    assert net.output_expr(at={"x1": 1, "x2": 1}) == 2 - x1 - x2
    assert net.output_expr(at={"x1": 0, "x2": R(1, 2)}) == x1 + x2
    for point in examples.example_inputs("skip_dag"):
        net = examples.skip_dag()
        region = net.output_expr(at=point)
        subs = {net.graph.nodes[n]["symbol"]: v for n, v in point.items()}
        assert region.xreplace(subs) == forward_values(net, point, "exact")["y"]
        assert sp.Poly(region, *subs).total_degree() == 1  # linear on the region


def test_outputs_setter_copy_and_repr():
    net = Network.from_dense([np.ones((2, 3))], None)
    net.outputs = ["y3", "y1"]
    assert net.outputs == ["y3", "y1"]
    with pytest.raises(ValueError, match="output 'x1' is not a neuron"):
        net.outputs = ["x1"]
    twin = net.copy()
    twin.add_neuron("extra", {"y1": 1})
    assert "extra" not in net.graph and twin.graph.nodes["y1"]["expr"] == net.graph.nodes["y1"]["expr"]
    assert repr(net) == "Network(2 inputs, 3 neurons, 2 outputs, 6 edges)"
    with pytest.raises(ValueError, match="2 outputs"):
        net._output_name(None)


def test_changed_rebuilds_caches_after_direct_edits():
    net = small()
    assert net.forward([1.0, 0.0])[0] == 2 * 0.75 - 1
    assert net.graph.nodes["y"]["expr"] == 2 * net.graph.nodes["h"]["symbol"] - \
        net.graph.nodes["a"]["symbol"]
    net.graph.edges["h", "y"]["weight"] = 4
    net.changed()
    assert net.forward([1.0, 0.0])[0] == 4 * 0.75 - 1
    assert net.graph.nodes["y"]["expr"].coeff(net.graph.nodes["h"]["symbol"]) == 4


def test_pickle_and_deepcopy_keep_lazy_expressions():
    import copy
    import pickle

    net = examples.skip_dag()
    for twin in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert twin.graph.nodes["h3"]["expr"] == net.graph.nodes["h3"]["expr"]
        twin.add_neuron("z", {"y": 1})
        assert "z" not in net.graph
