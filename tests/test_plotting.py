"""Root-search figures, heatmaps and pixel-flipping curves: what is drawn, not pixels."""
import matplotlib
import numpy as np
import pytest
import sympy as sp

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

from symdtd import derive, examples, propagate  # noqa: E402
from symdtd.see.plotting import (  # noqa: E402
    find_root,
    heatmap,
    heatmap_grid,
    plot_pixel_flipping,
    plot_root_search,
    save_figure,
)

R = sp.Rational
NEURONS = [((1.0, -1.0), -0.25, (1.5, 0.5)), ((-0.5, 1.0), -0.25, (0.5, 1.0)),
           ((2.0, 0.5), -1.0, (0.75, 1.5))]
RULES = ["w2", "z+", "zB", "z", "gamma", ("user", lambda x, w: x * w**2)]


def artist(ax, gid):
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {len(found)} artists"
    return found[0]


def z(w, b, p):
    return w[0] * p[0] + w[1] * p[1] + b


def test_each_drawn_root_satisfies_z_equals_zero():
    fig = plot_root_search(NEURONS, rules=RULES, box=(0, 2))
    assert len(fig.axes) == len(NEURONS)
    labels = ["w² rule", "z⁺ rule", "zᴮ rule", "z rule (DTD form of LRP-0)", "γ rule (DTD form of LRP-γ)", "user"]
    for ax, (w, b, x) in zip(fig.axes, NEURONS):
        data = artist(ax, "data")
        assert (data.get_xdata()[0], data.get_ydata()[0]) == x
        for label in labels:
            root = artist(ax, f"root:{label}")
            p = (root.get_xdata()[0], root.get_ydata()[0])
            assert z(w, b, p) == pytest.approx(0, abs=1e-12)
            line = artist(ax, f"search:{label}")   # from the data point to the root
            assert list(line.get_xdata()) == [x[0], p[0]]
            assert list(line.get_ydata()) == [x[1], p[1]]


def test_drawn_root_is_the_derivations_root():
    w, b, x = (1, -1), R(-1, 2), (R(3, 2), R(1, 2))
    fig = plot_root_search((w, b, x), rules=["zB"], box=(0, 2))
    root = artist(fig.axes[0], "root:zᴮ rule")
    d = derive("zB", n=2)
    s = d.symbols
    values = {s["b"]: b, **dict(zip(s["x"], x)), **dict(zip(s["w"], w)),
              **dict(zip(s["l"], (0, 0))), **dict(zip(s["h"], (2, 2)))}
    expected = [e.xreplace(values) for e in d.root["x_tilde"]]
    assert (root.get_xdata()[0], root.get_ydata()[0]) == tuple(float(c) for c in expected)
    r = find_root("zB", w, b, x, box=(0, 2))
    assert r.x_tilde == tuple(expected) and z(w, b, r.x_tilde) == 0 and r.in_domain
    assert not find_root("zB", w, b, x, box=(0, 1)).in_domain   # x lies outside [0, 1]²


def test_search_direction_follows_the_rule():
    # z⁺ moves only the positively weighted input; w² moves along w
    w, b, x = (1.0, -1.0), -0.25, (1.5, 0.5)
    zp, w2 = find_root("z+", w, b, x), find_root("w2", w, b, x)
    assert zp.point[1] == x[1] and zp.point[0] < x[0]
    step = np.array(x) - w2.point
    assert step[0] * w[1] - step[1] * w[0] == pytest.approx(0)


def test_root_outside_the_domain_is_marked():
    # a positive bias: the z⁺ root leaves ℝ²₊ (x̃_1 < 0)
    w, b, x = (1.0, -1.0), 0.5, (0.5, 0.25)
    r = find_root("z+", w, b, x)
    assert not r.in_domain and r.point[0] < 0
    fig = plot_root_search((w, b, x), rules=["z+"])
    root = artist(fig.axes[0], "root:z⁺ rule")
    assert root.get_marker() == "X"
    assert "outside domain" in root.get_label()


def test_no_root_is_said_in_the_legend():
    w, b, x = (-1.0, -1.0), 0.0, (1.0, 1.0)   # z⁺ with no positive weight
    assert not find_root("z+", w, b, x).found
    fig = plot_root_search((w, b, x), rules=["z+", "w2"])
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("no root" in t for t in texts)
    assert not [a for a in fig.axes[0].get_children() if a.get_gid() == "root:z⁺ rule"]


def test_active_region_and_the_line_z_equals_zero():
    w, b, x = NEURONS[0]
    fig = plot_root_search((w, b, x), rules=["w2"])
    ax = fig.axes[0]
    active = artist(ax, "active")
    assert isinstance(active, Polygon)
    for p in active.get_xy():
        assert z(w, b, p) >= -1e-9
    assert active.get_path().contains_point(x)    # the data point is active here
    line = artist(ax, "z=0")
    for p in (line.get_xy1(), line.get_xy2()):
        assert z(w, b, p) == pytest.approx(0, abs=1e-12)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"active set z > 0", "z = 0", "data point x"} <= set(texts)


def test_domains_are_drawn_for_the_rules_that_need_them():
    fig = plot_root_search(NEURONS[0], rules=["w2"])
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert not [t for t in texts if "ℝ²₊" in t or "box" in t]
    fig = plot_root_search(NEURONS[0], rules=["z+", "zB"], box=(0, 2))
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "outside ℝ²₊" in texts and "box [0, 2]²" in texts


def test_root_search_arguments():
    with pytest.raises(ValueError, match="neurons\\[0\\]"):
        plot_root_search([((1, 2, 3), 0, (1, 1))])
    fig, axes = plt.subplots(1, 2)
    assert plot_root_search(NEURONS[:2], rules=["w2"], ax=axes) is fig
    with pytest.raises(ValueError, match="2 neurons"):
        plot_root_search(NEURONS[:2], ax=axes[:1])
    plt.close(fig)
    with pytest.raises(ValueError, match="no value for"):
        find_root(lambda x, w: x * w * sp.Symbol("c"), (1, 1), -1, (1, 1))


def test_root_search_figure_saves_as_png(tmp_path):
    fig = plot_root_search(NEURONS[:2], rules=RULES, size=3)
    width, height = fig.get_size_inches()
    image = plt.imread(save_figure(fig, tmp_path / "sub" / "roots.png", dpi=50))
    assert image.shape[:2] == (round(height * 50), round(width * 50))


def test_heatmap_is_centred_at_zero_with_a_colour_bar():
    rel = np.array([0.5, -2.0, 0.0, 1.0, 0.25, -0.5])
    fig = heatmap(rel, (2, 3))
    image = fig.axes[0].images[0]
    assert image.get_clim() == (-2.0, 2.0)
    assert image.get_array().shape == (2, 3)
    assert image.cmap(0.5)[:3] == pytest.approx((1, 1, 1))          # white at 0
    assert image.cmap(1.0)[0] > image.cmap(1.0)[2]                   # positive red
    assert image.cmap(0.0)[2] > image.cmap(0.0)[0]                   # negative blue
    assert len(fig.axes) == 2                                        # the colour bar
    assert heatmap(np.zeros(4)).axes[0].images[0].get_clim() == (-1.0, 1.0)
    with pytest.raises(ValueError, match="do not fit shape"):
        heatmap(rel, (4, 4))


def test_heatmap_of_an_explanation():
    net = examples.figure3()
    e = propagate(net, examples.example_inputs("figure3")[0], arithmetic="exact")
    fig = heatmap(e, (1, 3), colorbar=False)
    expected = [float(r) for r in e.input_relevance.values()]
    assert fig.axes[0].images[0].get_array().ravel().tolist() == expected
    with pytest.raises(TypeError, match="symbolic"):
        heatmap(propagate(net, None, arithmetic="symbolic"))


def test_heatmap_grid_puts_inputs_beside_heatmaps(tmp_path):
    rng = np.random.default_rng(0)
    X, Rel = rng.random((5, 16)), rng.normal(size=(5, 16))
    fig = heatmap_grid(X, Rel, (4, 4), [f"s{k}" for k in range(5)], ncols=3)
    inputs = [a for a in fig.axes if a.get_label() == "input"]
    maps = [a for a in fig.axes if a.get_label() == "heatmap"]
    assert len(inputs) == len(maps) == 5
    for k, (a, m) in enumerate(zip(inputs, maps)):
        assert a.get_title() == f"s{k}"
        assert a.get_subplotspec().colspan.start + 1 == m.get_subplotspec().colspan.start
        np.testing.assert_array_equal(a.images[0].get_array(), X[k].reshape(4, 4))
        limit = np.abs(Rel[k]).max()
        assert m.images[0].get_clim() == pytest.approx((-limit, limit))
    colorbars = [a for a in fig.axes if a.get_label() == "<colorbar>"]
    assert len(colorbars) == 5
    fig = heatmap_grid(X, Rel, (4, 4), shared_scale=True)
    limit = np.abs(Rel).max()
    assert all(m.images[0].get_clim() == pytest.approx((-limit, limit))
               for m in fig.axes if m.get_label() == "heatmap")
    assert len([a for a in fig.axes if a.get_label() == "<colorbar>"]) == 1
    width, height = fig.get_size_inches()
    image = plt.imread(save_figure(fig, tmp_path / "grid.png", dpi=40))
    assert image.shape[:2] == (round(height * 40), round(width * 40))
    with pytest.raises(ValueError, match="2 inputs for 5"):
        heatmap_grid(X[:2], Rel, (4, 4))


def test_pixel_flipping_curves():
    curves = {"dtd": np.array([[1.0, 0.5, 0.1], [0.8, 0.3, 0.1]]), "random": [1.0, 0.9, 0.7]}
    fig = plot_pixel_flipping(curves, aopc={"dtd": 0.42}, steps=[0, 10, 20])
    ax = fig.axes[0]
    dtd = artist(ax, "curve:dtd")
    np.testing.assert_allclose(dtd.get_ydata(), [0.9, 0.4, 0.1])
    np.testing.assert_allclose(dtd.get_xdata(), [0, 10, 20])
    assert dtd.get_label() == "dtd (AOPC 0.42)"
    assert artist(ax, "curve:random").get_linestyle() == "--"
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 1  # dtd's band
    with pytest.raises(ValueError, match="curves\\['bad'\\]"):
        plot_pixel_flipping({"bad": np.zeros((2, 2, 2))})
    with pytest.raises(ValueError, match="steps has 2 values"):
        plot_pixel_flipping(curves, steps=[0, 1])


def test_per_input_box_and_inactive_title():
    fig = plot_root_search(((1.0, 1.0), -0.5, (0.5, 2.0)), rules=["zB"], box=((0, -1), (1, 3)))
    box = next(p for p in fig.axes[0].patches if p.get_label() == "box")
    assert (box.get_x(), box.get_y(), box.get_width(), box.get_height()) == (0, -1, 1, 4)
    fig = plot_root_search(((1.0, 1.0), -5.0, (0.5, 2.0)), rules=["w2"])
    assert fig.axes[0].get_title().endswith("(inactive at x)")
