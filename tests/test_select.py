"""Rule selection (symdtd.select), its Dask scheduling and explain_dataset.

The known-best test builds a network where one rule must win and checks the
whole table against an independent re-implementation (the rules' closed
forms for one linear layer and AOPC computed from the linear output). The
Dask tests compare every per-row float and every sum with the in-process
run for exact equality.
"""
import json
import os
import signal

import numpy as np
import pytest

from symdtd import Box, Network, compile, propagate
from symdtd.network.composites import Composite, PaperDefault
from symdtd.real.dask_run import Tally
from symdtd.real.selection import select
from symdtd.real.selection_rows import split_rows
from symdtd.real.selection_space import Candidate, SearchSpace, candidates

W = np.array([2.0, 1.5, -1.0, 0.5, -0.7, 1.0, -0.8, 0.3])
BIAS = 0.5


def linear_net():
    """``y = Σ_i w_i x_i + b`` on the box [0, 1]: one linear layer, fed by the inputs."""
    return Network.from_dense([W[:, None]], [[BIAS]], Box(0, 1))


def linear_data(n=60, seed=1):
    """Rows in [0.05, 0.95], the positive-weight inputs ≥ 0.5, so that Σ_i x_i w_i > 0 in every row
    (0.5 · 5.3 − 0.95 · 2.5 > 0): the z rule's relevance is then a positive multiple of x_i w_i."""
    X = np.random.default_rng(seed).uniform(0.05, 0.95, (n, len(W)))
    X[:, W > 0] = np.maximum(X[:, W > 0], 0.5)
    return X


def closed_form_relevance(rule, X):
    """The rules on one linear layer with inputs in [0, 1], from their closed forms (up to a
    positive factor per row, which does not change the flipping order)."""
    wp, wm = np.maximum(W, 0), np.minimum(W, 0)
    return {"z": X * W, "z+": X * wp, "w2": np.broadcast_to(W ** 2, X.shape),
            "zB": X * W - 0 * wp - 1 * wm}[rule]


def aopc_linear(X, R, baseline=0.0):
    """AOPC of a linear output by hand: removing input i changes f by (x_i − baseline) w_i."""
    out = []
    for x, r in zip(X, R):
        order = np.argsort(-r, kind="stable")             # the highest first, ties: lower index
        drops = np.concatenate([[0.0], np.cumsum(((x - baseline) * W)[order])])
        out.append(drops.mean())                           # mean over k = 0..L of f(x) − f(x^(k))
    return np.array(out)


SPACE = SearchSpace(input_rules=("zB", "w2", "z+", "z"), rules=("z+",), absorb_bias=(False,))


def test_the_rule_that_must_win_is_found_and_every_figure_matches_a_hand_computation():
    """For a linear output with the blank baseline 0, removing input i lowers f by exactly
    c_i = x_i w_i, so AOPC is largest at every step when inputs go in decreasing c_i: the
    z rule's order (R_i ∝ x_i w_i). z⁺ ties every negative contribution at 0, zᴮ ranks
    negative weights ahead (|w|(1 − x) > 0), w² ignores x: each loses to z."""
    X = linear_data()
    assert ((X * W).sum(axis=1) > 0).all()
    result = select(linear_net(), X, space=SPACE, baselines={"blank": 0.0, "mean": 0.5},
                    scheduler="sync", chunk_rows=16)
    assert result.best.label == "z"
    sel, held = result.selection_rows, result.held_out_rows
    for c in result.candidates:
        for name, base in (("blank", 0.0), ("mean", 0.5)):
            expected = aopc_linear(X, closed_form_relevance(c.label, X), base)
            np.testing.assert_allclose(result.scores[c.label, name].values, expected[sel], rtol=1e-12)
    optimum = aopc_linear(X, X * W)
    assert all(result.scores[c.label, "blank"].mean < result.scores["z", "blank"].mean - 1e-3
               for c in result.candidates if c.label != "z")
    # the held-out figures come from the held-out rows, the paired differences from the same rows
    np.testing.assert_allclose(result.held_out["z", "blank"].values, optimum[held], rtol=1e-12)
    default = aopc_linear(X, closed_form_relevance("zB", X))[held]
    d = result.comparisons["paper default (zB, z+)", "blank"]
    np.testing.assert_allclose(d.values, optimum[held] - default, rtol=1e-12, atol=1e-12)
    gxi = aopc_linear(X, X * W)[held]   # gradient × input of a linear map is x_i w_i: the same order
    np.testing.assert_allclose(result.comparisons["gradient x input", "blank"].values,
                               optimum[held] - gxi, atol=1e-12)
    text = str(result)
    assert "5 candidates" not in text and "4 candidates" in text and "held-out" in text


def test_splits_are_disjoint_and_cover_the_rows():
    X = linear_data(50)
    y = np.arange(50) % 3
    result = select(linear_net(), X, y, space=SPACE, scheduler="sync")
    sel, held = result.selection_rows, result.held_out_rows
    assert not set(sel.tolist()) & set(held.tolist())
    assert sorted(sel.tolist() + held.tolist()) == list(range(50))
    assert result.scores["z", "blank"].count == len(sel) and result.held_out["z", "blank"].count == len(held)
    for c in range(3):   # stratified: each class split about in half
        assert abs((y[sel] == c).sum() - (y[held] == c).sum()) <= 1
    a, b = split_rows(50, y, 0.3, seed=4)
    assert not set(a.tolist()) & set(b.tolist()) and len(a) + len(b) == 50


def test_tally_sums_exactly_whatever_the_chunking():
    values = np.random.default_rng(0).normal(size=1000) * 1e8
    import math
    whole = Tally([values])
    parts = Tally([values[:7], values[7:500], values[500:]])
    assert whole.total == parts.total == math.fsum(values.tolist()) and whole.count == 1000


def test_the_winner_round_trips_through_json_and_drives_compile_and_propagate(tmp_path):
    X = linear_data(30)
    result = select(linear_net(), X, space=SPACE, scheduler="sync")
    path = result.best.save(tmp_path / "best.json")
    back = Candidate.load(path)
    assert back == result.best and back.composite == result.best_composite
    assert Composite.from_dict(json.loads(path.read_text())["composite"]) == result.best_composite
    net = linear_net()
    R = compile(net, composite=back.composite).explain(X[:3], 0).relevance
    np.testing.assert_allclose(R / R.sum(axis=1, keepdims=True),
                               X[:3] * W / (X[:3] * W).sum(axis=1, keepdims=True), rtol=1e-12)
    e = propagate(net, {f"x{i + 1}": float(v) for i, v in enumerate(X[0])}, arithmetic="float",
                  composite=back.composite)
    assert set(e.rules.values()) == {"z"}


def test_candidates_of_a_space_fit_the_layers_or_are_skipped_or_refused():
    net = Network.from_dense([[[1.0], [-1.0]], [[2.0]]], input_domain=Box(-1, 1))
    space = SearchSpace(input_rules=("zB", "z+"), rules=("z+", "gamma"), gammas=(0.5,))
    found, skipped = candidates(net, space)
    assert [c.label for c in found] == ["zB | z+", "zB | z+ | b+ absorbed", "zB | γ=0.5",
                                        "zB | γ=0.5 | b+ absorbed"]
    assert len(skipped) == 4 and all("z+" in why and "Box(low=-1" in why for _, why in skipped)
    with pytest.raises(ValueError, match=r"candidate 'z\+ \| z\+': neuron 'h1_1': rule 'z\+'"):
        candidates(net, space, on_misfit="refuse")
    X = np.array([[0.5, -0.25], [-0.5, 0.75], [0.1, 0.2], [0.9, -0.9]])
    result = select(net, X, space=space, scheduler="sync")
    assert len(result.candidates) == 4 and len(result.skipped) == 4 and "skipped 4" in str(result)


def test_a_layer_network_is_searched_through_its_neuron_view_with_the_max_pooling_modes():
    from symdtd.network import LayerNetwork
    from symdtd.network.join_layers import Flatten
    from symdtd.network.layers import Conv2d, Dense
    from symdtd.network.pool_layers import MaxPool2d

    rng = np.random.default_rng(0)
    net = LayerNetwork()
    net.add_input("x", (1, 6, 6), Box(0, 1))
    net.add_layer("conv", Conv2d(rng.normal(size=(2, 1, 3, 3)), bias=[-0.1, -0.2]))
    net.add_layer("pool", MaxPool2d(2))
    net.add_layer("flat", Flatten())
    net.add_layer("y", Dense(np.abs(rng.normal(size=(3, 8))), activation="linear"))
    space = SearchSpace(input_rules=("zB",), rules=("z+",), absorb_bias=(False,),
                        maxpool=("winner", "proportional"))
    result = select(net, rng.uniform(size=(24, 36)), space=space, scheduler="sync")
    assert [c.label for c in result.candidates] == ["zB | z+ | maxpool winner", "zB | z+ | maxpool proportional"]
    view = net.neurons()
    X = rng.uniform(size=(3, 36))
    for c in result.candidates:   # the composite carries the pooling mode: the winner's max is its relevance
        e = compile(view, composite=c.composite).explain(X, 0)
        assert e.relevance.shape == (3, 36)
    assert (compile(view, composite=result.candidates[0].composite).rules
            != compile(view, composite=result.candidates[1].composite).rules)


def _no_work(monkeypatch):
    import symdtd.real.selection as selection

    def fail(*args, **kwargs):
        raise AssertionError("work started")
    monkeypatch.setattr(selection, "run_tasks", fail)


@pytest.mark.parametrize("kwargs, message", [
    ({"space": SearchSpace(rules=())}, "rules is empty"),
    ({"space": SearchSpace(input_rules=("zB", "nope"))}, "unknown rule 'nope'"),
    ({"space": SearchSpace(gammas=(0.5, 0.5))}, "gammas lists a choice twice"),
    ({"split": (np.arange(0, 20), np.arange(15, 30))}, "overlap in 5 row"),
    ({"split": 1.0}, "strictly between 0 and 1"),
    ({"metric": "auc"}, "metric must be one of"),
    ({"baseline": "median"}, "baseline 'median' is not one of"),
    ({"on_misfit": "ignore"}, "on_misfit must be"),
    ({"target": "label"}, "target must be"),
])
def test_bad_input_is_refused_before_any_work(monkeypatch, kwargs, message):
    _no_work(monkeypatch)
    with pytest.raises(ValueError, match=message):
        select(linear_net(), linear_data(30), **kwargs)


def test_nan_and_out_of_domain_rows_are_refused_before_any_work(monkeypatch):
    _no_work(monkeypatch)
    X = linear_data(30)
    X[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf in 1 row\(s\), e.g. rows \[7\]"):
        select(linear_net(), X)
    X[7, 2] = 1.5
    with pytest.raises(ValueError, match="outside the input domains in rows \\[7\\]"):
        select(linear_net(), X)
    with pytest.raises(ValueError, match=r"rule .z\+. assumes inputs in .*on_misfit=.skip"):
        select(Network.from_dense([[[1.0]], [[1.0]]], input_domain=Box(-1, 1)), [[0.5], [-0.5]],
               space=SearchSpace(input_rules=("z+",)), on_misfit="refuse")


def assert_same(a, b):
    """Every per-row value and every sum equal, bit for bit."""
    assert a.best == b.best
    for table in ("scores", "held_out", "comparisons"):
        ta, tb = getattr(a, table), getattr(b, table)
        assert ta.keys() == tb.keys()
        for k in ta:
            assert np.array_equal(ta[k].values, tb[k].values), (table, k)
            assert ta[k].total == tb[k].total and ta[k].count == tb[k].count


def _mlp_case():
    from symdtd.real.models import load_digits_data
    X, y = load_digits_data()
    space = SearchSpace(input_rules=("zB", "z+"), rules=("z+", "gamma"), gammas=(0.25,),
                        absorb_bias=(False,))
    return X[:80], y[:80], {"space": space, "steps": 8, "chunk_rows": 16}


def test_dask_threads_give_the_in_process_floats_exactly():
    pytest.importorskip("dask")
    X, y, options = _mlp_case()
    calls = []
    threaded = select("mlp", X, y, scheduler="threads", workers=2,
                      progress=lambda d, t, label: calls.append((label, d, t)), **options)
    chunks = [-(-len(rows) // 16) for rows in (threaded.selection_rows, threaded.held_out_rows)]
    for phase, tasks in (("selection split", 4 * chunks[0]), ("held-out split", 3 * chunks[1])):
        assert [c[1:] for c in calls if c[0] == phase] == [(k, tasks) for k in range(1, tasks + 1)]
    assert_same(select("mlp", X, y, scheduler="sync", **options), threaded)


def _cluster():
    pytest.importorskip("distributed")
    from symdtd.real.dask_cluster import local_cluster
    return local_cluster(2)


@pytest.mark.slow
def test_a_local_cluster_gives_the_in_process_floats_exactly():
    X, y, options = _mlp_case()
    with _cluster() as client:
        on_cluster = select("mlp", X, y, client=client, **options)
    assert_same(select("mlp", X, y, scheduler="sync", **options), on_cluster)


@pytest.mark.slow
def test_a_worker_killed_mid_run_still_gives_the_whole_equal_result():
    X, y, options = _mlp_case()
    killed = []
    with _cluster() as client:
        def kill_one(done, total, label):
            if not killed:   # after the first finished task: SIGKILL one worker process
                pids = client.run(os.getpid)
                address, pid = sorted(pids.items())[0]
                os.kill(pid, signal.SIGKILL)
                killed.append((address, done, total))
        on_cluster = select("mlp", X, y, client=client, progress=kill_one, **options)
    assert killed and killed[0][1] < killed[0][2]   # killed mid-run
    assert_same(select("mlp", X, y, scheduler="sync", **options), on_cluster)


def test_a_failing_task_on_a_cluster_is_an_error_not_a_partial_table(monkeypatch):
    distributed = pytest.importorskip("distributed")
    import symdtd.real.dask_run as dask_run

    original = dask_run.score_chunk
    monkeypatch.setattr(dask_run, "score_chunk", _Wrapped(original))
    with distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with pytest.raises(RuntimeError, match=r"\(z\+ rows .*failed on the cluster.*no partial"):
            select(linear_net(), linear_data(30), space=SPACE, client=client)


class _Wrapped:
    """score_chunk, failing for the z⁺ candidate (threads in this process see it)."""

    def __init__(self, original):
        self.original = original

    def __call__(self, network, candidate, *args):
        if candidate.label == "z+":
            raise MemoryError("simulated")
        return self.original(network, candidate, *args)


@pytest.mark.filterwarnings("ignore::symdtd.propagation.arithmetic.NegativeOutputWarning")
def test_explain_dataset_is_chunked_and_equals_the_compiled_explanation(tmp_path):
    pytest.importorskip("dask")
    from symdtd.real.dataset import explain_dataset
    from symdtd.real.models import load_digits_data, load_model

    X, _ = load_digits_data()
    X = X[:100]
    net = load_model("mlp")
    maps = explain_dataset(net, X, chunk_rows=32, composite=PaperDefault())
    assert maps.relevance.chunks == ((32, 32, 32, 4), (64,))
    model = compile(net)
    t = model.forward(X).argmax(axis=1)
    e = model.explain(X, t)
    R = maps.relevance.compute()
    np.testing.assert_allclose(R, e.relevance, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(maps.output.compute(), model.forward(X).max(axis=1), rtol=1e-12)
    np.testing.assert_allclose(maps.residual.compute(), R.sum(axis=1) - maps.output.compute(), atol=1e-9)
    paths = maps.write(tmp_path / "maps")
    assert len(paths) == 3 * 4
    back = np.concatenate([np.load(tmp_path / "maps" / f"relevance_{k:05d}.npy") for k in range(4)])
    np.testing.assert_array_equal(back, R)
    fixed = explain_dataset(net, X[:10], target=3, chunk_rows=4)
    np.testing.assert_allclose(fixed.relevance.compute(), model.explain(X[:10], 3).relevance, atol=1e-12)
    with pytest.raises(ValueError, match="fmt must be"):
        maps.write(tmp_path / "x", fmt="hdf5")
    with pytest.raises(ValueError, match="NaN"):
        explain_dataset(net, np.full((2, 64), np.nan))


def test_the_select_command_prints_the_report_and_writes_the_winner(tmp_path, capsys):
    from symdtd.cli.app import main
    out = tmp_path / "best.json"
    assert main(["select", "mlp", "--n", "60", "--steps", "4", "--gammas", "0.25", "--bias", "keep",
                 "--chunk-rows", "30", "-q", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "9 candidates" in text and "paired difference winner" in text and "held-out split" in text
    best = Candidate.load(out)
    assert best.label in text.split("winner (")[1].splitlines()[0]
    assert main(["select", "mlp", "--n", "900"]) == 2
