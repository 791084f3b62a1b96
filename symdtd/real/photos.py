"""Photographs in: image files and scikit-learn's sample photos as ``(C, H, W)`` arrays in [0, 1].

:func:`load_image` reads a PNG or JPEG file (with Pillow, which matplotlib
already depends on), :func:`sample_image` one of the two photographs that ship
with scikit-learn (``china.jpg``, ``flower.jpg``; ``pip install symdtd[images]``),
and :func:`resize_crop` brings either to a network's input size the usual way:
the shorter side scaled to the size (bilinear), then the centre cut out. Pixels
become float64 in ``[0, 1]`` in PyTorch's channel-first layout, ready for
:meth:`~symdtd.network.layer_graph.LayerNetwork.forward` with the input domain
``Box(0, 1)``.

Examples
--------
>>> import numpy as np
>>> photo = resize_crop(np.zeros((40, 60, 3), dtype=np.uint8), 32)
>>> photo.shape, photo.dtype, float(photo.max())
((3, 32, 32), dtype('float64'), 0.0)
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["load_image", "resize_crop", "sample_image", "normalise", "pixel_box", "SAMPLE_IMAGES"]

#: the photographs shipped with scikit-learn (``sklearn.datasets.load_sample_image``)
SAMPLE_IMAGES = ("china.jpg", "flower.jpg")

_MODES = {"L": 1, "RGB": 3}   # what a file is converted to before reading its pixels


def _size_pair(size, what="size"):
    sizes = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if len(sizes) != 2 or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in sizes):
        raise ValueError(f"{what} must be a positive int or (height, width), got {size!r}")
    return int(sizes[0]), int(sizes[1])


def resize_crop(image: ArrayLike, size: int | tuple[int, int]) -> np.ndarray:
    """Scale *image* so that it covers *size*, cut out the centre, return ``(C, H, W)`` in [0, 1].

    Parameters
    ----------
    image : array-like or PIL.Image.Image
        ``(H, W)`` or ``(H, W, C)`` pixels: uint8 (0–255) or floats in [0, 1];
        or a Pillow image.
    size : int or (int, int)
        The output's height and width (one int: a square).

    Returns
    -------
    numpy.ndarray
        float64, shape ``(C, height, width)`` (``C = 1`` for a grey image),
        values in ``[0, 1]``.

    Raises
    ------
    ValueError
        A bad size, an array that is not an image, float pixels outside [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> stripes = np.zeros((4, 8), dtype=np.uint8)
    >>> stripes[:, 3:5] = 255                 # a white band in the middle columns
    >>> resize_crop(stripes, 4)[0].tolist()   # the centre 4 × 4 keeps it
    [[0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]]
    """
    from PIL import Image

    height, width = _size_pair(size)
    if not isinstance(image, Image.Image):
        image = Image.fromarray(_as_uint8(image))
    scale = max(height / image.height, width / image.width)
    new = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
    if new != image.size:
        image = image.resize(new, Image.Resampling.BILINEAR)
    left, top = (new[0] - width) // 2, (new[1] - height) // 2
    image = image.crop((left, top, left + width, top + height))
    pixels = np.asarray(image, dtype=np.float64) / 255.0
    return pixels[None] if pixels.ndim == 2 else np.ascontiguousarray(pixels.transpose(2, 0, 1))


def _as_uint8(image):
    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise ValueError(f"an image must have shape (H, W) or (H, W, C) with C = 1, 3 or 4, got {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.dtype == np.uint8:
        return arr
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
        raise ValueError("float pixels must lie in [0, 1] (uint8 pixels in 0–255)")
    return np.round(arr * 255).astype(np.uint8)


def load_image(path: str | os.PathLike, size: int | tuple[int, int] | None = None, *,
               channels: int | None = None) -> np.ndarray:
    """Read a PNG or JPEG file as a ``(C, H, W)`` float64 array in [0, 1].

    Grey files (and grey with alpha) give one channel, colour files three: a
    palette is expanded and an alpha channel dropped.

    Parameters
    ----------
    path : str or pathlib.Path
        The image file.
    size : int or (int, int), optional
        Resize and centre-crop to this size (:func:`resize_crop`); default:
        the file's own size.
    channels : {1, 3}, optional
        The channel count the caller needs; a file with another count is refused.

    Returns
    -------
    numpy.ndarray
        Shape ``(C, H, W)``.

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        The file is not an image Pillow can read, or has the wrong channel count;
        the message names the file.

    Examples
    --------
    >>> import tempfile, matplotlib.image
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     matplotlib.image.imsave(f"{tmp}/red.png", np.tile([1.0, 0, 0], (6, 9, 1)))
    ...     photo = load_image(f"{tmp}/red.png", 4)
    >>> photo.shape, photo[:, 0, 0].tolist()
    ((3, 4, 4), [1.0, 0.0, 0.0])
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image file {str(path)!r} not found")
    try:
        with Image.open(path) as opened:
            opened.load()
            mode = "L" if opened.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB"
            image = opened.convert(mode)
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError(f"image file {str(path)!r} cannot be read as an image: {err}") from None
    found = _MODES[image.mode]
    if channels is not None and channels != found:
        raise ValueError(f"image file {str(path)!r} has {found} channel{'s' * (found > 1)} "
                         f"({'grey' if found == 1 else 'colour'}), the model takes {channels}")
    if size is None:
        pixels = np.asarray(image, dtype=np.float64) / 255.0
        return pixels[None] if pixels.ndim == 2 else np.ascontiguousarray(pixels.transpose(2, 0, 1))
    return resize_crop(image, size)


def sample_image(name: str = "china.jpg", size: int | tuple[int, int] | None = 224) -> np.ndarray:
    """One of scikit-learn's sample photographs, resized and centre-cropped.

    Parameters
    ----------
    name : {"china.jpg", "flower.jpg"}
        The photograph (427 × 640 pixels, colour).
    size : int or (int, int) or None
        The output size (default 224 × 224); None keeps the full photograph.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(3, H, W)``, values in [0, 1].

    Raises
    ------
    ValueError
        An unknown name, or scikit-learn is not installed (``pip install symdtd[images]``).

    Examples
    --------
    >>> sample_image("flower.jpg", 32).shape   # needs scikit-learn  # doctest: +SKIP
    (3, 32, 32)
    """
    if name not in SAMPLE_IMAGES:
        raise ValueError(f"sample image must be one of {SAMPLE_IMAGES}, got {name!r}")
    try:
        from sklearn.datasets import load_sample_image
    except ImportError:
        raise ValueError("the sample photographs ship with scikit-learn: "
                         "pip install symdtd[images]") from None
    pixels = load_sample_image(name)
    if size is None:
        return np.ascontiguousarray(pixels.transpose(2, 0, 1), dtype=np.float64) / 255.0
    return resize_crop(pixels, size)


def _per_channel(values, channels, what):
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if arr.ndim != 1 or len(arr) not in (1, channels):
        raise ValueError(f"{what} needs 1 or {channels} values (one per channel), got {len(arr)}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} must be finite")
    return np.broadcast_to(arr, (channels,)).reshape(channels, 1, 1)


def normalise(pixels: ArrayLike, mean: ArrayLike | None = None, std: ArrayLike | None = None) -> np.ndarray:
    """``(pixels − mean) / std`` per channel, as ``torchvision.transforms.Normalize`` does.

    Parameters
    ----------
    pixels : array-like
        ``(C, H, W)`` or ``(batch, C, H, W)`` in [0, 1].
    mean, std : array-like, optional
        One value, or one per channel (default 0 and 1: unchanged).

    Returns
    -------
    numpy.ndarray
        float64, the shape of *pixels*.

    Raises
    ------
    ValueError
        The wrong number of values, or a std ≤ 0.

    Examples
    --------
    >>> normalise(np.ones((2, 1, 1)), mean=[0.5, 0.25], std=0.5).ravel().tolist()
    [1.0, 1.5]
    """
    arr = np.asarray(pixels, dtype=np.float64)
    channels = arr.shape[-3]
    m = _per_channel(0.0 if mean is None else mean, channels, "mean")
    s = _per_channel(1.0 if std is None else std, channels, "std")
    if (s <= 0).any():
        raise ValueError(f"std must be > 0, got {s.ravel().tolist()}")
    return (arr - m) / s


def pixel_box(shape: tuple[int, int, int], mean: ArrayLike | None = None, std: ArrayLike | None = None):
    """The input domain of pixels in [0, 1] after :func:`normalise`: a per-channel box.

    Without *mean* and *std* it is ``Box(0, 1)``; with them every entry of
    channel ``c`` lies in ``[(0 − mean_c) / std_c, (1 − mean_c) / std_c]``, so
    the zᴮ rule at the input uses these bounds.

    Parameters
    ----------
    shape : (int, int, int)
        ``(C, H, W)`` of one image.
    mean, std : array-like, optional
        As for :func:`normalise`.

    Returns
    -------
    symdtd.core.domains.Box
        Scalar bounds, or per-entry bounds in flat ``(c, u, v)`` order.

    Raises
    ------
    ValueError
        As :func:`normalise`.

    Examples
    --------
    >>> pixel_box((3, 8, 8))
    Box(low=0, high=1)
    >>> box = pixel_box((2, 1, 2), mean=[0.5, 0.0], std=[0.5, 2.0])
    >>> box.bounds(4)
    ([-1.0, -1.0, 0.0, 0.0], [1.0, 1.0, 0.5, 0.5])
    """
    from ..core.domains import Box

    if mean is None and std is None:
        return Box(0, 1)
    ends = normalise(np.stack([np.zeros(shape), np.ones(shape)]), mean, std)
    return Box(ends[0].ravel().tolist(), ends[1].ravel().tolist())
