"""The torch backend runs the whole layer-level pass on tensors: it agrees with the NumPy
backend and with the neuron-level paths (the compiled neuron view and exact rational
propagate) to 1e-10 in float64, on nets with every supported layer and rule.

Independent routes: symdtd.compile(net.neurons()) and symdtd.propagate(..., "exact") on the
neuron view (one neuron per node, no layer maps), torch's own max_pool2d for the winners,
and the identity of LRN on relevance (the relevance reaching its source equals its own).
"""
import numpy as np
import pytest
from test_layer_pass import DOMAINS, every_layer_net

import symdtd
from symdtd.compiler.layer_pass import compile_layers
from symdtd.core.domains import Box, Positive, Real
from symdtd.network import layer_ops
from symdtd.network.composites import GammaAbove, PaperDefault
from symdtd.network.join_layers import Add, Concat, Flatten
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layers import Conv2d, Dense, fold_batchnorm
from symdtd.network.overrides import ByLayer
from symdtd.network.pool_layers import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

torch = pytest.importorskip("torch")

ATOL = 1e-10


def pooling_net(domain, seed=0, maxpool="winner"):
    """BatchNorm folded into a convolution (positive biases), max and average pooling with
    ceil_mode, count_include_pad both ways, concatenation, a grouped dilated convolution,
    adaptive pooling."""
    rng = np.random.default_rng(seed)
    net = LayerNetwork(maxpool=maxpool)
    net.add_input("x", (2, 9, 9), domain)
    conv = Conv2d(rng.normal(size=(4, 2, 3, 3)), -rng.uniform(0, 0.3, 4), padding=(1, 0))
    net.add_layer("c1", fold_batchnorm(conv, rng.uniform(0.5, 1.5, 4), rng.uniform(-0.2, 0.2, 4),
                                       rng.uniform(-0.2, 0.2, 4), rng.uniform(0.5, 2.0, 4)))
    net.add_layer("mp", MaxPool2d(3, stride=2, padding=1, ceil_mode=True), "c1")
    net.add_layer("ap", AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), "c1")
    net.add_layer("aq", AvgPool2d(2, stride=2, ceil_mode=True, count_include_pad=True), "c1")
    net.add_layer("cat", Concat(), ["mp", "ap", "aq"])
    net.add_layer("c2", Conv2d(rng.normal(size=(6, 4, 2, 2)), -rng.uniform(0, 0.3, 6), dilation=2,
                               groups=3))
    net.add_layer("ad", AdaptiveAvgPool2d((2, 2)))
    net.add_layer("fl", Flatten())
    net.add_layer("y", Dense(np.abs(rng.normal(size=(3, 24))), activation="linear"))
    return net


def mixed_net(seed=0):
    """A real input added to a ReLU layer's output: the addition reads both (the mixed rule, given)."""
    rng = np.random.default_rng(seed)
    net = LayerNetwork()
    net.add_input("x", (2, 5, 5), Real())
    net.add_layer("c1", Conv2d(rng.normal(size=(2, 2, 3, 3)), -rng.uniform(0, 0.3, 2), padding=1))
    net.add_layer("res", Add(activation="linear", rule="mixed"), ["x", "c1"])
    net.add_layer("c2", Conv2d(rng.normal(size=(3, 2, 3, 3)), -rng.uniform(0, 0.3, 3), stride=2))
    net.add_layer("fl", Flatten())
    net.add_layer("y", Dense(np.abs(rng.normal(size=(2, 12))), activation="linear"))
    return net


def per_entry_box():
    """Per-entry bounds, some of them infinite: the entries bind in groups (masks)."""
    low = np.full((2, 9, 9), -1.0)
    high = np.full((2, 9, 9), 1.0)
    low[0, :3] = -np.inf
    high[1, 5:] = np.inf
    return Box(low.ravel().tolist(), high.ravel().tolist())


def draw(domain, n, seed):
    rng = np.random.default_rng(seed)
    if isinstance(domain, Real):
        return rng.normal(size=(n, 2, 9, 9))
    if isinstance(domain, Positive):
        return rng.uniform(0, 2, size=(n, 2, 9, 9))
    return rng.uniform(-1, 1, size=(n, 2, 9, 9))


def three_ways(net, X, target, **options):
    """The torch and NumPy layer passes and the neuron-level compile of the neuron view."""
    torch_e = compile_layers(net, backend="torch", **options).explain(X, target)
    numpy_e = compile_layers(net, **options).explain(X, target)
    absorb = options.pop("absorb_bias", False)
    neuron_e = symdtd.compile(net.neurons(), **options).explain(X.reshape(len(X), -1), target,
                                                               absorb_bias=absorb)
    return torch_e, numpy_e, neuron_e


COMPOSITES = {"default": PaperDefault(), "gamma above": GammaAbove(0.5),
              "w2 on c2": ByLayer({3: "w2"}) | PaperDefault()}


@pytest.mark.parametrize("composite", sorted(COMPOSITES))
@pytest.mark.parametrize("domain", ["box", "positive", "real", "per-entry box"])
@pytest.mark.parametrize("maxpool", ["winner", "proportional"])
def test_pooling_net_torch_equals_numpy_equals_neuron_level(domain, composite, maxpool):
    dom = per_entry_box() if domain == "per-entry box" else DOMAINS[domain][0]
    net = pooling_net(dom, seed=1, maxpool=maxpool)
    X = draw(dom, 3, seed=2)
    t, n, neuron = three_ways(net, X, [0, 2, 1], composite=COMPOSITES[composite],
                              parameters={"gamma": 0.25}, absorb_bias=True)
    assert net.neurons() is not None and compile_layers(net).positive_bias   # BN made b > 0
    np.testing.assert_allclose(t.relevance, n.relevance, atol=ATOL, rtol=0)
    np.testing.assert_allclose(t.relevance.reshape(3, -1), neuron.relevance, atol=ATOL, rtol=0)
    np.testing.assert_allclose(t.absorbed, neuron.conservation.absorbed, atol=ATOL)
    np.testing.assert_allclose(t.output, neuron.output, atol=ATOL)
    for name in n.totals:
        np.testing.assert_allclose(t.totals[name], n.totals[name], atol=ATOL, err_msg=name)


@pytest.mark.parametrize("domain", sorted(DOMAINS))
@pytest.mark.parametrize("gamma", [False, True])
def test_every_layer_net_torch_equals_numpy_equals_neuron_level(domain, gamma):
    """Residual add, grouped/strided/dilated convolutions, sum/avg/adaptive pooling, concat."""
    dom, sample = DOMAINS[domain]
    net = every_layer_net(dom, "proportional" if gamma else "winner", seed=3, gamma=gamma)
    X = sample(np.random.default_rng(4), 3)
    t, n, neuron = three_ways(net, X, [2, 0, 1], parameters={"gamma": 0.5})
    np.testing.assert_allclose(t.relevance, n.relevance, atol=ATOL, rtol=0)
    np.testing.assert_allclose(t.relevance.reshape(3, -1), neuron.relevance, atol=ATOL, rtol=0)


@pytest.mark.parametrize("rule", ["z", "w2", "gamma"])
def test_rules_at_a_residual_addition(rule):
    """The z rule at an addition (what ResNet's reference does): each source's part is the source
    itself, never the addition's output."""
    net = every_layer_net(Box(-1, 1), seed=16)
    net.layer("res").rule = rule
    X = DOMAINS["box"][1](np.random.default_rng(17), 3)
    t, n, neuron = three_ways(net, X, [1, 2, 0], parameters={"gamma": 0.5})
    assert compile_layers(net).rules["res"] == rule
    np.testing.assert_allclose(t.relevance, n.relevance, atol=ATOL, rtol=0)
    np.testing.assert_allclose(t.relevance.reshape(3, -1), neuron.relevance, atol=ATOL, rtol=0)


@pytest.mark.filterwarnings("ignore::symdtd.propagation.floats.InexactFloatWarning")
def test_mixed_rule_torch_equals_exact_propagate():
    net = mixed_net(seed=5)
    X = np.random.default_rng(6).normal(size=(2, 2, 5, 5)).round(2)
    model = compile_layers(net, backend="torch")
    assert model.rules["res"] == "mixed" and model.rules["c1"] == "w2"
    e = model.explain(X, [0, 1])
    neurons = net.neurons()
    for row, k in enumerate([0, 1]):
        exact = symdtd.propagate(neurons, dict(zip(neurons.inputs, X[row].ravel().tolist())), f"y_{k}",
                                 arithmetic="exact")
        expected = np.array([float(exact.relevance.get(p, 0)) for p in neurons.inputs])
        np.testing.assert_allclose(e.relevance[row].ravel(), expected, atol=ATOL, rtol=0)
    np.testing.assert_allclose(e.relevance, compile_layers(net).explain(X, [0, 1]).relevance,
                               atol=ATOL, rtol=0)


@pytest.mark.filterwarnings("ignore::symdtd.propagation.floats.InexactFloatWarning")
def test_pooling_net_torch_equals_exact_propagate():
    net = pooling_net(Box(-1, 1), seed=7)
    X = np.random.default_rng(8).uniform(-1, 1, size=(1, 2, 9, 9)).round(2)
    e = compile_layers(net, backend="torch", absorb_bias=True).explain(X, 1)
    neurons = net.neurons()
    exact = symdtd.propagate(neurons, dict(zip(neurons.inputs, X[0].ravel().tolist())), "y_1",
                             arithmetic="exact", absorb_bias=True)
    expected = np.array([float(exact.relevance.get(p, 0)) for p in neurons.inputs])
    np.testing.assert_allclose(e.relevance[0].ravel(), expected, atol=ATOL, rtol=0)
    assert e.absorbed[0] == pytest.approx(float(sum(exact.absorbed.values())), abs=ATOL)


def tied_net():
    """Max-pooling straight on a ≥ 0 input with overlapping windows."""
    net = LayerNetwork()
    net.add_input("x", (2, 5, 5), Positive())
    net.add_layer("mp", MaxPool2d(3, stride=1, padding=1, ceil_mode=True))
    net.add_layer("fl", Flatten())
    rng = np.random.default_rng(9)
    net.add_layer("y", Dense(np.abs(rng.normal(size=(2, 50))), activation="linear"))
    return net


def test_ties_go_to_the_first_maximum_as_in_numpy():
    X = np.random.default_rng(10).integers(0, 2, size=(4, 2, 5, 5)).astype(float)  # many ties
    value, winners = layer_ops.window_argmax(X, (3, 3), (1, 1), (1, 1), True)
    tv, tw = torch.nn.functional.max_pool2d(torch.from_numpy(X), 3, 1, 1, ceil_mode=True,
                                            return_indices=True)
    np.testing.assert_array_equal(tw.numpy(), winners)
    np.testing.assert_array_equal(tv.numpy(), value)
    net = tied_net()
    t, n, neuron = three_ways(net, X, [0, 1, 1, 0])
    np.testing.assert_array_equal(t.relevance, n.relevance)
    np.testing.assert_allclose(t.relevance.reshape(4, -1), neuron.relevance, atol=ATOL, rtol=0)


def test_results_are_numpy_and_chunks_join():
    net = pooling_net(Box(-1, 1), seed=13)
    X = draw(Box(-1, 1), 5, seed=14)
    model = compile_layers(net, backend="torch", dtype="float32")
    whole = model.explain(X.astype(np.float32), 1, return_layers=True)
    parts = model.explain(X.astype(np.float32), 1, return_layers=True, batch_size=2)
    assert isinstance(whole.relevance, np.ndarray) and whole.relevance.dtype == np.float32
    assert all(isinstance(v, np.ndarray) for v in whole.layers.values())
    assert all(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in whole.totals.values())
    np.testing.assert_allclose(parts.relevance, whole.relevance, atol=1e-6)
    e64 = compile_layers(net).explain(X, 1)
    assert np.abs(whole.relevance - e64.relevance).max() <= 1e-4 * np.abs(e64.output).max()


def test_rule_factors_on_tensors_come_from_the_derivation():
    """The torch f functions are the SymPy f expressions lambdified for torch: they agree with
    the NumPy ones on every rule's terms (including Max/Min against numbers)."""
    from symdtd.compiler.rule_kernels import rule_kernel
    from symdtd.core.rules import rule_names

    rng = np.random.default_rng(15)
    x, low, high = rng.normal(size=5), -np.abs(rng.normal(size=5)), np.abs(rng.normal(size=5))
    for name in rule_names():
        for binding in [(False, False), (False, True), (True, False), (True, True)]:
            kernel = rule_kernel(name, *binding)
            if not kernel.separable:
                continue
            for f_np, f_t in zip(kernel.f_functions("numpy"), kernel.f_functions("torch")):
                a = np.broadcast_to(np.asarray(f_np(x, low, high), float), x.shape)
                b = f_t(torch.from_numpy(x), torch.from_numpy(low), torch.from_numpy(high))
                b = b.numpy() if isinstance(b, torch.Tensor) else np.broadcast_to(float(b), x.shape)
                np.testing.assert_allclose(b, a, atol=0, rtol=0, err_msg=f"{name} {binding}")
