"""Neuron kinds as classes (symdtd.network.kinds, symdtd.network.kind_registry): each kind's forward value, expression,
slope and rule checks by hand; every forward pass agrees on random DAGs with every kind;
a kind defined here, registered in one place, runs through every pass."""
import random

import numpy as np
import pytest
import sympy as sp

import symdtd.real.gradients as gradients
from symdtd import compile, propagate
from symdtd.core.domains import Box, Positive
from symdtd.network.graph import Network
from symdtd.network.kind_registry import KINDS, kind_named, positive_bias, register, registered, unregister
from symdtd.network.kinds import NeuronKind
from symdtd.network.neurons import build_expr, check_rule
from symdtd.propagation.arithmetic import ARITHMETIC, forward_values

R = sp.Rational
EXACT, FLOAT, SYMBOLIC = ARITHMETIC["exact"], ARITHMETIC["float"], ARITHMETIC["symbolic"]


# ------------------------------------------------------------- (a) by hand
def test_the_registry_maps_the_kind_strings():
    assert KINDS == ("input", "relu", "linear", "sumpool", "maxpool", "relu_sum", "linear_sum")
    assert [kind_named(k).name for k in KINDS] == list(KINDS)
    assert [type(kind_named(k)).__name__ for k in KINDS] == ["Input", "ReLU", "Linear", "SumPool",
                                                             "MaxPool", "ReLUSum", "LinearSum"]
    with pytest.raises(ValueError, match="kind must be one of .*got 'tanh'"):
        kind_named("tanh")
    with pytest.raises(ValueError, match="built in"):
        unregister("relu")
    with pytest.raises(ValueError, match="already registered"):
        register(type(kind_named("relu"))())


def test_what_each_kind_stores_and_yields():
    # (weighted, output ≥ 0, pooling, selects) as in docs/maths.md and the graph docstring
    table = {k: (kind_named(k).weighted, kind_named(k).nonnegative, kind_named(k).pooling,
                 kind_named(k).selects) for k in KINDS[1:]}
    assert table == {"relu": (True, True, False, False), "linear": (True, False, False, False),
                     "sumpool": (False, True, True, False), "maxpool": (False, True, True, True),
                     "relu_sum": (True, True, False, False), "linear_sum": (True, False, False, False)}
    assert [k for k in KINDS if kind_named(k).sums] == ["relu_sum", "linear_sum"]
    assert kind_named("input").is_input and not any(kind_named(k).is_input for k in KINDS[1:])
    # only a ReLU switches off (output 0 on a whole half-space): the flow drawings count those
    assert [k for k in KINDS if kind_named(k).gates] == ["relu", "relu_sum"]
    for k in ("relu", "sumpool", "maxpool"):
        assert kind_named(k).symbol("v").is_nonnegative
    assert kind_named("linear").symbol("v").is_nonnegative is None
    assert kind_named("linear").symbol("v").is_real
    assert kind_named("input").symbol("p", Box(0, 1)).is_nonnegative
    assert kind_named("input").symbol("p", Positive()).is_nonnegative
    assert kind_named("input").symbol("q", Box(-1, 1)).is_nonnegative is None


@pytest.mark.parametrize("ar, number", [(EXACT, R), (FLOAT, lambda p, q=1: p / q)])
def test_weighted_kinds_forward_by_hand(ar, number):
    # x = (3/4, 1/2), w = (2, -1): Σ x w = 3/2 - 1/2 = 1
    xs, ws = [number(3, 4), number(1, 2)], [number(2), number(-1)]
    relu, linear = kind_named("relu"), kind_named("linear")
    z = relu.preactivation(ar, xs, ws, number(-1, 2))
    assert z == number(1, 2) and relu.activation(ar, z) == number(1, 2)
    z = relu.preactivation(ar, xs, ws, number(-5, 4))
    assert z == number(-1, 4) and relu.activation(ar, z) == 0
    assert linear.activation(ar, z) == number(-1, 4)
    assert kind_named("sumpool").preactivation(ar, xs, None, None) == number(5, 4)
    assert kind_named("maxpool").select(ar, xs) == number(3, 4)


def test_expressions_by_hand():
    a, b = sp.Symbol("a", nonnegative=True), sp.Symbol("b", nonnegative=True)
    assert kind_named("relu").expression([a, b], [2, -1], R(-1, 2)) == sp.Max(0, 2 * a - b - R(1, 2))
    assert kind_named("linear").expression([a, b], [2, -1], R(-1, 2)) == 2 * a - b - R(1, 2)
    assert kind_named("sumpool").expression([a, b], None, None) == a + b
    assert kind_named("maxpool").expression([a, b], None, None) == sp.Max(a, b)
    z = sp.Symbol("z", real=True)
    assert kind_named("relu").activation(SYMBOLIC, z) == sp.Max(0, z)


def test_build_expr_per_kind():
    net = Network()
    for n in "ab":
        net.add_input(n)
    net.add_sum_pool("s", ["a", "b"])
    net.add_max_pool("m", ["a", "b"])
    net.add_neuron("y", {"s": 2, "m": -1}, bias="1/2", kind="linear")
    a, b, s, m = (net.graph.nodes[n]["symbol"] for n in "absm")
    assert build_expr(net.graph, "s") == a + b and build_expr(net.graph, "m") == sp.Max(a, b)
    assert build_expr(net.graph, "y") == 2 * s - m + R(1, 2)
    assert net.expr("y") is net.graph.nodes["y"]["expr"] and net.expr("a") == a
    with pytest.raises(ValueError, match="'ghost' is not in the network"):
        net.expr("ghost")


def test_slopes_and_batches_by_hand():
    relu, linear = kind_named("relu"), kind_named("linear")
    assert (relu.slope(R(1, 3)), relu.slope(0), relu.slope(-2), linear.slope(-2)) == (1, 0, 0, 1)
    Z = np.array([[-1.5, 0.0, 2.0]])
    assert relu.slope_batch(Z).tolist() == [[False, False, True]]
    assert linear.slope_batch(Z).tolist() == [[True, True, True]]
    assert relu.activate_batch(Z.copy()).tolist() == [[0.0, 0.0, 2.0]]
    assert linear.activate_batch(Z.copy()).tolist() == Z.tolist()
    maxpool = kind_named("maxpool")
    assert maxpool.choose([1, 3, 3]) == 1  # the first of the largest
    assert maxpool.choose_batch(np.array([[1.0, 3.0, 3.0], [5.0, 0.0, 5.0]])).tolist() == [1, 0]


def test_rules_each_kind_accepts():
    kind_named("maxpool").check_rule("m", "winner")
    kind_named("maxpool").check_rule("m", "proportional")
    kind_named("sumpool").check_rule("s", "proportional")
    kind_named("relu").check_rule("h", "zB")
    kind_named("relu").check_rule("h", None)
    with pytest.raises(ValueError, match="neuron 's' is a sumpool neuron; pooling rule 'winner' is for maxpool"):
        kind_named("sumpool").check_rule("s", "winner")
    with pytest.raises(ValueError, match="neuron 'h' is a relu neuron; pooling rule 'winner'"):
        check_rule("h", "winner", "relu")
    with pytest.raises(ValueError, match="neuron 'h': unknown rule 'z[+][+]'"):
        check_rule("h", "z++", "relu")
    with pytest.raises(TypeError, match="rule must be a name, a Rule or a pooling rule"):
        check_rule("h", 3, "relu")
    with pytest.raises(ValueError, match="'x' is an input; inputs have no rule"):
        kind_named("input").check_rule("x", "z+")


def test_positive_bias_is_one_test():
    assert positive_bias("relu", R(1, 2)) and positive_bias("linear", 0.25)
    assert not positive_bias("relu", 0) and not positive_bias("linear", -1)
    assert not positive_bias("sumpool", 0) and not positive_bias("input", 0)
    assert positive_bias("relu", sp.Symbol("b", positive=True))
    assert not positive_bias("relu", sp.Symbol("b", real=True))  # sign unknown
    mask = positive_bias(np.array(["relu", "linear", "relu", "maxpool"]), np.array([1.0, 2.0, -1.0, 0]))
    assert mask.tolist() == [True, True, False, False]


# --------------------------------------------------- (b) every pass agrees
def _random_dag(seed, kinds=("relu", "linear", "sumpool", "maxpool", "relu_sum", "linear_sum")):
    """A small random DAG with every kind; dyadic weights and biases (exact in floats)."""
    rnd = random.Random(seed)
    net = Network()
    nodes = []
    for k in range(3):
        net.add_input(f"x{k}", Box(-1, 1))
        nodes.append(f"x{k}")
    positive = []  # pooling takes ≥ 0 inputs, as the convolutional builder requires
    for k, kind in enumerate([rnd.choice(kinds) for _ in range(9)] + list(kinds)):
        name = f"n{k}"
        if kind in ("sumpool", "maxpool"):
            if len(positive) < 2:
                kind = "relu"
            else:
                sources = rnd.sample(positive, rnd.randint(2, min(3, len(positive))))
                (net.add_sum_pool if kind == "sumpool" else net.add_max_pool)(name, sources)
                nodes.append(name)
                positive.append(name)
                continue
        sources = rnd.sample(nodes, rnd.randint(1, min(4, len(nodes))))
        if kind.endswith("_sum"):  # residual sums: unit weights, bias 0
            net.add_neuron(name, dict.fromkeys(sources, 1), kind=kind)
        else:
            net.add_neuron(name, {s: R(rnd.randint(-8, 8), 4) for s in sources},
                           bias=R(rnd.randint(-4, 4), 8), kind=kind)
        nodes.append(name)
        if kind in ("relu", "relu_sum"):
            positive.append(name)
    net.outputs = [n for n in nodes if n not in net.inputs]
    return net


@pytest.mark.parametrize("seed", range(6))
def test_every_forward_pass_agrees_on_random_dags(seed):
    net = _random_dag(seed)
    kinds = {net.graph.nodes[n]["kind"] for n in net.graph}
    assert kinds == set(KINDS)
    rnd = random.Random(100 + seed)
    points = [{x: R(rnd.randint(-16, 16), 16) for x in net.inputs} for _ in range(4)]
    X = np.array([[float(p[x]) for x in net.inputs] for p in points])
    neurons = net.outputs
    exact = np.array([[float(forward_values(net, p)[n]) for n in neurons] for p in points])
    floats = np.array([[forward_values(net, p, "float")[n] for n in neurons] for p in points])
    symbolic = forward_values(net, None, "symbolic")
    subs = [{net.graph.nodes[x]["symbol"]: v for x, v in p.items()} for p in points]
    by_expr = np.array([[float(symbolic[n].xreplace(s)) for n in neurons] for s in subs])
    at_point = np.array([[float(forward_values(net, None, "symbolic", at=p)[n].xreplace(s))
                          for n in neurons] for p, s in zip(points, subs)])
    dense = net.forward(X)
    compiled = compile(net).forward(X)
    gradient_plan, _ = gradients.GradientPlan(net).run(X, np.zeros(len(X), dtype=np.int64))
    for name, values in [("float", floats), ("symbolic", by_expr), ("symbolic at", at_point),
                         ("Network.forward", dense), ("compiled", compiled),
                         ("gradient plan", gradient_plan)]:
        np.testing.assert_allclose(values, exact, rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("seed", range(3))
def test_the_gradient_is_the_slope_of_the_linear_piece(seed):
    # independent route: the symbolic forward at a point is the linear piece there;
    # its derivative in the inputs is the gradient
    net = _random_dag(seed)
    output = net.outputs[-1]
    net.outputs = [output]
    rnd = random.Random(7 + seed)
    point = {x: R(rnd.randint(-16, 16), 16) + R(1, 97) for x in net.inputs}  # off the kinks
    piece = forward_values(net, None, "symbolic", at=point)[output]
    expected = [float(sp.diff(piece, net.graph.nodes[x]["symbol"])) for x in net.inputs]
    X = np.array([[float(point[x]) for x in net.inputs]])
    got = gradients.gradient(net, X, 0)[0]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


# ------------------------------------------- (c) a new kind, added in one place
class Absolute(NeuronKind):
    """``x = |z|``: weighted, nonnegative; piecewise linear with slopes ±1."""

    name, nonnegative = "abs", True

    def activation(self, ar, z):
        return ar.maximum([z, -z])

    def slope(self, z):
        return 1 if z > 0 else -1 if z < 0 else 0

    def activate_batch(self, Z):
        return np.abs(Z, out=Z)

    def slope_batch(self, Z):
        return np.sign(Z)


@pytest.fixture
def absolute():
    kind = register(Absolute())  # the one place a new kind is added
    yield kind
    unregister("abs")
    assert "abs" not in registered()


def _abs_net():
    net = Network()
    net.add_input("x1", Box(-1, 1))
    net.add_input("x2", Box(-1, 1))
    net.add_neuron("h1", {"x1": 1, "x2": -2}, kind="abs")
    net.add_neuron("h2", {"x1": 1, "x2": 1}, bias=0)
    net.add_neuron("y", {"h1": 1, "h2": 2}, kind="linear")
    return net


def test_a_new_kind_builds_its_expression_and_symbol(absolute):
    net = _abs_net()
    x1, x2 = (net.graph.nodes[x]["symbol"] for x in ("x1", "x2"))
    h1 = net.graph.nodes["h1"]["symbol"]
    assert h1.is_nonnegative  # the kind is nonnegative: so is its symbol ...
    assert net.input_class("h1") == "positive"  # ... and its successors' inputs
    assert net.rule_for("y").name == "z+" and net.rule_for("h1").name == "zB"
    expr = net.expr("h1")
    for a, b in [(R(1, 2), R(-1, 4)), (R(-1, 2), R(1, 3)), (0, 0)]:
        assert expr.xreplace({x1: a, x2: b}) == abs(a - 2 * b)


def test_a_new_kind_forwards_in_every_pass(absolute):
    net = _abs_net()
    net.outputs = ["h1", "h2", "y"]
    # x = (1/2, 1/2): h1 = |1/2 - 1| = 1/2, h2 = 1, y = 1/2 + 2 = 5/2
    point = {"x1": R(1, 2), "x2": R(1, 2)}
    act = forward_values(net, point)
    assert (act["h1"], act["h2"], act["y"]) == (R(1, 2), 1, R(5, 2))
    assert forward_values(net, point, "float")["y"] == 2.5
    assert forward_values(net, None, "symbolic", at=point)["h1"] == \
        -net.graph.nodes["x1"]["symbol"] + 2 * net.graph.nodes["x2"]["symbol"]  # slope -1 there
    X = np.array([[0.5, 0.5], [-0.5, -1.0]])  # second row: h1 = 3/2, h2 = 0, y = 3/2
    expected = [[0.5, 1.0, 2.5], [1.5, 0.0, 1.5]]
    np.testing.assert_allclose(net.forward(X), expected, atol=1e-15)
    np.testing.assert_allclose(compile(net).forward(X), expected, atol=1e-15)
    # ∂y/∂x: row 1: h1 has slope -1, so (-1·1 + 2·1, -1·-2 + 2·1) = (1, 4); row 2: (1, -2)
    np.testing.assert_allclose(gradients.gradient(net, X, "y"), [[1.0, 4.0], [1.0, -2.0]])


def test_a_new_kind_propagates_with_conservation(absolute):
    net = _abs_net()
    point = {"x1": R(1, 2), "x2": R(-1, 4)}  # h1 = 1, h2 = 1/4, y = 3/2
    exact = propagate(net, point, arithmetic="exact")
    assert exact.output == R(3, 2) and not exact.lost and not exact.zero_denominators
    assert sum(exact.relevance[x] for x in net.inputs) == R(3, 2)  # conservation, exactly
    assert exact.rules["h1"] == "zB" and exact.rules["y"] == "z+"
    flt = propagate(net, {k: float(v) for k, v in point.items()}, arithmetic="float")
    assert flt.relevance["x1"] == pytest.approx(float(exact.relevance["x1"]), abs=1e-14)
    assert sum(flt.relevance[x] for x in net.inputs) == pytest.approx(1.5, abs=1e-14)
    batch = compile(net).explain(np.array([[0.5, -0.25], [-0.5, -1.0]]), target="y")
    np.testing.assert_allclose(batch.relevance.sum(axis=1), [1.5, 1.5], atol=1e-12)
    np.testing.assert_allclose(batch.relevance[0], [float(exact.relevance[x]) for x in net.inputs],
                               atol=1e-12)
