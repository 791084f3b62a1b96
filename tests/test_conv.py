"""ConvNetBuilder: convolution and pooling as neurons, checked against plain NumPy."""
import numpy as np
import pytest

from symdtd import Box, compile, propagate
from symdtd.core.domains import Positive
from symdtd.network.conv import ConvNetBuilder


def conv_reference(x, weight, bias, stride, padding):
    """Cross-correlation written with explicit loops over a zero-padded image."""
    C_out, C_in, kh, kw = weight.shape
    xp = np.pad(x, ((0, 0), (padding, padding), (padding, padding)))
    Ho = (xp.shape[1] - kh) // stride + 1
    Wo = (xp.shape[2] - kw) // stride + 1
    out = np.zeros((C_out, Ho, Wo))
    for o in range(C_out):
        for i in range(Ho):
            for j in range(Wo):
                patch = xp[:, i * stride:i * stride + kh, j * stride:j * stride + kw]
                out[o, i, j] = (patch * weight[o]).sum() + bias[o]
    return out


def pool_reference(x, k, op):
    C, H, W = x.shape
    blocks = x[:, :H // k * k, :W // k * k].reshape(C, H // k, k, W // k, k)
    return op(blocks, axis=(2, 4))


@pytest.mark.parametrize("stride,padding", [(1, 0), (1, 1), (2, 1), (2, 0)])
def test_conv_forward_matches_loops(stride, padding):
    rng = np.random.default_rng(stride * 10 + padding)
    weight, bias = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    b = ConvNetBuilder((2, 6, 5), Box(0, 1))
    net = b.conv2d(weight, bias, stride=stride, padding=padding, activation="linear").build()
    X = rng.random((4, 60))
    expected = [conv_reference(x.reshape(2, 6, 5), weight, bias, stride, padding).ravel()
                for x in X]
    assert net.forward(X) == pytest.approx(np.array(expected), abs=1e-12)
    assert compile(net).forward(X) == pytest.approx(np.array(expected), abs=1e-12)


def test_pooling_forward_matches_numpy():
    rng = np.random.default_rng(1)
    X = rng.random((3, 2 * 4 * 6))
    images = X.reshape(3, 2, 4, 6)
    cases = [("sum_pool2d", np.sum), ("avg_pool2d", np.mean), ("max_pool2d", np.max)]
    for method, op in cases:
        net = getattr(ConvNetBuilder((2, 4, 6), Box(0, 1)), method)(2).build()
        expected = np.array([pool_reference(im, 2, op).ravel() for im in images])
        assert net.forward(X) == pytest.approx(expected, abs=1e-12), method


def test_kernel_is_shared_and_padding_adds_no_edges():
    weight = np.arange(18, dtype=float).reshape(1, 2, 3, 3)
    net = ConvNetBuilder((2, 4, 4)).conv2d(weight, [0.0], padding=1).build()
    G = net.graph
    # centre neuron (1, 1): all 2·9 kernel entries; input (c, r, s) is x{c*16 + r*4 + s + 1}
    centre = {p: e["weight"] for p, e in G.pred["conv1_0_1_1"].items()}
    assert len(centre) == 18
    for c in range(2):
        for di in range(3):
            for dj in range(3):
                assert centre[f"x{c * 16 + di * 4 + dj + 1}"] == weight[0, c, di, dj]
    # corner neuron: only the 2×2 cells inside the image, per channel
    corner = {p: e["weight"] for p, e in G.pred["conv1_0_0_0"].items()}
    assert len(corner) == 8
    assert corner["x1"] == weight[0, 0, 1, 1] and corner["x17"] == weight[0, 1, 1, 1]


def test_kinds_and_rules():
    rng = np.random.default_rng(2)
    b = ConvNetBuilder((1, 4, 4), Box(0, 1))
    b.conv2d(rng.normal(size=(2, 1, 3, 3)), -np.ones(2), padding=1).avg_pool2d(2)
    b.conv2d(rng.normal(size=(2, 2, 2, 2)), -np.ones(2)).max_pool2d(1)
    net = b.dense(rng.normal(size=(2, 3)), activation="linear", neuron_names=["a", "b", "c"]).build()
    G = net.graph
    assert net.outputs == ["a", "b", "c"]
    assert G.nodes["conv1_0_0_0"]["kind"] == "relu" and net.rule_for("conv1_0_0_0").name == "zB"
    assert G.nodes["pool1_1_1_1"]["kind"] == "relu"           # avg-pool: ReLU of weights 1/4
    assert {e["weight"] for e in G.pred["pool1_1_1_1"].values()} == {0.25}
    assert net.rule_for("pool1_1_1_1").name == "z+"
    assert G.nodes["pool2_0_0_0"]["kind"] == "maxpool"
    assert net.rule_for("a").name == "z+"


def test_avg_pool_relevance_equals_sum_pool():
    # avg-pool with weights 1/4 and sum-pool followed by weights/4 compute the same
    # function; both pool rules are proportional, so the relevance must agree
    rng = np.random.default_rng(3)
    w1, b1 = rng.normal(size=(2, 1, 2, 2)), -rng.random(2) * 0.1
    w2 = rng.normal(size=(2 * 2 * 2, 2))
    avg = (ConvNetBuilder((1, 5, 5), Box(0, 1)).conv2d(w1, b1).avg_pool2d(2)
           .dense(w2, activation="linear").build())
    sm = (ConvNetBuilder((1, 5, 5), Box(0, 1)).conv2d(w1, b1).sum_pool2d(2)
          .dense(w2 / 4, activation="linear").build())
    X = rng.random((5, 25))
    assert compile(avg).forward(X) == pytest.approx(compile(sm).forward(X), abs=1e-12)
    Ra = compile(avg).explain(X, target=1).relevance
    Rs = compile(sm).explain(X, target=1).relevance
    assert np.abs(Ra - Rs).max() < 1e-12


def test_compiled_cnn_matches_exact_propagation():
    rng = np.random.default_rng(4)
    b = ConvNetBuilder((1, 4, 4), Box(0, 1))
    b.conv2d(rng.normal(size=(2, 1, 3, 3)), -rng.random(2) * 0.2, padding=1).max_pool2d(2)
    net = b.dense(rng.normal(size=(8, 2)), activation="linear").build()
    x = rng.random(16)
    exact = propagate(net, dict(zip(net.inputs, x)), output=net.outputs[1], arithmetic="exact")
    fast = compile(net).explain(x[None, :], target=1)
    expected = np.array([float(v) for v in exact.input_relevance.values()])
    assert np.abs(fast.relevance[0] - expected).max() < 1e-10
    assert abs(fast.relevance.sum() - fast.output[0]) < 1e-10


def test_bad_layers():
    b = ConvNetBuilder((1, 4, 4))
    with pytest.raises(ValueError, match="pooling needs inputs ≥ 0"):
        b.sum_pool2d(2)                              # Real() inputs may be negative
    b = ConvNetBuilder((1, 4, 4), Positive()).conv2d(np.ones((1, 1, 2, 2)), activation="linear")
    with pytest.raises(ValueError, match="add a ReLU"):
        b.max_pool2d(2)
    with pytest.raises(ValueError, match=r"weight must have shape \(C_out, 1, kh, kw\)"):
        ConvNetBuilder((1, 4, 4)).conv2d(np.ones((1, 2, 2, 2)))
    with pytest.raises(ValueError, match="does not fit"):
        ConvNetBuilder((1, 2, 2)).conv2d(np.ones((1, 1, 3, 3)))
    with pytest.raises(ValueError, match="needs an image"):
        ConvNetBuilder((4,)).conv2d(np.ones((1, 1, 1, 1)))
    with pytest.raises(ValueError, match="add at least one layer"):
        ConvNetBuilder((1, 2, 2)).build()
    with pytest.raises(ValueError, match="neuron_names"):
        ConvNetBuilder((2,)).dense(np.ones((2, 2)), neuron_names=["a"])
