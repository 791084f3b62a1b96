"""The generated rule kernels against a NumPy implementation written from the maths page (docs/maths.md).

The reference below is typed in from the rules table of docs/maths.md — one
numerator ``q_ij`` per rule, evaluated on a full ``(batch, n_in, n_out)``
array — and shares no code with symdtd (no SymPy, no lambdify).
"""
import numpy as np
import pytest
import sympy as sp

from symdtd.compiler.compiled import compile
from symdtd.compiler.rule_kernels import RuleKernel, rule_kernel
from symdtd.compiler.segments import Matrix
from symdtd.compiler.separable import split_separable
from symdtd.core.domains import Box
from symdtd.network.graph import Network

GAMMA = 0.25  # the γ rule's default parameter


def hand_q(rule, X, W, l, h):
    """``q_ij`` from the rules table of docs/maths.md, shape (batch, n_in, n_out)."""
    x = X[:, :, None]
    l, h = l[None, :, None], h[None, :, None]
    wp, wn = np.maximum(W, 0), np.minimum(W, 0)
    return {
        "w2": np.broadcast_to(W ** 2, x.shape[:1] + W.shape),
        "z+": x * wp,
        "zB": x * W - l * wp - h * wn,
        "z": x * W,
        "gamma": x * (W + GAMMA * wp),
    }[rule]


def hand_layer(rule, X, W, l, h, R):
    """Messages summed per input: ``Σ_j q_ij / Σ_i' q_i'j · R_j`` (0 if Σ q = 0)."""
    Q = hand_q(rule, X, W, l, h)
    Z = Q.sum(axis=1)
    S = np.divide(R, Z, out=np.zeros_like(Z), where=Z != 0)
    return (Q * S[:, None, :]).sum(axis=2), Z


def kernel_layer(kernel, X, W, l, h, R):
    """The kernel's separable terms, as compile uses them: matrix products only."""
    Z, back = 0, []
    for t in kernel.terms:
        F = np.broadcast_to(t.f_fn(X, l, h), X.shape)
        G = np.broadcast_to(t.g_fn(W, GAMMA), W.shape)
        Z = Z + F @ G
        back.append((F, G))
    S = np.divide(R, Z, out=np.zeros_like(Z), where=Z != 0)
    return sum(F * (S @ G.T) for F, G in back), Z


@pytest.mark.parametrize("rule", ["w2", "z+", "zB", "z", "gamma"])
def test_separable_terms_match_hand_formulas(rule):
    rng = np.random.default_rng(0)
    n_in, n_out = 7, 5
    l, h = -rng.random(n_in), 1 + rng.random(n_in)
    X = rng.uniform(l, h, (9, n_in))
    W = rng.normal(size=(n_in, n_out))
    W[0, 0] = 0.0
    R = rng.normal(size=(9, n_out))
    kernel = rule_kernel(rule)
    assert kernel.separable
    hand_R, hand_Z = hand_layer(rule, X, W, l, h, R)
    got_R, got_Z = kernel_layer(kernel, X, W, l, h, R)
    assert np.allclose(got_Z, hand_Z, atol=1e-12) and np.allclose(got_R, hand_R, atol=1e-10)
    # the whole numerator, lambdified, is the same q
    q = kernel.q_fn(X[:, :, None], W, l[:, None], h[:, None], GAMMA)
    assert np.allclose(np.broadcast_to(q, hand_Z.shape[:1] + W.shape), hand_q(rule, X, W, l, h))


@pytest.mark.parametrize("rule", ["w2", "z+", "zB", "z", "gamma"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_layer_matches_hand_formulas(rule, dtype):
    """One layer of linear neurons with a box input domain, compiled end to end."""
    rng = np.random.default_rng(1)
    n_in, n_out, batch = 6, 4, 11
    W = rng.normal(size=(n_in, n_out))
    net = Network.from_dense([W], [np.zeros(n_out)], input_domain=Box(-1, 2))
    net.set_rule(1, rule)
    model = compile(net, dtype)
    X = rng.uniform(-1, 2, (batch, n_in))
    t = rng.integers(0, n_out, batch)
    y = X @ W
    R = np.zeros_like(y)
    R[np.arange(batch), t] = y[np.arange(batch), t]
    hand_R, _ = hand_layer(rule, X, W, np.full(n_in, -1.0), np.full(n_in, 2.0), R)
    got = model.explain(X.astype(dtype), t).relevance
    tol = 1e-10 if dtype == np.float64 else 1e-3
    assert got.dtype == dtype
    assert np.allclose(got, hand_R, atol=tol * np.abs(hand_R).max())


def test_zb_on_relu_inputs_is_z_plus():
    """A ≥ 0 input acts as the box [0, x] (propagate's convention): zᴮ becomes z⁺."""
    kernel = rule_kernel("zB", h_is_x=True)
    assert [t.batch for t in kernel.terms] == [True, False]
    w = np.linspace(-2, 2, 9)
    assert np.array_equal(kernel.terms[0].g_fn(w, None), np.maximum(w, 0))
    assert rule_kernel("zB", True, True).terms[0].g_fn(w, None).tolist() == [0.0] * 9


def test_split_separable():
    x, w, l, g = sp.symbols("x w l gamma")
    assert split_separable(x * (g * sp.Max(0, w) + w), [w, g]) == [(x, g * sp.Max(0, w) + w)]
    assert split_separable((x + l) * w, [w, g]) == [(l + x, w)]
    assert dict(split_separable(x * w + l * w - 3 * x * w, [w])) == {x: -2 * w, l: w}
    assert split_separable(sp.Max(0, x * w), [w]) is None
    assert split_separable(x * w * sp.Heaviside(x * w, 0), [w]) is None


def test_source_is_the_lambdified_code():
    kernel = RuleKernel("gamma")
    src = kernel.source()
    assert src.startswith("# rule gamma: q(x, w, l, h, gamma) = x*(gamma*Max(0, w) + w)")
    assert "def g_1(w, gamma):" in src and "def f_1(x, l, h):\n    return x" in src
    namespace = {}
    exec("from numpy import *\nfrom functools import reduce\n" + src, namespace)
    w = np.array([-1.0, 2.0])
    assert np.allclose(namespace["g_1"](w, 0.5), w + 0.5 * np.maximum(w, 0))
    assert "with h bound to x" in rule_kernel("zB", h_is_x=True).source()
    assert repr(kernel) == "RuleKernel('gamma', q=x*(gamma*Max(0, w) + w), 1 terms)"


def test_matrix_dense_and_sparse_agree():
    rng = np.random.default_rng(2)
    rows, cols = rng.integers(0, 30, 40), rng.integers(0, 20, 40)
    keep = np.unique(rows * 20 + cols, return_index=True)[1]
    rows, cols, vals = rows[keep], cols[keep], rng.normal(size=len(keep))
    dense = Matrix(rows, cols, vals, (30, 20), np.float64, dense=True)
    sparse = Matrix(rows, cols, vals, (30, 20), np.float64, dense=False)
    F, S = rng.normal(size=(5, 30)), rng.normal(size=(5, 20))
    assert np.allclose(dense.left(F), sparse.left(F))
    assert np.allclose(dense.left_t(S), sparse.left_t(S))
