"""The layer-level flow graph (render_layers) against the neuron-level float propagation of
the same network, and the neuron-level graph of a window (net.neurons(window=...) + render).

The numbers in the DOT labels are read back and compared with sums of the neuron path's
relevance and messages (propagate on net.neurons()), not with the layer pass's own totals."""
import re
from collections import defaultdict

import numpy as np
import pytest

import symdtd
from symdtd.compiler.layer_pass import compile_layers
from symdtd.core.domains import Box
from symdtd.network.join_layers import Add, Concat, Flatten
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layers import Conv2d, Dense
from symdtd.network.pool_layers import MaxPool2d, SumPool2d
from symdtd.see import colors
from symdtd.see.layer_flow import render_layers


def residual_net(seed=0):
    rng = np.random.default_rng(seed)
    net = LayerNetwork()
    net.add_input("x", (2, 5, 5), Box(-1, 1))
    net.add_layer("c1", Conv2d(rng.normal(size=(2, 2, 3, 3)), -rng.uniform(0, 0.2, 2), padding=1))
    net.add_layer("c2", Conv2d(rng.normal(size=(2, 2, 1, 1)), -rng.uniform(0, 0.2, 2)), "x")
    net.add_layer("res", Add(), ["c1", "c2"])
    net.add_layer("c3", Conv2d(rng.normal(size=(2, 2, 2, 2)), -rng.uniform(0, 0.2, 2)), "res")
    net.add_layer("mp", MaxPool2d(2), "c3")
    net.add_layer("sp", SumPool2d(2), "c3")
    net.add_layer("cat", Concat(), ["mp", "sp"])
    net.add_layer("fl", Flatten())
    net.add_layer("y", Dense(np.abs(rng.normal(size=(3, 16))), activation="linear"))
    return net


def layer_of(neuron):
    return neuron.split("_")[0] if "_" in neuron else neuron.rstrip("0123456789")


def labels(graph):
    """``{node id: label}`` and ``{(tail, head): label}`` read from the DOT text."""
    nodes = dict(re.findall(r'^\s*(L\d+) \[label="([^"]*)"', graph.source, re.M))
    edges = {(a, b): lab for a, b, lab in
             re.findall(r'^\s*(L\d+) -> (L\d+) \[.*?label="([^"]*)"', graph.source, re.M)}
    return nodes, edges


def number(label, key):
    match = re.search(re.escape(key) + r" = ([-+0-9.e]+)", label)
    assert match, f"{key!r} not in {label!r}"
    return float(match.group(1))


def test_layer_totals_and_edge_flows_match_the_neuron_path():
    net = residual_net()
    X = np.random.default_rng(5).uniform(-1, 1, size=(2, 2, 5, 5))
    row, target = 1, 2
    e = compile_layers(net).explain(X, [0, target])
    g = render_layers(net, e, row=row, digits=12)
    nodes, edges = labels(g)
    ids = g.node_ids

    neurons = net.neurons()
    point = dict(zip(neurons.inputs, X[row].ravel().tolist()))
    ref = symdtd.propagate(neurons, point, f"y_{target}", arithmetic="float")
    totals = defaultdict(float)
    for n, r in ref.relevance.items():
        totals[layer_of(n)] += float(r)
    flows = defaultdict(float)           # neuron messages summed per (source layer, reader layer)
    for (i, j), m in ref.messages.items():
        flows[(layer_of(i), layer_of(j))] += float(m)

    for name in ("x", "c1", "c2", "res", "c3", "mp", "sp", "y"):
        assert number(nodes[ids[name]], "ΣR") == pytest.approx(totals[name], rel=1e-9, abs=1e-12)
    # the views have no neurons: cat and fl hold what mp and sp hold
    assert number(nodes[ids["cat"]], "ΣR") == pytest.approx(totals["mp"] + totals["sp"], rel=1e-9)
    assert totals["y"] == pytest.approx(float(net.forward(X)[row, target]), rel=1e-12)
    # edges: relevance sent back along each layer edge; through the views to y
    through_views = {("c1", "res"): ("c1", "res"), ("c2", "res"): ("c2", "res"), ("x", "c1"): ("x", "c1"),
                     ("x", "c2"): ("x", "c2"), ("res", "c3"): ("res", "c3"), ("c3", "mp"): ("c3", "mp"),
                     ("c3", "sp"): ("c3", "sp"), ("mp", "cat"): ("mp", "y"), ("sp", "cat"): ("sp", "y")}
    for (s, r), (ns, nr) in through_views.items():
        assert number(edges[(ids[s], ids[r])], "R") == pytest.approx(flows[(ns, nr)], rel=1e-9, abs=1e-12)
    assert number(edges[(ids["fl"], ids["y"])], "R") == pytest.approx(flows[("mp", "y")] + flows[("sp", "y")])
    # conservation layer by layer: received minus passed on is rounding only
    for name in ("c1", "res", "c3", "mp", "sp", "cat", "y"):
        assert abs(number(nodes[ids[name]], "ΣR − passed")) < 1e-9
    # the concatenation's edges name their channels; the add is drawn as ⊕
    assert "channels 0–1" in edges[(ids["mp"], ids["cat"])]
    assert "channels 2–3" in edges[(ids["sp"], ids["cat"])]
    assert nodes[ids["res"]].startswith("⊕ res")


def test_colours_follow_the_flow_graph_scale():
    net = residual_net(1)
    X = np.random.default_rng(2).uniform(-1, 1, size=(1, 2, 5, 5))
    e = compile_layers(net).explain(X, 0)
    g = render_layers(net, e)
    top = max(e.totals, key=lambda k: abs(e.totals[k][0]))
    line = next(x for x in g.source.splitlines() if x.strip().startswith(g.node_ids[top] + " ["))
    expected = colors.POSITIVE if e.totals[top][0] > 0 else colors.NEGATIVE
    assert f'fillcolor="{expected}"' in line
    for line in g.source.splitlines():
        if "->" in line:
            value = float(re.search(r'label="R = ([-+0-9.e]+)', line).group(1))
            assert f'color="{colors.sign_hex(value)}"' in line and "dir=back" in line


def test_the_residual_shows_relevance_lost_at_a_zero_denominator():
    # h is 0 on the whole box (x1 + x2 − 5 < 0), so g = relu(0·h + 1) = 1 has
    # the z⁺ denominator Σ h w⁺ = 0: g receives 1 and passes nothing on (by hand)
    net = LayerNetwork()
    net.add_input("x", (2,), Box(0, 1))
    net.add_layer("h", Dense([[1.0, 1.0]], [-5.0]))
    net.add_layer("g", Dense([[1.0]], [1.0]))
    net.add_layer("y", Dense([[2.0]], activation="linear"))
    e = compile_layers(net).explain(np.array([[0.5, 0.25]]))
    nodes, _ = labels(render_layers(net, e))
    assert number(nodes["L3"], "ΣR") == 2 and number(nodes["L2"], "ΣR") == 2
    assert number(nodes["L2"], "ΣR − passed") == 2
    assert number(nodes["L3"], "ΣR − passed") == 0


def test_a_linear_residual_sum_says_linear():
    net = LayerNetwork()
    net.add_input("x", (2,), Box(0, 1))
    net.add_layer("a", Dense([[1.0, -1.0]], activation="linear"))
    net.add_layer("b", Dense([[1.0, 1.0]]), sources=["x"])
    net.add_layer("s", Add(activation="linear"), sources=["a", "b"])
    net.add_layer("t", Add(), sources=["s", "b"])
    g = render_layers(net)
    nodes, _ = labels(g)
    assert nodes[g.node_ids["s"]].startswith("⊕ s\\nAdd 1, linear\\n")
    assert nodes[g.node_ids["t"]].startswith("⊕ t\\nAdd 1\\n")


def test_the_network_alone_and_bad_arguments():
    net = residual_net()
    g = render_layers(net, rankdir="LR")
    nodes, _ = labels(g)
    assert "ΣR" not in g.source and "legend" not in g.source
    assert nodes[g.node_ids["c1"]] == "c1\\nConv2d 2×5×5\\nrule zB"
    assert nodes[g.node_ids["c3"]].endswith("rule z+")
    assert nodes[g.node_ids["mp"]].endswith("rule winner")
    assert nodes[g.node_ids["y"]] == "y\\nDense 3, linear\\nrule z+"
    assert g.source == render_layers(net, rankdir="LR").source   # deterministic
    with pytest.raises(TypeError, match="LayerNetwork"):
        render_layers(net.neurons())
    e = compile_layers(net).explain(np.zeros((2, 2, 5, 5)), 0)
    with pytest.raises(ValueError, match="row"):
        render_layers(net, e, row=2)
    with pytest.raises(ValueError, match="rankdir"):
        render_layers(net, rankdir="up")


def test_the_neuron_graph_of_a_window():
    """One max-pooling neuron's receptive field: 4 convolution neurons on a 4×4 input patch."""
    rng = np.random.default_rng(3)
    net = LayerNetwork()
    net.add_input("x", (1, 6, 6), Box(0, 1))
    net.add_layer("conv", Conv2d(rng.normal(size=(2, 1, 3, 3)), [-0.1, -0.2]))
    net.add_layer("pool", MaxPool2d(2))
    net.add_layer("flat", Flatten())
    net.add_layer("y", Dense(rng.normal(size=(3, 8)), activation="linear"))
    window = net.neurons(window=(1, 0, 1), output="pool")      # channel 1, row 0, column 1
    # by hand: pool[1, 0, 1] reads conv[1, 0:2, 2:4], which read x[0, 0:4, 2:6]
    patch = {f"x{6 * u + v + 1}" for u in range(4) for v in range(2, 6)}
    assert set(window.inputs) == patch
    assert sorted(n for n in window.graph if n.startswith("conv")) == \
        ["conv_1_0_2", "conv_1_0_3", "conv_1_1_2", "conv_1_1_3"]
    X = rng.uniform(size=(1, 6, 6))
    e = symdtd.propagate(window, {p: X.ravel()[int(p[1:]) - 1] for p in patch}, "pool_1_0_1",
                         arithmetic="float")
    acts = net.forward(X[None], activations=True)
    assert float(e.output) == pytest.approx(acts["pool"][0, 1, 0, 1], rel=1e-12)
    assert sum(e.relevance[p] for p in patch) == pytest.approx(acts["pool"][0, 1, 0, 1], rel=1e-9)
    dot = symdtd.render(window, e).source
    assert len(re.findall(r'label="x\d+\\nx = ', dot)) == 16
    assert dot.count(" -> ") == 4 * 9 + 4   # 36 convolution edges, 4 into the pooling neuron
