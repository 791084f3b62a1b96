import pytest
import sympy as sp

from symdtd import Positive
from symdtd.core.rules import Rule, get_rule, register_rule, rule_names


def test_builtin_names():
    assert rule_names() == ["gamma", "mixed", "w2", "z", "z+", "zB"]


def test_directions_match_design_table():
    x, w, l, h = sp.symbols("x w l h", real=True)
    assert get_rule("w2").direction_at(x=x, w=w, l=l, h=h, gamma=0) == w
    zb = get_rule("zB").direction_at(x=x, w=w, l=l, h=h, gamma=0)
    assert zb.subs(w, 2) == x - l and zb.subs(w, -2) == x - h and zb.subs(w, 0) == x


def test_unknown_and_duplicate():
    with pytest.raises(ValueError, match="known rules"):
        get_rule("zz")
    with pytest.raises(ValueError, match="already registered"):
        register_rule(Rule("z+", "dup", Positive(), lambda x: x))
    with pytest.raises(TypeError):
        get_rule(3)
