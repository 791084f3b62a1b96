"""Compiled explain/forward in row chunks: the same answers as one pass, with flat memory."""
import importlib

import numpy as np
import pytest

from symdtd import compile as compile_network
from symdtd.compiler.batch import join_chunks
from symdtd.core.domains import Box
from symdtd.network.graph import Network
from symdtd.real.models import load_model

cm = importlib.import_module("symdtd.compiler.compiled")  # the module; symdtd.compile is the function


def mlp(rng, sizes=(12, 9, 7, 4)):
    weights = [rng.normal(size=(a, b)) for a, b in zip(sizes, sizes[1:])]
    biases = [-np.abs(rng.normal(size=b)) for b in sizes[1:]]
    return Network.from_dense(weights, biases, input_domain=Box(0, 1))


def assert_same(a, b, tol=1e-12):
    for name in ("relevance", "output", "neurons", "edges"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape and x.dtype == y.dtype, name
        scale = max(1.0, np.abs(x).max())
        assert np.abs(x - y).max() <= tol * scale, name
    assert (a.target == b.target).all()
    ca, cb = a.conservation, b.conservation
    for name in ("residual", "output", "lost", "absorbed"):
        assert np.abs(getattr(ca, name) - getattr(cb, name)).max() <= tol * 10, name
    assert (ca.zero_denominators == cb.zero_denominators).all()
    assert [label for label, _ in ca.blocks] == [label for label, _ in cb.blocks]
    for (_, x), (_, y) in zip(ca.blocks, cb.blocks):
        assert x.shape == (len(a),) and np.abs(x - y).max() <= tol * max(1.0, np.abs(x).max())
    assert a.neuron_names == b.neuron_names and a.edge_names == b.edge_names


@pytest.mark.parametrize("seed, chunk", [(0, 1), (1, 7), (2, 32), (3, 99)])
def test_chunked_equals_unchunked_with_a_ragged_last_chunk(seed, chunk):
    rng = np.random.default_rng(seed)
    net = mlp(rng)
    model = compile_network(net)
    X = rng.random((100, 12))
    X[3] = 0  # a row with zero denominators
    target = rng.integers(0, 4, 100)
    options = {"return_neurons": True, "return_edges": True, "absorb_bias": seed % 2 == 1}
    whole = model.explain(X, target, chunk_size=len(X), **options)
    parts = model.explain(X, target, chunk_size=chunk, **options)
    assert 100 % chunk or chunk == 1  # ragged: the last chunk is shorter (except 1 row)
    assert_same(whole, parts)
    # and rows explained one by one, each on its own, give the same rows
    for r in (0, 3, 99):
        alone = model.explain(X[r:r + 1], target[r:r + 1])
        assert np.abs(alone.relevance[0] - parts.relevance[r]).max() <= 1e-12 * max(
            1.0, np.abs(alone.relevance).max())
    assert np.abs(model.forward(X, chunk_size=chunk) - model.forward(X, chunk_size=100)).max() \
        <= 1e-12 * np.abs(whole.output).max()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("options", [{}, {"return_neurons": True}, {"absorb_bias": True}])
def test_dense_stack_chunks_write_into_the_result_bit_for_bit(dtype, options):
    # the dense-stack fast path computes each chunk's relevance in the result's rows
    rng = np.random.default_rng(4)
    net = mlp(rng)
    model = compile_network(net, dtype)
    assert model._stack is not None
    X = rng.random((50, 12)).astype(dtype)
    X[7] = 0  # zero denominators
    target = rng.integers(0, 4, 50)
    whole = model.explain(X, target, chunk_size=50, **options)
    parts = model.explain(X, target, chunk_size=8, **options)
    assert parts.relevance.flags.c_contiguous and parts.relevance.shape == (50, 12)
    assert (whole.relevance == parts.relevance).all()
    if options.get("return_neurons"):
        assert (whole.neurons == parts.neurons).all()
    for name in ("residual", "output", "lost", "absorbed", "zero_denominators"):
        assert (getattr(whole.conservation, name) == getattr(parts.conservation, name)).all()
    assert whole.conservation.zero_denominators[7] > 0


def test_chunked_cnn_with_pooling_equals_unchunked():
    model = compile_network(load_model("cnn"))
    rng = np.random.default_rng(5)
    X = rng.random((45, 64))
    target = rng.integers(0, 10, 45)
    whole = model.explain(X, target, return_neurons=True, return_edges=True, chunk_size=45)
    assert_same(whole, model.explain(X, target, return_neurons=True, return_edges=True,
                                     chunk_size=16))


def test_default_chunks_split_a_large_batch(monkeypatch):
    model = compile_network(mlp(np.random.default_rng(0)))
    width = 12 + 9 + 7 + 4
    assert model.chunk_rows() == cm.CHUNK_ELEMENTS // width
    assert model.chunk_rows(return_edges=True) == cm.CHUNK_ELEMENTS // (width + model.n_edges)
    # the budget is in bytes: values of half the size, twice the rows
    assert compile_network(mlp(np.random.default_rng(0)), np.float32).chunk_rows() == \
        2 * cm.CHUNK_ELEMENTS // width
    monkeypatch.setattr(cm, "CHUNK_ELEMENTS", 10 * width)  # 10 rows a chunk
    sizes = []
    original = cm.CompiledNetwork._explain

    def spy(self, X, t, **options):
        sizes.append(len(X))
        return original(self, X, t, **options)

    monkeypatch.setattr(cm.CompiledNetwork, "_explain", spy)
    X = np.random.default_rng(1).random((35, 12))
    e = model.explain(X, 0)
    # as few chunks of at most 10 rows as possible, of one size: no short last chunk
    assert sizes == [9, 9, 9, 8] and e.relevance.shape == (35, 12)
    sizes.clear()
    model.explain(X, 0, chunk_size=10)   # a size asked for is kept
    assert sizes == [10, 10, 10, 5]


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                        ("8", TypeError), (True, TypeError)])
def test_bad_chunk_size(bad, error):
    model = compile_network(mlp(np.random.default_rng(0)))
    with pytest.raises(error, match="chunk_size must be a positive integer"):
        model.explain(np.zeros((2, 12)), 0, chunk_size=bad)
    with pytest.raises(error, match="chunk_size"):
        model.forward(np.zeros((2, 12)), chunk_size=bad)


def test_join_chunks_keeps_dtypes_and_labels():
    model = compile_network(mlp(np.random.default_rng(2)), np.float32)
    X = np.random.default_rng(3).random((9, 12))
    parts = [(slice(a, b), model.explain(X[a:b], 1)) for a, b in ((0, 4), (4, 9))]
    joined = join_chunks(parts, 9)
    assert joined.relevance.dtype == np.float32 and joined.relevance.shape == (9, 12)
    assert joined.target.tolist() == [1] * 9
    assert (joined.relevance[4:] == parts[1][1].relevance).all()


def test_negative_outputs_warned_once_with_the_batch_rows():
    from symdtd.propagation.arithmetic import NegativeOutputWarning

    net = Network.from_dense([[[1.0]], [[1.0]]], [[0.0], [-0.5]], input_domain=Box(0, 1))
    X = np.array([[1.0], [1.0], [1.0], [0.0], [0.25]])  # y = relu(x) - 1/2 < 0 in rows 3, 4
    with pytest.warns(NegativeOutputWarning) as caught:
        compile_network(net).explain(X, 0, chunk_size=2)
    assert len(caught) == 1 and "rows [3, 4]" in str(caught[0].message)
    assert caught[0].filename == __file__   # points at the caller, not at symdtd
