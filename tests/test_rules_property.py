"""Property test: the derived rules, evaluated numerically, behave as the maths page (docs/maths.md) says.

The reference is an independent NumPy implementation written from the table
in the rules table of docs/maths.md, not from the code under test.
"""
import numpy as np
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symdtd import derive

GAMMA = 0.25


def reference(rule, x, w, b, l, h):
    """[x_j]_i per the rules table of docs/maths.md (plain NumPy)."""
    wp, wn = np.maximum(w, 0), np.minimum(w, 0)
    q = {"w2": w ** 2, "z+": x * wp, "zB": x * w - l * wp - h * wn, "z": x * w,
         "gamma": x * (w + GAMMA * wp)}[rule]
    xj = max(0.0, float(x @ w + b))
    with np.errstate(invalid="ignore", divide="ignore"):   # Σq = 0: skipped by the test
        return q / q.sum() * xj, xj


def evaluate(rule, x, w, b, l, h):
    d = derive(rule, n=len(x))
    s = d.space
    values = {s.b: b, s.gamma: sp.Rational(1, 4)}
    for k in range(len(x)):
        values.update({s.x[k]: x[k], s.w[k]: w[k], s.l[k]: l[k], s.h[k]: h[k]})
    xj = float(x @ w + b)
    values[s.x_out] = xj
    return np.array([float(r.xreplace(values)) for r in d.rule])


floats = st.floats(-3, 3, allow_nan=False, width=32)


@st.composite
def neuron(draw):
    n = draw(st.integers(1, 5))
    w = np.array(draw(st.lists(floats, min_size=n, max_size=n)), dtype=float)
    b = -abs(draw(floats))
    l = -np.abs(np.array(draw(st.lists(floats, min_size=n, max_size=n)), dtype=float))
    h = np.abs(np.array(draw(st.lists(floats, min_size=n, max_size=n)), dtype=float))
    u = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)), dtype=float)
    rule = draw(st.sampled_from(["w2", "z+", "zB", "z", "gamma"]))
    if rule == "zB":
        x = l + u * (h - l)
    elif rule == "w2":
        x = 6 * u - 3
    else:
        x = 3 * u
    return rule, x, w, b, l, h


@settings(max_examples=60, deadline=None)
@given(neuron())
def test_derived_rule_conserves_is_positive_and_matches_reference(case):
    rule, x, w, b, l, h = case
    expected, xj = reference(rule, x, w, b, l, h)
    assume(xj > 1e-3)
    denominator = (expected / xj).sum() if xj else 0
    got = evaluate(rule, x, w, b, l, h)
    assume(np.all(np.isfinite(expected)) and np.isfinite(denominator))
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(got.sum(), xj, rtol=1e-7, atol=1e-9)
    if rule in ("w2", "z+", "zB"):
        assert np.all(got >= -1e-9)
