"""Residual sums (an ``Add`` layer; its neurons are of kind ``relu_sum``/``linear_sum``): the
paper's default composite gives them the z rule, at neuron and at layer level, which is what
the gradient through an addition computes. Checked against a hand calculation, the exact
neuron-level propagation with z set by hand, and the hand-written torch reference."""
from fractions import Fraction

import numpy as np
import pytest

import symdtd
from symdtd.core.domains import Box, Real
from symdtd.network.composites import Composite, GammaAbove, PaperDefault
from symdtd.network.graph import Network
from symdtd.network.join_layers import Add
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layer_rules import layer_rule
from symdtd.network.layers import Dense
from symdtd.network.rule_choice import rule_for
from symdtd.propagation.floats import InexactFloatWarning


def small_residual_layers():
    """x (box) -> h (relu) -> b (linear, a BatchNorm-like branch); add = relu(h + b) -> y (linear)."""
    net = LayerNetwork()
    net.add_input("x", (2,), Box(0, 1))
    net.add_layer("h", Dense([[1.0, -0.5], [0.25, 1.0]], bias=[-0.125, 0.0]))
    net.add_layer("b", Dense([[0.5, -1.0], [-0.75, 0.5]], bias=[0.25, -0.5], activation="linear"))
    net.add_layer("add", Add(), ["h", "b"])
    net.add_layer("y", Dense([[1.0, 0.5]], activation="linear"))
    return net


def test_the_default_gives_a_residual_sum_z_at_both_levels():
    net = small_residual_layers()
    assert layer_rule(net, "add").name == "z"
    neurons = net.neurons()
    adds = [n for n in neurons.graph if n.startswith("add")]
    assert adds and all(neurons.graph.nodes[n]["kind"] == "relu_sum" for n in adds)
    assert {rule_for(neurons, n).name for n in adds} == {"z"}
    # the other layers keep the paper's choice: zB at the box, z⁺ on ≥ 0 inputs (h; the sum's ReLU)
    assert [layer_rule(net, n).name for n in ("h", "b", "y")] == ["zB", "z+", "z+"]
    # above: z⁺ is replaced, the residual sum is not (it is not a z⁺ place)
    assert layer_rule(net, "add", GammaAbove(0.5)).name == "z"
    # the JSON form of the default is unchanged
    assert PaperDefault().to_dict() == {"composite": "default", "maxpool": None}
    assert Composite.from_dict(PaperDefault().to_dict()) == PaperDefault()


def test_a_residual_sum_splits_its_relevance_in_proportion_by_hand():
    # a = relu(p + q) with p ≥ 0 (ReLU) and q real (linear): z gives R_p = p/(p+q)·R, R_q = q/(p+q)·R;
    # the old default, "mixed", would give q all of it wherever p sits at its bound 0
    net = Network()
    net.add_input("u", Real())
    net.add_input("v", Real())
    net.add_neuron("p", {"u": 1}, kind="relu")
    net.add_neuron("q", {"v": 1}, kind="linear")
    net.add_neuron("a", {"p": 1, "q": 1}, kind="relu_sum")
    net.outputs = ["a"]
    e = symdtd.propagate(net, {"u": Fraction(3), "v": Fraction(-1)}, "a", arithmetic="exact")
    assert e.rules["a"] == "z"
    p, q = Fraction(3), Fraction(-1)
    assert e.relevance["p"] == p / (p + q) * (p + q) == 3
    assert e.relevance["q"] == q
    with pytest.raises(ValueError, match="neuron 'b': a relu_sum neuron is a unit-weight sum"):
        net.add_neuron("b", {"p": 2, "q": 1}, kind="relu_sum")
    with pytest.raises(ValueError, match="neuron 'b': a linear_sum neuron .* bias 0"):
        net.add_neuron("b", {"p": 1, "q": 1}, bias=1, kind="linear_sum")


def test_the_default_equals_z_set_by_hand_on_the_neuron_view():
    net = small_residual_layers()
    X = np.array([[0.75, 0.25], [0.125, 0.875], [0.5, 0.5]])
    by_hand = small_residual_layers()
    by_hand.layer("add").rule = "z"
    compiled = symdtd.compile(net).explain(X, 0).relevance
    for row in range(len(X)):
        point = {f"x{k + 1}": Fraction(str(v)) for k, v in enumerate(X[row])}
        ref = symdtd.propagate(by_hand.neurons(), point, "y_0", arithmetic="exact")
        got = symdtd.propagate(net.neurons(), point, "y_0", arithmetic="exact")
        assert got.relevance == ref.relevance
        np.testing.assert_allclose(compiled[row], [float(ref.relevance[f"x{k + 1}"]) for k in range(2)],
                                   rtol=1e-12, atol=1e-15)


def residual_block(seed):
    """Conv + BN + ReLU stem, then a bottleneck-like block: conv + BN + ReLU, conv + BN,
    plus the stem's output, ReLU; average pool, linear. float64, eval, biases ≤ 0."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU())
            self.conv1, self.bn1 = nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3)
            self.conv2, self.bn2 = nn.Conv2d(3, 3, 3, padding=1), nn.BatchNorm2d(3)
            self.relu = nn.ReLU()
            self.pool, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(3, 4)

        def forward(self, x):
            s = self.stem(x)
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(s)))))
            out = self.relu(out + s)
            return self.fc(torch.flatten(self.pool(out), 1))

    gen = torch.Generator().manual_seed(seed)
    model = Block().double()
    with torch.no_grad():
        for m in model.modules():
            for p in m.parameters(recurse=False):
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.bias.copy_(-m.bias.abs() * 0.2)
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(m.weight.abs() + 0.5)
                m.running_mean.copy_(torch.rand(3, generator=gen, dtype=torch.float64))
                m.running_var.copy_(torch.rand(3, generator=gen, dtype=torch.float64) + 0.5)
    return model.eval()


@pytest.mark.parametrize("seed", [0, 1])
def test_the_default_on_a_residual_block_equals_the_torch_reference(seed):
    torch = pytest.importorskip("torch")
    from symdtd.compiler.layer_pass import compile_layers
    from symdtd.real.fx_import import layers_from_torch
    from symdtd.real.torch_reference import dtd_reference

    model = residual_block(seed)
    x = torch.rand(3, 2, 5, 5, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    targets = [0, 3, 1]
    R, _ = dtd_reference(model, x, targets, low=0.0, high=1.0)
    net = layers_from_torch(model, (2, 5, 5), Box(0, 1))
    adds = [n for n in net.order() if isinstance(net.layer(n), Add)]
    assert len(adds) == 1 and net.layer(adds[0]).rule is None
    assert layer_rule(net, adds[0]).name == "z"
    e = compile_layers(net).explain(x.numpy(), targets)
    np.testing.assert_allclose(e.relevance, R.numpy(), rtol=1e-10, atol=1e-12 * np.abs(R.numpy()).max())
    # the neuron level, exact: the same numbers
    neurons = net.neurons()
    values = dict(zip(neurons.inputs, (Fraction(v) for v in x[0].reshape(-1).tolist())))
    with pytest.warns(InexactFloatWarning):  # the float64 weights are read by their binary values
        exact = symdtd.propagate(neurons, values, neurons.outputs[targets[0]], arithmetic="exact")
    assert {exact.rules[n] for n in neurons.graph if n.startswith(adds[0])} == {"z"}
    got = np.array([float(exact.relevance.get(n, 0)) for n in neurons.inputs])
    np.testing.assert_allclose(got, R[0].reshape(-1).numpy(), rtol=1e-9, atol=1e-12)


def test_a_residual_sum_survives_the_json_form():
    from symdtd.network.netjson import network_from_dict, network_to_dict

    neurons = small_residual_layers().neurons()
    data = network_to_dict(neurons)
    kinds = {entry["name"]: entry["kind"] for entry in data["neurons"]}
    assert kinds["add_0"] == kinds["add_1"] == "relu_sum"
    back = network_from_dict(data)
    assert back.graph.nodes["add_0"]["kind"] == "relu_sum" and rule_for(back, "add_0").name == "z"
    np.testing.assert_allclose(back.forward([[0.25, 0.5]]), neurons.forward([[0.25, 0.5]]), rtol=1e-15)
    # a file that gives a residual sum another weight is refused, naming the neuron
    entry = next(e for e in data["neurons"] if e["name"] == "add_0")
    entry["inputs"] = {name: 2 for name in entry["inputs"]}
    with pytest.raises(ValueError, match="add_0.*unit-weight sum"):
        network_from_dict(data)
