"""Importers: scikit-learn MLPs and PyTorch Sequentials, checked against the frameworks."""
import sys

import numpy as np
import pytest

from symdtd import Box, Network, compile
from symdtd.real.interop import from_sklearn, from_torch, positive_biases
from symdtd.real.models import OUTPUT_NAMES, load_digits_data, load_model


# ------------------------------------------------------------ missing extras
def test_missing_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)       # "import torch" now fails
    with pytest.raises(ImportError, match=r"pip install symdtd\[torch\]"):
        from_torch(object(), (1,))


def test_missing_sklearn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.neural_network", None)
    with pytest.raises(ImportError, match=r"pip install symdtd\[sklearn\]"):
        from_sklearn(object())


def test_positive_biases():
    net = Network.from_dense([[[1.0, 1.0]], [[1.0], [1.0]]], [[0.5, -1.0], [2.0]])
    assert positive_biases(net) == ["h1_1", "y1"]


# ---------------------------------------------------------------- sklearn
@pytest.fixture(scope="module")
def sklearn_nn():
    return pytest.importorskip("sklearn.neural_network",
                               reason="scikit-learn not installed (pip install symdtd[sklearn])")


def fitted(sklearn_nn, cls, y, **kw):
    rng = np.random.default_rng(0)
    X = rng.random((80, 5))
    model = getattr(sklearn_nn, cls)(hidden_layer_sizes=(7, 4), max_iter=200, random_state=0, **kw)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y(X))
    return model, X


def test_from_sklearn_classifier_logits(sklearn_nn):
    model, X = fitted(sklearn_nn, "MLPClassifier", lambda X: (X @ [1, -1, 2, 0, 1] * 2).astype(int) % 3)
    net = from_sklearn(model, Box(0, 1))
    assert net.outputs == ["y0", "y1", "y2"]
    logits = compile(net).forward(X)
    soft = np.exp(logits - logits.max(axis=1, keepdims=True))
    soft /= soft.sum(axis=1, keepdims=True)
    assert np.abs(soft - model.predict_proba(X)).max() < 1e-12
    assert np.array_equal(model.classes_[logits.argmax(axis=1)], model.predict(X))
    # the same weights built by from_dense give the same DTD (the cross-check)
    ref = Network.from_dense(model.coefs_, model.intercepts_, Box(0, 1))
    R1 = compile(net).explain(X, target=1).relevance
    R2 = compile(ref).explain(X, target=1).relevance
    assert np.abs(R1 - R2).max() < 1e-10


def test_from_sklearn_binary_and_regressor(sklearn_nn):
    model, X = fitted(sklearn_nn, "MLPClassifier", lambda X: X[:, 0] > 0.5)
    net = from_sklearn(model)
    assert net.outputs == ["yTrue"]
    assert net.rule_for("h1_1").name == "w2"          # default input domain: Real()
    prob = 1 / (1 + np.exp(-net.forward(X)[:, 0]))
    assert np.abs(prob - model.predict_proba(X)[:, 1]).max() < 1e-12
    reg, X = fitted(sklearn_nn, "MLPRegressor", lambda X: X @ [1, 2, 3, 4, 5])
    net = from_sklearn(reg, output_names=["price"])
    assert net.outputs == ["price"]
    assert np.abs(compile(net).forward(X)[:, 0] - reg.predict(X)).max() < 1e-10


def test_from_sklearn_refuses(sklearn_nn):
    model, _ = fitted(sklearn_nn, "MLPClassifier", lambda X: X[:, 0] > 0.5, activation="tanh")
    with pytest.raises(TypeError, match="activation='tanh'.*activation='relu'"):
        from_sklearn(model)
    with pytest.raises(ValueError, match="not fitted"):
        from_sklearn(sklearn_nn.MLPRegressor())
    with pytest.raises(TypeError, match="supports MLPClassifier and MLPRegressor"):
        from_sklearn("a model")


# ------------------------------------------------------------------ torch
@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch not installed (pip install symdtd[torch])")


def randomized(torch, model, seed=0):
    """Random weights and BatchNorm statistics, eval mode, float64."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * (0.5 if "weight" in name else 0.2))
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.3)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
    return model.eval().double()


def test_from_torch_forward_matches_every_layer_type(torch):
    nn = torch.nn
    model = randomized(torch, nn.Sequential(
        nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
        nn.MaxPool2d(2, stride=1), nn.Conv2d(3, 4, 2),
        nn.ReLU(inplace=True), nn.AvgPool2d(2, padding=1), nn.Dropout(0.3),
        nn.Sequential(nn.Flatten(), nn.Linear(16, 6), nn.BatchNorm1d(6), nn.Dropout(), nn.ReLU()),
        nn.Identity(), nn.Linear(6, 3)))
    X = np.random.default_rng(1).random((7, 2 * 7 * 7))
    net = from_torch(model, (2, 7, 7), Box(0, 1), output_names=["a", "b", "c"])
    with torch.no_grad():
        expected = model(torch.tensor(X).reshape(-1, 2, 7, 7)).numpy()
    assert net.outputs == ["a", "b", "c"]
    assert np.abs(compile(net).forward(X) - expected).max() < 1e-10
    assert np.abs(net.forward(X) - expected).max() < 1e-10


def lrp_torch(torch, model, x, target):
    """zᴮ (box [0, 1]) at the first layer, z⁺ above, proportional average pooling,
    winner-take-all max-pooling (the gradient goes to the winner):
    the gradient formulation of Montavon et al. (2019), independent of symdtd."""
    layers = list(model)
    acts = [x]
    for layer in layers:
        acts.append(layer(acts[-1]))
    R = torch.zeros_like(acts[-1])
    R[:, target] = acts[-1][:, target]
    for k in range(len(layers) - 1, -1, -1):
        layer, a = layers[k], acts[k].detach().requires_grad_(True)
        if isinstance(layer, (torch.nn.ReLU, torch.nn.Flatten)):
            R = R.reshape(a.shape)
            continue

        def rho(module, f):
            new = type(module).__new__(type(module))
            new.__dict__ = dict(module.__dict__)
            new._parameters = {"weight": torch.nn.Parameter(f(module.weight)),
                               "bias": None}
            return new
        if isinstance(layer, (torch.nn.AvgPool2d, torch.nn.MaxPool2d)):
            z = layer(a)
            s = torch.where(z != 0, R / torch.where(z != 0, z, 1), 0)
            (z * s.detach()).sum().backward()
            R = a * a.grad
        elif k == 0:  # zB with l = 0, h = 1
            lo = torch.zeros_like(a).requires_grad_(True)
            hi = torch.ones_like(a).requires_grad_(True)
            z = (rho(layer, lambda w: w)(a) - rho(layer, lambda w: w.clamp(min=0))(lo)
                 - rho(layer, lambda w: w.clamp(max=0))(hi))
            s = torch.where(z != 0, R / torch.where(z != 0, z, 1), 0)
            (z * s.detach()).sum().backward()
            R = a * a.grad + lo * lo.grad + hi * hi.grad  # the grads carry the minus signs
        else:  # z+
            z = rho(layer, lambda w: w.clamp(min=0))(a)
            s = torch.where(z != 0, R / torch.where(z != 0, z, 1), 0)
            (z * s.detach()).sum().backward()
            R = a * a.grad
    return R.reshape(len(x), -1).detach().numpy()


def digits_cnn(torch):
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parents[1] / "scripts" / "train_digits.py"
    spec = importlib.util.spec_from_file_location("train_digits", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from symdtd.real.models import _arrays
    model = module.cnn_module()
    model.load_state_dict({k: torch.tensor(v) for k, v in _arrays("digits_cnn.npz").items()})
    return model.eval().double()


def test_shipped_cnn_cross_checks(torch):
    model = digits_cnn(torch)
    X, _ = load_digits_data()
    imported = from_torch(model, (1, 8, 8), Box(0, 1), output_names=OUTPUT_NAMES)
    shipped = load_model("cnn")
    with torch.no_grad():
        logits = model(torch.tensor(X).reshape(-1, 1, 8, 8)).numpy()
    a, b = compile(imported), compile(shipped)
    assert np.abs(a.forward(X) - logits).max() < 1e-10
    assert np.abs(b.forward(X) - logits).max() < 1e-10
    target = logits.argmax(axis=1)
    Ra, Rb = a.explain(X, target).relevance, b.explain(X, target).relevance
    assert np.abs(Ra - Rb).max() < 1e-10
    reference = np.concatenate([
        lrp_torch(torch, model, torch.tensor(X[k:k + 1]).reshape(1, 1, 8, 8), int(target[k]))
        for k in range(40)])
    assert np.abs(Ra[:40] - reference).max() < 1e-10


def test_random_cnn_dtd_matches_reference(torch):
    nn = torch.nn
    model = randomized(torch, nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2, padding=1),
        nn.Conv2d(4, 3, 3, padding="same"), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(3, 5)), seed=3)
    X = np.random.default_rng(2).random((6, 100))
    net = from_torch(model, (1, 10, 10), Box(0, 1))
    with torch.no_grad():
        logits = model(torch.tensor(X).reshape(-1, 1, 10, 10)).numpy()
    assert np.abs(compile(net).forward(X) - logits).max() < 1e-10
    got = compile(net).explain(X, target=3).relevance
    reference = np.concatenate([lrp_torch(torch, model, torch.tensor(x).reshape(1, 1, 10, 10), 3)
                                for x in X])
    assert np.abs(got - reference).max() < 1e-10
    # a torch MLP equals the same weights built by from_dense
    mlp = randomized(torch, nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2)))
    ref = Network.from_dense([mlp[0].weight.detach().numpy().T, mlp[2].weight.detach().numpy().T],
                             [mlp[0].bias.detach().numpy(), mlp[2].bias.detach().numpy()],
                             Box(0, 1))
    X = X[:, :6]
    R1 = compile(from_torch(mlp, (6,), Box(0, 1))).explain(X, target=0).relevance
    assert np.abs(R1 - compile(ref).explain(X, target=0).relevance).max() < 1e-10


def test_from_torch_refuses_with_names(torch):
    nn = torch.nn
    cases = [
        (nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1)), "Tanh is not supported"),
        (nn.Sequential(nn.Conv2d(2, 2, 1, groups=2)), "groups"),
        (nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.BatchNorm1d(3)), "must directly follow"),
        (nn.Sequential(nn.Conv2d(2, 2, 1), nn.MaxPool2d(2)), "pooling needs inputs ≥ 0"),
        (nn.Sequential(nn.Conv2d(2, 2, 1), nn.ReLU(), nn.AvgPool2d(2, ceil_mode=True)), "ceil_mode"),
        (nn.Sequential(nn.Flatten(0)), "start_dim"),
        (nn.Sequential(nn.Conv2d(2, 2, 2, padding="same")), "odd kernels"),
    ]
    for model, message in cases:
        shape = (4,) if isinstance(model[0], nn.Linear) else (2, 4, 4)
        with pytest.raises(TypeError, match=message) as info:
            from_torch(model.eval(), shape)
        assert "Linear, Conv2d, ReLU" in str(info.value)      # lists what is supported
    with pytest.raises(TypeError, match="torch.nn.Sequential, got object"):
        from_torch(object(), (4,))
    # a module that is not a Sequential is read through torch.fx (tests/test_fx_import.py)
    linear = nn.Linear(4, 1).double().eval()
    X = np.random.default_rng(0).random((3, 4))
    expected = linear(torch.tensor(X)).detach().numpy()
    assert np.abs(from_torch(linear, (4,)).forward(X) - expected).max() < 1e-12
