"""Layer-level pass features: composites per layer, absorb_bias, float32, chunks, conservation.

Every check goes through an independent route: the neuron-level compiled path
(symdtd.compile on net.neurons(), with the composite written neuron by neuron),
exact rational propagate, the float64 pass for float32, one pass for chunks.
"""
import numpy as np
import pytest
from test_layer_pass import DOMAINS, every_layer_net

import symdtd
from symdtd.compiler.layer_pass import compile_layers
from symdtd.core.domains import Box, Positive
from symdtd.core.rules import Rule, indicator
from symdtd.network.composites import GammaAbove
from symdtd.network.join_layers import Flatten
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layers import Conv2d, Dense
from symdtd.network.overrides import ByKind, ByLayer, ByName, Everywhere
from symdtd.network.pool_layers import MaxPool2d


def neurons_of(net, layer):
    """The neuron names of *layer* in the neuron view (all of them)."""
    neurons = net.neurons()
    return [n for n in neurons.graph if n.startswith(f"{layer}_")]


def sample(domain, n=4, seed=1):
    dom, draw = DOMAINS[domain]
    return dom, draw(np.random.default_rng(seed), n)


# ------------------------------------------------------------------ composites
COMPOSITES = {
    # the same composite object on both sides: it decides per neuron / per layer
    "gamma above": (lambda net: GammaAbove(0.5), lambda net: GammaAbove(0.5)),
    "proportional pooling": (lambda net: ByKind({"maxpool": "proportional"}),
                             lambda net: ByKind({"maxpool": "proportional"})),
    "everywhere w2": (lambda net: Everywhere("w2"), lambda net: Everywhere("w2")),
    # by name: a layer's name at layer level, all its neurons' names at neuron level
    "by name": (lambda net: ByName({"c2": "w2", "d1": "z"}) | GammaAbove(1),
                lambda net: ByName({**dict.fromkeys(neurons_of(net, "c2"), "w2"),
                                    **dict.fromkeys(neurons_of(net, "d1"), "z")}) | GammaAbove(1)),
    # by generation: the layer DAG's (views do not count) is the neuron view's
    "by layer": (lambda net: ByLayer({3: "w2", 7: "gamma"}) | GammaAbove(0.25),
                 lambda net: ByLayer({3: "w2", 7: "gamma"}) | GammaAbove(0.25)),
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
@pytest.mark.parametrize("domain", ["box", "real"])
def test_composites_per_layer_equal_the_neuron_level_compile(name, domain):
    layer_side, neuron_side = COMPOSITES[name]
    dom, X = sample(domain)
    net = every_layer_net(dom, seed=2)
    neurons = net.neurons()
    target = [0, 2, 1, 0]
    model = compile_layers(net, composite=layer_side(net), parameters={"gamma": 0.5})
    mine = model.explain(X, target)
    reference = symdtd.compile(neurons, composite=neuron_side(net), parameters={"gamma": 0.5})
    theirs = reference.explain(X.reshape(4, -1), target)
    np.testing.assert_allclose(mine.relevance.reshape(4, -1), theirs.relevance, atol=1e-10, rtol=0)
    for layer, rule in model.rules.items():   # the same rule on every neuron of the layer
        assert {reference.rules[n] for n in neurons_of(net, layer)} == {rule}, layer


def test_the_default_is_paper_default_and_a_layers_rule_overrides():
    dom, X = sample("box")
    net = every_layer_net(dom, seed=2)
    assert compile_layers(net).rules == compile_layers(net, composite=symdtd.PaperDefault()).rules
    assert compile_layers(net).rules["d1"] == "z+" and compile_layers(net).rules["c1"] == "zB"
    net.layer("d1").rule = "z"          # a layer's own rule beats the composite
    model = compile_layers(net, composite=GammaAbove(1))
    assert model.rules["d1"] == "z" and model.rules["y"] == "gamma"
    assert net.rule_for("d1").name == "z"


def test_gamma_is_read_from_the_rule_instance():
    dom, X = sample("positive")
    net = every_layer_net(dom, seed=3)
    a = compile_layers(net, composite=GammaAbove(0.5)).explain(X, 1)
    b = compile_layers(net, composite=GammaAbove(2)).explain(X, 1)
    theirs = symdtd.compile(net.neurons(), composite=GammaAbove(2)).explain(X.reshape(4, -1), 1)
    np.testing.assert_allclose(b.relevance.reshape(4, -1), theirs.relevance, atol=1e-10, rtol=0)
    assert not np.allclose(a.relevance, b.relevance)


def test_rules_a_layer_cannot_take_are_refused_naming_it():
    net = every_layer_net(Box(-1, 1))
    with pytest.raises(ValueError, match=r"layer 'c1'.*'z\+' assumes inputs in ℝⁿ₊"):
        compile_layers(net, composite=ByName({"c1": "z+"}))
    with pytest.raises(ValueError, match=r"layer 'd1'.*pooling rule 'winner'"):
        compile_layers(net, composite=ByName({"d1": "winner"}))
    with pytest.raises(ValueError, match="'nope' is not in the network"):
        compile_layers(net, composite=ByName({"nope": "z"}))
    with pytest.raises(ValueError, match="layer 'fl' is a view; it has no rule"):
        net.rule_for("fl")
    with pytest.raises(TypeError, match="composite must be a Composite"):
        compile_layers(net, composite="z+")
    net.layer("d1").rule = "winner"
    with pytest.raises(ValueError, match=r"layer 'd1' \(Dense\): its rule 'winner' does not fit"):
        compile_layers(net)
    net.layer("d1").rule = Rule("contrib+", "positive contributions", Positive(),
                                lambda x, w: x * indicator(x * w))
    with pytest.raises(ValueError, match="layer 'd1': rule 'contrib\\+' does not split"):
        compile_layers(net)


# ------------------------------------------------------------------ absorb_bias
def biased_net():
    """Positive and negative biases, exact binary fractions; a box input."""
    net = LayerNetwork()
    net.add_input("x", (1, 4, 4), Box(0, 1))
    net.add_layer("c", Conv2d([[[[0.5, -0.25], [1.0, 0.75]]], [[[-1.0, 0.5], [0.25, 0.5]]]],
                              [0.125, -0.25]))
    net.add_layer("p", MaxPool2d(2, stride=1))
    net.add_layer("f", Flatten())
    net.add_layer("h", Dense(np.array([[0.5, -0.25, 0.75, 0.5, 0.25, 0.5, -0.5, 1.0]] * 2)
                             * [[1.0], [0.5]], [0.25, -0.125]))
    net.add_layer("y", Dense([[1.0, 0.5]], [0.0625], activation="linear"))
    return net


def test_absorb_bias_equals_exact_propagate():
    net = biased_net()
    neurons = net.neurons()
    X = np.random.default_rng(13).integers(0, 9, size=(3, 1, 4, 4)) / 8
    model = compile_layers(net, absorb_bias=True)
    assert model.positive_bias == ["c", "h", "y"]
    e = model.explain(X)
    for row in range(3):
        exact = symdtd.propagate(neurons, dict(zip(neurons.inputs, X[row].ravel().tolist())), "y_0",
                                 arithmetic="exact", absorb_bias=True)
        expected = np.array([float(exact.relevance.get(p, 0)) for p in neurons.inputs])
        np.testing.assert_allclose(e.relevance[row].ravel(), expected, atol=1e-12, rtol=0)
        for layer in ("c", "h", "y"):
            held = sum(float(v) for n, v in exact.absorbed.items() if n.startswith(f"{layer}_"))
            assert e.layer_absorbed[layer][row] == pytest.approx(held, abs=1e-12), layer
        assert e.absorbed[row] == pytest.approx(float(sum(exact.absorbed.values())), abs=1e-12)
    report = e.conservation()
    assert report.conserved().all() and np.abs(report.gap).max() < 1e-12
    assert (e.absorbed > 0).all()
    # the flag on explain overrides the compiled one: nothing absorbed, other relevance
    plain = model.explain(X, absorb_bias=False)
    assert not plain.absorbed.any() and not np.allclose(plain.relevance, e.relevance)
    assert plain.conservation().conserved().all()   # each layer still passes all it receives
    theirs = symdtd.compile(neurons).explain(X.reshape(3, -1), absorb_bias=True)
    np.testing.assert_allclose(e.relevance.reshape(3, -1), theirs.relevance, atol=1e-12)
    np.testing.assert_allclose(e.absorbed, theirs.conservation.absorbed, atol=1e-12)


# ------------------------------------------------------------------ float32
@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_float32_agrees_with_float64(domain, backend):
    if backend == "torch":
        pytest.importorskip("torch")
    dom, X = sample(domain, 5, seed=4)
    net = every_layer_net(dom, "proportional", seed=5)
    e64 = compile_layers(net, backend=backend).explain(X, 1)
    e32 = compile_layers(net, backend=backend, dtype="float32").explain(X.astype(np.float32), 1)
    assert e32.relevance.dtype == np.float32 and e32.output.dtype == np.float32
    assert all(v.dtype == np.float32 for v in compile_layers(net, dtype="float32").forward(
        X, activations=True).values())
    scale = np.abs(e64.output)[:, None] + 1e-300
    gap = np.abs(e32.relevance - e64.relevance).reshape(5, -1) / scale
    assert gap.max() <= 1e-4
    np.testing.assert_allclose(e32.output, e64.output, rtol=1e-5)
    rows = e64.output > 0
    assert e32.conservation().conserved()[rows].all()   # float32 default tolerance 1e-4


def test_bad_dtype():
    with pytest.raises(ValueError, match="dtype must be one of"):
        compile_layers(every_layer_net(Box(-1, 1)), dtype="float16")


# ------------------------------------------------------------------ chunks
def same(a, b):
    """Equal up to the rounding of a matrix product: BLAS (OpenBLAS's small-matrix and
    edge kernels) may sum a row's products in another order when the product has another
    number of rows, so a chunk of 3 rows and the whole batch of 8 can differ in the last bit."""
    scale = max(1.0, float(np.abs(b).max(initial=0)))
    return a.shape == b.shape and float(np.abs(a - b).max(initial=0)) <= 1e-13 * scale


@pytest.mark.parametrize("size", [1, 3, 7])
def test_chunked_explain_is_one_pass(size):
    dom, X = sample("box", 8, seed=6)
    net = every_layer_net(dom, seed=7)
    model = compile_layers(net)
    target = np.arange(8) % 3
    whole = model.explain(X, target, return_layers=True)
    parts = model.explain(X, target, return_layers=True, batch_size=size)
    assert same(parts.relevance, whole.relevance)
    assert same(parts.output, whole.output) and np.array_equal(parts.target, target)
    for name in whole.totals:
        assert same(parts.totals[name], whole.totals[name]), name
        assert same(parts.layers[name], whole.layers[name]), name
    for name in whole.passed:
        assert same(parts.passed[name], whole.passed[name]), name
    assert np.array_equal(parts.lost, whole.lost)


def test_chunks_of_whole_blas_tiles_are_bitwise_one_pass():
    """Chunks of 4 rows run the same BLAS kernels as the whole batch of 8 here: bit for bit."""
    dom, X = sample("box", 8, seed=6)
    model = compile_layers(every_layer_net(dom, seed=7))
    whole, parts = model.explain(X, 1), model.explain(X, 1, batch_size=4)
    if not np.array_equal(whole.relevance[:4], model.explain(X[:4], 1).relevance):
        pytest.skip("this BLAS orders a product's sums by its number of rows even here")
    assert np.array_equal(parts.relevance, whole.relevance)
    assert all(np.array_equal(parts.totals[n], whole.totals[n]) for n in whole.totals)


def test_bad_batch_size():
    dom, X = sample("box", 2)
    model = compile_layers(every_layer_net(dom))
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        model.explain(X, 0, batch_size=0)
    with pytest.raises(TypeError, match="positive integer"):
        model.explain(X, 0, batch_size=1.5)


# ------------------------------------------------------------------ conservation
def test_conservation_summary_layer_by_layer():
    """Biases ≤ 0: every layer passes all it received (residual ~ 0), nothing absorbed;
    the report's sums are recomputed here from the per-layer relevance."""
    dom, X = sample("box", 6, seed=8)
    net = every_layer_net(dom, "winner", seed=9)
    e = compile_layers(net).explain(X, 0, return_layers=True)
    report = e.conservation()
    for name, R in e.layers.items():
        assert report.total[name] == pytest.approx(R.reshape(6, -1).sum(axis=1)), name
        assert np.abs(report.residual[name]).max() < 1e-12, name
        assert not report.absorbed[name].any()
    assert report.input_total == pytest.approx(e.relevance.reshape(6, -1).sum(axis=1))
    assert report.conserved().all()
    assert "c1" in str(report) and "max |residual|" in str(report)


def test_lost_relevance_is_reported_where_it_is_lost():
    """A layer whose z⁺ denominators are all zero (nonpositive weights) loses what it receives."""
    net = LayerNetwork()
    net.add_input("x", (2,), Positive())
    net.add_layer("h", Dense([[-1.0, -1.0], [1.0, 1.0]], [1.0, 0.0]))
    net.add_layer("y", Dense([[1.0, 1.0]], activation="linear"))
    e = compile_layers(net).explain([[0.5, 0.25]])
    # h_0 = max(0, 1 − 0.75) = 0.25 has only negative weights: its z⁺ denominator is 0
    assert e.layer_lost["h"][0] == pytest.approx(0.25) and e.lost[0] == pytest.approx(0.25)
    report = e.conservation()
    assert report.lost["h"][0] == pytest.approx(0.25)
    assert abs(report.residual["h"][0]) < 1e-15 and report.conserved()[0]
