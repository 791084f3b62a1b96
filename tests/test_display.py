import sympy as sp

from symdtd.derivation import printing as display


def test_positive_and_negative_parts():
    w = sp.Symbol("w_1", real=True)
    assert display.text(sp.Max(0, w)) == "w_1⁺"
    assert display.text(sp.Min(0, w)) == "w_1⁻"
    assert display.latex(sp.Max(0, w)) == "{w_{1}}^{+}"


def test_indicator_and_sum():
    i, n = sp.symbols("i n", integer=True)
    x = sp.IndexedBase("x")
    assert display.text(sp.Heaviside(-x[i], 0)) == "1[x_i < 0]"
    assert display.text(sp.Sum(x[i], (i, 1, n))) == "Σ_{i=1}^{n} x_i"


def test_latex_escape():
    assert display.latex_escape("z⁺ & ℝⁿ₊") == r"z$^+$ \& $\mathbb{R}^n_+$"


def test_general_max_and_min_print():
    a, b = sp.symbols("a b", real=True)
    assert display.text(sp.Max(a, b)) == "Max(a, b)"
    assert display.text(sp.Min(a, b)) == "Min(a, b)"
    assert "max" in display.latex(sp.Max(a, b))
