"""The built-in example networks."""
import numpy as np
import pytest
import sympy as sp

from symdtd import examples
from symdtd.propagation.backward import forward_values


@pytest.mark.parametrize("name", examples.names())
def test_example_shape_and_inputs(name):
    net = examples.get(name)
    net.validate()
    assert len(net.outputs) == 1 and net.graph.nodes[net.outputs[0]]["kind"] == "linear"
    weights = [w for _, _, w in net.graph.edges(data="weight")]
    assert all(isinstance(w, (int, sp.Rational)) for w in weights)  # exact weights
    points = examples.example_inputs(name)
    assert points
    for point in points:
        assert list(point) == net.inputs
        for p, v in point.items():
            assert isinstance(v, sp.Rational)
            assert net.graph.nodes[p]["domain"].contains([float(v)])


def test_xor_truth_table():
    net = examples.xor()
    outputs = [forward_values(net, {"x1": a, "x2": b}, "exact")["y"]
               for a, b in [(0, 0), (0, 1), (1, 0), (1, 1)]]
    assert outputs == [0, 1, 1, 0]


def test_skip_dag_has_skip_connections():
    net = examples.skip_dag()
    layer = {n: k for k, nodes in enumerate(net.layers()) for n in nodes}
    jumps = [(u, v) for u, v in net.graph.edges if layer[v] - layer[u] > 1]
    assert ("x1", "y") in jumps and ("h1", "y") in jumps
    domains = {type(net.graph.nodes[p]["domain"]).__name__ for p in net.inputs}
    assert domains == {"Box", "Positive"}


def test_figure3_values():
    net = examples.figure3()
    values = forward_values(net, examples.example_inputs("figure3")[0], "exact")
    assert [values[n] for n in ("h1", "h2", "h3", "y")] == [sp.Rational(1, 2), sp.Rational(1, 2),
                                                           sp.Rational(1, 4), sp.Rational(11, 8)]
    assert np.allclose(net.forward([[1, 0.5, 0.5]]), [[11 / 8]])


def test_unknown_example():
    with pytest.raises(ValueError, match="unknown example 'nope'"):
        examples.example_inputs("nope")
    assert examples.get("xor") is not examples.get("xor")  # fresh networks
