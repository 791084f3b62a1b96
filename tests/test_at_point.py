"""Derivation.at: every number checked against the paper's closed forms, computed here by hand.

The hand route uses Python's ``Fraction``: z⁺ shares ``x_i w_i⁺ / Σ x w⁺ · z``,
w² shares ``w_i² / Σ w² · z``, zᴮ shares ``(x_i w_i − l_i w_i⁺ − h_i w_i⁻) / Σ … · z``,
γ shares ``x_i (w_i + γ w_i⁺) / Σ … · z`` (Montavon et al. 2017; the seed paper),
and the root is checked by substitution into ``Σ w x̃ + b``, never by the code's steps.
"""
import random
from fractions import Fraction as F

import pytest
import sympy as sp

from symdtd import derive
from symdtd.cli.app import main


def plus(w):
    return max(w, 0)


def minus(w):
    return min(w, 0)


def frac(value):
    return F(int(value.p), int(value.q))


def random_neuron(rng, n, low=F(0), high=F(2)):
    w = [F(rng.randint(-8, 8), rng.randint(1, 4)) for _ in range(n)]
    x = [low + (high - low) * F(rng.randint(0, 8), 8) for _ in range(n)]
    b = F(-rng.randint(0, 6), rng.randint(1, 4))
    return w, b, x


HAND_RULES = {
    "z+": lambda w, x, l, h, g: [xi * plus(wi) for wi, xi in zip(w, x)],
    "w2": lambda w, x, l, h, g: [wi * wi for wi in w],
    "zB": lambda w, x, l, h, g: [xi * wi - li * plus(wi) - hi * minus(wi)
                                 for wi, xi, li, hi in zip(w, x, l, h)],
    "gamma": lambda w, x, l, h, g: [xi * (wi + g * plus(wi)) for wi, xi in zip(w, x)],
    "z": lambda w, x, l, h, g: [xi * wi for wi, xi in zip(w, x)],
}
HAND_DIRECTIONS = {
    "z+": lambda w, x, l, h, g: [xi if wi > 0 else 0 for wi, xi in zip(w, x)],
    "w2": lambda w, x, l, h, g: list(w),
    "zB": lambda w, x, l, h, g: [xi - (li if wi > 0 else hi if wi < 0 else 0)
                                 for wi, xi, li, hi in zip(w, x, l, h)],
    "gamma": lambda w, x, l, h, g: [xi * (1 + (g if wi > 0 else 0)) for wi, xi in zip(w, x)],
    "z": lambda w, x, l, h, g: list(x),
}


@pytest.mark.parametrize("rule", sorted(HAND_RULES))
def test_every_number_matches_the_closed_form(rule):
    rng = random.Random(13)
    checked = 0
    for _ in range(40):
        n = rng.randint(1, 3)
        w, b, x = random_neuron(rng, n, F(-1) if rule == "zB" else F(0), F(2))
        l, h, g = [F(-1)] * n, [F(2)] * n, F(1, 3)
        z = sum(wi * xi for wi, xi in zip(w, x)) + b
        q = HAND_RULES[rule](w, x, l, h, g)
        if z <= 0 or sum(q) == 0:
            continue
        walk = derive(rule).at(w=[str(v) for v in w], b=str(b), x=[str(v) for v in x],
                               l=[str(v) for v in l], h=[str(v) for v in h], gamma=str(g))
        assert walk.derivation.n == n                       # fan-in from the number of x values
        assert frac(walk.z) == z and walk.active
        assert [frac(v) for v in walk.v] == HAND_DIRECTIONS[rule](w, x, l, h, g)
        shares = [frac(s) for s in walk.shares]
        assert shares == [qi / sum(q) * z for qi in q]      # the paper's closed form
        assert sum(shares) == z and frac(walk.total) == z   # R_j = x_j
        x_tilde = [frac(v) for v in walk.x_tilde]
        assert sum(wi * xt for wi, xt in zip(w, x_tilde)) + b == 0   # on the hyperplane
        v = HAND_DIRECTIONS[rule](w, x, l, h, g)
        t = frac(walk.t)
        assert x_tilde == [xi - t * vi for xi, vi in zip(x, v)]      # on the search line
        checked += 1
    assert checked >= 10


def test_the_issues_example_in_text_with_exact_rationals():
    walk = derive("z+").at(w=[1, -1], b="-1/4", x=["3/2", "1/2"])
    # by hand: z = 3/2 − 1/2 − 1/4 = 3/4; v = (3/2, 0); Σ v w = 3/2; t = 1/2; x̃ = (3/4, 1/2)
    assert (walk.z, walk.v, walk.vw, walk.t) == (sp.Rational(3, 4), [sp.Rational(3, 2), 0],
                                                sp.Rational(3, 2), sp.Rational(1, 2))
    assert walk.x_tilde == [sp.Rational(3, 4), sp.Rational(1, 2)]
    text = str(walk)
    for line in ("z_j = b_j + w_1·x_1 + w_2·x_2 = 3/4", "t = z_j/Σ v w = 1/2", "x̃_1 = ", "= 3/4",
                 "z_j(x̃) = 0", "[x_j]_2 = ", "Σ_i [x_j]_i = 3/4 = x_j = R_j"):
        assert line in text
    assert [line[:3] for line in text.splitlines() if line.startswith("(")] == \
        ["(a)", "(b)", "(c)", "(d)", "(e)"]
    assert "\\frac{3}{4}" in walk.to_latex() and "\\begin{align*}" in walk.to_latex()
    assert "$$ t = \\frac{z_{j}}{\\sum_i v_i w_i} = \\frac{1}{2} $$" in walk.to_markdown()


def test_floats_give_floats_close_to_the_exact_values():
    exact = derive("gamma").at(w=[1, -1], b="-1/4", x=["3/2", "1/2"], gamma="1/4")
    approx = derive("gamma").at(w=[1.0, -1.0], b=-0.25, x=[1.5, 0.5], gamma=0.25)
    assert all(isinstance(s, sp.Float) for s in approx.shares)
    for a, e in zip(approx.shares, exact.shares):
        assert float(a) == pytest.approx(float(e), rel=1e-12)
    # by hand: q = (3/2·5/4, −1/2) = (15/8, −1/2); Σ q = 11/8; z = 3/4
    assert exact.shares == [sp.Rational(15, 8) / sp.Rational(11, 8) * sp.Rational(3, 4),
                            -sp.Rational(1, 2) / sp.Rational(11, 8) * sp.Rational(3, 4)]


def test_an_inactive_neuron_is_explained_in_words():
    walk = derive("z+").at(w=[1, 1], b=-3, x=[1, 1])   # z = −1
    assert not walk.active and walk.shares == [0, 0] and walk.t is None
    text = str(walk)
    assert "z_j = -1 ≤ 0: the neuron is inactive" in text and "no relevance to redistribute" in text


def test_a_line_parallel_to_the_hyperplane_is_explained():
    # z⁺ with no positive weight: v = 0, Σ v w = 0 (the bias is positive, against the assumption)
    walk = derive("z+").at(w=[-1, -1], b=1, x=["1/4", "1/4"])
    assert walk.active and walk.vw == 0 and walk.shares is None
    text = str(walk)
    assert "never meets it" in text and "b_j > 0 although the derivation assumes b_j ≤ 0" in text


def test_whether_the_root_is_in_the_domain_is_said():
    walk = derive("zB").at(w=[2, -1], b="-1/4", x=["1/2", "1/2"], l=0, h=1)
    assert all(0 <= v <= 1 for v in walk.x_tilde)        # zᴮ's root stays in the box (the paper)
    assert "x̃ in the domain = yes (box)" in str(walk)
    # w² on ℝⁿ moves along w: from x = (1/10, 1) with w = (1, 1), b = −1 … x̃ = x − t·w,
    # t = z / Σ w² = (1/10)/2 = 1/20, x̃ = (1/20, 19/20): ℝⁿ holds every point
    walk = derive("w2").at(w=[1, 1], b=-1, x=["1/10", "1"])
    assert walk.x_tilde == [sp.Rational(1, 20), sp.Rational(19, 20)]
    assert "x̃ in the domain = yes (ℝⁿ)" in str(walk)
    # the z rule searches along x itself, so with b > 0 the root overshoots past 0:
    # x = (1, 1), w = (1, 1), b = 1: z = 3, t = z / Σ x w = 3/2, x̃ = (−1/2, −1/2) ∉ ℝⁿ₊
    walk = derive("z").at(w=[1, 1], b=1, x=[1, 1])
    assert walk.x_tilde == [-sp.Rational(1, 2), -sp.Rational(1, 2)]
    assert "no: x̃_1, x̃_2 outside the ℝⁿ₊" in str(walk)


@pytest.mark.parametrize("kwargs, message", [
    (dict(w=[1], b=0, x=[1, 2]), "w has 1 values, expected one per input (n = 2)"),
    (dict(w=[1, 1], b=0, x=["1", "-1"]), "x_2 = -1 is outside the z⁺ rule's domain"),
    (dict(w=[1], b="a", x=[1]), "b: 'a' is not a number"),
    (dict(w=[1], b=0, x="1"), "x must be a sequence of numbers"),
])
def test_bad_points_name_the_part_at_fault(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("(", r"\(").replace(")", r"\)")):
        derive("z+").at(**kwargs)


def test_box_and_gamma_are_asked_for():
    with pytest.raises(ValueError, match="needs the box bounds: give l and h"):
        derive("zB").at(w=[1], b=0, x=[1])
    with pytest.raises(ValueError, match=r"x_1 = 3 is outside the box \[l_1, h_1\] = \[0, 1\]"):
        derive("zB").at(w=[1], b=0, x=[3], l=0, h=1)


def test_cli_derive_at(capsys):
    assert main(["derive", "z+", "--at", "w=1,-1 b=-1/4 x=3/2,1/2"]) == 0
    out = capsys.readouterr().out
    assert "at w = (1, -1), b = -1/4, x = (3/2, 1/2) (fan-in 2" in out and "t = z_j/Σ v w = 1/2" in out
    assert main(["derive", "zB", "--at", "w=1,-1 b=-1/4 x=1/2,1/2 l=0 h=1", "--latex"]) == 0
    assert "\\begin{align*}" in capsys.readouterr().out
    assert main(["derive", "w2", "--at", "w=1,1 b=-3 x=1,1"]) == 0
    assert "the neuron is inactive" in capsys.readouterr().out


@pytest.mark.parametrize("point, message", [
    ("w=1,-1 b=-1/4", "--at: give x too"),
    ("w=1,-1 b=-1/4 x=3/2,1/2 q=1", "--at: q=1: unknown key 'q'"),
    ("w=1,-1 b=x x=3/2,1/2", "--at: b=x: 'x' is not a number"),
    ("w=1,-1 b=-1/4 x=3/2", "w has 2 values, expected one per input (n = 1)"),
    ("w=1 b=0 x=1 w=2", "--at: w is given twice"),
    ("w 1", "--at: 'w' is not KEY=VALUES"),
])
def test_cli_derive_at_errors_are_one_line(point, message, capsys):
    assert main(["derive", "z+", "--at", point]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
