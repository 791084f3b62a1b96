"""LayerNetwork.remove and .prune, and the torch.fx importer pruning unused branches through them:
the output is the model's, no layer is left that the output does not read, and the network keeps
working (add_layer's default source, forward against the model's own)."""
import networkx as nx
import numpy as np
import pytest

from symdtd.core.domains import Box
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layers import Dense


def test_remove_refuses_a_layer_that_is_read_and_moves_the_output():
    net = LayerNetwork()
    net.add_input("x", (2,))
    net.add_layer("a", Dense([[1.0, 2.0]]))
    net.add_layer("b", Dense([[3.0]]))
    with pytest.raises(ValueError, match="layer 'a' is read by \\['b'\\]"):
        net.remove("a")
    with pytest.raises(ValueError, match="'nope' is not a layer"):
        net.remove("nope")
    net.remove("b")
    assert net.output == "a" and net.order() == ["x", "a"]
    net.add_layer("c", Dense([[0.5]]))            # reads the last layer left, "a"
    assert list(net.graph.pred["c"]) == ["a"]
    np.testing.assert_allclose(net.forward([[1.0, 1.0]]), [[1.5]])   # 0.5·relu(1 + 2)
    net.remove("c")
    net.remove("a")
    assert net.output is None and net.order() == ["x"]


def test_prune_keeps_the_ancestors_of_the_output_only():
    net = LayerNetwork()
    net.add_input("x", (2,))
    net.add_layer("h", Dense([[1.0, 1.0]]))
    net.add_layer("side", Dense([[1.0], [2.0]]), ["h"])
    net.add_layer("side2", Dense([[1.0, 1.0]]), ["side"])
    net.add_layer("y", Dense([[2.0]], activation="linear"), ["h"])
    net.add_layer("late", Dense([[1.0, -1.0]]), ["x"])   # added last: the stale default source
    assert net.output == "late"
    removed = net.prune("y")
    assert sorted(removed) == ["late", "side", "side2"]
    assert removed.index("side2") < removed.index("side")
    assert net.output == "y" and set(net.graph) == {"x", "h", "y"}
    net.add_layer("z", Dense([[1.0]]))
    assert list(net.graph.pred["z"]) == ["y"]
    with pytest.raises(ValueError, match="'gone' is not a layer"):
        net.prune("gone")


def test_an_unused_branch_of_a_torch_model_is_pruned_on_import():
    torch = pytest.importorskip("torch")
    from symdtd.real.fx_import import layers_from_torch

    class Branchy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 2, 3)
            self.fc = torch.nn.Linear(8, 3)
            self.unused_conv = torch.nn.Conv2d(2, 2, 1)
            self.unused_fc = torch.nn.Linear(8, 4)

        def forward(self, x):
            h = torch.relu(self.conv(x))
            y = self.fc(torch.flatten(h, 1))
            self.unused_fc(torch.flatten(torch.relu(self.unused_conv(h)), 1))  # traced, never returned
            return y

    model = Branchy().double().eval()
    traced = torch.fx.symbolic_trace(model)
    assert sum(n.op == "call_module" and n.target.startswith("unused") for n in traced.graph.nodes) == 2
    net = layers_from_torch(model, (1, 4, 4), Box(0, 1))
    assert net.output == "fc"
    assert not any(name.startswith("unused") for name in net.graph)
    assert set(net.graph) == nx.ancestors(net.graph, "fc") | {"fc"}
    x = torch.rand(3, 1, 4, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(net.forward(x.numpy()), model(x).detach().numpy(), rtol=1e-12)
    # the default source of the next layer is the output, not a pruned layer
    net.add_layer("extra", Dense(np.ones((1, 3)), activation="linear"))
    assert list(net.graph.pred["extra"]) == ["fc"]
