"""``symdtd explain MODEL.pt --input IMAGE.png``: saved torch models explained on image files.

The saved relevance is compared with the Python API on the same pixels (pixels read by
Pillow here, not by symdtd), the class with torch's own argmax, ΣR with torch's logit
(conservation: biases ≤ 0); bad input gives one line on stderr and exit code 2."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="saved models need PyTorch (pip install symdtd[torch])")
from PIL import Image  # noqa: E402

from symdtd.cli.app import main  # noqa: E402
from symdtd.compiler.layer_pass import compile_layers  # noqa: E402
from symdtd.core.domains import Box  # noqa: E402


def tiny_model(seed=0, channels=3):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(channels, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(24, 5))
    with torch.no_grad():   # biases ≤ 0: relevance is conserved
        for m in model:
            if hasattr(m, "bias"):
                m.bias.copy_(-m.bias.abs())
    return model.double().eval()


class Residual(torch.nn.Module):
    """Not a Sequential: a skip connection, traced by torch.fx."""

    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 3, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(3, 3, 3, padding=1)
        self.head = torch.nn.Linear(3 * 6 * 6, 4)

    def forward(self, x):
        y = torch.relu(self.conv2(torch.relu(self.conv1(x))) + x)
        return self.head(torch.flatten(torch.nn.functional.max_pool2d(y, 2), 1))


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    pixels = [rng.integers(0, 256, size=(12, 12, 3), dtype=np.uint8) for _ in range(3)]
    for k, p in enumerate(pixels):
        Image.fromarray(p).save(tmp_path / f"img{k}.png")
    Image.fromarray(pixels[0][:, :, 0]).save(tmp_path / "grey.png")
    torch.save(tiny_model(), tmp_path / "model.pt")
    return tmp_path, [p.transpose(2, 0, 1) / 255.0 for p in pixels]


def python_api(model, X, targets, domain=None):
    from symdtd.real.fx_import import layers_from_torch
    net = layers_from_torch(model, X.shape[1:], domain or Box(0, 1))
    return compile_layers(net).explain(X, targets).relevance


def test_heatmaps_and_relevance_equal_the_python_api(files, capsys):
    tmp, pixels = files
    images = [str(tmp / f"img{k}.png") for k in range(3)]
    code = main(["explain", str(tmp / "model.pt"), "--input", *images, "-o", str(tmp / "out" / "h.png"),
                 "--save-relevance", str(tmp / "r.npy"), "--batch-size", "2"])
    out = capsys.readouterr().out
    assert code == 0, out
    X = np.stack(pixels)
    model = tiny_model()
    logits = model(torch.from_numpy(X)).detach().numpy()
    top = logits.argmax(axis=1)
    for k in range(3):
        heat = Image.open(tmp / "out" / f"h-{k + 1}.png")
        assert heat.size == (12, 12)
        assert f"img{k}.png: class {top[k]}," in out
    R = np.load(tmp / "r.npy")
    assert R.shape == (3, 3, 12, 12)
    np.testing.assert_allclose(R, python_api(model, X, top), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(R.reshape(3, -1).sum(axis=1), logits[np.arange(3), top], rtol=1e-9)


def test_target_normalisation_and_the_torch_backend(files, capsys):
    from symdtd.real.photos import pixel_box
    tmp, pixels = files
    mean, std = [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]
    code = main(["explain", str(tmp / "model.pt"), "--input", str(tmp / "img1.png"), "--target", "4",
                 "--mean", ",".join(map(str, mean)), "--std", ",".join(map(str, std)),
                 "--backend", "torch", "-o", str(tmp / "h.png"), "--save-relevance", str(tmp / "r.npy")])
    assert code == 0, capsys.readouterr()
    X = ((pixels[1] - np.reshape(mean, (3, 1, 1))) / np.reshape(std, (3, 1, 1)))[None]
    model = tiny_model()
    R = np.load(tmp / "r.npy")
    np.testing.assert_allclose(R, python_api(model, X, [4], pixel_box((3, 12, 12), mean, std)),
                               rtol=1e-9, atol=1e-12)
    assert R.sum() == pytest.approx(float(model(torch.from_numpy(X)).detach()[0, 4]), rel=1e-9)
    assert "class 4," in capsys.readouterr().out


def test_torchscript_sequential_gives_the_same_relevance(files, capsys):
    tmp, _ = files
    torch.jit.save(torch.jit.script(tiny_model()), tmp / "model.ts")
    args = ["--input", str(tmp / "img2.png"), "--target", "1"]
    assert main(["explain", str(tmp / "model.pt"), *args, "-o", str(tmp / "a.png"),
                 "--save-relevance", str(tmp / "a.npy")]) == 0
    assert main(["explain", str(tmp / "model.ts"), *args, "-o", str(tmp / "b.png"),
                 "--save-relevance", str(tmp / "b.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp / "a.npy"), np.load(tmp / "b.npy"))


def test_a_residual_model_and_a_class_that_cannot_be_imported(files, capsys, monkeypatch):
    import sys
    tmp, pixels = files
    torch.manual_seed(1)
    model = Residual().double().eval()
    with torch.no_grad():
        for m in (model.conv1, model.conv2, model.head):
            m.bias.copy_(-m.bias.abs())
    torch.save(model, tmp / "residual.pt")
    assert main(["explain", str(tmp / "residual.pt"), "--input", str(tmp / "img0.png"), "--target", "3",
                 "-o", str(tmp / "h.png"), "--save-relevance", str(tmp / "r.npy")]) == 0
    R = np.load(tmp / "r.npy")
    np.testing.assert_allclose(R, python_api(model, pixels[0][None], [3]), rtol=1e-12, atol=1e-14)
    assert R.sum() == pytest.approx(float(model(torch.from_numpy(pixels[0][None])).detach()[0, 3]), rel=1e-9)
    capsys.readouterr()
    monkeypatch.delattr(sys.modules[__name__], "Residual")
    assert "class cannot be imported" in bad(capsys, tmp / "residual.pt", "--input", tmp / "img0.png",
                                              "-o", tmp / "h.png")


def test_the_input_size_of_a_linear_model_is_inferred(files, capsys):
    tmp, _ = files
    torch.manual_seed(2)
    mlp = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 4 * 4, 6), torch.nn.ReLU(),
                              torch.nn.Linear(6, 2)).double().eval()
    torch.save(mlp, tmp / "mlp.pt")
    assert main(["explain", str(tmp / "mlp.pt"), "--input", str(tmp / "img0.png"), "--target", "0",
                 "-o", str(tmp / "h.png"), "--save-relevance", str(tmp / "r.npy")]) == 0
    assert np.load(tmp / "r.npy").shape == (1, 3, 4, 4)       # 48 = 3 channels × 4 × 4
    assert Image.open(tmp / "h.png").size == (4, 4)
    capsys.readouterr()
    torch.save(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(50, 2)), tmp / "odd.pt")
    assert "pass --size" in bad(capsys, tmp / "odd.pt", "--input", tmp / "img0.png", "-o", tmp / "h.png")


def test_progress_bar_over_batches(files, capsys, monkeypatch):
    from symdtd.core import progress
    monkeypatch.setattr(progress, "ENABLED", True)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    tmp, _ = files
    images = [str(tmp / f"img{k}.png") for k in range(3)]
    assert main(["explain", str(tmp / "model.pt"), "--input", *images, "--batch-size", "1",
                 "-o", str(tmp / "h.png")]) == 0
    assert "3/3 explain" in capsys.readouterr().err


def bad(capsys, *argv):
    code = main(["explain", *map(str, argv)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_bad_input_is_one_line(files, capsys):
    tmp, _ = files
    model, img = tmp / "model.pt", tmp / "img0.png"
    assert "model file" in bad(capsys, tmp / "missing.pt", "--input", img) and "not found" in \
        bad(capsys, tmp / "missing.pt", "--input", img)
    (tmp / "junk.pt").write_text("not a model")
    assert "is not a model saved with torch.save" in bad(capsys, tmp / "junk.pt", "--input", img)
    torch.save(tiny_model().state_dict(), tmp / "weights.pt")
    assert "state_dict" in bad(capsys, tmp / "weights.pt", "--input", img)
    torch.jit.save(torch.jit.trace(tiny_model(), torch.zeros(1, 3, 12, 12, dtype=torch.float64)),
                   tmp / "traced.pt")
    assert "torch.save(model, path)" in bad(capsys, tmp / "traced.pt", "--input", img)
    torch.jit.save(torch.jit.script(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Tanh())), tmp / "tanh.ts")
    assert "layer '1' is a scripted Tanh" in bad(capsys, tmp / "tanh.ts", "--input", img)
    torch.jit.save(torch.jit.script(Residual()), tmp / "residual.ts")
    assert "TorchScript of class Residual" in bad(capsys, tmp / "residual.ts", "--input", img)
    (tmp / "bad.png").write_text("not an image")
    assert "bad.png" in bad(capsys, model, "--input", tmp / "bad.png", "-o", tmp / "h.png")
    assert "image file" in bad(capsys, model, "--input", tmp / "nope.png", "-o", tmp / "h.png")
    assert "has 1 channel (grey), the model takes 3" in \
        bad(capsys, model, "--input", tmp / "grey.png", "-o", tmp / "h.png")
    assert "the model has 5 classes" in bad(capsys, model, "--input", img, "--target", "5",
                                            "-o", tmp / "h.png")
    assert ".png" in bad(capsys, model, "--input", img, "-o", tmp / "h.jpg")
    assert "--input is required" in bad(capsys, model, "-o", tmp / "h.png")
    assert "std must be > 0" in bad(capsys, model, "--input", img, "--std", "0", "-o", tmp / "h.png")


def test_network_files_keep_their_explain(capsys):
    assert main(["explain", "xor", "--input", "x1=1", "x2=0"]) == 0
    assert "Network" in capsys.readouterr().out
    assert "--size is for saved torch models" in bad(capsys, "xor", "--input", "x1=1", "x2=0", "--size", "8")
