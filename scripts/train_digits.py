"""Train the two shipped digits models and write them to symdtd/data/ (seeded, reproducible).

Data: scikit-learn's digits (1797 images of 8×8 pixels, values 0…16), scaled
to [0, 1] so that zᴮ with the box [0, 1] applies at the input; a stratified
held-out quarter (450 images, seed 0) is never seen in training.

Models:

- ``mlp``: scikit-learn ``MLPClassifier`` 64-32-16-10, ReLU, Adam, seed 0;
- ``cnn``: PyTorch ``Sequential``: Conv2d(1→8, 3×3, pad 1) – ReLU –
  AvgPool2d(2) – Conv2d(8→16, 3×3, pad 1) – ReLU – AvgPool2d(2) – Flatten –
  Linear(64→10); Adam (lr 0.01), 80 epochs, seed 0, one thread, deterministic kernels.

Written files (float32 weights, uint8 pixels; well under 100 kB together):

- ``digits_mlp.npz``: ``W0, W1, W2`` of shape ``(n_in, n_out)`` and ``b0, b1, b2``;
- ``digits_cnn.npz``: PyTorch's ``state_dict`` names (``0.weight``, …);
- ``digits_test.npz``: ``X`` (450×64 uint8, 0…16), ``y``, ``index`` into
  ``load_digits()``, ``train_mean`` (the mean training image in [0, 1], a
  pixel-flipping baseline);
- ``digits_models.json``: architectures, accuracies, seeds, versions.

Usage::

    python scripts/train_digits.py [--out symdtd/data] [--check]

``--check`` trains again and compares with the files in ``--out`` instead of
writing (reproducibility check; needs the same library versions).
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

SEED = 0
CNN_EPOCHS = 80


def load_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    index = np.arange(len(digits.target))
    train, test = train_test_split(index, test_size=0.25, random_state=SEED,
                                   stratify=digits.target)
    raw = digits.data.astype(np.uint8)  # 0…16: exact, small on disk
    return raw, digits.target.astype(np.int64), np.sort(train), np.sort(test)


def train_mlp(X, y):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(hidden_layer_sizes=(32, 16), activation="relu", solver="adam",
                          alpha=1e-4, learning_rate_init=1e-2, max_iter=300,
                          random_state=SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    # stored in float32; predictions below use exactly the stored values
    model.coefs_ = [W.astype(np.float32).astype(np.float64) for W in model.coefs_]
    model.intercepts_ = [b.astype(np.float32).astype(np.float64) for b in model.intercepts_]
    return model


def cnn_module():
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(64, 10))


def train_cnn(X, y):
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    model = cnn_module()
    Xt = torch.tensor(X, dtype=torch.float32).reshape(-1, 1, 8, 8)
    yt = torch.tensor(y)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(SEED)
    for _ in range(CNN_EPOCHS):
        for batch in torch.randperm(len(Xt), generator=gen).split(64):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(Xt[batch]), yt[batch])
            loss.backward()
            opt.step()
    model.eval()
    return model


def cnn_predict(model, X):
    import torch

    with torch.no_grad():
        logits = model.double()(torch.tensor(X, dtype=torch.float64).reshape(-1, 1, 8, 8))
    model.float()
    return logits.numpy()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(pathlib.Path(__file__).parents[1] / "symdtd" / "data"))
    parser.add_argument("--check", action="store_true",
                        help="train again and compare with the stored files instead of writing")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)

    import sklearn
    import torch

    raw, y, train, test = load_split()
    X = raw / 16.0
    mlp = train_mlp(X[train], y[train])
    cnn = train_cnn(X[train], y[train])
    cnn_state = {k: v.detach().numpy().astype(np.float32) for k, v in cnn.state_dict().items()}
    cnn.load_state_dict({k: torch.tensor(v) for k, v in cnn_state.items()})

    mlp_arrays = {f"W{k}": W.astype(np.float32) for k, W in enumerate(mlp.coefs_)}
    mlp_arrays |= {f"b{k}": b.astype(np.float32) for k, b in enumerate(mlp.intercepts_)}
    accuracy = {
        "mlp": {"train": float(mlp.score(X[train], y[train])),
                "test": float(mlp.score(X[test], y[test]))},
        "cnn": {"train": float((cnn_predict(cnn, X[train]).argmax(1) == y[train]).mean()),
                "test": float((cnn_predict(cnn, X[test]).argmax(1) == y[test]).mean())},
    }
    positive = {
        "mlp": [int((b > 0).sum()) for b in mlp.intercepts_],
        "cnn": [int((v > 0).sum()) for k, v in cnn_state.items() if k.endswith("bias")],
    }
    meta = {
        "data": {"source": "sklearn.datasets.load_digits", "scale": "pixel / 16, in [0, 1]",
                 "split": "train_test_split(test_size=0.25, stratify=y, random_state=0)",
                 "n_train": int(len(train)), "n_test": int(len(test))},
        "mlp": {"architecture": "64-32-16-10 ReLU MLP (sklearn MLPClassifier, logits explained)",
                "layers": [64, 32, 16, 10], "file": "digits_mlp.npz"},
        "cnn": {"architecture": "Conv2d(1,8,3,pad 1)-ReLU-AvgPool2d(2)-Conv2d(8,16,3,pad 1)-"
                                "ReLU-AvgPool2d(2)-Flatten-Linear(64,10)",
                "epochs": CNN_EPOCHS, "file": "digits_cnn.npz"},
        "accuracy": accuracy,
        "positive_biases_per_layer": positive,
        "seed": SEED,
        "versions": {"scikit-learn": sklearn.__version__, "torch": torch.__version__,
                     "numpy": np.__version__},
        "script": "scripts/train_digits.py",
    }
    if args.check:
        stored = np.load(out / "digits_mlp.npz")
        same_mlp = all(np.array_equal(stored[k], v) for k, v in mlp_arrays.items())
        stored = np.load(out / "digits_cnn.npz")
        same_cnn = all(np.array_equal(stored[k], v) for k, v in cnn_state.items())
        print(json.dumps({"mlp_identical": same_mlp, "cnn_identical": same_cnn,
                          "accuracy": accuracy}, indent=1))
        return 0 if same_mlp and same_cnn else 1
    # atomic: an interrupted run leaves the shipped files as they were
    from symdtd.core.files import atomic_path, atomic_write_text

    def save_arrays(name, **arrays):
        with atomic_path(out / name) as temp, open(temp, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    save_arrays("digits_mlp.npz", **mlp_arrays)
    save_arrays("digits_cnn.npz", **cnn_state)
    save_arrays("digits_test.npz", X=raw[test], y=y[test].astype(np.uint8),
                index=test.astype(np.int16), train_mean=X[train].mean(axis=0))
    atomic_write_text(out / "digits_models.json", json.dumps(meta, indent=1) + "\n")
    print(json.dumps(meta["accuracy"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
