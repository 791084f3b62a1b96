"""Relevance-flow graphs: content of the DOT source, files, and a missing ``dot``."""
import re
import shutil

import graphviz
import matplotlib
import numpy as np
import pytest
import sympy as sp

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import symdtd  # noqa: E402
from symdtd import Network, examples, propagate  # noqa: E402
from symdtd.see import colors
from symdtd.see.flow import FlowGraph, GraphvizNotFoundError, render, render_to_files, write  # noqa: E402

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz `dot` is not installed")

NODE = re.compile(r'^\s*(\w+) \[label="((?:[^"\\]|\\.)*)"(.*)\]$', re.M)
EDGE = re.compile(r"^\s*(\w+) -> (\w+) \[(.*)\]$", re.M)


def nodes_of(graph):
    """DOT id -> (label lines, attribute text) of every labelled node."""
    return {m[1]: (m[2].split("\\n"), m[3]) for m in NODE.finditer(graph.source)}


def attr(text, name):
    m = re.search(rf'\b{name}="?([^" \]]+)"?', text)
    return m and m[1]


def edges_of(graph):
    """(id_u, id_v) -> attribute text."""
    return {(m[1], m[2]): m[3] for m in EDGE.finditer(graph.source)}


def names_by_id(graph):
    return {v: k for k, v in graph.node_ids.items()}


@pytest.fixture
def fig3():
    net = examples.figure3()
    return net, propagate(net, examples.example_inputs("figure3")[0], arithmetic="exact")


@pytest.fixture
def mixed_signs():
    """figure3 with the z rule on the output: the message from h3 is negative."""
    net = examples.figure3()
    net.set_rule("y", "z")
    e = propagate(net, examples.example_inputs("figure3")[0], arithmetic="exact")
    assert e.messages[("h3", "y")] < 0 < e.messages[("h1", "y")]
    return net, e


def dense(sizes, seed=0):
    rng = np.random.default_rng(seed)
    W = [rng.normal(size=(a, b)) / np.sqrt(a) for a, b in zip(sizes, sizes[1:])]
    B = [-0.1 * np.abs(rng.normal(size=b)) for b in sizes[1:]]
    net = Network.from_dense(W, B)
    x = dict(zip(net.inputs, rng.random(sizes[0]).tolist()))
    return net, propagate(net, x, output="y1", arithmetic="float")


@pytest.mark.parametrize("name", examples.names())
def test_every_neuron_is_in_the_dot_source(name):
    net = examples.get(name)
    e = propagate(net, examples.example_inputs(name)[0], arithmetic="exact")
    g = render(net, e)
    assert isinstance(g, graphviz.Digraph)
    labels = {lines[0] for lines, _ in nodes_of(g).values()}
    assert set(net.graph) <= labels
    assert set(g.node_ids) == set(net.graph)
    # one edge per network edge, each once
    ids = g.node_ids
    assert set(edges_of(g)) == {(ids[u], ids[v]) for u, v in net.graph.edges}


def test_labels_show_activation_and_exact_relevance(fig3):
    net, e = fig3
    g = render(net, e)
    lines, _ = nodes_of(g)[g.node_ids["x2"]]
    assert lines == ["x2", f"x = {e.activations['x2']}", f"R = {e.relevance['x2']}"]
    assert "/" in lines[2]   # a fraction, not a float
    assert f"relevance of y = {e.output}" in g.source


def test_edge_widths_are_ordered_like_messages():
    net, e = dense([6, 5, 4, 2])
    g = render(net, e, collapse_above=None)
    by_id = names_by_id(g)
    pairs = [(abs(e.messages[(by_id[u], by_id[v])]), float(attr(a, "penwidth")))
             for (u, v), a in edges_of(g).items()]
    assert len(pairs) == sum(1 for u, v in net.graph.edges if v in e.relevance)
    pairs.sort()
    widths = [w for _, w in pairs]
    assert widths == sorted(widths)          # never a bigger message with a thinner edge
    assert widths[-1] > widths[0]            # and the scale actually varies


def test_edge_and_node_colours_follow_the_sign(mixed_signs):
    net, e = mixed_signs
    g = render(net, e)
    by_id = names_by_id(g)
    expected = {1: colors.POSITIVE, -1: colors.NEGATIVE, 0: colors.NEUTRAL}
    for (u, v), a in edges_of(g).items():
        m = e.messages[(by_id[u], by_id[v])]
        assert attr(a, "color") == expected[int(sp.sign(m))]
        assert attr(a, "dir") == "back"      # arrows point the way relevance flows
    vmax = max(abs(float(r)) for r in e.relevance.values())
    for sid, (_, a) in nodes_of(g).items():
        if sid in by_id:
            r = float(e.relevance[by_id[sid]])
            fill = attr(a, "fillcolor")
            assert fill == colors.diverging_hex(r, vmax)
            red, blue = int(fill[1:3], 16), int(fill[5:7], 16)
            assert (red > blue) if r > 0 else (red < blue) if r < 0 else fill == "#ffffff"


def test_one_legend_with_a_symmetric_scale(fig3):
    net, e = fig3
    g = render(net, e)
    assert g.source.count("legend [") == 1
    legend = g.source[g.source.index("legend ["):]
    vmax = max(abs(float(r)) for r in e.relevance.values())
    assert colors.POSITIVE in legend and colors.NEGATIVE in legend
    assert f">{vmax:.3g}<" in legend and f">-{vmax:.3g}<" in legend


def test_collapsed_layer_reports_count_total_and_active():
    net, e = dense([12, 6, 3])
    g = render(net, e, collapse_above=8)
    (sid, summary), = g.summaries.items()
    members = net.layers()[0]
    assert summary["count"] == 12 and sorted(summary["members"]) == sorted(members)
    total = sum(e.relevance[p] for p in members)
    assert summary["total"] == pytest.approx(total)
    lines, _ = nodes_of(g)[sid]
    assert lines[0] == "layer 0: 12 nodes"
    assert f"ΣR = {total:.3g}" in lines
    assert all(g.node_ids[p] == sid for p in members)
    # the aggregated edges carry the sums of the messages they stand for
    by_id = names_by_id(g)
    for (u, v), a in edges_of(g).items():
        if u == sid:
            m = sum(e.messages[(p, by_id[v])] for p in members)
            assert f"Σ {m:.3g}\\n12 edges" in a


def test_collapse_counts_active_neurons_and_keeps_the_top():
    net, e = dense([4, 20, 2], seed=3)
    hidden = net.layers()[1]
    active = sum(e.activations[n] > 0 for n in hidden)
    g = render(net, e, collapse_above=10)
    summary = g.summaries["layer1"]
    assert summary["active"] == active
    assert f"active {active}/20" in nodes_of(g)["layer1"][0]
    g = render(net, e, collapse_above=10, keep_top=3)
    top = sorted(hidden, key=lambda n: -abs(e.relevance[n]))[:3]
    assert all(g.node_ids[n].startswith("n") for n in top)
    assert g.summaries["layer1"]["count"] == 17
    assert nodes_of(g)["layer1"][0][0] == "layer 1: 17 more nodes"


def test_auto_collapse_makes_a_few_hundred_neurons_readable():
    net, e = dense([64, 32, 16, 10])
    g = render(net, e)   # collapse_above="auto"
    assert set(g.summaries) == {"layer0", "layer1"}
    assert len(nodes_of(g)) <= 1 + 2 + 16 + 1   # legend, 2 summaries, 16 neurons, y1
    assert len(edges_of(g)) <= 1 + 16 + 16
    # other outputs are not part of y1's explanation and are left out
    assert "y2" not in g.node_ids
    assert "y2" in render(net, e, explained_only=False).node_ids


def test_top_k_keeps_the_strongest_edges():
    net, e = dense([5, 4, 1], seed=1)
    g = render(net, e, top_k=4)
    by_id = names_by_id(g)
    kept = sorted(abs(e.messages[(by_id[u], by_id[v])]) for u, v in edges_of(g))
    assert len(kept) == 4
    assert kept == sorted(abs(m) for m in e.messages.values())[-4:]
    assert len(nodes_of(g)) == net.graph.number_of_nodes()   # all nodes stay


def test_hide_inactive():
    net = examples.figure3()
    e = propagate(net, {"x1": 0, "x2": 1, "x3": 0}, arithmetic="exact")
    inactive = [n for n in ("h1", "h2", "h3") if e.activations[n] == 0]
    assert inactive
    g = render(net, e, hide_inactive=True)
    assert not set(inactive) & set(g.node_ids)
    assert {"x1", "x2", "x3", "y"} <= set(g.node_ids)
    with pytest.raises(ValueError, match="hide_inactive needs activations"):
        render(net, hide_inactive=True)


def test_highlight_fades_everything_off_the_inputs_paths():
    net, e = examples.skip_dag(), None
    e = propagate(net, examples.example_inputs("skip_dag")[0], arithmetic="exact")
    g = render(net, e, highlight="x3")
    ids, edges = g.node_ids, edges_of(g)
    on_path = {("x3", "h1"), ("x3", "h2"), ("h1", "h3"), ("h2", "h3"), ("h3", "y"), ("h1", "y")}
    for (u, v) in net.graph.edges:
        color = attr(edges[(ids[u], ids[v])], "color")
        assert color.endswith("40") == ((u, v) not in on_path)
    nodes = nodes_of(g)
    assert attr(nodes[ids["x3"]][1], "penwidth") == "3"
    assert attr(nodes[ids["x1"]][1], "penwidth") is None
    with pytest.raises(ValueError, match="'x9' is not in the network"):
        render(net, e, highlight="x9")


def test_message_and_weight_labels(fig3):
    net, e = fig3
    ids = render(net, e).node_ids
    edges = edges_of(render(net, e, show_weights=True))
    a = edges[(ids["x2"], ids["h1"])]
    assert f'label="{e.messages[("x2", "h1")]}\\nw = 1/2"' in a
    edges = edges_of(render(net, e, show_messages=False))
    assert "label" not in edges[(ids["x2"], ids["h1"])]


def test_symbolic_explanation_shows_expressions():
    net = examples.skip_dag()
    e = propagate(net, None, arithmetic="symbolic", at={"x1": 1, "x2": 0, "x3": 1})
    g = render(net, e)
    y = nodes_of(g)[g.node_ids["y"]][0]
    assert y[2].startswith("R = ") and "x1" in y[2]
    # coloured at the explanation's point
    vmax = float(e.output.subs({sp.Symbol("x1"): 1}).xreplace(
        {net.graph.nodes[p]["symbol"]: v for p, v in {"x1": 1, "x2": 0, "x3": 1}.items()}))
    assert attr(nodes_of(g)[g.node_ids["y"]][1], "fillcolor") == colors.diverging_hex(vmax, vmax)
    # no point: not coloured, and the legend says why
    g = render(net, propagate(net, None, arithmetic="symbolic"))
    assert "not coloured" in g.source
    assert attr(edges_of(g)[(g.node_ids["h3"], g.node_ids["y"])], "color") == colors.NEUTRAL


def test_float_explanation_and_structure_only():
    net = examples.xor()
    e = propagate(net, {"x1": 0.75, "x2": 0.5}, arithmetic="float")
    lines, _ = nodes_of(render(net, e))[render(net, e).node_ids["h2"]]
    assert lines[1] == "x = 0.25"
    g = render(net)
    assert nodes_of(g)[g.node_ids["h2"]][0] == ["h2", "relu, b = -1"]
    neg = edges_of(g)[(g.node_ids["h2"], g.node_ids["y"])]
    assert attr(neg, "color") == colors.NEGATIVE and "dir" not in neg


def test_bad_arguments():
    net, e = dense([3, 2, 1])
    with pytest.raises(ValueError, match="top_k"):
        render(net, e, top_k=-1)
    with pytest.raises(ValueError, match="collapse_above"):
        render(net, e, collapse_above=0)
    with pytest.raises(ValueError, match="'zz' is not a node"):
        render(net, {"zz": 1.0})
    with pytest.raises(TypeError, match="Explanation"):
        render(net, [1, 2])


def test_package_level_render_is_callable(fig3):
    net, e = fig3
    import symdtd.see.flow as module

    assert "digraph" in symdtd.render(net, e).source
    assert symdtd.render is module.render   # one function; the module keeps its own name


@needs_dot
def test_image_files_open_with_the_expected_size(tmp_path, fig3):
    net, e = fig3
    paths = render_to_files(net, e, tmp_path / "flow", formats=("svg", "png", "pdf", "gv"))
    assert [p.name for p in paths] == ["flow.svg", "flow.png", "flow.pdf", "flow.gv"]
    svg = paths[0].read_text()
    width_pt, height_pt = (float(v) for v in re.search(
        r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
    image = plt.imread(paths[1])
    # dot draws PNGs at 96 dpi, the SVG is in points (72 per inch)
    assert image.shape[0] == pytest.approx(height_pt * 96 / 72, abs=2)
    assert image.shape[1] == pytest.approx(width_pt * 96 / 72, abs=2)
    assert paths[2].read_bytes().startswith(b"%PDF")
    assert paths[3].read_text().startswith("digraph")
    big = plt.imread(write(render(net, e), tmp_path / "big.png", dpi=192))
    assert big.shape[1] == pytest.approx(2 * image.shape[1], abs=4)


@needs_dot
def test_jupyter_shows_svg(fig3):
    bundle = render(*fig3)._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


def test_missing_dot_keeps_the_source_and_explains(tmp_path, monkeypatch, fig3):
    net, e = fig3
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))   # no `dot` anywhere
    g = render(net, e)
    assert "digraph" in g.source
    assert render_to_files(net, e, tmp_path / "flow", formats=("gv",))[0].exists()
    for action in (lambda: write(g, tmp_path / "flow.png"),
                   lambda: write(graphviz.Digraph(), tmp_path / "plain.svg"),
                   lambda: g.render(tmp_path / "flow", format="svg"),
                   lambda: g.pipe(format="svg")):
        with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz") as info:
            action()
        assert isinstance(info.value, graphviz.ExecutableNotFound)
        assert "graph.source" in str(info.value)
        assert not list(tmp_path.glob("*.svg")) and not list(tmp_path.glob("*.png"))
    assert g._repr_mimebundle_() == {"text/plain": g.source}


def test_write_needs_a_suffix(tmp_path):
    with pytest.raises(ValueError, match="no suffix"):
        write(FlowGraph(), tmp_path / "flow")


def test_pooling_and_symbolic_max_labels():
    from symdtd import Positive

    net = Network()
    for n in ("a", "b", "c"):
        net.add_input(n, Positive())
    net.add_neuron("h1", {"a": 1, "b": -1})
    net.add_neuron("h2", {"b": 1, "c": 1})
    net.add_max_pool("m", ["h1", "h2"])
    net.add_sum_pool("s", ["h1", "h2"])
    net.add_neuron("y", {"m": 1, "s": "1/2"}, kind="linear")
    g = render(net, propagate(net, None, arithmetic="symbolic"))   # Max(h1, h2) in labels
    assert set(g.node_ids) == set(net.graph)
    g = render(net, propagate(net, {"a": 2, "b": 1, "c": 0.5}, arithmetic="float"))
    nodes = nodes_of(g)
    assert attr(nodes[g.node_ids["m"]][1], "shape") == "invhouse"
    assert attr(nodes[g.node_ids["s"]][1], "shape") == "hexagon"
    assert g.copy().node_ids == g.node_ids
