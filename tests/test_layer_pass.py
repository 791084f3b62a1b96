"""Layer-level compiled relevance (compile_layers) against the neuron-level paths on the
neuron view of the same network: symdtd.compile(net.neurons()).explain and
propagate(..., arithmetic="float"); conservation layer by layer; windows of a larger net;
the torch backend; bad input."""
import numpy as np
import pytest

import symdtd
from symdtd.compiler.layer_pass import compile_layers
from symdtd.core.domains import Box, Positive, Real
from symdtd.network.join_layers import Add, Concat, Flatten
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layers import Conv2d, Dense
from symdtd.network.pool_layers import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, SumPool2d


def every_layer_net(domain, maxpool="winner", seed=0, gamma=False):
    """A small conv net with every layer type, a residual add and a concatenation.

    Biases ≤ 0 and positive output weights, so the explained outputs are ≥ 0.
    """
    rng = np.random.default_rng(seed)
    upper = "gamma" if gamma else None
    net = LayerNetwork(maxpool=maxpool)
    net.add_input("x", (2, 7, 7), domain)
    net.add_layer("c1", Conv2d(rng.normal(size=(4, 2, 3, 3)), -rng.uniform(0, 0.3, 4), padding=1))
    net.add_layer("c2", Conv2d(rng.normal(size=(4, 2, 3, 3)), -rng.uniform(0, 0.3, 4), padding=1,
                               groups=2, rule=upper))
    net.add_layer("res", Add(rule=upper), ["c1", "c2"])
    net.add_layer("c3", Conv2d(rng.normal(size=(3, 4, 2, 2)), -rng.uniform(0, 0.3, 3), stride=2,
                               dilation=(1, 2), rule=upper), "res")
    net.add_layer("mp", MaxPool2d(2, stride=1), "c3")
    net.add_layer("sp", SumPool2d(2, stride=1), "c3")
    net.add_layer("cat", Concat(), ["mp", "sp"])
    net.add_layer("ap", AvgPool2d(2, stride=1, padding=1))
    net.add_layer("ad", AdaptiveAvgPool2d((2, 3)))
    net.add_layer("fl", Flatten())
    net.add_layer("d1", Dense(rng.normal(size=(5, 36)), -rng.uniform(0, 0.3, 5), rule=upper))
    net.add_layer("y", Dense(np.abs(rng.normal(size=(3, 5))), activation="linear", rule=upper))
    return net


DOMAINS = {"box": (Box(-1, 1), lambda r, n: r.uniform(-1, 1, size=(n, 2, 7, 7))),
           "positive": (Positive(), lambda r, n: r.uniform(0, 2, size=(n, 2, 7, 7))),
           "real": (Real(), lambda r, n: r.normal(size=(n, 2, 7, 7)))}


@pytest.mark.parametrize("domain", sorted(DOMAINS))
@pytest.mark.parametrize("maxpool", ["winner", "proportional"])
def test_layer_pass_equals_the_neuron_level_compile(domain, maxpool):
    dom, sample = DOMAINS[domain]
    net = every_layer_net(dom, maxpool)
    X = sample(np.random.default_rng(1), 4)
    target = [0, 1, 2, 1]
    mine = compile_layers(net).explain(X, target)
    neurons = net.neurons()
    theirs = symdtd.compile(neurons).explain(X.reshape(4, -1), target)
    assert mine.relevance.shape == X.shape
    np.testing.assert_allclose(mine.output, theirs.output, rtol=1e-12)
    np.testing.assert_allclose(mine.relevance.reshape(4, -1), theirs.relevance, atol=1e-10, rtol=0)
    rules = {"box": "zB", "positive": "z+", "real": "w2"}
    assert compile_layers(net).rules["c1"] == rules[domain]
    assert compile_layers(net).rules["mp"] == maxpool  # the neuron-level compile names it so too


@pytest.mark.parametrize("domain", ["box", "real"])
def test_layer_pass_equals_float_propagate(domain):
    dom, sample = DOMAINS[domain]
    net = every_layer_net(dom, seed=3)
    X = sample(np.random.default_rng(2), 2)
    neurons = net.neurons()
    mine = compile_layers(net).explain(X, [2, 0])
    for row, k in enumerate([2, 0]):
        e = symdtd.propagate(neurons, dict(zip(neurons.inputs, X[row].ravel().tolist())),
                             f"y_{k}", arithmetic="float")
        expected = np.array([float(e.relevance.get(p, 0.0)) for p in neurons.inputs])
        np.testing.assert_allclose(mine.relevance[row].ravel(), expected, atol=1e-10, rtol=0)


def test_exact_propagate_on_the_neuron_view():
    """The neuron view keeps the exact path working: rationals agree with the float layer pass."""
    net = LayerNetwork()
    net.add_input("x", (1, 4, 4), Box(0, 1))
    net.add_layer("c", Conv2d([[[[0.5, -0.25], [1.0, 0.75]]], [[[-1.0, 0.5], [0.25, 0.5]]]], [-0.125, 0.0]))
    net.add_layer("p", MaxPool2d(2, stride=1))
    net.add_layer("f", Flatten())
    net.add_layer("y", Dense([[0.5] * 4 + [0.25] * 4], activation="linear"))
    X = np.random.default_rng(13).uniform(size=(1, 1, 4, 4)).round(3)
    neurons = net.neurons()
    e = symdtd.propagate(neurons, dict(zip(neurons.inputs, X.ravel().tolist())), "y_0",
                         arithmetic="exact")
    exact = np.array([float(e.relevance.get(p, 0)) for p in neurons.inputs])
    np.testing.assert_allclose(compile_layers(net).explain(X).relevance.ravel(), exact, atol=1e-10)


def test_gamma_on_the_upper_layers():
    net = every_layer_net(Box(-1, 1), seed=4, gamma=True)
    X = DOMAINS["box"][1](np.random.default_rng(5), 3)
    model = compile_layers(net, parameters={"gamma": 0.25})
    assert model.rules["d1"] == "gamma" and model.rules["c1"] == "zB"
    theirs = symdtd.compile(net.neurons(), parameters={"gamma": 0.25}).explain(X.reshape(3, -1), 1)
    np.testing.assert_allclose(model.explain(X, 1).relevance.reshape(3, -1), theirs.relevance,
                               atol=1e-10, rtol=0)


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_conservation_layer_by_layer(domain):
    """Biases ≤ 0 and x_f > 0: every layer passes on all it receives (Σ_i q_ij / Σ_i' q_i'j = 1),
    so each layer's outflow equals its inflow, and the input receives x_f."""
    dom, sample = DOMAINS[domain]
    net = every_layer_net(dom, "proportional", seed=6)
    X = sample(np.random.default_rng(7), 6)
    e = compile_layers(net).explain(X, 0)
    rows = e.output > 0
    assert rows.sum() >= 3 and not e.lost.any()
    assert set(e.passed) == set(net.graph) - {"x"}
    for name, out in e.passed.items():
        np.testing.assert_allclose(out[rows], e.totals[name][rows], rtol=1e-6, err_msg=name)
    np.testing.assert_allclose(e.totals["x"][rows], e.output[rows], rtol=1e-6)
    # the two halves of the concatenation together carry what it received
    np.testing.assert_allclose((e.totals["mp"] + e.totals["sp"])[rows], e.totals["cat"][rows], rtol=1e-6)


def big_net(seed=8):
    rng = np.random.default_rng(seed)
    net = LayerNetwork()
    net.add_input("x", (3, 32, 32), Box(0, 1))
    net.add_layer("c1", Conv2d(rng.normal(size=(8, 3, 5, 5)), -rng.uniform(0, 0.5, 8), padding=2))
    net.add_layer("p1", MaxPool2d(2))
    net.add_layer("c2", Conv2d(rng.normal(size=(16, 8, 3, 3)), -rng.uniform(0, 0.5, 16), padding=1))
    net.add_layer("c3", Conv2d(rng.normal(size=(16, 16, 3, 3)), -rng.uniform(0, 0.5, 16), padding=1))
    net.add_layer("r", Add(), ["c2", "c3"])
    net.add_layer("p2", MaxPool2d(2))
    return net


def test_windows_of_a_large_net():
    """Output neurons of a 32×32 net: the window's neuron-level
    relevance equals the layer-level one on its receptive field, and nothing else
    gets any; the whole net would exceed the edge limit."""
    net = big_net()
    with pytest.raises(ValueError, match="more than limit=1000000"):
        net.neurons()
    X = np.random.default_rng(9).uniform(size=(2, 3, 32, 32))
    model = compile_layers(net)
    for index in [(3, 4, 5), (11, 0, 7)]:
        window = net.neurons(index)
        flat = int(np.ravel_multi_index(index, net.layer("p2").shape))
        mine = model.explain(X, flat).relevance.reshape(2, -1)
        theirs = symdtd.compile(window).explain(
            X.reshape(2, -1)[:, [int(p[1:]) - 1 for p in window.inputs]])
        columns = [int(p[1:]) - 1 for p in window.inputs]
        np.testing.assert_allclose(mine[:, columns], theirs.relevance, atol=1e-10, rtol=0)
        outside = np.ones(mine.shape[1], bool)
        outside[columns] = False
        assert not mine[:, outside].any()
    # a window in an intermediate layer: output= picks the layer
    e = model.explain(X, int(np.ravel_multi_index((2, 7, 7), (16, 16, 16))), output="c2")
    window = net.neurons((2, 7, 7), output="c2")
    columns = [int(p[1:]) - 1 for p in window.inputs]
    theirs = symdtd.compile(window).explain(X.reshape(2, -1)[:, columns])
    np.testing.assert_allclose(e.relevance.reshape(2, -1)[:, columns], theirs.relevance, atol=1e-10)


def test_torch_backend_equals_numpy():
    pytest.importorskip("torch")
    net = every_layer_net(Box(-1, 1), seed=10)
    X = DOMAINS["box"][1](np.random.default_rng(11), 3)
    a = compile_layers(net).explain(X, [0, 1, 2])
    b = compile_layers(net, backend="torch").explain(X, [0, 1, 2])
    np.testing.assert_allclose(b.relevance, a.relevance, atol=1e-12, rtol=0)
    np.testing.assert_allclose(compile_layers(net, backend="torch").forward(X), net.forward(X),
                               atol=1e-12)
    bn = big_net()   # stride 1 with padding, and the strided rows a conv never reads
    Xb = np.random.default_rng(12).uniform(size=(2, 3, 32, 32))
    np.testing.assert_allclose(compile_layers(bn, backend="torch").explain(Xb, 5).relevance,
                               compile_layers(bn).explain(Xb, 5).relevance, atol=1e-12, rtol=0)


def test_bad_input():
    net = every_layer_net(Box(-1, 1))
    model = compile_layers(net)
    with pytest.raises(ValueError, match=r"input 'x': expected shape \(batch, 2, 7, 7\) or \(batch, 98\)"):
        model.explain(np.zeros((2, 2, 7, 6)), 0)
    with pytest.raises(ValueError, match=r"input 'x': values outside Box\(low=-1, high=1\) in rows \[1\]"):
        model.explain(np.stack([np.zeros((2, 7, 7)), np.full((2, 7, 7), 2.0)]), 0)
    with pytest.raises(ValueError, match="target is required"):
        model.explain(np.zeros((1, 2, 7, 7)))
    with pytest.raises(ValueError, match="out of range|target"):
        model.explain(np.zeros((1, 2, 7, 7)), 3)
    with pytest.raises(ValueError, match="backend must be one of"):
        compile_layers(net, backend="jax")
    with pytest.raises(ValueError, match="gamma must be a finite number ≥ 0"):
        compile_layers(every_layer_net(Box(-1, 1), gamma=True), parameters={"gamma": -1})


def test_a_dense_layer_on_a_flattened_box_input():
    """The box bounds take the shape of the view the layer reads (regression: broadcast error)."""
    rng = np.random.default_rng(4)
    net = LayerNetwork()
    net.add_input("x", (2, 3, 3), Box(-1, 1))
    net.add_layer("fl", Flatten())
    net.add_layer("h", Dense(rng.normal(size=(4, 18)), -rng.uniform(0, 0.3, 4)))
    net.add_layer("y", Dense(np.abs(rng.normal(size=(2, 4))), activation="linear"))
    X = rng.uniform(-1, 1, size=(3, 2, 3, 3))
    mine = compile_layers(net).explain(X, [0, 1, 0])
    theirs = symdtd.compile(net.neurons()).explain(X.reshape(3, -1), [0, 1, 0])
    np.testing.assert_allclose(mine.relevance.reshape(3, -1), theirs.relevance, atol=1e-10, rtol=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # NumPy's own overflow warnings
def test_an_overflow_of_float32_is_refused_at_layer_level():
    # the layer pass, like the neuron-level one, refuses NaN born of ∞ − ∞, naming the rows
    rng = np.random.default_rng(8)
    net = LayerNetwork()
    net.add_input("x", (40,), Box(0, 1))
    W = rng.uniform(0.5, 1, (6, 40)) * 2e37
    W[0] *= -1
    net.add_layer("h", Dense(W))
    net.add_layer("y", Dense(rng.uniform(0.1, 1, (3, 6)), activation="linear"))
    X = np.full((4, 40), 0.001)
    X[2] = 1.0
    model = compile_layers(net, dtype="float32")
    with pytest.raises(ValueError, match=r"float32 arithmetic overflowed in rows \[2\]"):
        model.explain(X, 0)
    e = compile_layers(net).explain(X, 0)    # float64 has the range
    assert np.isfinite(e.relevance).all()
