"""Heatmaps on photographs (see.pictures), photographs in (real.photos), and the documented
example: a random-weight CNN explaining a 224 × 224 sample photograph.

Colours are checked against matplotlib's own afmhot colormap at R / max|R| (the documented
scale), the overlay against a grey value computed by hand, crops against array slices."""
import matplotlib
import matplotlib.image
import numpy as np
import pytest

import symdtd
from symdtd.compiler.layer_pass import compile_layers
from symdtd.core.domains import Box
from symdtd.network.join_layers import Flatten
from symdtd.network.layer_graph import LayerNetwork
from symdtd.network.layers import Conv2d, Dense
from symdtd.network.pool_layers import AdaptiveAvgPool2d, MaxPool2d
from symdtd.real.photos import load_image, resize_crop, sample_image
from symdtd.see.pictures import heatmap_image, picture_figure, relevance_map, save_heatmap_image

AFMHOT = matplotlib.colormaps["afmhot"]
STEP = 2.5 / 127     # afmhot's slope is at most 2 per unit; the scale has 127 steps per side


def test_colours_are_afmhot_of_the_symmetrically_normalised_relevance():
    rng = np.random.default_rng(0)
    R = rng.normal(size=(3, 6, 5))
    total = R.sum(axis=0)
    rgb = heatmap_image(R)
    m = np.abs(total).max()
    for (u, v), value in np.ndenumerate(total):
        expected = AFMHOT(abs(value) / m)[:3]
        if value < 0:
            expected = expected[::-1]          # the blue mirror: red and blue swapped
        np.testing.assert_allclose(rgb[u, v], expected, atol=STEP)
    # the extreme pixel is white, scaling does not change the picture, zero is black
    np.testing.assert_allclose(rgb.reshape(-1, 3)[np.abs(total).argmax()], [1, 1, 1])
    np.testing.assert_allclose(heatmap_image(7.5 * R), rgb)
    np.testing.assert_allclose(heatmap_image(np.zeros((2, 2))), np.zeros((2, 2, 3)))
    # channels summed: (C, H, W), (H, W, C) and the sum itself agree
    np.testing.assert_allclose(heatmap_image(np.moveaxis(R, 0, -1), channel_axis=-1), rgb)
    np.testing.assert_allclose(heatmap_image(total), rgb)
    np.testing.assert_allclose(relevance_map(R), total)
    # a fixed vmax clips: half of it is afmhot(0.5)
    np.testing.assert_allclose(heatmap_image([[1.0, 4.0]], vmax=2.0)[0],
                               [AFMHOT(0.5)[:3], [1, 1, 1]], atol=STEP)


def test_overlay_shows_the_photo_where_there_is_no_relevance():
    photo = np.zeros((3, 2, 2))
    photo[0] = 1.0                                 # pure red: grey 0.299 (ITU-R 601 luminance)
    R = np.array([[0.0, 1.0], [0.25, -1.0]])
    out = heatmap_image(R, photo, alpha=0.5)
    np.testing.assert_allclose(out[0, 0], [0.299] * 3)
    np.testing.assert_allclose(out[0, 1], 0.5 * 0.299 + 0.5 * np.ones(3))       # opacity 0.5·√1
    heat = np.array(AFMHOT(0.25)[:3])
    np.testing.assert_allclose(out[1, 0], 0.75 * 0.299 + 0.25 * heat, atol=STEP)  # opacity 0.5·√0.25
    np.testing.assert_allclose(heatmap_image(R, photo, alpha=0.0), np.full((2, 2, 3), 0.299))
    uint8 = (np.moveaxis(photo, 0, -1) * 255).astype(np.uint8)
    np.testing.assert_allclose(heatmap_image(R, uint8, alpha=0.5, channel_axis=-1)[..., 0], out[..., 0])


def test_saved_png_has_the_pixels_of_the_heatmap(tmp_path):
    R = np.random.default_rng(1).normal(size=(3, 9, 13))
    path = save_heatmap_image(R, tmp_path / "sub" / "heat.png")
    read = matplotlib.image.imread(path)
    assert read.shape == (9, 13, 4)
    np.testing.assert_allclose(read[..., :3], heatmap_image(R), atol=1 / 255 + 1e-9)
    fig = picture_figure(np.full((3, 9, 13), 0.5), R, title="t")
    assert [a.get_label() for a in fig.axes[:2]] == ["photo", "heatmap"]


def test_bad_pictures_are_refused(tmp_path):
    with pytest.raises(ValueError, match="image has 3×3 pixels, the relevance 2×2"):
        heatmap_image(np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="NaN"):
        heatmap_image([[np.nan, 1.0]])
    with pytest.raises(ValueError, match="shape"):
        heatmap_image(np.ones(4))
    with pytest.raises(ValueError, match="alpha"):
        heatmap_image(np.ones((2, 2)), np.ones((2, 2)), alpha=2)
    with pytest.raises(ValueError, match=r"\.png"):
        save_heatmap_image(np.ones((2, 2)), tmp_path / "h.jpg")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        heatmap_image(np.ones((2, 2)), np.full((2, 2), 3.0))


def test_load_image_and_crops(tmp_path):
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, size=(4, 8, 3), dtype=np.uint8)
    from PIL import Image
    Image.fromarray(pixels).save(tmp_path / "p.png")
    Image.fromarray(pixels[:, :, 0]).save(tmp_path / "grey.png")
    Image.fromarray(np.dstack([pixels, np.full((4, 8), 9, np.uint8)])).save(tmp_path / "alpha.png")
    np.testing.assert_allclose(load_image(tmp_path / "p.png"), pixels.transpose(2, 0, 1) / 255)
    # no scaling needed (the shorter side is 4): the centre 4 × 4 is columns 2..5
    np.testing.assert_allclose(load_image(tmp_path / "p.png", 4), pixels[:, 2:6].transpose(2, 0, 1) / 255)
    np.testing.assert_allclose(load_image(tmp_path / "alpha.png"), pixels.transpose(2, 0, 1) / 255)
    assert load_image(tmp_path / "grey.png").shape == (1, 4, 8)
    with pytest.raises(ValueError, match="has 1 channel .grey., the model takes 3"):
        load_image(tmp_path / "grey.png", channels=3)
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match="text.png.*cannot be read as an image"):
        load_image(tmp_path / "text.png")
    with pytest.raises(FileNotFoundError, match="nope.png"):
        load_image(tmp_path / "nope.png")
    # a constant photo stays constant at any size; a non-square size
    out = resize_crop(np.full((40, 60, 3), 0.25), (3, 5))
    assert out.shape == (3, 3, 5)
    np.testing.assert_allclose(out, 64 / 255)       # 0.25 · 255 rounds to 64
    with pytest.raises(ValueError, match="size"):
        resize_crop(pixels, 0)


def photo_cnn(seed=0, size=224):
    """The documented small random-weight CNN (any input size ≥ 32 works)."""
    rng = np.random.default_rng(seed)
    net = LayerNetwork()
    net.add_input("x", (3, size, size), Box(0, 1))
    net.add_layer("conv1", Conv2d(rng.normal(0, 0.3, size=(8, 3, 5, 5)), np.full(8, -0.1), stride=2, padding=2))
    net.add_layer("pool1", MaxPool2d(2))
    net.add_layer("conv2", Conv2d(rng.normal(0, 0.2, size=(16, 8, 3, 3)), np.full(16, -0.1), padding=1))
    net.add_layer("pool2", MaxPool2d(2))
    net.add_layer("gap", AdaptiveAvgPool2d((4, 4)))
    net.add_layer("flat", Flatten())
    net.add_layer("y", Dense(rng.normal(size=(10, 256)), activation="linear"))
    return net


def test_a_sample_photo_explained_by_a_random_cnn(tmp_path):
    pytest.importorskip("sklearn", reason="the sample photos ship with scikit-learn")
    photo = sample_image("china.jpg", 224)
    assert photo.shape == (3, 224, 224) and 0 <= photo.min() and photo.max() <= 1 and photo.std() > 0.1
    net = photo_cnn()
    compiled = compile_layers(net)
    logits = compiled.forward(photo[None])
    top = int(logits.argmax())
    e = compiled.explain(photo[None], top)
    # biases ≤ 0 and no zero denominators: the relevance of the pixels adds up to the logit
    assert e.relevance.sum() == pytest.approx(logits[0, top], rel=1e-9)
    path = save_heatmap_image(e.relevance[0], tmp_path / "china.png", photo)
    assert matplotlib.image.imread(path).shape == (224, 224, 4)


def test_the_photo_cnn_agrees_with_the_neuron_path_on_a_small_crop():
    """The same weights on a 32 × 32 crop, where the neuron view is small enough to compile."""
    pytest.importorskip("sklearn", reason="the sample photos ship with scikit-learn")
    small = sample_image("flower.jpg", 32)
    net = photo_cnn(size=32)
    top = int(net.forward(small[None]).argmax())
    mine = compile_layers(net).explain(small[None], top)
    theirs = symdtd.compile(net.neurons()).explain(small.reshape(1, -1), top)
    np.testing.assert_allclose(mine.relevance.reshape(1, -1), theirs.relevance, atol=1e-10, rtol=0)
