"""Node storage, weight and rule checks (symdtd.network.neurons); the rule choice is
tested in test_composites.py."""
import pickle
import re

import numpy as np
import pytest
import sympy as sp

from symdtd import examples
from symdtd.core.domains import Box, Positive, Real
from symdtd.network.graph import Network
from symdtd.network.neurons import (
    NetworkGraph,
    NodeAttributes,
    as_weight,
    build_expr,
    check_graph,
    check_rule,
    input_class,
    input_symbol,
)

R = sp.Rational


def test_weight_types():
    assert as_weight("3/4", "w") == R(3, 4)
    assert as_weight(np.float32(0.5), "w") == 0.5 and type(as_weight(np.int64(2), "w")) is int
    w = sp.Symbol("w")
    assert as_weight(w, "w") is w
    with pytest.raises(TypeError, match="got a bool"):
        as_weight(True, "weight of edge a -> b")
    with pytest.raises(ValueError, match="'abc' is not a number"):
        as_weight("abc", "w")


def test_network_graph_is_the_lazy_graph_class():
    assert type(Network().graph) is NetworkGraph


def test_lazy_expr_attributes():
    graph = NetworkGraph()
    graph.add_node("a", kind="input", symbol=sp.Symbol("a"))
    data = graph.nodes["a"]
    assert isinstance(data, NodeAttributes) and "expr" not in data and data.get("expr") is None
    calls = []
    data.builder = lambda: calls.append(1) or build_expr(graph, "a")
    assert "expr" in data and data["expr"] == sp.Symbol("a") and data["expr"] == sp.Symbol("a")
    assert calls == [1, 1] and "expr" not in dict(data)  # never stored: the builder caches
    with pytest.raises(KeyError):
        data["nope"]


def test_network_caches_expr_until_its_inputs_change(monkeypatch):
    import symdtd.network.graph as network_module

    net = examples.xor()
    calls = []
    monkeypatch.setattr(network_module, "build_expr",
                        lambda graph, node: calls.append(node) or build_expr(graph, node))
    first = net.graph.nodes["y"]["expr"]
    assert net.graph.nodes["y"]["expr"] is first and calls == ["y"]
    net.graph.edges["h2", "y"]["weight"] = 5  # a direct edit: no changed() needed
    assert net.graph.nodes["y"]["expr"].coeff(net.graph.nodes["h2"]["symbol"]) == 5
    assert calls == ["y", "y"]


def test_input_symbol_follows_and_checks_the_domain():
    assert input_symbol("p", Box(0, 1)).is_nonnegative and input_symbol("q", Positive()).is_nonnegative
    assert input_symbol("r", Real()).is_nonnegative is None and input_symbol("t", Box(-1, 1)).is_real
    with pytest.raises(TypeError, match="domain must be a Domain"):
        input_symbol("x", (0, 1))
    with pytest.raises(ValueError, match="scalar bounds"):
        input_symbol("x", Box(0, [1, 2]))


def test_check_rule():
    check_rule("m", "winner", "maxpool")
    check_rule("s", "proportional", "sumpool")
    with pytest.raises(ValueError, match="neuron 'h' is a relu neuron; pooling rule 'winner'"):
        check_rule("h", "winner", "relu")
    with pytest.raises(ValueError, match="neuron 's' is a sumpool neuron; pooling rule 'winner'"):
        check_rule("s", "winner", "sumpool")
    with pytest.raises(ValueError, match=re.escape("neuron 'h': unknown rule 'z++'")):
        check_rule("h", "z++", "relu")
    with pytest.raises(TypeError, match="rule must be a name, a Rule or a pooling rule"):
        check_rule("h", 3, "relu")


def test_check_graph_names_the_fault():
    net = examples.xor()
    check_graph(net.graph)
    net.graph.nodes["h2"]["kind"] = "tanh"
    with pytest.raises(ValueError, match="node 'h2': kind must be one of"):
        check_graph(net.graph)


def test_input_class_matches_the_method():
    net = examples.skip_dag()
    assert [input_class(net, n) for n in net.graph] == [net.input_class(n) for n in net.graph]
    assert [input_class(net, n) for n in ("x1", "x3", "h1", "y")] == \
        ["box", "positive", "positive", "real"]


def test_networks_pickle_with_their_lazy_expressions():
    net = examples.figure3()
    twin = pickle.loads(pickle.dumps(net))
    assert type(twin.graph) is NetworkGraph
    assert twin.graph.nodes["y"]["expr"] == net.graph.nodes["y"]["expr"]
