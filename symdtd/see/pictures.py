"""Heatmaps on photographs, coloured as the seed paper's Figure 1.

A photograph's relevance ``R[c, u, v]`` is summed over the colour channels into
one value per pixel, divided by ``max |R|`` (symmetric normalisation: the
scale runs from ``-max |R|`` to ``max |R|`` and 0 stays in the middle) and
coloured with :func:`~symdtd.see.colors.hot_cmap`: black where a pixel has no
relevance, dark red, orange, yellow and white for growing positive relevance,
the same in blue for negative relevance. That is the look of the heatmap in
the seed's Figure 1 (an image and the heatmap of its prediction).

* :func:`heatmap_image` returns the coloured ``(H, W, 3)`` array, optionally
  laid over the photograph (in grey, the heat on top with an opacity growing
  with ``|R|``);
* :func:`save_heatmap_image` writes it as a PNG of exactly ``H × W`` pixels;
* :func:`picture_figure` draws the photograph beside its heatmap, with the
  colour scale, as a matplotlib figure.

Examples
--------
>>> import numpy as np
>>> R = np.zeros((3, 2, 2)); R[:, 0, 0] = 1.0; R[0, 1, 1] = -2.0   # per channel
>>> rgb = heatmap_image(R)
>>> rgb.shape, rgb[0, 0].tolist(), rgb[0, 1].tolist()             # max: white, 0: black
((2, 2, 3), [1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
>>> bool(rgb[1, 1, 2] > rgb[1, 1, 0])                             # negative: blue
True
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from ..core.files import atomic_path
from .colors import hot_cmap

__all__ = ["relevance_map", "heatmap_image", "save_heatmap_image", "picture_figure"]


def relevance_map(relevance: ArrayLike, channel_axis: int = 0) -> np.ndarray:
    """One value per pixel: *relevance* summed over its colour channels.

    Parameters
    ----------
    relevance : array-like
        ``(C, H, W)`` (PyTorch's layout, ``channel_axis=0``), ``(H, W, C)``
        (``channel_axis=-1``) or ``(H, W)`` (already one value per pixel).
    channel_axis : int
        The axis of the channels in a 3-D array.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(H, W)``.

    Raises
    ------
    ValueError
        Not 2-D or 3-D, or NaN / inf values.

    Examples
    --------
    >>> relevance_map(np.ones((3, 2, 4))).tolist()
    [[3.0, 3.0, 3.0, 3.0], [3.0, 3.0, 3.0, 3.0]]
    """
    arr = np.asarray(relevance, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr.sum(axis=channel_axis)
    if arr.ndim != 2:
        raise ValueError(f"relevance must have shape (C, H, W), (H, W, C) or (H, W), "
                         f"got {np.shape(relevance)}")
    if not np.isfinite(arr).all():
        raise ValueError("relevance has NaN or inf values")
    return arr


def _grey(image, shape, channel_axis):
    """The photograph as grey values in [0, 1], shape *shape*."""
    arr = np.asarray(image)
    scale = 255.0 if arr.dtype == np.uint8 else 1.0
    arr = arr.astype(np.float64) / scale
    if arr.ndim == 3:
        arr = np.moveaxis(arr, channel_axis, -1)
        arr = arr[..., 0] if arr.shape[-1] == 1 else arr[..., :3] @ np.array([0.299, 0.587, 0.114])
    if arr.shape != shape:
        raise ValueError(f"image has {arr.shape[0]}×{arr.shape[1] if arr.ndim > 1 else '?'} pixels, "
                         f"the relevance {shape[0]}×{shape[1]}")
    if not np.isfinite(arr).all() or arr.min() < 0 or arr.max() > 1:
        raise ValueError("image pixels must lie in [0, 1] (floats) or 0–255 (uint8)")
    return arr


def heatmap_image(relevance: ArrayLike, image: ArrayLike | None = None, *, vmax: float | None = None,
                  alpha: float = 0.8, channel_axis: int = 0) -> np.ndarray:
    """The heatmap of *relevance* as an RGB array, optionally over the photograph.

    Parameters
    ----------
    relevance : array-like
        ``(C, H, W)``, ``(H, W, C)`` or ``(H, W)`` (see :func:`relevance_map`).
    image : array-like, optional
        The photograph, in the layout of *relevance* (or ``(H, W)`` grey);
        floats in [0, 1] or uint8. When given, the photograph is shown in grey
        and the heat laid over it with opacity ``alpha · √(|R| / vmax)``, so
        that pixels without relevance show the photograph.
    vmax : float, optional
        The magnitude at the ends of the scale (default ``max |R|``).
    alpha : float
        Opacity of the heat at ``|R| = vmax`` in an overlay, in [0, 1].
    channel_axis : int
        The channel axis of 3-D *relevance* and *image*.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(H, W, 3)``, values in [0, 1].

    Raises
    ------
    ValueError
        Mismatched sizes, NaN, pixels out of range, *alpha* outside [0, 1].

    Examples
    --------
    >>> photo = np.full((3, 1, 2), 0.5)
    >>> heatmap_image([[0.0, 1.0]], photo, alpha=1.0).round(6).tolist()   # 0: the photo; max: white
    [[[0.5, 0.5, 0.5], [1.0, 1.0, 1.0]]]
    """
    values = relevance_map(relevance, channel_axis)
    limit = float(np.max(np.abs(values))) if vmax is None else float(vmax)
    if not np.isfinite(limit) or limit < 0:
        raise ValueError(f"vmax must be a finite number ≥ 0, got {vmax!r}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
    scaled = np.clip(values / limit, -1, 1) if limit > 0 else np.zeros_like(values)
    heat = hot_cmap()((scaled + 1) / 2)[..., :3]
    if image is None:
        return heat
    grey = _grey(image, values.shape, channel_axis)[..., None]
    opacity = alpha * np.sqrt(np.abs(scaled))[..., None]
    return (1 - opacity) * grey + opacity * heat


def save_heatmap_image(relevance: ArrayLike, path: str | os.PathLike, image: ArrayLike | None = None,
                       **options: object) -> Path:
    """Write :func:`heatmap_image` as a PNG of exactly ``H × W`` pixels; return the path.

    Parameters
    ----------
    relevance : array-like
        As for :func:`heatmap_image`.
    path : str or pathlib.Path
        The file (``.png``); replaced atomically, folders created.
    image : array-like, optional
        The photograph to lay the heat over.
    **options
        ``vmax``, ``alpha``, ``channel_axis`` of :func:`heatmap_image`.

    Returns
    -------
    pathlib.Path
        *path*.

    Raises
    ------
    ValueError
        A suffix other than ``.png``, or what :func:`heatmap_image` refuses.

    Examples
    --------
    >>> import tempfile, matplotlib.image
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = save_heatmap_image(np.ones((3, 5, 7)), Path(tmp) / "heat.png")
    ...     matplotlib.image.imread(p).shape
    (5, 7, 4)
    """
    import matplotlib.image

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"path {str(path)!r}: heatmap images are written as .png")
    rgb = heatmap_image(relevance, image, **options)
    with atomic_path(path) as temp:
        matplotlib.image.imsave(temp, np.clip(rgb, 0, 1), format="png")
    return path


def picture_figure(image: ArrayLike, relevance: ArrayLike, *, title: str | None = None,
                   channel_axis: int = 0, size: float = 3.0) -> Figure:
    """The photograph beside its heatmap, with the colour scale (the seed's Figure 1).

    Parameters
    ----------
    image : array-like
        The photograph, as for :func:`heatmap_image`.
    relevance : array-like
        Its relevance.
    title : str, optional
        The figure's title.
    channel_axis : int
        The channel axis of 3-D arrays.
    size : float
        Height of the figure in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes labelled ``"photo"`` and ``"heatmap"`` and a colour bar in
        units of ``max |R|``.

    Raises
    ------
    ValueError
        What :func:`heatmap_image` refuses.

    Examples
    --------
    >>> fig = picture_figure(np.zeros((3, 4, 4)), np.ones((3, 4, 4)))
    >>> [a.get_label() for a in fig.axes[:2]]
    ['photo', 'heatmap']
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    values = relevance_map(relevance, channel_axis)
    photo = np.asarray(image)
    photo = photo.astype(np.float64) / 255.0 if photo.dtype == np.uint8 else photo.astype(np.float64)
    if photo.ndim == 3:
        photo = np.moveaxis(photo, channel_axis, -1)
        photo = photo[..., 0] if photo.shape[-1] == 1 else photo
    _grey(image, values.shape, channel_axis)   # the same checks as the overlay
    fig = Figure(figsize=(2 * size + 0.8, size), layout="constrained")
    left, right = fig.subplots(1, 2)
    left.imshow(photo, cmap="gray" if photo.ndim == 2 else None, vmin=0, vmax=1)
    right.imshow(heatmap_image(values))
    for ax, label in ((left, "photo"), (right, "heatmap")):
        ax.set_label(label)
        ax.set_xticks([])
        ax.set_yticks([])
    right.set_title(f"relevance (max |R| = {np.max(np.abs(values)):.3g})", fontsize="small")
    fig.colorbar(ScalarMappable(Normalize(-1, 1), hot_cmap()), ax=right, shrink=0.85,
                 label="R / max |R|")
    if title:
        fig.suptitle(title)
    return fig
