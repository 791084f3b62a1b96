"""One network, two granularities: symdtd.compile dispatches a LayerNetwork to the layer
pass; propagate, verify_network and render work on its neuron view or refuse, pointing to
a window."""
import numpy as np
import pytest
from test_layer_pass import big_net, every_layer_net

import symdtd
from symdtd.compiler.layer_pass import CompiledLayerNetwork, compile_layers
from symdtd.core.domains import Box
from symdtd.network.composites import GammaAbove
from symdtd.network.join_layers import Flatten
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layers import Conv2d, Dense
from symdtd.network.pool_layers import SumPool2d


def small_net():
    net = LayerNetwork()
    net.add_input("x", (1, 3, 3), Box(0, 1))
    net.add_layer("c", Conv2d([[[[1.0, -0.5], [0.5, 1.0]]]], [-0.25]))
    net.add_layer("s", SumPool2d(2))
    net.add_layer("f", Flatten())
    net.add_layer("y", Dense([[2.0]], activation="linear"))
    return net


def test_compile_dispatches_a_layer_network():
    net = every_layer_net(Box(-1, 1), seed=1)
    X = np.random.default_rng(2).uniform(-1, 1, size=(3, 2, 7, 7))
    model = symdtd.compile(net, composite=GammaAbove(0.5), dtype=np.float32)
    assert isinstance(model, CompiledLayerNetwork) and model.dtype == np.float32
    assert model.rules == compile_layers(net, composite=GammaAbove(0.5)).rules
    mine = symdtd.compile(net, composite=GammaAbove(0.5)).explain(X, 2)
    theirs = symdtd.compile(net.neurons(), composite=GammaAbove(0.5)).explain(X.reshape(3, -1), 2)
    np.testing.assert_allclose(mine.relevance.reshape(3, -1), theirs.relevance, atol=1e-10)
    with pytest.raises(ValueError, match="backend= and device= are for layer networks"):
        symdtd.compile(net.neurons(), backend="torch")


def test_compile_dispatch_torch_backend():
    pytest.importorskip("torch")
    net = every_layer_net(Box(-1, 1), seed=1)
    X = np.random.default_rng(2).uniform(-1, 1, size=(2, 2, 7, 7))
    model = symdtd.compile(net, backend="torch", device="cpu")
    assert model.backend == "torch"
    np.testing.assert_allclose(model.explain(X, 0).relevance,
                               compile_layers(net).explain(X, 0).relevance, atol=1e-12)


def test_propagate_verify_and_render_use_the_neuron_view():
    net = small_net()
    x = np.array([0.5, 0.25, 1.0, 0.75, 0.5, 0.0, 0.25, 1.0, 0.5])
    inputs = dict(zip(net.neurons().inputs, x.tolist()))
    e = symdtd.propagate(net, inputs, "y_0", arithmetic="exact")
    same = symdtd.propagate(net.neurons(), inputs, "y_0", arithmetic="exact")
    assert e.relevance == same.relevance
    layered = compile_layers(net).explain(x[None]).relevance.ravel()
    np.testing.assert_allclose([float(e.relevance.get(p, 0)) for p in net.neurons().inputs],
                               layered, atol=1e-12)
    report = symdtd.verify_network(net, inputs, "y_0")
    assert report.status == symdtd.verify_network(net.neurons(), inputs, "y_0").status
    graph = symdtd.render(net, e)
    assert "c_0_1_1" in graph.source and "y_0" in graph.source


def test_large_layer_networks_are_refused_with_a_pointer_to_windows():
    net = big_net()
    for call in (lambda: symdtd.propagate(net, {}, arithmetic="float"),
                 lambda: symdtd.verify_network(net),
                 lambda: symdtd.render(net)):
        with pytest.raises(ValueError, match=r"works neuron by neuron: the window needs \d+ edges, "
                                             r"more than limit=1000000.*net\.neurons\(window=\.\.\.\)"):
            call()
