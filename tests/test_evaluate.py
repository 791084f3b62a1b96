"""Baselines (gradient, sensitivity, gradient × input) and pixel-flipping / AOPC."""
import numpy as np
import pytest

from symdtd import Box, Network, propagate
from symdtd.network.conv import ConvNetBuilder
from symdtd.real.evaluate import (
    dtd,
    gradient,
    gradient_x_input,
    mean_ci,
    pixel_flipping,
    random_attribution,
    sensitivity,
)


def random_cnn(seed=0):
    rng = np.random.default_rng(seed)
    b = ConvNetBuilder((1, 4, 4), Box(0, 1))
    b.conv2d(rng.normal(size=(3, 1, 2, 2)), rng.normal(size=3) * 0.1).max_pool2d(2, 1)
    return b.dense(rng.normal(size=(12, 4)), rng.normal(size=4), activation="linear").build()


def test_gradient_matches_central_differences():
    net = random_cnn()
    rng = np.random.default_rng(1)
    X = rng.random((5, 16))
    target = np.array([0, 1, 2, 3, 0])
    g = gradient(net, X, target)
    h = 1e-6
    for r in range(len(X)):
        E = np.eye(16) * h
        up = net.forward(X[r] + E)[:, target[r]]
        down = net.forward(X[r] - E)[:, target[r]]
        assert g[r] == pytest.approx((up - down) / (2 * h), abs=1e-6)


def test_gradient_of_a_linear_net_is_the_weight_product():
    W1, W2 = np.array([[1.0, 2.0], [-1.0, 0.5]]), np.array([[3.0], [-2.0]])
    net = Network.from_dense([W1, W2], [[1.0, 1.0], [0.0]], Box(0, 1))
    X = np.array([[0.5, 0.2]])  # both hidden neurons active
    assert gradient(net, X, 0) == pytest.approx((W1 @ W2).T)
    assert sensitivity(net, X, 0) == pytest.approx(((W1 @ W2) ** 2).T)
    assert gradient_x_input(net, X, 0) == pytest.approx(X * (W1 @ W2).T)


def test_gradient_targets_and_errors():
    net = random_cnn(2)
    X = np.random.default_rng(3).random((2, 16))
    both = gradient(net, X, [1, 3])
    assert both[0] == pytest.approx(gradient(net, X[:1], 1)[0])
    assert both[1] == pytest.approx(gradient(net, X[1:], net.outputs[3])[0])
    with pytest.raises(ValueError, match="target"):
        gradient(net, X, 4)
    with pytest.raises(ValueError, match=r"shape \(batch, 16\)"):
        gradient(net, X[:, :3], 0)


def test_dtd_and_gamma_match_exact_propagation():
    net = random_cnn(4)
    x = np.random.default_rng(5).random(16)
    point = dict(zip(net.inputs, x))
    exact = propagate(net, point, output=net.outputs[2], arithmetic="exact")
    assert dtd(net, x[None], 2)[0] == pytest.approx(
        [float(v) for v in exact.input_relevance.values()], abs=1e-10)
    # gamma replaces z+ above the input layer; zB at the input and max-pooling stay
    g = net.copy()
    upper = [n for n in g.graph if n.startswith("dense")]
    g.set_rule(upper, "gamma")
    exact_g = propagate(g, point, output=g.outputs[2], arithmetic="exact")
    got = dtd(net, x[None], 2, rule="gamma", parameters={"gamma": 0.25})[0]
    assert got == pytest.approx([float(v) for v in exact_g.input_relevance.values()], abs=1e-10)
    assert np.abs(got - dtd(net, x[None], 2)[0]).max() > 1e-6


def linear_model(w):
    w = np.asarray(w, dtype=float)
    return lambda X: (X @ w)[:, None]


def test_pixel_flipping_on_a_linear_model():
    f = linear_model([1.0, 2.0, -1.0, 0.5])
    X = np.array([[1.0, 1.0, 1.0, 1.0]])
    R = np.array([[0.1, 3.0, -2.0, 1.0]])        # order: x2, x4, x1, x3
    r = pixel_flipping(f, X, R, 0)
    assert r.curves[0].tolist() == [2.5, 0.5, 0.0, -1.0, 0.0]
    assert r.removed[0].tolist() == [0, 1, 2, 3, 4]
    # AOPC = mean over k = 0..4 of f(x) − f(x^(k)) = (0 + 2 + 2.5 + 3.5 + 2.5) / 5
    assert r.aopc == pytest.approx(2.1)
    short = pixel_flipping(f, X, R, 0, steps=2, baseline=[0.0, 1.0, 0.0, 0.0])
    assert short.curves[0].tolist() == [2.5, 2.5, 2.0]  # x2 "removed" to its own value


def test_pixel_flipping_patches_and_ties():
    f = linear_model(np.arange(16.0))
    X = np.ones((1, 16))
    R = np.zeros((1, 16))
    R[0, [10, 11, 14, 15]] = 1.0                  # the bottom-right 2×2 tile
    r = pixel_flipping(f, X, R, 0, patch=2, shape=(4, 4))
    assert r.curves.shape == (1, 5)
    assert r.curves[0, 1] == pytest.approx(120 - (10 + 11 + 14 + 15))
    # ties keep index order: the first tile (0, 1, 4, 5) goes next
    assert r.curves[0, 2] == pytest.approx(r.curves[0, 1] - (0 + 1 + 4 + 5))
    assert r.removed[0].tolist() == [0, 4, 8, 12, 16]


def test_pixel_flipping_many_rows_and_targets():
    net = random_cnn(6)
    X = np.random.default_rng(7).random((300, 16))   # several forward chunks
    target = np.arange(300) % 4
    R = random_attribution(X, seed=1)
    r = pixel_flipping(net, X, R, target)
    full = net.forward(X)
    assert r.curves[:, 0] == pytest.approx(full[np.arange(300), target])
    assert r.curves[:, -1] == pytest.approx(net.forward(np.zeros((1, 16)))[0, target])
    k = 5
    order = np.argsort(-R, axis=1, kind="stable")[:, :k]
    Xk = X.copy()
    np.put_along_axis(Xk, order, 0.0, axis=1)
    assert r.curves[:, k] == pytest.approx(net.forward(Xk)[np.arange(300), target])


def test_pixel_flipping_errors():
    f = linear_model([1.0, 1.0])
    with pytest.raises(ValueError, match="relevance has shape"):
        pixel_flipping(f, np.ones((1, 2)), np.ones((1, 3)), 0)
    with pytest.raises(ValueError, match="steps"):
        pixel_flipping(f, np.ones((1, 2)), np.ones((1, 2)), 0, steps=3)
    with pytest.raises(TypeError, match="model"):
        pixel_flipping(object(), np.ones((1, 2)), np.ones((1, 2)), 0)


def test_mean_ci_textbook_value():
    # t(0.975, df=9) = 2.262157 (statistical tables); s = sqrt(var of 0..9, ddof=1)
    values = np.arange(10.0)
    m, (lo, hi) = mean_ci(values)
    half = 2.262157 * np.sqrt(np.var(values, ddof=1) / 10)
    assert m == 4.5 and lo == pytest.approx(4.5 - half, abs=1e-5)
    assert hi == pytest.approx(4.5 + half, abs=1e-5)


def test_random_attribution_is_seeded():
    X = np.zeros((3, 5))
    assert np.array_equal(random_attribution(X, 4), random_attribution(X, 4))
    assert not np.array_equal(random_attribution(X, 4), random_attribution(X, 5))


def test_demo_digits_writes_figures_and_table(tmp_path):
    from symdtd.real.comparison import demo_digits

    written, table = demo_digits(tmp_path, n=10, steps=4, models=["mlp"])
    assert [p.name for p in written] == ["digits_heatmaps_mlp.png", "digits_pixel_flipping.png"]
    assert all(p.exists() for p in written)
    assert "AOPC" in table and "gradient x input" in table
