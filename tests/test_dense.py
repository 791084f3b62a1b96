"""Dense weight arrays and the float64 forward pass (symdtd.dense)."""
import numpy as np
import pytest
import sympy as sp

from symdtd import examples
from symdtd.core.domains import Box, Real
from symdtd.network.dense import dense_layers, forward_pass, numeric_plan
from symdtd.network.graph import Network


@pytest.mark.parametrize("weights, biases, message", [
    ([np.ones((2, 3)), np.ones((2, 1))], None, r"weights\[1\] has 2 rows but layer 1 has 3"),
    ([np.array([[1.0, np.nan]])], None, r"weights\[0\]\[0\]\[1\] is not finite"),
    ([np.ones((2, 2))], [np.ones(3)], r"biases\[0\] has 3 entries, expected 2"),
    ([np.ones((2, 2))], [np.ones(2), np.ones(2)], "expected 1 vectors"),
    ([np.ones(3)], None, "2-D matrix"),
    ([[[1, "x"]]], None, r"weights\[0\]\[0\]\[1\]: 'x' is not a number"),
])
def test_from_dense_errors(weights, biases, message):
    with pytest.raises(ValueError, match=message):
        Network.from_dense(weights, biases)
    with pytest.raises(ValueError, match=message):
        dense_layers(weights, biases)


def test_dense_layers_names_domains_and_plain_numbers():
    layers = dense_layers([np.ones((2, 3)), np.ones((3, 1))], None, Box(0, [1, 2]),
                          output_names=["out"], hidden_prefix="g")
    assert layers.names == [["x1", "x2"], ["g1_1", "g1_2", "g1_3"], ["out"]]
    assert layers.domains == [Box(0, 1), Box(0, 2)]
    assert type(layers.weights[0][0][0]) is float and layers.biases == [[0, 0, 0], [0]]
    assert dense_layers([[[1]]], input_domain=Real()).domains == [Real()]
    with pytest.raises(ValueError, match="not unique"):
        dense_layers([np.ones((1, 1))], input_names=["y1"])
    with pytest.raises(ValueError, match="input_names has 1 names, expected 2"):
        dense_layers([np.ones((2, 1))], input_names=["a"])
    with pytest.raises(ValueError, match="the Box has 3 low bounds for 2 inputs"):
        dense_layers([np.ones((2, 1))], input_domain=Box([0, 0, 0], [1, 1, 1]))
    with pytest.raises(TypeError, match="input_domain must be a Domain"):
        dense_layers([np.ones((2, 1))], input_domain=(0, 1))


def test_plan_and_pass_match_network_forward():
    net = examples.skip_dag()
    X = np.array([[float(p[n]) for n in net.inputs] for p in examples.example_inputs("skip_dag")])
    plan = numeric_plan(net.graph)
    order, index, steps = plan
    assert set(order) == set(net.graph) and len(steps) == len(net.graph) - len(net.inputs)
    out = forward_pass(X, net.inputs, net.outputs, lambda: plan)
    assert np.array_equal(out, net.forward(X))


def test_shape_is_checked_before_the_plan_is_built():
    net = Network()
    net.add_input("a")
    net.add_neuron("h", {"a": sp.Symbol("w")})
    with pytest.raises(ValueError, match=r"shape \(batch, 1\)"):
        net.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="neuron 'h'.*numeric weights"):
        net.forward(np.ones((2, 1)))
    assert net._plan is None  # nothing cached on failure


def test_box_with_wrong_number_of_high_bounds_names_the_side():
    import numpy as np
    import pytest

    from symdtd import Box, Network
    with pytest.raises(ValueError, match="3 high bounds for 2 inputs"):
        Network.from_dense([np.ones((2, 1))], [np.zeros(1)], input_domain=Box(0, [1, 1, 1]))
