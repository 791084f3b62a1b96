"""The shipped digits models and data: loading, accuracy, DTD against a from-the-paper MLP."""
import json
from importlib import resources

import numpy as np
import pytest

from symdtd import compile
from symdtd.real.comparison import METHODS, evaluate_models, write_evaluation_figures
from symdtd.real.evaluate import compiled
from symdtd.real.models import digits_train_mean, load_digits_data, load_model, model_info

DATA = resources.files("symdtd").joinpath("data")


def test_shipped_files_are_small():
    total = sum(f.stat().st_size for f in DATA.iterdir())   # Traversable of a real dir
    assert total < 1_000_000


def test_test_data():
    X, y = load_digits_data()
    assert X.shape == (450, 64) and y.shape == (450,)
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(X * 16, np.round(X * 16))          # the data set's 0…16 levels
    counts = np.bincount(y, minlength=10)
    assert counts.sum() == 450 and counts.min() >= 43 and counts.max() <= 46  # stratified
    assert digits_train_mean().shape == (64,)


def test_held_out_images_are_the_real_digits():
    datasets = pytest.importorskip("sklearn.datasets", reason="scikit-learn not installed "
                                   "(pip install symdtd[sklearn])")
    digits = datasets.load_digits()
    with DATA.joinpath("digits_test.npz").open("rb") as fh:
        index = np.load(fh)["index"]
    X, y = load_digits_data()
    assert np.array_equal(X, digits.data[index] / 16.0)
    assert np.array_equal(y, digits.target[index])
    train = np.setdiff1d(np.arange(len(digits.target)), index)
    assert digits_train_mean() == pytest.approx(digits.data[train].mean(axis=0) / 16.0)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_recorded_accuracy_is_reproduced(name):
    X, y = load_digits_data()
    net = load_model(name)
    acc = (net.forward(X).argmax(axis=1) == y).mean()          # the slow, plain forward
    assert acc == pytest.approx(model_info(name)["accuracy"]["test"], abs=1e-4)
    assert acc > 0.95
    assert (compile(net).forward(X).argmax(axis=1) == y).mean() == acc


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_positive_biases_match_the_record(name):
    net = load_model(name)
    recorded = model_info(name)["positive_biases_per_layer"]
    positive = [n for n, d in net.graph.nodes(data=True)
                if d["kind"] in ("relu", "linear") and d["bias"] > 0]
    assert len(positive) == sum(
        # the CNN's record counts channels; each conv channel is H·W neurons
        k * s for k, s in zip(recorded, [1, 1, 1] if name == "mlp" else [64, 16, 1]))
    assert sorted(compiled(net).positive_bias) == sorted(positive)


def test_models_are_fresh_copies_and_names_checked():
    a, b = load_model("mlp"), load_model("mlp")
    a.graph.nodes["h1_1"]["bias"] = 100.0
    assert b.graph.nodes["h1_1"]["bias"] != 100.0
    with pytest.raises(ValueError, match="shipped models are"):
        load_model("resnet")
    assert json.loads(DATA.joinpath("digits_models.json").read_text())["seed"] == 0


def dtd_mlp_reference(Ws, bs, x, target):
    """zᴮ (box [0, 1]) at the input, z⁺ above, written from the rules table of docs/maths.md."""
    acts = [x]
    for k, (W, b) in enumerate(zip(Ws, bs)):
        z = acts[-1] @ W + b
        acts.append(z if k == len(Ws) - 1 else np.maximum(z, 0))
    R = np.zeros(len(acts[-1]))
    R[target] = acts[-1][target]
    for k in range(len(Ws) - 1, -1, -1):
        W, a = Ws[k], acts[k]
        if k == 0:
            q = a[:, None] * W - 0.0 * np.maximum(W, 0) - 1.0 * np.minimum(W, 0)
        else:
            q = a[:, None] * np.maximum(W, 0)
        den = q.sum(axis=0)
        R = q @ np.divide(R, den, out=np.zeros_like(R), where=den != 0)
    return R


def test_mlp_dtd_matches_reference():
    with DATA.joinpath("digits_mlp.npz").open("rb") as fh:
        arrays = dict(np.load(fh))
    Ws = [arrays[f"W{k}"].astype(float) for k in range(3)]
    bs = [arrays[f"b{k}"].astype(float) for k in range(3)]
    X, y = load_digits_data()
    X, y = X[:60], y[:60]
    got = compile(load_model("mlp")).explain(X, target=y).relevance
    expected = np.array([dtd_mlp_reference(Ws, bs, x, t) for x, t in zip(X, y)])
    assert np.abs(got - expected).max() < 1e-10


def test_evaluation_ranks_dtd_above_sensitivity_and_random():
    # the field's expectation (Samek et al. 2017), on all 450 held-out digits
    ev = evaluate_models(methods=["DTD zB+z+", "sensitivity", "random"], baselines=["zero"])
    for model in ("mlp", "cnn"):
        dtd, sens, rand = (ev.flips[model, m, "zero"] for m in ev.methods)
        assert dtd.aopc > sens.aopc > rand.aopc
        low = ev.compare(model, "DTD zB+z+", "sensitivity", "zero")[1][0]
        assert low > 0                        # paired 95 % CI above zero
        diff = dtd.aopc_per_input - rand.aopc_per_input
        assert ev.compare(model, "DTD zB+z+", "random", "zero")[0] == pytest.approx(diff.mean())
    text = ev.table()
    assert "DTD zB+z+" in text and "random" in text and "450 held-out" in text


def test_evaluation_table_and_figures(tmp_path):
    import matplotlib.image

    ev = evaluate_models(["cnn"], METHODS, n=12, steps=6, patch=2)
    assert len(ev.flips) == len(METHODS) * 2
    assert ev.steps == 6 and all(r.curves.shape == (12, 7) for r in ev.flips.values())
    assert all(m in ev.table() for m in METHODS)
    paths = write_evaluation_figures(ev, tmp_path, n_examples=2, dpi=40)
    assert [p.name for p in paths] == ["digits_heatmaps_cnn.png", "digits_pixel_flipping.png"]
    for p in paths:
        assert matplotlib.image.imread(p).ndim == 3
    assert json.dumps(ev.as_dict())
    with pytest.raises(ValueError, match="unknown method"):
        evaluate_models(["mlp"], ["lime"])
    with pytest.raises(ValueError, match="unknown baseline"):
        evaluate_models(["mlp"], ["random"], baselines=["noise"])
