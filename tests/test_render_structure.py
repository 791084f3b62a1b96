"""What render() draws, checked against expectations built from the Explanation itself.

The DOT source is parsed into nodes (id, label lines) and edges (ends, label,
attributes); the expected sets are computed here from the network and the
exact explanation: node ``n<k>`` for the k-th node of the graph, labelled
with its name, activation and relevance as SymPy prints them; one edge per
network edge, drawn back from ``j`` to ``i`` and labelled with its message.
These hold for any way render() is organised inside.
"""
import re

import pytest
import sympy as sp

from symdtd import examples, propagate
from symdtd.see.flow import render

NODE = re.compile(r'^\s*(\w+) \[label=("(?:[^"\\]|\\.)*"|\S+)(.*)\]$', re.M)
EDGE = re.compile(r'^\s*(\w+) -> (\w+) \[(.*)\]$', re.M)
EXAMPLES = examples.names()


def unquote(text):
    return text[1:-1] if text.startswith('"') else text


def parse(source):
    """DOT id -> label lines; (id_u, id_v) -> {attribute: value} (label lines as a list)."""
    nodes = {m[1]: unquote(m[2]).split("\\n") for m in NODE.finditer(source) if m[1] != "legend"}
    edges = {}
    for m in EDGE.finditer(source):
        attrs = dict((k, unquote(v)) for k, v in re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', m[3]))
        if "label" in attrs:
            attrs["label"] = attrs["label"].split("\\n")
        edges[m[1], m[2]] = attrs
    return nodes, edges


def exact_case(name):
    net = examples.get(name)
    e = propagate(net, examples.example_inputs(name)[0], arithmetic="exact")
    ids = {n: f"n{k}" for k, n in enumerate(net.graph)}
    return net, e, ids


def text(value):
    assert isinstance(value, (int, sp.Rational)) and len(str(value)) <= 40   # printed exactly, as is
    return str(value)


@pytest.mark.parametrize("name", EXAMPLES)
def test_nodes_and_edges_follow_the_explanation(name):
    net, e, ids = exact_case(name)
    nodes, edges = parse(render(net, e, collapse_above=None).source)
    explained = set(e.relevance)
    assert nodes == {ids[n]: [n, f"x = {text(e.activations[n])}", f"R = {text(e.relevance[n])}"]
                     + ([f"rule: {e.rules[n]}"] if n in e.rules else [])
                     for n in explained}
    expected_edges = {(ids[u], ids[v]): [text(e.messages.get((u, v), sp.Integer(0)))]
                      for u, v in net.graph.edges if u in explained and v in explained}
    assert {key: attrs["label"] for key, attrs in edges.items()} == expected_edges
    assert all(attrs["dir"] == "back" for attrs in edges.values())   # relevance flows from j to i
    # width ∝ |message|, from 0.4 (zero) to 6 (the largest)
    largest = max(abs(m) for m in e.messages.values())
    for (u, v) in net.graph.edges:
        if u in explained and v in explained:
            m = abs(e.messages.get((u, v), 0))
            assert float(edges[ids[u], ids[v]]["penwidth"]) == pytest.approx(
                0.4 + 5.6 * float(m / largest), abs=0.01)


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_network_alone_shows_kinds_and_biases(name):
    net, _, ids = exact_case(name)
    nodes, edges = parse(render(net, None, collapse_above=None, show_weights=True).source)
    G = net.graph
    expected = {}
    for n in G:
        kind = G.nodes[n]["kind"]
        lines = [n]
        if kind != "input":
            lines.append(kind if kind.endswith("pool") else f"{kind}, b = {text(G.nodes[n]['bias'])}")
        expected[ids[n]] = lines
    assert nodes == expected
    assert {key: attrs["label"] for key, attrs in edges.items()} == {
        (ids[u], ids[v]): [f"w = {text(w)}"] for u, v, w in G.edges(data="weight")}
    assert not any("dir" in attrs for attrs in edges.values())


@pytest.mark.parametrize("name", EXAMPLES)
def test_top_k_keeps_the_largest_messages(name):
    net, e, ids = exact_case(name)
    for k in (1, 2, 3):
        _, edges = parse(render(net, e, top_k=k, collapse_above=None).source)
        assert len(edges) == min(k, len(e.messages))
        shown = {abs(e.messages.get((u, v), 0)) for u, v in net.graph.edges if (ids[u], ids[v]) in edges}
        hidden = {abs(e.messages.get((u, v), 0)) for u, v in net.graph.edges
                  if (ids[u], ids[v]) not in edges and u in e.relevance and v in e.relevance}
        assert not hidden or min(shown) >= max(hidden)


@pytest.mark.parametrize("name", EXAMPLES)
def test_collapsed_layers_sum_their_relevance(name):
    net, e, ids = exact_case(name)
    graph = render(net, e, collapse_above=1)
    nodes, edges = parse(graph.source)
    for k, layer in enumerate(net.layers()):
        shown = [n for n in layer if n in e.relevance]
        if len(shown) > 1:
            total = sum((e.relevance[n] for n in shown), sp.Integer(0))
            assert nodes[f"layer{k}"] == [f"layer {k}: {len(shown)} nodes", *nodes[f"layer{k}"][1:-1],
                                          f"ΣR = {text(total)}"]
            assert graph.summaries[f"layer{k}"]["total"] == total
        elif shown:
            assert ids[shown[0]] in nodes
    # the messages between two summary nodes add up
    collapsed = graph.node_ids
    sums = {}
    for (u, v), m in e.messages.items():
        key = (collapsed[u], collapsed[v])
        sums[key] = sums.get(key, 0) + m
    for key, attrs in edges.items():
        assert attrs["label"][0].removeprefix("Σ ") == text(sp.Rational(sums.get(key, 0)))


def test_hide_inactive_leaves_out_the_zero_relus():
    net, e, ids = exact_case("xor")
    inactive = {n for n, kind in net.graph.nodes(data="kind")
                if kind == "relu" and n not in net.outputs and e.activations.get(n) == 0}
    assert inactive, "the example should have an inactive ReLU"
    nodes, edges = parse(render(net, e, hide_inactive=True, collapse_above=None).source)
    assert set(nodes) == {ids[n] for n in e.relevance if n not in inactive}
    assert not any(ids[n] in key for n in inactive for key in edges)


def test_each_neuron_names_the_rule_that_redistributed_its_relevance():
    """The paper's choice on xor (box inputs: zᴮ at the first layer, z⁺ above), then overrides."""
    from symdtd import examples
    from symdtd.network.composites import GammaAbove
    from symdtd.network.overrides import ByName
    net = examples.xor()
    e = propagate(net, {"x1": 1, "x2": 0}, arithmetic="exact")
    nodes, _ = parse(render(net, e, collapse_above=None).source)
    ids = render(net, e, collapse_above=None).node_ids
    assert nodes[ids["h1"]][-1] == "rule: zB" and nodes[ids["h2"]][-1] == "rule: zB"
    assert nodes[ids["y"]][-1] == "rule: z+"
    assert not any(line.startswith("rule") for line in nodes[ids["x1"]])   # inputs have no rule
    e = propagate(net, {"x1": 1, "x2": 0}, arithmetic="exact",
                  composite=ByName({"h1": "w2"}) | GammaAbove(gamma=1))
    source = render(net, e, collapse_above=None).source
    nodes, _ = parse(source)
    assert [nodes[ids[n]][-1] for n in ("h1", "h2", "y")] == ["rule: w2", "rule: zB", "rule: gamma"]
