"""Layer nodes and the layer network: forward passes against slow loops written from the
definitions, transposed maps against the adjoint identity, the generic expressions against
the neuron view, the neuron view itself (windows, limits) and the errors on bad input."""
import itertools
import math

import numpy as np
import pytest
import sympy as sp

from symdtd.core.domains import Box, Positive, Real
from symdtd.network.join_layers import Add, Concat, Flatten
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layers import Conv2d, Dense, fold_batchnorm
from symdtd.network.pool_layers import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, SumPool2d

rng = np.random.default_rng(7)


def bound(layer, *shapes, name="L"):
    layer.bind(name, [f"s{k}" for k in range(len(shapes))], shapes)
    return layer


# ------------------------------------------------------------ slow references
def slow_conv(x, w, b, stride, padding, dilation, groups):
    """Cross-correlation straight from its definition, zero padding read as 0."""
    B, C, H, W = x.shape
    C_out, Cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    Ho = (H + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    Wo = (W + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((B, C_out, Ho, Wo))
    per_group = C_out // groups
    for n, o, u, v in itertools.product(range(B), range(C_out), range(Ho), range(Wo)):
        total = b[o]
        g = o // per_group
        for k, p, q in itertools.product(range(Cg), range(kh), range(kw)):
            r, s = u * sh + p * dh - ph, v * sw + q * dw - pw
            if 0 <= r < H and 0 <= s < W:
                total += w[o, k, p, q] * x[n, g * Cg + k, r, s]
        out[n, o, u, v] = total
    return out


def slow_pool(x, kernel, stride, padding, reduce):
    """Pooling over the cells of each window that lie inside the image."""
    B, C, H, W = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    out = np.zeros((B, C, Ho, Wo))
    for n, c, u, v in itertools.product(range(B), range(C), range(Ho), range(Wo)):
        cells = [x[n, c, r, s] for r in range(u * sh - ph, u * sh - ph + kh)
                 for s in range(v * sw - pw, v * sw - pw + kw) if 0 <= r < H and 0 <= s < W]
        out[n, c, u, v] = reduce(cells)
    return out


def slow_adaptive(x, out_hw):
    """PyTorch's adaptive average pooling: window [floor(i·H/Ho), ceil((i+1)·H/Ho))."""
    B, C, H, W = x.shape
    Ho, Wo = out_hw
    out = np.zeros((B, C, Ho, Wo))
    for u, v in itertools.product(range(Ho), range(Wo)):
        r0, r1 = math.floor(u * H / Ho), math.ceil((u + 1) * H / Ho)
        s0, s1 = math.floor(v * W / Wo), math.ceil((v + 1) * W / Wo)
        out[:, :, u, v] = x[:, :, r0:r1, s0:s1].mean(axis=(2, 3))
    return out


# ------------------------------------------------------------------ forward
@pytest.mark.parametrize("stride,padding,dilation,groups", [
    ((1, 1), (0, 0), (1, 1), 1), ((2, 1), (1, 2), (1, 1), 1), ((1, 2), (2, 1), (2, 1), 2),
    ((2, 2), (1, 1), (1, 1), 4)])
def test_conv_forward_matches_definition(stride, padding, dilation, groups):
    x = rng.normal(size=(2, 4, 7, 6))
    w, b = rng.normal(size=(8, 4 // groups, 3, 2)), rng.normal(size=8)
    conv = bound(Conv2d(w, b, stride=stride, padding=padding, dilation=dilation, groups=groups,
                        activation="linear"), (4, 7, 6))
    expected = slow_conv(x, w, b, stride, padding, dilation, groups)
    assert conv.shape == expected.shape[1:]
    np.testing.assert_allclose(conv.forward([x]), expected, atol=1e-12)
    relu = bound(Conv2d(w, b, stride=stride, padding=padding, dilation=dilation, groups=groups),
                 (4, 7, 6))
    np.testing.assert_allclose(relu.forward([x]), np.maximum(expected, 0), atol=1e-12)


def test_dense_add_concat_flatten_forward():
    x = rng.normal(size=(3, 5))
    w, b = rng.normal(size=(4, 5)), rng.normal(size=4)
    expected = np.array([[max(0.0, sum(w[j, i] * row[i] for i in range(5)) + b[j])
                          for j in range(4)] for row in x])
    np.testing.assert_allclose(bound(Dense(w, b), (5,)).forward([x]), expected, atol=1e-12)
    a, c = rng.normal(size=(2, 3, 2, 2)), rng.normal(size=(2, 3, 2, 2))
    np.testing.assert_array_equal(bound(Add(), (3, 2, 2), (3, 2, 2)).forward([a, c]),
                                  np.maximum(a + c, 0))
    d = rng.normal(size=(2, 1, 2, 2))
    cat = bound(Concat(), (3, 2, 2), (1, 2, 2))
    out = cat.forward([a, d])
    assert cat.shape == (4, 2, 2)
    assert out[1, 3, 1, 0] == d[1, 0, 1, 0] and out[0, 2, 0, 1] == a[0, 2, 0, 1]
    flat = bound(Flatten(), (3, 2, 2)).forward([a])
    assert flat[1, 1 * 4 + 1 * 2 + 0] == a[1, 1, 1, 0]


@pytest.mark.parametrize("kernel,stride,padding", [((2, 2), (2, 2), (0, 0)), ((3, 2), (1, 2), (1, 1)),
                                                   ((3, 3), (2, 2), (1, 0))])
def test_pool_forward_matches_definition(kernel, stride, padding):
    x = rng.uniform(size=(2, 3, 7, 6))
    shape = (3, 7, 6)
    np.testing.assert_allclose(bound(SumPool2d(kernel, stride, padding), shape).forward([x]),
                               slow_pool(x, kernel, stride, padding, sum), atol=1e-12)
    np.testing.assert_array_equal(bound(MaxPool2d(kernel, stride, padding), shape).forward([x]),
                                  slow_pool(x, kernel, stride, padding, max))
    divisor = kernel[0] * kernel[1]   # count_include_pad: padded cells count in the divisor
    np.testing.assert_allclose(bound(AvgPool2d(kernel, stride, padding), shape).forward([x]),
                               slow_pool(x, kernel, stride, padding, lambda c: sum(c) / divisor),
                               atol=1e-12)
    np.testing.assert_allclose(bound(AvgPool2d(kernel, stride, padding, divisor=2.5), shape).forward([x]),
                               slow_pool(x, kernel, stride, padding, lambda c: sum(c) / 2.5), atol=1e-12)
    # count_include_pad=False: the divisor is the number of cells inside the image
    np.testing.assert_allclose(bound(AvgPool2d(kernel, stride, padding, count_include_pad=False),
                                     shape).forward([x]),
                               slow_pool(x, kernel, stride, padding, lambda c: sum(c) / len(c)), atol=1e-12)


@pytest.mark.parametrize("out_hw", [(3, 2), (7, 6), (1, 1), (4, 5)])
def test_adaptive_avg_pool_forward_matches_definition(out_hw):
    x = rng.uniform(size=(2, 2, 7, 6))
    pool = bound(AdaptiveAvgPool2d(out_hw), (2, 7, 6))
    np.testing.assert_allclose(pool.forward([x]), slow_adaptive(x, out_hw), atol=1e-12)


def test_max_pool_winner_is_the_first_maximum():
    pool = bound(MaxPool2d(2), (1, 2, 2))
    x = np.array([[[[1.0, 3.0], [3.0, 0.0]]]])
    assert pool.winners(x).tolist() == [[[[1]]]]   # (0, 1) before (1, 0)


# --------------------------------------------------------- transposed maps
def positive_part(w, gamma=None):
    return np.maximum(w, 0)


LINEAR_LAYERS = [
    (lambda: Dense(rng.normal(size=(4, 6))), [(6,)]),
    (lambda: Conv2d(rng.normal(size=(6, 2, 3, 2)), stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                    groups=2), [(4, 8, 7)]),
    (lambda: Conv2d(rng.normal(size=(3, 2, 2, 2)), stride=3), [(2, 8, 7)]),   # rows never read
    (lambda: SumPool2d(3, 2, 1), [(2, 7, 6)]),
    (lambda: AvgPool2d((2, 3), (1, 2), (1, 1)), [(2, 7, 6)]),
    (lambda: MaxPool2d(2), [(2, 6, 6)]),
    (lambda: AdaptiveAvgPool2d((3, 4)), [(2, 7, 6)]),
    (lambda: Add(), [(2, 3, 3), (2, 3, 3)]),
]


@pytest.mark.parametrize("make,shapes", LINEAR_LAYERS)
@pytest.mark.parametrize("g", [None, positive_part])
def test_transposed_map_is_the_adjoint(make, shapes, g):
    layer = bound(make(), *shapes)
    kw = {} if g is None else {"g": g}
    for s, shape in enumerate(shapes):
        x = rng.normal(size=(3,) + shape)
        y = rng.normal(size=(3,) + layer.shape)
        lhs = np.vdot(layer.linear(s, x, **kw), y)
        rhs = np.vdot(x, layer.linear_t(s, y, **kw))
        assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


def test_conv_speed_at_digits_scale():
    """conv 16→32 5×5 on 28×28: forward and transposed map at batch 32 in well under a second each."""
    import time

    conv = bound(Conv2d(rng.normal(size=(32, 16, 5, 5))), (16, 28, 28))
    x = rng.uniform(size=(32, 16, 28, 28))
    start = time.perf_counter()
    y = conv.linear(0, x)
    conv.linear_t(0, y)
    assert time.perf_counter() - start < 5.0   # generous: the machine is shared


# ------------------------------------------------------------ expressions
def small_net():
    net = LayerNetwork()
    net.add_input("x", (2, 4, 4), Box(0, 1))
    net.add_layer("conv", Conv2d(rng.normal(size=(3, 2, 3, 3)).round(2), [-0.5, 0.25, -1.0],
                                 padding=1, stride=(1, 2)))
    net.add_layer("pool", MaxPool2d(2, stride=1))
    net.add_layer("avg", AvgPool2d(2, stride=1, padding=1))
    net.add_layer("flat", Flatten())
    net.add_layer("y", Dense(rng.normal(size=(2, net.layer("flat").shape[0])).round(2),
                             activation="linear"))
    return net


def test_expression_is_printable_index_notation():
    net = small_net()
    text = str(net.layer("conv").expression())
    assert text == ("Eq(conv[c, u, v], Max(0, b[c] + Sum(w[c, c', p, q]*x[c', p + u - 1, q + 2*v - 1], "
                    "(c', 0, 1), (p, 0, 2), (q, 0, 2))))")
    assert str(net.layer("y").expression()) == "Eq(y[j], b[j] + Sum(flat[i]*w[j, i], (i, 0, 23)))"   # avg: 3 × 4 × 2
    assert "max(conv[c, p + u, q + v]" in str(net.layer("pool").expression())
    assert isinstance(net.layer("flat").expression(), sp.Eq)


@pytest.mark.parametrize("layer,index", [("conv", (0, 0, 0)), ("conv", (2, 1, 1)), ("conv", (1, 3, 0)),
                                         ("pool", (1, 2, 0)), ("avg", (2, 3, 1)), ("y", (1,))])
def test_expression_expanded_equals_the_neuron_view(layer, index):
    net = small_net()
    neurons = net.neurons()
    G = neurons.graph
    symbols = {n: G.nodes[n]["symbol"] for n in G}
    mine = net.neuron_expression(layer, index, symbols)
    name = "_".join([layer] + [str(i) for i in index])
    theirs = G.nodes[name]["expr"]
    assert sp.simplify(mine - theirs) == 0
    assert mine.free_symbols == theirs.free_symbols


def test_avg_pool_without_padded_cells_expression_and_neurons():
    """count_include_pad=False: the weight 1/n[u, v] of each neuron counts its window's cells
    inside the image (corner 4, edge 6, middle 9 for a 3×3 window with padding 1)."""
    net = LayerNetwork()
    net.add_input("x", (1, 4, 4), Box(0, 1))
    net.add_layer("avg", AvgPool2d(3, stride=1, padding=1, count_include_pad=False))
    assert str(net.layer("avg").expression()) == (
        "Eq(avg[c, u, v], Sum(x[c, p + u - 1, q + v - 1], (p, 0, 2), (q, 0, 2))/n[u, v])")
    G = net.neurons().graph
    symbols = {n: G.nodes[n]["symbol"] for n in G}
    for index, cells in [((0, 0, 0), 4), ((0, 0, 2), 6), ((0, 1, 2), 9)]:
        name = "_".join(["avg"] + [str(i) for i in index])
        assert [w for _, _, w in G.in_edges(name, data="weight")] == [pytest.approx(1 / cells)] * cells
        assert sp.simplify(net.neuron_expression("avg", index, symbols) - G.nodes[name]["expr"]) == 0


def test_layer_names_with_underscores():
    """Names like torch.fx's ``layer1_0_conv1`` are fine; one whose neurons could take another
    layer's names is refused, and so is a source listed twice."""
    net = LayerNetwork()
    net.add_input("x", (1, 3, 3), Box(0, 1))
    net.add_layer("layer1_0_conv1", Conv2d(np.ones((2, 1, 2, 2))))
    net.add_layer("flat_1", Flatten())
    net.add_layer("fc_1", Dense(np.ones((2, 8))))
    assert "layer1_0_conv1_1_0_1" in net.neurons().graph
    with pytest.raises(ValueError, match="'layer1_0_conv1_1_0': its neuron names could equal those of "
                                         "layer 'layer1_0_conv1'"):
        net.add_layer("layer1_0_conv1_1_0", Dense(np.ones((2, 2))), "fc_1")   # layer1_0_conv1_1_0_1
    net.add_layer("fc_1_0", Dense(np.ones((2, 2))), "fc_1")        # fc_1 has one index: no clash
    with pytest.raises(ValueError, match="'fc': its neuron names could equal those of layer 'fc_1_0'"):
        net.add_layer("fc", Conv2d(np.ones((2, 1, 2, 2))), "x")       # fc[1, 0, 1] and fc_1_0[1]
    net.add_layer("fc_2", Dense(np.ones((2, 2))), "fc_1")                # same number of indices: fine
    with pytest.raises(ValueError, match="input names must be non-empty strings without _"):
        net.add_input("x_2", (2,))
    with pytest.raises(ValueError, match=r"layer 'sum': a source is listed twice in \['fc_1', 'fc_1'\]"):
        net.add_layer("sum", Add(), ["fc_1", "fc_1"])


# ------------------------------------------------------------ neuron view
def test_neurons_of_a_window_is_its_receptive_field():
    net = LayerNetwork()
    net.add_input("x", (1, 9, 9), Positive())
    net.add_layer("c1", Conv2d(np.ones((2, 1, 3, 3))))
    net.add_layer("c2", Conv2d(np.ones((2, 2, 3, 3)), stride=2))
    window = net.neurons((1, 1, 0))
    assert window.outputs == ["c2_1_1_0"]
    # c2_1_1_0 reads c1 rows 2..4, columns 0..2: 9 positions × 2 channels; they read rows 2..6
    assert sum(n.startswith("c1_") for n in window.graph) == 18
    assert sorted(window.inputs) == sorted(f"x{r * 9 + s + 1}" for r in range(2, 7) for s in range(5))
    full = net.neurons()
    assert len(full.outputs) == 2 * 3 * 3 and len(full.inputs) == 81


def test_neurons_refuses_a_window_over_the_limit():
    net = LayerNetwork()
    net.add_input("x", (3, 64, 64))
    net.add_layer("c1", Conv2d(np.ones((16, 3, 3, 3)), padding=1))
    # 16·64·64 neurons × 27 inputs, fewer at the border: kernel rows inside, per output row
    inside = 16 * 3 * sum(min(r + 2, 65 - r, 3) for r in range(64)) ** 2
    with pytest.raises(ValueError, match=f"needs {inside} edges, more than limit=1000000"):
        net.neurons()
    with pytest.raises(ValueError, match="needs 27 edges, more than limit=26"):
        net.neurons((0, 5, 5), limit=26)
    assert len(net.neurons((0, 5, 5), limit=27).inputs) == 27


def test_neurons_window_errors():
    net = small_net()
    with pytest.raises(ValueError, match="not an index into layer 'y'"):
        net.neurons(5)
    with pytest.raises(ValueError, match="selects no neuron"):
        net.neurons(slice(0, 0))


def test_per_input_box_becomes_each_inputs_box():
    net = LayerNetwork()
    net.add_input("x", (2,), Box([0, -1], [1, 2]))
    net.add_layer("y", Dense([[1.0, 1.0]]))
    neurons = net.neurons()
    assert repr(neurons.graph.nodes["x2"]["domain"]) == "Box(low=-1.0, high=2.0)"


# ---------------------------------------------------------------- errors
def test_bad_shapes_name_the_layer():
    net = LayerNetwork()
    net.add_input("x", (3, 8, 8), Real())
    net.add_layer("a", Conv2d(np.ones((4, 3, 3, 3)), padding=1))
    net.add_layer("b", Conv2d(np.ones((5, 3, 3, 3)), padding=1), "x")
    with pytest.raises(ValueError, match=r"layer 'res' \(Add\): channel count mismatch: 'a' has shape "
                                         r"\(4, 8, 8\), 'b' has \(5, 8, 8\)"):
        net.add_layer("res", Add(), ["a", "b"])
    with pytest.raises(ValueError, match=r"layer 'c' \(Conv2d\): weight expects 2 input channels"):
        net.add_layer("c", Conv2d(np.ones((4, 2, 3, 3))), "a")
    with pytest.raises(ValueError, match=r"layer 'd' \(Dense\): needs a flat input"):
        net.add_layer("d", Dense(np.ones((2, 256))), "a")
    with pytest.raises(ValueError, match=r"layer 'p': pooling needs inputs ≥ 0"):
        net.add_layer("p", MaxPool2d(2), "x")
    with pytest.raises(ValueError, match=r"layer 'k' \(Conv2d\): a 9×9 kernel does not fit the 8×8 input"):
        net.add_layer("k", Conv2d(np.ones((1, 4, 9, 9))), "a")
    with pytest.raises(ValueError, match="source 'zz' is not in the network"):
        net.add_layer("e", Flatten(), "zz")
    with pytest.raises(ValueError, match="already in the network"):
        net.add_layer("a", Flatten())
    with pytest.raises(ValueError, match=r"layer 's' \(Add\): shape mismatch: 'a' has shape \(4, 8, 8\), "
                                         r"'q' has \(4, 4, 4\)"):
        net.add_layer("q", MaxPool2d(2), "a")
        net.add_layer("s", Add(), ["a", "q"])
    with pytest.raises(ValueError, match=r"layer 'cat': sources of different value classes \['positive', 'real'\]"):
        net.add_layer("cat", Concat(), ["x", "a"])
    net.add_layer("ok", Flatten(), "a")   # failed adds left nothing behind
    assert net.output == "ok" and len(net.graph) == 5
    with pytest.raises(ValueError, match=r"input 'x': expected shape \(batch, 3, 8, 8\) or \(batch, 192\), "
                                         r"got \(2, 3, 8, 7\)"):
        net.forward(np.zeros((2, 3, 8, 7)))


def test_bad_parameters():
    with pytest.raises(ValueError, match="Conv2d bias must have shape"):
        Conv2d(np.ones((2, 1, 3, 3)), [1.0])
    with pytest.raises(ValueError, match="groups must be a positive int dividing"):
        Conv2d(np.ones((3, 1, 3, 3)), groups=2)
    with pytest.raises(ValueError, match="Dense weight must be finite"):
        Dense([[np.nan]])
    with pytest.raises(ValueError, match="activation must be one of"):
        Dense([[1.0]], activation="tanh")


def test_fold_batchnorm_equals_batchnorm_after_the_layer():
    w, b = rng.normal(size=(3, 2, 2, 2)), rng.normal(size=3)
    gamma, beta = rng.uniform(0.5, 2, 3), rng.normal(size=3)
    mean, var = rng.normal(size=3), rng.uniform(0.5, 2, 3)
    x = rng.normal(size=(2, 2, 5, 5))
    z = bound(Conv2d(w, b, activation="linear", padding=1), (2, 5, 5)).forward([x])
    bn = (gamma[:, None, None] * (z - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5)
          + beta[:, None, None])
    folded = fold_batchnorm(Conv2d(w, b, activation="linear", padding=1), gamma, beta, mean, var)
    np.testing.assert_allclose(bound(folded, (2, 5, 5)).forward([x]), bn, atol=1e-12)
    with pytest.raises(TypeError, match="folds into a Dense or Conv2d"):
        fold_batchnorm(Add(), gamma, beta, mean, var)
