"""The layer pass's shortcut around the zero-denominator test never contradicts the full test."""
import numpy as np
import pytest

from symdtd.compiler.layer_step import none_zero
from symdtd.propagation.arithmetic import zero_denominator


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_none_zero_only_when_the_full_test_finds_no_zero(dtype):
    rng = np.random.default_rng(0)
    answered = {True: 0, False: 0}
    for trial in range(400):
        n = int(rng.integers(1, 50))
        p = rng.normal(size=(4, n)).astype(dtype)
        c = rng.normal(size=(1, n)).astype(dtype)
        if trial % 2:            # cancel some columns to rounding level: the full test says zero
            cols = rng.random(n) < 0.3
            u = np.finfo(dtype).eps
            wiggle = rng.integers(-8, 9, size=cols.sum()) * u * rng.integers(0, 2)
            c[0, cols] = (-p[0, cols] * (1 + wiggle)).astype(dtype)   # exactly, or a few ulps, off
        if trial % 3 == 0:       # or push every |Z| just above / around the bound
            c = c * dtype_scale(dtype, rng)
        Z = p + c
        count = n + 2
        full = zero_denominator(Z, np.abs(p) + np.abs(c), count, dtype)
        short = none_zero(Z, [p, c], count, dtype)
        assert not (short and full.any()), trial
        answered[short] += 1
    assert answered[True] > 50 and answered[False] > 50   # both answers were exercised


def dtype_scale(dtype, rng):
    return np.asarray(10.0 ** rng.integers(-3, 8), dtype)


def test_the_shortcut_does_not_change_lost_relevance():
    # a dead ReLU feeding y: y's z⁺ denominator is 0 there, the full test must run and report it
    from symdtd.compiler.layer_pass import compile_layers
    from symdtd.core.domains import Box
    from symdtd.network.layer_graph import LayerNetwork
    from symdtd.network.layers import Dense

    net = LayerNetwork()
    net.add_input("x", (2,), Box(0, 1))
    net.add_layer("h", Dense([[1.0, 1.0], [1.0, -1.0]], [-5.0, 0.0]))   # h1 dead on the box
    net.add_layer("g", Dense([[1.0, 0.0], [0.0, 1.0]], [1.0, 0.0]))     # g1 = relu(h1 + 1) = 1
    net.add_layer("y", Dense([[1.0, 1.0]], activation="linear"))
    e = compile_layers(net).explain(np.array([[0.75, 0.25]]))
    # by hand: h = (0, 0.5), g = (1, 0.5), y = 1.5; g1 gets 1 and its z⁺ denominator Σ h1·1 = 0
    assert e.output[0] == 1.5
    assert e.lost[0] == pytest.approx(1.0)
    assert e.relevance.sum() == pytest.approx(0.5)
