"""The dense-stack fast path (symdtd.compiler.stack) against the general pass and exact propagation.

Every check compares with a route that does not use the fast path: the
general block-by-block pass of the same compiled network (the fast path
switched off), ``propagate(..., arithmetic="exact")`` in Rational arithmetic,
or a hand calculation.
"""
import math
import warnings

import numpy as np
import pytest
import sympy as sp
from test_compile import DOMAINS, random_inputs

from symdtd import examples
from symdtd.compiler import compiled as cm
from symdtd.compiler.kernels import BlockTotals, all_above, all_true, row_sums, zero_floor
from symdtd.compiler.stack import DenseStack
from symdtd.core.domains import Box
from symdtd.network.composites import WithParameters
from symdtd.network.graph import Network
from symdtd.network.overrides import ByLayer, ByName
from symdtd.propagation.arithmetic import UNIT_ROUNDOFF, zero_denominator
from symdtd.propagation.backward import propagate

R = sp.Rational


def random_mlp(rng, sizes, mixed_domains):
    """An MLP with dyadic weights (k/4) and biases, some dead units and positive biases."""
    net = Network()
    layer = []
    for i in range(sizes[0]):
        domain = DOMAINS[rng.integers(len(DOMAINS))] if mixed_domains else Box(0, 1)
        net.add_input(f"x{i}", domain)
        layer.append(f"x{i}")
    for k, n in enumerate(sizes[1:], 1):
        last = k == len(sizes) - 1
        names = []
        for j in range(n):
            weights = {p: R(int(rng.integers(-8, 9)), 4) for p in layer}
            bias = R(-int(rng.integers(0, 4)), 4) if rng.random() < 0.85 else R(1, 4)
            if rng.random() < 0.15:     # a dead unit: every weight ≤ 0 and a negative bias
                weights = {p: -abs(w) for p, w in weights.items()}
                bias = R(-1)
            name = f"y{j}" if last else f"h{k}_{j}"
            net.add_neuron(name, weights, bias=bias, kind="linear" if last else "relu")
            names.append(name)
        layer = names
    return net


def general_only(monkeypatch):
    monkeypatch.setattr(DenseStack, "of", classmethod(lambda cls, blocks: None))


def both_paths(monkeypatch, net, **options):
    fast = cm.compile(net, **options)
    with monkeypatch.context() as m:
        general_only(m)
        general = cm.compile(net, **options)
    assert "fast path" in fast.describe() and "fast path" not in general.describe()
    return fast, general


def assert_same_explanations(a, b):
    for name in ("relevance", "output", "target", "neurons"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    ca, cb = a.conservation, b.conservation
    for name in ("residual", "output", "lost", "zero_denominators", "absorbed"):
        np.testing.assert_array_equal(getattr(ca, name), getattr(cb, name), err_msg=name)
    assert [label for label, _ in ca.blocks] == [label for label, _ in cb.blocks]
    for (label, x), (_, y) in zip(ca.blocks, cb.blocks):
        np.testing.assert_array_equal(x, y, err_msg=label)


@pytest.mark.parametrize("seed", range(24))
def test_fast_path_equals_the_general_path_and_exact_propagation(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(2, 6))] + [int(rng.integers(1, 6)) for _ in range(rng.integers(1, 4))]
    net = random_mlp(rng, sizes, mixed_domains=seed % 2 == 1)
    top = "gamma" if len(sizes) >= 3 or seed % 2 == 0 else "z"   # γ wants inputs ≥ 0
    options = [{}, {"parameters": {"gamma": 0.5}, "composite": ByLayer({len(sizes) - 1: top})},
               {"composite": ByLayer({1: "w2"})}][seed % 3]
    absorb = seed % 4 == 0
    fast, general = both_paths(monkeypatch, net, **options)
    X = random_inputs(rng, net, 7)
    t = rng.integers(0, len(net.outputs), len(X))
    composite = options.get("composite")
    if "parameters" in options:
        composite = WithParameters(options["parameters"], composite)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # negative outputs, floats read exactly
        e = fast.explain(X, t, return_neurons=True, absorb_bias=absorb)
        assert_same_explanations(e, general.explain(X, t, return_neurons=True,
                                                    absorb_bias=absorb))
        for r, row in enumerate(X):
            point = {p: R(float(v)) for p, v in zip(net.inputs, row)}
            ex = propagate(net, point, output=net.outputs[t[r]], arithmetic="exact",
                           absorb_bias=absorb, composite=composite)
            scale = max(1.0, abs(float(ex.output)))
            assert e.output[r] == float(ex.output)
            for k, p in enumerate(net.inputs):
                assert abs(e.relevance[r, k] - float(ex.relevance.get(p, 0))) <= 1e-10 * scale
            for k, n in enumerate(e.neuron_names):
                assert abs(e.neurons[r, k] - float(ex.relevance.get(n, 0))) <= 1e-10 * scale
            c = e.conservation
            assert abs(c.lost[r] - float(sum(ex.lost.values()))) <= 1e-10 * scale
            assert abs(c.absorbed[r] - float(sum(ex.absorbed.values()))) <= 1e-10 * scale
            assert c.zero_denominators[r] == len(ex.lost)
    assert np.isfinite(e.relevance).all() and np.isfinite(e.neurons).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_path_float32_and_float64_on_a_wide_mlp(dtype, monkeypatch):
    rng = np.random.default_rng(3)
    W = [rng.normal(0, 0.2, (40, 30)), rng.normal(0, 0.3, (30, 12)), rng.normal(0, 0.3, (12, 5))]
    W[0][:, :3] = -np.abs(W[0][:, :3])              # three dead units in the first layer
    b = [-np.abs(rng.normal(0, 0.1, n)) for n in (30, 12, 5)]
    net = Network.from_dense(W, b, input_domain=Box(0, 1))
    fast, general = both_paths(monkeypatch, net, dtype=dtype)
    X = rng.random((33, 40)).astype(dtype)
    t = rng.integers(0, 5, 33)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        e = fast.explain(X, t, return_neurons=True)
        assert_same_explanations(e, general.explain(X, t, return_neurons=True))
    assert e.relevance.dtype == dtype
    np.testing.assert_array_equal(fast.forward(X), general.forward(X))
    # an independent forward pass: the outputs the relevance starts from
    A = X.astype(np.float64)
    for k, (w, bias) in enumerate(zip(W, b)):
        A = A @ w + bias
        A = np.maximum(A, 0) if k < 2 else A
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(e.output, A[np.arange(33), t], rtol=tol, atol=tol)
    assert e.conservation.conserved().all()


@pytest.mark.parametrize("scale, finite", [(1e30, True), (5e36, False)])
def test_the_quick_zero_test_skips_the_check_for_inf_only_when_z_is_bounded(
        scale, finite, monkeypatch):
    # zB at the inputs of a box: |Z_j| ≤ Σ_i max(|l_i|, |h_i|)·|W_ij| + |c_j|; with weights
    # near float32's largest value that bound exceeds a quarter of it (no Z overflows here)
    rng = np.random.default_rng(8)
    W = [rng.uniform(0.5, 1, (40, 6)) * scale, rng.uniform(0.1, 1, (6, 3)) / scale]
    W[0][:, 0] *= -1
    net = Network.from_dense(W, [np.zeros(6), np.zeros(3)], input_domain=Box(0, 1))
    fast, general = both_paths(monkeypatch, net, dtype=np.float32)
    assert fast._stack.layers[0].finite is finite
    X = rng.random((9, 40)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = fast.explain(X, 0, return_neurons=True)
        assert_same_explanations(e, general.explain(X, 0, return_neurons=True))
    assert np.isfinite(e.relevance).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # NumPy's own overflow warnings
def test_an_overflow_of_float32_is_refused_naming_the_rows(monkeypatch):
    # weights near float32's largest value: X @ W reaches ∞ in some rows, and ∞ − ∞
    # would leak NaN into the relevance; both paths refuse, naming those rows
    rng = np.random.default_rng(8)
    W = [rng.uniform(0.5, 1, (40, 6)) * 2e37, rng.uniform(0.1, 1, (6, 3))]
    W[0][:, 0] *= -1
    net = Network.from_dense(W, [np.zeros(6), np.zeros(3)], input_domain=Box(0, 1))
    fast, general = both_paths(monkeypatch, net, dtype=np.float32)
    X = np.full((4, 40), 0.001, np.float32)
    X[[1, 3]] = 1.0
    with np.errstate(over="ignore"):
        assert np.isinf(X @ W[0].astype(np.float32)).any(axis=1).tolist() == [False, True, False, True]
    for model in (fast, general):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError, match=r"float32 arithmetic overflowed in rows \[1, 3\]"):
                model.explain(X, 0)
    e = cm.compile(net, np.float64).explain(X, 0)   # float64 has the range
    assert np.isfinite(e.relevance).all() and e.conservation.conserved().all()


def test_lost_relevance_of_a_dead_output_by_hand():
    # h = max(0, x1 + x2 - 1/2); y = 2h - 1/2: at x = 0, h = 0 and y = -1/2 has z+'s
    # denominator Σ h·w⁺ = 0, so y's relevance -1/2 is lost (one zero denominator)
    net = Network.from_dense([[[1], [1]], [[2]]], [[R(-1, 2)], [R(-1, 2)]], input_domain=Box(0, 1))
    model = cm.compile(net)
    assert "fast path" in model.describe()
    with pytest.warns(UserWarning, match="x_f < 0"):
        e = model.explain(np.array([[0.0, 0.0], [1.0, 0.5]]))
    assert e.conservation.lost.tolist() == [-0.5, 0.0]
    assert e.conservation.zero_denominators.tolist() == [1, 0]
    # row 2: h = 1, y = 3/2; z+ then zB (all weights positive: R_i ∝ x_i): 1 and 1/2
    assert e.relevance.tolist() == [[0.0, 0.0], [1.0, 0.5]]
    assert e.conservation.conserved().all()


@pytest.mark.parametrize("seed", range(6))
def test_a_box_corner_cancels_to_a_zero_denominator(seed):
    # zB folds −l·w⁺ − h·w⁻ into a constant computed apart from X @ W; at the corner
    # where every q of h1_1 vanishes the two cancel only up to rounding (non-dyadic
    # weights); a positive bias keeps h1_1 active, so its relevance is lost, as exactly
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 0.01, (40, 3))
    net = Network.from_dense([W, np.ones((3, 1))], [[0.5, 0.5, 0.5], [0.0]],
                             input_domain=Box(0, 1))
    model = cm.compile(net)
    assert "fast path" in model.describe()
    X = np.stack([(W[:, 0] < 0).astype(float), rng.random(40)])
    e = model.explain(X, 0)
    assert e.conservation.zero_denominators.tolist() == [1, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the weights are read as their binary values
        for r, row in enumerate(X):
            ex = propagate(net, {p: R(float(v)) for p, v in zip(net.inputs, row)},
                           arithmetic="exact")
            assert len(ex.lost) == e.conservation.zero_denominators[r]
            assert abs(e.conservation.lost[r] - float(sum(ex.lost.values()))) < 1e-12
            for k, p in enumerate(net.inputs):
                assert abs(e.relevance[r, k] - float(ex.relevance.get(p, 0))) < 1e-12
    assert e.conservation.conserved().all()


def test_the_fast_path_is_taken_only_by_plain_dense_stacks():
    mlp = Network.from_dense([[[1, -1], [1, 1]], [[1], [1]]], [[0, -1], [0]],
                             input_domain=Box(0, 1))
    assert "fast path" in cm.compile(mlp).describe()
    assert "fast path" not in cm.compile(mlp, dense_threshold=2.0).describe()   # sparse storage
    h = mlp.layers()[1][0]
    assert "fast path" not in cm.compile(mlp, composite=ByName({h: "w2"})).describe()  # 2 rules
    for name in ("skip_dag", "maxpool"):   # skip connections; pooling
        if name in examples.names():
            assert "fast path" not in cm.compile(examples.get(name)).describe()


def test_a_skip_dag_falls_back_and_equals_exact_propagation():
    net = examples.skip_dag()
    model = cm.compile(net)
    assert "fast path" not in model.describe()
    X = np.array([[1.0, 0.5, 0.25], [0.0, 0.0, 0.0]])
    e = model.explain(X, 0, return_neurons=True)
    for r, row in enumerate(X):
        ex = propagate(net, {p: R(float(v)) for p, v in zip(net.inputs, row)}, arithmetic="exact")
        for k, p in enumerate(net.inputs):
            assert abs(e.relevance[r, k] - float(ex.relevance.get(p, 0))) < 1e-12


def test_return_edges_takes_the_general_path_with_the_same_relevance():
    rng = np.random.default_rng(8)
    net = random_mlp(rng, [4, 5, 3], mixed_domains=False)
    model = cm.compile(net)
    X = random_inputs(rng, net, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = model.explain(X, 1)
        slow = model.explain(X, 1, return_edges=True)
    np.testing.assert_array_equal(fast.relevance, slow.relevance)
    # messages into each input add up to its relevance
    for k, p in enumerate(net.inputs):
        cols = [j for j, (u, _) in enumerate(slow.edge_names) if u == p]
        np.testing.assert_allclose(slow.edges[:, cols].sum(axis=1), slow.relevance[:, k],
                                   atol=1e-12)


@pytest.mark.parametrize("number", ["float64", "float32"])
def test_zero_floor_never_contradicts_the_zero_rule(number):
    rng = np.random.default_rng(11)
    dtype = np.dtype(number)
    for count in (3, 50, 786, 20000):
        c = rng.normal(size=4000).astype(dtype) * 10.0 ** rng.integers(-6, 6, 4000)
        c[:100] = 0
        # P near -c: cancellation at every scale, and ordinary values
        P = (-c * (1 + rng.normal(size=4000) * 10.0 ** rng.integers(-9, 0, 4000))).astype(dtype)
        P[3000:] = rng.normal(size=1000).astype(dtype)
        Z = P + c
        floor = zero_floor(np.abs(c), count, number)
        above = np.abs(Z) > floor
        zero = zero_denominator(Z, np.abs(P) + np.abs(c), count, number)
        assert not (above & zero).any()
        assert above.sum() > 1000        # the shortcut decides most denominators
        # the stack's form: one floor for the layer (its largest column), tested by two
        # reductions; whenever it lets a block of Z through, the full rule finds no zero
        # (on |Z|: the zero rule is symmetric, and the layers' denominators are ≥ 0)
        top, passed = floor.max(), 0
        for cols in np.array_split(np.argsort(-np.abs(Z)), 400):   # largest |Z| first
            if all_above(np.abs(Z[cols]), top):
                assert not zero[cols].any()
                passed += 1
        assert 0 < passed < 400
        assert all_above(Z[3000:3020] ** 2 + 2 * top + 1, top)
        assert not all_above(np.array([1.0, np.inf], dtype), 0)
        assert not all_above(np.array([1.0, np.nan], dtype), 0)
        assert not all_above(np.array([1.0, -2.0], dtype), 0)
    assert zero_floor(np.ones(2), int(0.02 / UNIT_ROUNDOFF["float32"]), "float32") is None


def test_row_sums_and_all_true_against_plain_python():
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        a = rng.normal(size=(7, 300)).astype(dtype)
        exact = [math.fsum(row) for row in a.astype(float).tolist()]
        got = row_sums(a)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, exact, rtol=0, atol=300 * 2 * UNIT_ROUNDOFF[a.dtype.name]
                                   * np.abs(a).sum(axis=1).max())
    assert row_sums(np.zeros((3, 0))).tolist() == [0.0, 0.0, 0.0]
    for shape in [(1, 5), (300, 300)]:
        m = np.ones(shape, bool)
        assert all_true(m) is True
        m[-1, -1] = False
        assert all_true(m) is False


def test_the_fast_paths_block_totals_are_summed_when_read_and_match_a_hand_sum():
    # 2-2-1 net, x = (1, 1/2): h = (max(0, 1 - 1/2), max(0, 1 + 1/2 - 1)) = (1/2, 1/2), y = 1;
    # the totals entering each layer are row sums of its relevance: y holds x_f = 1, and
    # (nothing lost) h's relevance sums to 1 as well; the report lists them by layer
    net = Network.from_dense([[[1, 1], [-1, 1]], [[1], [1]]], [[0, -1], [0]], input_domain=Box(0, 1))
    model = cm.compile(net)
    e = model.explain(np.array([[1.0, 0.5]]), return_neurons=True)
    blocks = e.conservation.blocks
    assert isinstance(blocks, BlockTotals) and blocks.items is None   # not summed yet
    assert len(blocks) == 2
    (lh, th), (ly, ty) = blocks
    assert [lh, ly] == [label for label, _ in model.explain(np.array([[1.0, 0.5]])).conservation.blocks]
    assert th.dtype == ty.dtype == np.float64
    hidden = e.neurons[:, [e.neuron_names.index(n) for n in ("h1_1", "h1_2")]]
    assert th.tolist() == [math.fsum(hidden[0].tolist())] and ty.tolist() == [1.0]
    assert blocks.pending is None and "total 1" in str(e.conservation)
    # totals given (the general path's) are read as they are, the relevance is never needed
    fixed = BlockTotals(["a"], [np.array([2.0])], [None])
    assert fixed[0][1].tolist() == [2.0] and list(fixed)[0][0] == "a"
