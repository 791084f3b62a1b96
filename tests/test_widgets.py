"""The notebook sliders' callbacks, run headlessly; the numbers come from hand calculations."""
from fractions import Fraction as F

import numpy as np
import pytest
import sympy as sp

from symdtd import examples
from symdtd.see.widgets import flow_view, root_search_view


def root_marker(figure):
    line = next(line for line in figure.axes[0].lines if (line.get_gid() or "").startswith("root:"))
    return float(line.get_xdata()[0]), float(line.get_ydata()[0])


@pytest.mark.parametrize("x1", ["0.5", "1", "1.5", "2"])
def test_moving_x_moves_the_z_plus_shares_as_the_formula_says(x1):
    # z⁺, w = (1, −1), b = −1/4, x = (x1, 1/2): only w_1 > 0, so [x_j]_1 = z, [x_j]_2 = 0
    view = root_search_view(w=(1, -1), b=-0.25, x=(float(x1), 0.5), rule="z+")
    z = F(x1) - F(1, 2) - F(1, 4)
    if z <= 0:
        assert view.walk.shares == [0, 0] and "inactive" in view.text
        return
    assert view.walk.shares == [sp.Rational(z.numerator, z.denominator), 0]
    # the root: x̃ = x − t·(x1, 0) with t = z / x1, on z = 0: x̃_1 − 1/2 − 1/4 = 0
    assert root_marker(view.figure) == pytest.approx((0.75, 0.5))
    assert f"[x_j]_1 = {z.numerator}/{z.denominator}" in view.text or f"[x_j]_1 = {z}" in view.text


def test_changing_the_rule_and_gamma_changes_the_shares():
    args = dict(w=(1, -1), b=-0.25, x=(1.5, 0.5))
    w2 = root_search_view(rule="w2", **args)
    # w²: shares w_i² / Σ w² · z = (3/8, 3/8)
    assert w2.walk.shares == [sp.Rational(3, 8), sp.Rational(3, 8)]
    for gamma in ("0", "0.5", "2"):
        g = F(gamma)
        view = root_search_view(rule="gamma", gamma=float(gamma), **args)
        q = [F(3, 2) * (1 + g), F(1, 2) * -1]                # x_i (w_i + γ w_i⁺)
        expected = [qi / sum(q) * F(3, 4) for qi in q]
        assert [F(int(s.p), int(s.q)) for s in view.walk.shares] == expected
    zb = root_search_view(rule="zB", box=(0, 2), **args)
    # zᴮ on [0, 2]²: q = (x_1 w_1 − 0, x_2 w_2 − 2 w_2) = (3/2, 3/2): shares (3/8, 3/8)
    assert zb.walk.shares == [sp.Rational(3, 8), sp.Rational(3, 8)]
    x_root = root_marker(zb.figure)
    assert x_root[0] - x_root[1] - 0.25 == pytest.approx(0)   # on z = 0


def test_a_point_outside_the_domain_is_said_not_raised():
    view = root_search_view(w=(1, 1), b=-0.25, x=(2.5, 0.5), rule="zB", box=(0, 2))
    assert view.walk is None and "outside the box" in view.text


@pytest.mark.parametrize("x1, x2", [(0.3, 0.5), (0.0, 1.0), (0.25, 0.25)])
def test_flow_view_follows_the_inputs(x1, x2):
    # xor with x1 + x2 ≤ 1: h2 is off, y = h1 = x1 + x2, zᴮ on [0, 1] with w = (1, 1): R_i = x_i
    graph, e = flow_view(examples.xor(), {"x1": x1, "x2": x2})
    hand = {"x1": F(str(x1)), "x2": F(str(x2))}
    assert {k: F(int(e.relevance[k].p), int(e.relevance[k].q)) for k in hand} == hand
    assert e.output == sum(hand.values())
    assert f"R = {e.relevance['x1']}" in graph.source and "rule: zB" in graph.source


def test_widgets_redraw_when_a_slider_moves():
    pytest.importorskip("ipywidgets", reason='ipywidgets not installed (pip install -e ".[widgets]")')
    from symdtd.see.widgets import flow_widget, root_search_widget
    box = root_search_widget()
    assert box.view.walk.shares == [sp.Rational(3, 4), 0]
    box.sliders["x1"].value = 1.0                          # z = 1 − 1/2 − 1/4 = 1/4
    assert box.view.walk.shares == [sp.Rational(1, 4), 0]
    box.sliders["rule"].value = "w2"                       # w² shares z/2 each
    assert box.view.walk.shares == [sp.Rational(1, 8), sp.Rational(1, 8)]
    flow = flow_widget(examples.xor(), {"x1": 1.0, "x2": 1.0})
    assert (flow.sliders["x1"].min, flow.sliders["x1"].max) == (0.0, 1.0)   # the input's box
    assert flow.explanation.output == 0                    # xor(1, 1)
    flow.sliders["x2"].value = 0.0
    assert flow.explanation.output == 1 and flow.explanation.relevance["x1"] == 1
    assert np.isclose(float(sum(flow.explanation.relevance[k] for k in ("x1", "x2"))), 1.0)


def test_without_ipywidgets_the_message_says_how_to_install(monkeypatch):
    import builtins

    from symdtd.see import widgets
    real_import = builtins.__import__

    def no_widgets(name, *args, **kwargs):
        if name == "ipywidgets":
            raise ImportError("No module named 'ipywidgets'")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_widgets)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[widgets\]"'):
        widgets.root_search_widget()
