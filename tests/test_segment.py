"""A Segment built from its grouped parts runs one layer as docs/maths.md's formulas say.

The reference is typed in from the rules table of docs/maths.md, as in
tests/test_kernels.py: ``q_ij`` per rule, ``Z_j = Σ_i q_ij``,
``R_i = Σ_j q_ij / Z_j · R_j``.
"""
import numpy as np
import pytest

from symdtd.compiler.rule_kernels import rule_kernel
from symdtd.compiler.segments import Segment, SegmentEdges, SourceBounds, Storage

GAMMA = 0.25


def hand_q(rule, X, W, l, h):
    x, lo, hi = X[:, :, None], l[None, :, None], h[None, :, None]
    wp, wn = np.maximum(W, 0), np.minimum(W, 0)
    return {"w2": np.broadcast_to(W ** 2, x.shape[:1] + W.shape), "z+": x * wp,
            "zB": x * W - lo * wp - hi * wn, "z": x * W, "gamma": x * (W + GAMMA * wp)}[rule]


@pytest.mark.parametrize("rule", ["w2", "z+", "zB", "z", "gamma"])
@pytest.mark.parametrize("dense_threshold", [0.0, 2.0])   # dense, sparse matrices
def test_segment_matches_hand_formulas(rule, dense_threshold):
    rng = np.random.default_rng(3)
    n_in, n_out, batch = 5, 3, 4
    W = rng.normal(size=(n_in, n_out))
    l, h = -rng.random(n_in), 1 + rng.random(n_in)
    X = rng.uniform(l, h, (batch, n_in))
    R = rng.normal(size=(batch, n_out))
    src, dst = np.nonzero(np.ones((n_in, n_out)))   # every edge, row by row
    edges = SegmentEdges(src=0, n_src=n_in, e_src=src, e_dst=dst, e_id=np.arange(src.size), w=W[src, dst])
    segment = Segment(rule_kernel(rule), edges, SourceBounds(l, h, GAMMA),
                      Storage(n_out, np.dtype(np.float64), dense_threshold))
    assert segment.dense == (dense_threshold == 0.0)

    F = segment.f_values(X)
    Z = sum(segment.z_parts(F), np.zeros((batch, n_out))) + (0 if segment.zc is None else segment.zc)
    Q = hand_q(rule, X, W, l, h)
    assert np.allclose(Z, Q.sum(axis=1), atol=1e-12)
    S = R / Z
    assert np.allclose(segment.backward(F, S), (Q * S[:, None, :]).sum(axis=2), atol=1e-10)
    assert np.allclose(segment.messages(F, S), (Q * S[:, None, :])[:, src, dst], atol=1e-10)
