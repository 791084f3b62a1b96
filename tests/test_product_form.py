"""Explanation.factors: c with [x_f]_i = x_i · c_i, only where the rules give that form.

Every expected value is worked out by hand in the comments.
"""
import sympy as sp

from symdtd import Network, Positive, Real, examples, propagate
from symdtd.core.rules import get_rule
from symdtd.propagation.product_form import binding, cofactor

R = sp.Rational


def test_zB_pixels_have_no_factor_in_tutorial_02(tutorial02_net):
    for neuron, rule in (("h1", "zB"), ("h2", "zB"), ("h3", "z+"), ("y", "z+")):
        tutorial02_net.set_rule(neuron, rule)   # pinned: the example is about these rules
    # x = (3/4, 0, 1/2): h1 = 3/4 − 1/8 = 5/8, h2 = 3/8 − 1/8 = 1/4,
    # h3 = 5/8 + 1/4 + 1/4 − 1/4 = 7/8, y = 7/8 + 5/16 = 19/16.
    # y (z+): q = (7/8, 5/16), Σ = 19/16 → R_h3 = 7/8, h1 gets 5/16.
    # h3 (z+): q = (5/8, 1/4, 1/4), Σ = 9/8, scale 7/9 → h1 35/72, h2 7/36, x3 7/36.
    # h1 (zB on [0, 1]): q_x1 = 3/4, q_x2 = 0·(−1/2) − 1·(−1/2) = 1/2, Σ = 5/4;
    #   R_h1 = 5/16 + 35/72 = 115/144, so R_x2 ⊇ (1/2)/(5/4) · 115/144 = 23/72.
    # h2 (zB): q_x2 = 0, q_x3 = x3·w⁺ = 0 (box [0, x3], w < 0) → x2 gets only 23/72.
    e = propagate(tutorial02_net, {"x1": "3/4", "x2": 0, "x3": "1/2"}, arithmetic="exact")
    assert e.activations["x2"] == 0 and e.relevance["x2"] == R(23, 72)
    assert "x2" not in e.factors and "x1" not in e.factors   # zB on a box: q ≠ x·g
    # c = Σ_j g_ij R_j / D_j: c_h3 = 1; c_h2 = 1·(7/8)/(9/8) = 7/9;
    # c_h1 = (1/2)(19/16)/(19/16) + 1·(7/8)/(9/8) = 23/18; c_x3 = (1/2)(7/9) + 0 = 7/18.
    assert e.factors == {"y": 1, "h3": 1, "h2": R(7, 9), "h1": R(23, 18), "x3": R(7, 18)}
    for n, c in e.factors.items():
        assert e.relevance[n] == e.activations[n] * c


def test_a_dead_relu_keeps_its_structural_factor():
    # a, b ≥ 0; h1 = relu(a − b), h2 = relu(a + b), y = h1 + 2·h2. At a = b = 1:
    # h1 = 0, h2 = 2, y = 4. y (z+): D = 0·1 + 2·2 = 4, R_y / D = 1 →
    # c_h1 = w⁺ · 1 = 1 although x_h1 = 0 (R_h1 = 0), c_h2 = 2.
    # h2 (z+): D = 2, R/D = 2 → c_a = 1·2 = 2 and c_b = 2; h1 sends 0.
    net = Network()
    net.add_input("a", Positive())
    net.add_input("b", Positive())
    net.add_neuron("h1", {"a": 1, "b": -1})
    net.add_neuron("h2", {"a": 1, "b": 1})
    net.add_neuron("y", {"h1": 1, "h2": 2}, kind="linear")
    for arithmetic, one in (("exact", 1), ("float", 1.0)):
        e = propagate(net, {"a": 1, "b": 1}, arithmetic=arithmetic)
        assert e.factors == {"y": one, "h1": one, "h2": 2 * one, "a": 2 * one, "b": 2 * one}
    s = propagate(net, at={"a": 1, "b": 1})   # symbolic: c of h2 is constant, 2
    assert s.factors["h2"] == 2 and s.factors["h1"] == 1


def test_a_dead_relu_fed_by_w2_has_no_factor():
    # a ≥ 0, r ∈ ℝ; h = relu(a − 1), y = h + r with w²: at a = 1/2, r = 1:
    # h = 0 but R_h = 1²/(1² + 1²) · y = 1/2 — not x_h · c for any c.
    # h (z+) sends its 1/2 to a: q = a·1 = 1/2 → R_a = 1/2 = a · 1.
    net = Network()
    net.add_input("a", Positive())
    net.add_input("r", Real())
    net.add_neuron("h", {"a": 1}, bias=-1)
    net.add_neuron("y", {"h": 1, "r": 1}, kind="linear", rule="w2")
    e = propagate(net, {"a": "1/2", "r": 1}, arithmetic="exact")
    assert e.activations["h"] == 0 and e.relevance["h"] == R(1, 2)
    assert "h" not in e.factors and "r" not in e.factors
    assert e.factors == {"y": 1, "a": 1}


def test_winner_take_all_passes_the_factor_to_the_winner():
    # m = max(h1, h2) with h1 = relu(a), h2 = relu(b) (z+ on ℝ₊), y = 3m:
    # a = 2, b = 1: m = 2 = h1 wins, R_m = 6 = 2·3, so c_h1 = 3 and c_h2 = 0.
    net = Network(maxpool="winner")
    net.add_input("a", Positive())
    net.add_input("b", Positive())
    net.add_neuron("h1", {"a": 1})
    net.add_neuron("h2", {"b": 1})
    net.add_max_pool("m", ["h1", "h2"])
    net.add_neuron("y", {"m": 3}, kind="linear")
    e = propagate(net, {"a": 2, "b": 1}, arithmetic="exact")
    assert e.factors == {"y": 1, "m": 3, "h1": 3, "h2": 0, "a": 3, "b": 0}


def test_cofactor_is_q_over_x_only_where_x_divides_q():
    z_plus, zB, w2 = get_rule("z+"), get_rule("zB"), get_rule("w2")
    w = sp.Symbol("w", real=True)
    assert cofactor(z_plus, ("l", "h")) == sp.Max(0, w)
    assert cofactor(zB, ("l", "h")) is None and cofactor(w2, ("0", "x")) is None
    g = cofactor(zB, ("0", "x"))                     # zB on [0, x] is z+: g = w⁺
    assert [g.subs(w, v) for v in (-2, 0, 3)] == [0, 0, 3]
    net = examples.skip_dag()
    kinds = {n: binding(net, n) for n in net.inputs}
    assert set(kinds.values()) <= {("l", "h"), ("0", "x"), ("x", "x"), ("l", "x"), ("x", "h")}
