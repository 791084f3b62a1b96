"""symdtd.separable: the split of a numerator into f(x, l, h) · g(w, γ) terms."""
import sys

import sympy as sp

from symdtd.compiler.rule_kernels import rule_kernel
from symdtd.compiler.separable import EDGE_ROLES, INPUT_ROLES, Term, split_separable


def test_coefficients_go_to_g_and_equal_f_merge():
    x, w, l, g = sp.symbols("x w l gamma")
    assert split_separable(3 * x * w, [w]) == [(x, 3 * w)]
    assert split_separable(x * w + 2 * x * g * w, [w, g]) == [(x, 2 * g * w + w)]
    assert split_separable(x * w - x * w + l, [w]) == [(l, 1)]   # g = 1: a constant term
    assert split_separable(sp.Integer(0), [w]) == []


def test_a_mixed_term_is_expanded_before_giving_up():
    x, w, l = sp.symbols("x w l")
    assert dict(split_separable(x * (w + l), [w])) == {x * l: 1, x: w}
    assert split_separable(sp.Max(x, w), [w]) is None


def test_terms_of_the_rule_kernels():
    terms = rule_kernel("zB").terms
    assert all(isinstance(t, Term) for t in terms)
    assert [t.is_xw for t in terms] == [True, False, False]
    assert [t.batch for t in terms] == [True, False, False]
    assert not rule_kernel("w2").terms[0].is_xw
    assert INPUT_ROLES == ("x", "l", "h") and EDGE_ROLES == ("w", "gamma")


def test_names_stay_importable_from_compile():
    module = sys.modules["symdtd.compiler.compiled"]   # symdtd.compile, the attribute, is the function
    assert module.Term is Term and module.split_separable is split_separable
