"""symdtd.compare: each row's relevance and AOPC checked against independent routes.

Relevance: the exact (rational) propagation of the same composite, a different
path from the compiled kernels. AOPC: a slow loop written here with a hand-coded
forward pass, ``1/(L+1) Σ_{k=0}^{L} (f(x) − f(x^(k)))``.
"""
import subprocess
import sys

import numpy as np
import pytest

from symdtd import Box, Network, compare, propagate
from symdtd.cli.app import main
from symdtd.network.composites import GammaAbove, PaperDefault
from symdtd.network.overrides import ByLayer, Everywhere

W1 = [[1.0, -0.5, 0.25], [-1.0, 1.0, 0.5], [0.5, 0.5, -1.0], [0.25, -0.25, 1.0]]
B1 = [-0.25, -0.125, 0.0]
W2 = [[1.0, -1.0], [0.5, 1.0], [1.0, 0.5]]
B2 = [0.0, -0.25]


def network():
    return Network.from_dense([W1, W2], [B1, B2], input_domain=Box(0, 1))


def forward(X):
    H = np.maximum(0, X @ np.array(W1) + B1)
    return H @ np.array(W2) + B2


X = np.array([[1.0, 0.5, 0.25, 0.75], [0.5, 1.0, 1.0, 0.0], [0.25, 0.75, 0.5, 1.0]])


def hand_aopc(X, R, target):
    per_input = []
    for x, r in zip(X, R):
        f0 = forward(x[None])[0, target]
        order = sorted(range(len(x)), key=lambda p: (-r[p], p))
        xk, drops = x.copy(), [0.0]
        for p in order:
            xk[p] = 0.0
            drops.append(f0 - forward(xk[None])[0, target])
        per_input.append(sum(drops) / len(drops))        # 1/(L+1) Σ_{k=0}^{L}
    return float(np.mean(per_input))


def test_network_is_what_the_hand_forward_computes():
    from symdtd.real.evaluate import compiled
    assert np.allclose(compiled(network()).forward(X), forward(X))


def test_rows_match_the_exact_propagation_and_the_hand_aopc():
    rows = {"paper": PaperDefault(), "w2+z+": ByLayer({1: "w2"}) | PaperDefault(),
            "gamma 1": GammaAbove(1), "LRP-0": Everywhere("z")}
    result = compare(network(), X, composites=rows, targets=0, shape=(2, 2))
    assert list(result.relevance) == list(rows)
    names = [f"x{k}" for k in range(1, 5)]
    for label, composite in rows.items():
        for x, r in zip(X, result.relevance[label]):
            e = propagate(network(), dict(zip(names, x)), output="y1", arithmetic="exact",
                          composite=composite)
            assert np.allclose(r, [float(e.relevance[n]) for n in names], atol=1e-12), label
        assert result.aopc[label] == pytest.approx(hand_aopc(X, result.relevance[label], 0))
    assert set(e.rules.values()) == {"z"}                 # LRP-0: the z rule everywhere


def test_the_figure_is_a_grid_with_each_aopc_beside_its_row():
    rows = {"paper": "paper", "LRP-0": "z"}
    result = compare(network(), X[:2], composites=rows, targets=0, shape=(2, 2))
    axes = result.figure.axes
    assert len(axes) == (len(rows) + 1) * 2                 # inputs on top, one row per composite
    labels = [a.get_ylabel() for a in axes if a.get_ylabel()]
    assert labels[1:] == [f"{label}\nAOPC {result.aopc[label]:.3f}" for label in rows]
    assert "AOPC" in str(result) and str(result).count("\n") == len(rows)


def test_predicted_outputs_are_explained_by_default():
    result = compare(network(), X, composites={"paper": "paper"}, shape=(2, 2))
    assert list(result.targets) == list(forward(X).argmax(axis=1))


@pytest.mark.parametrize("args, error, message", [
    (("nope", X), ValueError, "nope"),
    ((3, X), TypeError, "must be a Network"),
    ((None, X[:, :3]), ValueError, "X has 3 values per row; the network has 4 inputs"),
])
def test_bad_arguments(args, error, message):
    model = network() if args[0] is None else args[0]
    with pytest.raises(error, match=message):
        compare(model, args[1], composites={"paper": "paper"})
    with pytest.raises(ValueError, match="composites is empty"):
        compare(network(), X, composites={})
    with pytest.raises(TypeError, match=r"composites\['a'\] must be a Composite"):
        compare(network(), X, composites={"a": 3})


def test_shipped_model_default_rows():
    from symdtd.real.models import load_digits_data
    Xd, _ = load_digits_data()
    result = compare("mlp", Xd[:2], steps=4)
    assert list(result.relevance) == ["zB+z+ (paper)", "w2+z+", "zB+γ (γ=0.25)", "zB+γ (γ=1)",
                                      "LRP-0 (z everywhere)"]
    assert all(np.isfinite(v) for v in result.aopc.values())


def test_cli_compare_writes_a_png(tmp_path, capsys):
    target = tmp_path / "grid.png"
    assert main(["compare", "--digits", "1", "7", "--n", "10", "--steps", "3", "--gamma", "1/2",
                 "-o", str(target)]) == 0
    out = capsys.readouterr().out
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "zB+γ (γ=1/2)" in out and f"wrote {target}" in out and "(L = 3 steps, 10 inputs)" in out


def test_cli_compare_help_states_the_default_output_and_bad_digits_exit_2(capsys):
    result = subprocess.run([sys.executable, "-m", "symdtd.cli.app", "compare", "--help"],
                            capture_output=True, text=True)
    assert "(default: compare.png)" in " ".join(result.stdout.split())
    assert main(["compare", "--digits", "12"]) == 2
    assert "a digit is 0 … 9, got '12'" in capsys.readouterr().err
