"""symdtd.compile: batched NumPy propagation equals the exact path; reports; errors."""
import math

import numpy as np
import pytest
import sympy as sp

from symdtd import examples
from symdtd.compiler.compiled import CompiledNetwork, compile
from symdtd.core.domains import Box, Positive, Real
from symdtd.core.rules import Rule, indicator
from symdtd.network.graph import Network
from symdtd.propagation.backward import propagate

R = sp.Rational
TOL = 1e-10

# inputs are dyadic (k/8) and weights k/4, so activations and denominators are
# exact in floating point and zero denominators are decided exactly as in Rational
DOMAINS = [Box(0, 1), Box(-1, 1), Positive(), Real(), Box(0, math.inf), Box(-math.inf, 2)]
VALUES = {"Box(low=0, high=1)": (0, 8), "Box(low=-1, high=1)": (-8, 8), "Positive()": (0, 24),
          "Real()": (-24, 24), "Box(low=0, high=inf)": (0, 24), "Box(low=-inf, high=2)": (-24, 16)}


def random_network(rng, n_inputs, n_neurons):
    """A random DAG: skip connections, every kind of neuron, rule overrides."""
    net = Network(maxpool=str(rng.choice(["winner", "proportional"])))
    nodes = []
    for i in range(n_inputs):
        net.add_input(f"x{i}", DOMAINS[rng.integers(len(DOMAINS))])
        nodes.append(f"x{i}")
    for j in range(n_neurons):
        name = f"n{j}"
        kind = str(rng.choice(["relu"] * 6 + ["linear", "sumpool", "maxpool"]))
        k = int(rng.integers(1, min(4, len(nodes)) + 1))
        preds = [str(p) for p in rng.choice(nodes, size=k, replace=False)]
        if kind == "sumpool":
            net.add_sum_pool(name, preds)
        elif kind == "maxpool":
            net.add_max_pool(name, preds, rule=rng.choice([None, "winner", "proportional"]))
        else:
            sign = 1 if rng.random() < 0.15 else -1   # some positive biases
            bias = sign * R(int(rng.integers(1 if sign > 0 else 0, 4)), 4)
            rule = rng.choice([None] * 4 + ["z", "z+", "zB", "w2", "gamma"])
            net.add_neuron(name, {p: R(int(rng.integers(-8, 9)), 4) for p in preds},
                           bias=bias, kind=kind, rule=rule)
        nodes.append(name)
    return net


def random_inputs(rng, net, rows):
    cols = []
    for p in net.inputs:
        lo, hi = VALUES[repr(net.graph.nodes[p]["domain"])]
        cols.append(rng.integers(lo, hi + 1, rows) / 8)
    X = np.stack(cols, axis=1)
    X[0] = 0  # an all-zero row: zero denominators
    return X


def assert_matches_exact(net, X, target, model=None, absorb_bias=False):
    """Every row of the compiled batch equals propagate(..., 'exact') to 1e-10."""
    model = model or compile(net)
    e = model.explain(X, target, return_neurons=True, return_edges=True, absorb_bias=absorb_bias)
    target = np.broadcast_to(target, len(X))
    for r, row in enumerate(X):
        point = {p: R(float(v)) for p, v in zip(net.inputs, row)}
        ex = propagate(net, point, output=net.outputs[target[r]], arithmetic="exact",
                       absorb_bias=absorb_bias)
        exact = {"output": ex.output, "lost": sum(ex.lost.values()),
                 "absorbed": sum(ex.absorbed.values())}
        got = {"output": e.output[r], "lost": e.conservation.lost[r],
               "absorbed": e.conservation.absorbed[r]}
        for p in net.inputs:
            exact[p], got[p] = ex.relevance.get(p, 0), e.node(p)[r]
        for n in e.neuron_names:
            exact[n], got[n] = ex.relevance.get(n, 0), e.neurons[r, e.neuron_names.index(n)]
        for k, edge in enumerate(e.edge_names):
            exact[edge], got[edge] = ex.messages.get(edge, 0), e.edges[r, k]
        scale = max(1.0, max(abs(float(v)) for v in exact.values()))
        bad = {k: (float(exact[k]), got[k]) for k in exact
               if not abs(float(exact[k]) - got[k]) <= TOL * scale}
        assert not bad, f"row {r} ({point}): exact vs compiled differ at {bad}"
        assert e.conservation.zero_denominators[r] == len(ex.lost)
        c = e.conservation   # Σ_p R_p = x_f − lost − absorbed, row by row
        assert abs(c.residual[r] + c.lost[r] + c.absorbed[r]) <= TOL * scale
        assert set(ex.positive_bias) <= set(model.positive_bias)
        assert np.isfinite(e.relevance[r]).all()
    return e


@pytest.mark.parametrize("name", examples.names())
def test_examples_equal_exact_propagation(name):
    net = examples.get(name)
    X = np.array([[float(pt[p]) for p in net.inputs] for pt in examples.example_inputs(name)])
    e = assert_matches_exact(net, X, 0)
    assert np.abs(e.conservation.residual).max() < 1e-12


@pytest.mark.parametrize("seed", range(40))
def test_random_dags_equal_exact_propagation(seed):
    rng = np.random.default_rng(seed)
    net = random_network(rng, int(rng.integers(2, 6)), int(rng.integers(3, 10)))
    X = random_inputs(rng, net, 6)
    target = rng.integers(0, len(net.outputs), len(X))
    # both storage paths: everything dense, everything sparse
    model = compile(net, dense_threshold=0.0 if seed % 2 else 2.0)
    assert all(model.rules[n] == getattr(net.rule_for(n), "name", "winner") for n in model.rules)
    assert_matches_exact(net, X, target, model=model, absorb_bias=seed % 3 == 0)


@pytest.mark.parametrize("seed", range(3))
def test_larger_random_dags_with_default_storage(seed):
    rng = np.random.default_rng(50 + seed)
    net = random_network(rng, 8, 40)
    X = random_inputs(rng, net, 5)
    assert_matches_exact(net, X, rng.integers(0, len(net.outputs), len(X)))


@pytest.mark.parametrize("seed", range(6))
def test_float32_close_to_float64(seed):
    rng = np.random.default_rng(100 + seed)
    net = Network.from_dense([rng.normal(size=(20, 8)), rng.normal(size=(8, 3))],
                             [-np.abs(rng.normal(size=8)), np.zeros(3)], input_domain=Box(0, 1))
    X = rng.random((50, 20))
    t = rng.integers(0, 3, 50)
    e64 = compile(net).explain(X, t)
    e32 = compile(net, np.float32).explain(X, t)  # float64 X is converted
    assert e32.relevance.dtype == np.float32 and e64.relevance.dtype == np.float64
    scale = np.abs(e64.relevance).max()
    assert np.abs(e32.relevance - e64.relevance).max() <= 1e-4 * scale
    assert e32.conservation.conserved().all() and e64.conservation.conserved().all()


def zero_denominator_net():
    # h = max(0, x1 + x2 - 1/2); y = 2h - 1/2 (linear): at x = 0, h = 0 and y = -1/2
    # has a zero denominator at y (z+: Σ h·w⁺ = 0), so y's relevance is lost
    return Network.from_dense([[[1], [1]], [[2]]], [[R(-1, 2)], [R(-1, 2)]], input_domain=Box(0, 1))


def test_zero_denominators_give_zero_and_other_rows_conserve():
    net = zero_denominator_net()
    X = np.array([[0.0, 0.0], [1.0, 0.5], [0.25, 0.25], [0.5, 0.75]])
    e = assert_matches_exact(net, X, 0)
    c = e.conservation
    assert np.isfinite(e.relevance).all() and (e.relevance[0] == 0).all()
    assert c.zero_denominators.tolist() == [1, 0, 1, 0]   # x = (1/4, 1/4): h = 0 as well
    assert c.lost[0] == -0.5 and c.residual[0] == 0.5
    assert np.allclose(c.residual[[1, 3]], 0, atol=1e-12)
    assert c.conserved().all()   # residual = −(lost + absorbed) on every row
    assert "rows with zero denominators: 2" in str(c)


@pytest.mark.parametrize("seed", range(10))
def test_cancelling_parts_at_a_box_corner_are_a_zero_denominator(seed):
    # zB folds −l·w⁺ − h·w⁻ into a constant computed apart from X @ W; at the box
    # corner where every q of h1_1 vanishes the two cancel only up to rounding
    # (random, non-dyadic weights). A positive bias keeps h1_1 active, so its
    # relevance is lost (exact path) instead of being spread as rounding noise.
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 0.01, (40, 3))
    net = Network.from_dense([W, np.ones((3, 1))], [[0.5, 0.5, 0.5], [0.0]],
                             input_domain=Box(0, 1))
    X = np.stack([(W[:, 0] < 0).astype(float), rng.random(40)])
    e = assert_matches_exact(net, X, 0)
    assert e.conservation.zero_denominators.tolist() == [1, 0]


def test_positive_bias_reported_and_absorbed():
    net = Network.from_dense([[[1, 1], [1, -1]], [[1], [1]]], [[R(1, 2), 0], [0]],
                             input_domain=Box(0, 1))
    X = np.array([[0.5, 0.25], [1.0, 1.0]])
    model = compile(net)
    assert model.positive_bias == ["h1_1"]
    plain = assert_matches_exact(net, X, 0, model=model)
    absorbed = assert_matches_exact(net, X, 0, model=model, absorb_bias=True)
    assert (plain.conservation.absorbed == 0).all() and (absorbed.conservation.absorbed > 0).all()
    assert absorbed.conservation.conserved().all()


def test_block_totals_and_report_on_an_mlp():
    rng = np.random.default_rng(3)
    net = Network.from_dense([rng.normal(size=(12, 6)), rng.normal(size=(6, 4)),
                              rng.normal(size=(4, 2))],
                             [-np.abs(rng.normal(size=6)), -np.abs(rng.normal(size=4)), [0, 0]],
                             input_domain=Box(0, 1))
    X = rng.random((30, 12))
    e = compile(net).explain(X, target=1)
    labels = [label for label, _ in e.conservation.blocks]
    assert labels == ["generation 1: zB (6 neurons)", "generation 2: z+ (4 neurons)",
                      "generation 3: z+ (2 neurons)"]
    ok = e.conservation.zero_denominators == 0
    for _, total in e.conservation.blocks:   # every layer holds x_f where nothing is lost
        assert np.allclose(total[ok], e.output[ok])
    assert np.allclose(e.relevance.sum(axis=1)[ok], e.output[ok])
    assert e.target.tolist() == [1] * 30 and len(e) == 30


def test_targets_per_row_and_by_name():
    rng = np.random.default_rng(4)
    net = Network.from_dense([rng.normal(size=(5, 4)), rng.normal(size=(4, 3))],
                             [-np.abs(rng.normal(size=4)), np.zeros(3)], input_domain=Box(0, 1))
    model = compile(net)
    X = rng.random((6, 5))
    t = np.array([0, 2, 1, 1, 0, 2])
    e = model.explain(X, t)
    for k in range(3):
        rows = t == k
        assert np.allclose(e.relevance[rows], model.explain(X, k).relevance[rows], atol=1e-14)
    names = [net.outputs[k] for k in t]
    assert np.array_equal(model.explain(X, names).relevance, e.relevance)
    assert np.allclose(e.output, model.forward(X)[np.arange(6), t])


def nonseparable_rule():
    # v = x·1[x w > 0]: q = x w 1[x w > 0] does not split into f(x)·g(w)
    return Rule("contrib+", "positive contributions", Positive(),
                lambda x, w: x * indicator(x * w))  # not registered: the registry is global


def test_non_separable_rule_falls_back_to_edgewise():
    rule = nonseparable_rule()
    net = examples.figure3()
    net.set_rule(["h1", "h2", "y"], rule)
    model = compile(net)
    assert ", edge-wise" in model.describe() and "not separable" in model.source()
    X = np.array([[float(pt[p]) for p in net.inputs] for pt in examples.example_inputs("figure3")])
    assert_matches_exact(net, X, 0, model=model)


def test_describe_source_and_repr():
    model = compile(examples.skip_dag())
    assert repr(model) == ("CompiledNetwork(3 inputs, 1 outputs, 3 generations, 3 blocks, "
                           "float64)")
    assert "generation 3: zB" in model.describe()
    src = model.source()
    assert "def f_1(x, l, h)" in src and "def g_1(w, gamma)" in src and "rule zB" in src
    assert model.rules == {"h1": "zB", "h2": "zB", "h3": "z+", "y": "zB"}
    assert isinstance(model, CompiledNetwork)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(6)
    net = random_network(rng, 4, 10)
    X = random_inputs(rng, net, 8)
    before = X.copy()
    compile(net).explain(X, rng.integers(0, len(net.outputs), 8), return_edges=True)
    assert np.array_equal(X, before)


def test_forward_matches_network_forward():
    rng = np.random.default_rng(5)
    net = random_network(rng, 4, 12)
    X = random_inputs(rng, net, 10)
    assert np.allclose(compile(net).forward(X), net.forward(X), atol=1e-12)
    assert compile(net).forward(X[0]).shape == (1, len(net.outputs))   # 1-D X: one row
    assert compile(net, np.float32).forward(X).dtype == np.float32


# ------------------------------------------------------------------ bad input
@pytest.fixture(scope="module")
def model2():
    return compile(Network.from_dense([[[1, 1], [1, -1]], [[1, 2], [1, 0]]], [[0, 0], [0, 0]],
                                      input_domain=Box(0, 1)))


@pytest.mark.parametrize("X, target, message", [
    (np.zeros((2, 3)), 0, r"X must have shape \(batch, 2\)"),
    (np.zeros((2, 2, 1)), 0, r"X must have shape"),
    (np.zeros((0, 2)), 0, r"X must have shape"),
    (np.zeros((2, 2), dtype=complex), 0, "X must be a real numeric array"),
    (np.zeros((2, 2), dtype=bool), 0, "X must be a real numeric array"),
    ([["a", "b"]], 0, "X must be a real numeric array"),
    ([[0, 0], [0, np.nan], [0, 0]], 0,
     r"X has NaN or inf in rows \[1\]: X\[1, 1\] = nan for input 'x2'"),
    ([[np.inf, 0], [0, 0], [0, -np.inf]], 0, r"NaN or inf in rows \[0, 2\]"),
    ([[0, 0], [0.5, 0.5], [1.5, 0], [0, -0.1]], 0,
     r"outside the input domains in rows \[2, 3\]: X\[2, 0\] = 1.5 for input 'x1' "
     r"\(domain Box\(low=0, high=1\)\)"),
    (np.zeros((3, 2)), 2, r"target out of range 0..1 in rows \[0, 1, 2\]"),
    (np.zeros((3, 2)), [0, -1, 5], r"target out of range 0..1 in rows \[1, 2\]"),
    (np.zeros((3, 2)), [0, 1], r"target must be one index or one per row \(shape \(3,\)\)"),
    (np.zeros((3, 2)), 0.5, "target must be an output index"),
    (np.zeros((3, 2)), None, "target is required: the network has 2 outputs"),
    (np.zeros((3, 2)), "y9", "target 'y9' is not an output"),
])
def test_bad_input(model2, X, target, message):
    with pytest.raises(ValueError, match=message):
        model2.explain(X, target)


def test_forward_checks_values_but_not_domains(model2):
    assert model2.forward([[2.0, -1.0]]).shape == (1, 2)   # outside the box: still defined
    with pytest.raises(ValueError, match="NaN or inf"):
        model2.forward([[np.nan, 0]])
    with pytest.raises(ValueError, match=r"X\[0, 0\] = 1e\+300 \(not finite as float32\)"):
        compile(examples.xor(), np.float32).explain([[1e300, 0]])


def test_compile_errors():
    x = sp.Symbol("a")
    net = examples.xor()
    net.graph.edges["x1", "h1"]["weight"] = x
    with pytest.raises(ValueError, match="weight of edge 'x1' -> 'h1' is a; compile needs numbers"):
        compile(net)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        compile(examples.xor(), np.float16)
    sym = Network()
    sym.add_input("p", Box())
    sym.add_neuron("h", {"p": 1}, rule="zB")
    with pytest.raises(ValueError, match=r"input 'p' has a symbolic Box\(\); rule 'zB'"):
        compile(sym)
    rule = Rule("gamma-nodefault", "γ without default", Positive(),
                lambda x, w, gamma: x * (1 + gamma * indicator(w)))
    net = examples.figure3()
    net.set_rule("y", rule)
    with pytest.raises(ValueError, match="needs parameter 'gamma'"):
        compile(net)
    assert compile(net, parameters={"gamma": 0.5}).explain([[1, 1, 1]]).relevance.shape == (1, 3)


def test_result_accessors():
    e = compile(examples.xor()).explain([[0.75, 0.5]], return_edges=True)
    assert e.message("x1", "h1")[0] == pytest.approx(0.45)
    with pytest.raises(ValueError, match="no edge 'x1' -> 'y'"):
        e.message("x1", "y")
    with pytest.raises(ValueError, match="use return_neurons=True"):
        e.node("h1")
    assert e.node("x2")[0] == pytest.approx(0.3)


def test_rule_kernels_is_the_only_module_that_calls_lambdify():
    import re
    from pathlib import Path

    import symdtd
    package = Path(symdtd.__file__).parent
    callers = sorted(p.relative_to(package).as_posix() for p in package.rglob("*.py")
                     if re.search(r"\blambdify\(", p.read_text(encoding="utf-8")))
    assert callers == ["compiler/rule_kernels.py"]


def test_public_names_of_compile():
    import sys

    compile_module = sys.modules["symdtd.compiler.compiled"]
    assert compile_module.__all__ == ["compile", "CompiledNetwork", "BatchExplanation",
                                      "ConservationReport", "RuleKernel", "Term", "rule_kernel",
                                      "split_separable", "lambdify", "CHUNK_ELEMENTS"]
    for name in compile_module.__all__:
        assert hasattr(compile_module, name), name
    assert compile_module.CompiledNetwork.__module__ == "symdtd.compiler.compiled"
