"""Layer.modified_weight: g(W) computed once per (g, γ, dtype), kept on the layer, and the
layer-level pass gives the same relevance on the first and later calls."""
import numpy as np

from symdtd.compiler.layer_pass import compile_layers
from symdtd.network.join_layers import Flatten
from symdtd.network.layer_base import identity
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layers import Conv2d, Dense


def positive(w, gamma=None):
    return np.maximum(w, 0)


def test_modified_weight_is_computed_once_and_is_g_of_the_weight():
    rng = np.random.default_rng(0)
    conv = Conv2d(rng.normal(size=(3, 2, 2, 2)))
    wp = conv.modified_weight(positive, None, np.float64)
    assert wp is conv.modified_weight(positive, None, np.float64)
    np.testing.assert_array_equal(wp, np.where(conv.weight > 0, conv.weight, 0))
    assert wp.flags.c_contiguous and wp.flags.writeable
    w32 = conv.modified_weight(lambda w, gamma: w, None, np.float32)
    assert w32.dtype == np.float32 and np.allclose(w32, conv.weight)
    scalar = conv.modified_weight(lambda w, gamma: 2.0, None, np.float64)   # g may give a scalar
    assert scalar.shape == conv.weight.shape and (scalar == 2).all()


def test_repeated_explain_calls_agree_with_a_hand_computed_z_plus():
    rng = np.random.default_rng(1)
    net = LayerNetwork()
    net.add_input("x", (1, 4, 4))                      # ≥ 0: z⁺ everywhere
    net.add_layer("c", Conv2d(rng.normal(size=(2, 1, 3, 3)), -rng.uniform(0, 0.1, 2)))
    net.add_layer("f", Flatten())
    W = np.abs(rng.normal(size=(1, 8)))
    net.add_layer("y", Dense(W, activation="linear"))
    X = rng.uniform(size=(3, 1, 4, 4))
    compiled = compile_layers(net)
    first, second = compiled.explain(X), compiled.explain(X)
    np.testing.assert_array_equal(first.relevance, second.relevance)
    # by hand: y = W a, all of W ≥ 0, so R_a = a W / (W a) y = a ⊙ W; then z⁺ through the convolution
    conv = net.layer("c")
    wp = np.maximum(conv.weight, 0)
    for row in range(3):
        x = X[row, 0]
        a = net.forward(X[row:row + 1], activations=True)["c"][0]
        Ra = (a.reshape(-1) * W[0]).reshape(a.shape)
        R = np.zeros_like(x)
        for c in range(2):
            for u in range(2):
                for v in range(2):
                    patch = x[u:u + 3, v:v + 3] * wp[c, 0]
                    if patch.sum() > 0:
                        R[u:u + 3, v:v + 3] += patch / patch.sum() * Ra[c, u, v]
        np.testing.assert_allclose(first.relevance[row, 0], R, rtol=1e-12, atol=1e-14)


def test_float32_modified_weight_is_g_of_the_float32_weight():
    # in float32 g acts on the float32 weights (no float64 temporary): w² is the float32 square
    # of the rounded weight, which can differ from the rounded float64 square in the last bit
    rng = np.random.default_rng(2)
    dense = Dense(rng.normal(size=(40, 50)))
    square = lambda w, gamma: w ** 2                                   # noqa: E731
    w32 = dense.weight.astype(np.float32)
    got = dense.modified_weight(square, None, np.float32)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, w32 * w32)
    # the float32 weights themselves are kept once and shared by g = identity's later users
    assert dense.modified_weight(identity, None, np.float32) is dense.modified_weight(identity, None, "float32")
    np.testing.assert_array_equal(dense.modified_weight(identity, None, np.float32), w32)
    # float64 stays g of the float64 weights
    np.testing.assert_array_equal(dense.modified_weight(square, None, np.float64), dense.weight ** 2)


def test_weights_whose_sum_overflows_are_finite_and_nan_or_inf_are_refused():
    big = np.full((2, 3), 1e308)                  # finite entries, their sum overflows
    np.testing.assert_array_equal(Dense(big).weight, big)
    for bad in (np.nan, np.inf, -np.inf):
        w = big.copy()
        w[1, 2] = bad
        try:
            Dense(w)
        except ValueError as e:
            assert "Dense weight must be finite" in str(e)
        else:
            raise AssertionError(f"a weight {bad} was accepted")
