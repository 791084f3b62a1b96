"""Local response normalisation: torch's forward (against torch and against a NumPy formula
written from torch's documentation), identity on relevance, refused where it has no meaning."""
import numpy as np
import pytest

import symdtd
from symdtd.compiler.layer_pass import compile_layers
from symdtd.core.domains import Box, Positive
from symdtd.network.join_layers import Flatten
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layers import Conv2d, Dense
from symdtd.network.norm_layers import LocalResponseNorm
from symdtd.network.pool_layers import MaxPool2d

SETTINGS = [dict(size=5, alpha=1e-4, beta=0.75, k=1.0), dict(size=2, alpha=0.5, beta=1.3, k=2.0),
            dict(size=4, alpha=3.0, beta=0.5, k=0.5), dict(size=1, alpha=1.0, beta=2.0, k=1.0)]


def docs_formula(a, size, alpha, beta, k):
    """torch.nn.LocalResponseNorm's documented formula, one channel at a time:
    b_c = a_c (k + α/n Σ_{c' = max(0, c − n/2)}^{min(N − 1, c + n/2)} a_{c'}²)^(−β),
    with torch's window for even n: n//2 channels before c, (n − 1)//2 after."""
    B, C, H, W = a.shape
    out = np.empty_like(a)
    for c in range(C):
        lo, hi = max(0, c - size // 2), min(C - 1, c + (size - 1) // 2)
        total = sum(a[:, j] ** 2 for j in range(lo, hi + 1))
        out[:, c] = a[:, c] * (k + alpha / size * total) ** (-beta)
    return out


@pytest.mark.parametrize("settings", SETTINGS)
def test_forward_matches_the_documented_formula(settings):
    a = np.random.default_rng(0).uniform(0, 3, size=(2, 6, 3, 4))
    lrn = LocalResponseNorm(**settings)
    lrn.bind("n", ["h"], [(6, 3, 4)])
    np.testing.assert_allclose(lrn.forward([a]), docs_formula(a, **settings), rtol=1e-13)
    assert lrn.forward([a.astype(np.float32)]).dtype == np.float32


@pytest.mark.parametrize("settings", SETTINGS)
def test_forward_matches_torch(settings):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(1).normal(size=(3, 7, 4, 5))
    lrn = LocalResponseNorm(**settings)
    lrn.bind("n", ["h"], [(7, 4, 5)])
    expected = torch.nn.LocalResponseNorm(**settings)(torch.from_numpy(a)).numpy()
    np.testing.assert_allclose(lrn.forward([a]), expected, rtol=1e-12, atol=1e-15)


def lrn_net():
    rng = np.random.default_rng(2)
    net = LayerNetwork()
    net.add_input("x", (2, 6, 6), Box(0, 1))
    net.add_layer("c", Conv2d(rng.normal(size=(4, 2, 3, 3)), -rng.uniform(0, 0.2, 4), padding=1))
    net.add_layer("n", LocalResponseNorm(3, alpha=0.5, beta=0.75, k=1.0))
    net.add_layer("p", MaxPool2d(2))
    net.add_layer("f", Flatten())
    net.add_layer("y", Dense(np.abs(rng.normal(size=(2, 36))), activation="linear"))
    return net


def test_relevance_passes_through_unchanged():
    """The pass with LRN equals a hand-built route: the net without LRN up to the conv
    relevance, with the layers above it fed the normalised activations — i.e. the LRN
    layer's relevance reaches the conv layer unchanged, and conservation holds exactly there."""
    net = lrn_net()
    X = np.random.default_rng(3).uniform(size=(3, 2, 6, 6))
    e = compile_layers(net).explain(X, 1, return_layers=True)
    np.testing.assert_array_equal(e.layers["c"], e.layers["n"])
    assert np.array_equal(e.totals["c"], e.totals["n"])
    assert e.conservation().conserved().all()
    # the layers above see the normalised values: y is Dense on pool(LRN(conv(x)))
    A = net.forward(X, activations=True)
    lrn = net.layer("n")
    np.testing.assert_allclose(A["n"], lrn.forward([A["c"]]), rtol=0)
    assert not np.allclose(A["n"], A["c"])
    # the conv layer's relevance is then the zB rule applied to R_c = R_n: check on one row
    # against the neuron-level compile of the conv layer alone, with R given at its outputs
    alone = LayerNetwork()
    alone.add_input("x", (2, 6, 6), Box(0, 1))
    alone.add_layer("c", Conv2d(net.layer("c").weight, net.layer("c").bias, padding=1))
    neurons = alone.neurons()
    R_c = e.layers["c"][0].ravel()
    total = np.zeros(72)
    for j in np.flatnonzero(R_c):
        out = f"c_{'_'.join(map(str, np.unravel_index(j, (4, 6, 6))))}"
        one = symdtd.propagate(neurons, dict(zip(neurons.inputs, X[0].ravel().tolist())), out,
                               arithmetic="float")
        xf = float(one.output)
        total += np.array([float(one.relevance.get(p, 0.0)) for p in neurons.inputs]) / xf * R_c[j]
    np.testing.assert_allclose(e.relevance[0].ravel(), total, atol=1e-10)


def test_rules_and_composites_skip_the_lrn_layer():
    net = lrn_net()
    model = compile_layers(net, composite=symdtd.GammaAbove(0.5))
    assert "n" not in model.rules and model.rules["y"] == "gamma" and model.rules["c"] == "zB"
    with pytest.raises(ValueError, match="layer 'n' is a view; it has no rule"):
        net.rule_for("n")


def test_the_neuron_view_refuses_a_window_through_lrn():
    net = lrn_net()
    with pytest.raises(ValueError, match=r"layer 'n' \(LocalResponseNorm\) has no neuron-level form"):
        net.neurons()
    with pytest.raises(ValueError, match="propagate works neuron by neuron: layer 'n'"):
        symdtd.propagate(net, {}, "y_0", arithmetic="float")
    below = net.neurons((0, 1, 1), output="c")     # a window below it works
    assert below.outputs == ["c_0_1_1"]


def test_lrn_needs_relu_inputs_and_valid_settings():
    net = LayerNetwork()
    net.add_input("x", (2, 4, 4), Box(0, 1))
    with pytest.raises(ValueError, match="layer 'n': LocalResponseNorm needs inputs ≥ 0"):
        net.add_layer("n", LocalResponseNorm(3))
    net.add_layer("c", Conv2d(np.ones((2, 2, 1, 1)), activation="linear"))
    with pytest.raises(ValueError, match="real-valued"):
        net.add_layer("n", LocalResponseNorm(3))
    net2 = LayerNetwork()
    net2.add_input("x", (2, 4, 4), Positive())
    net2.add_layer("n", LocalResponseNorm(3))      # ≥ 0 inputs without box bounds: fine
    with pytest.raises(ValueError, match="size must be a positive int"):
        LocalResponseNorm(0)
    with pytest.raises(ValueError, match="k > 0 and alpha ≥ 0"):
        LocalResponseNorm(3, k=0)
    with pytest.raises(ValueError, match="beta must be finite"):
        LocalResponseNorm(3, beta=float("inf"))
    flat = LayerNetwork()
    flat.add_input("x", (4,))
    with pytest.raises(ValueError, match=r"needs an image input \(C, H, W\)"):
        flat.add_layer("n", LocalResponseNorm(3))


def test_expression_expands_to_the_forward_value():
    net = lrn_net()
    x = np.random.default_rng(4).uniform(size=(1, 2, 6, 6))
    A = net.forward(x, activations=True)
    expr = net.neuron_expression("n", (1, 2, 3), symbols=None)
    values = {s: A["c"].reshape(-1)[int(np.ravel_multi_index(tuple(map(int, str(s).split("_")[1:])),
                                                              (4, 6, 6)))]
              for s in expr.free_symbols}
    assert float(expr.subs(values)) == pytest.approx(A["n"][0, 1, 2, 3], rel=1e-12)


def test_lrn_on_tensors_is_torch_and_the_identity_on_relevance():
    torch = pytest.importorskip("torch")
    net = lrn_net()
    X = np.random.default_rng(12).uniform(size=(3, 2, 6, 6))
    model = compile_layers(net, backend="torch")
    A = model.forward(X, activations=True)
    expected = torch.nn.LocalResponseNorm(3, alpha=0.5, beta=0.75, k=1.0)(torch.from_numpy(A["c"]))
    np.testing.assert_allclose(A["n"], expected.numpy(), atol=1e-12)
    e = model.explain(X, 1, return_layers=True)
    np.testing.assert_array_equal(e.layers["c"], e.layers["n"])
    np.testing.assert_allclose(e.relevance, compile_layers(net).explain(X, 1).relevance, atol=1e-10, rtol=0)
    assert e.conservation().conserved().all()
