"""Figures with matplotlib: root search in 2-D, heatmaps, pixel-flipping curves.

* :func:`plot_root_search` — the seed paper's Figure 2 (defined in
  :mod:`symdtd.see.rootplot`, re-exported here): the root-point search of
  2-input neurons, drawn from the derivation's own root formula.
* :func:`heatmap`, :func:`heatmap_grid` — the seed's Figure 1: relevance on a
  pixel grid, diverging colours centred at 0 with symmetric limits.
* :func:`plot_pixel_flipping` — evaluation curves, one per method.

Every function returns a :class:`matplotlib.figure.Figure` built without
``pyplot`` (no window, no global figure list), or draws into the ``ax`` you
pass. Save with :func:`save_figure` or ``fig.savefig``.

Examples
--------
>>> fig = heatmap([[0.5, -1], [0, 2]])
>>> fig.axes[0].images[0].get_clim()
(-2.0, 2.0)
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from ..core.files import atomic_path
from ..propagation.explanation import Explanation
from .colors import diverging_cmap
from .rootplot import RootPoint, find_root, plot_root_search

__all__ = ["RootPoint", "find_root", "plot_root_search", "heatmap", "heatmap_grid",
           "plot_pixel_flipping", "save_figure", "figure_format"]


# ---------------------------------------------------------------- heatmaps
def _values(relevance, what="relevance"):
    """A float vector from an array, a mapping or an Explanation (its inputs)."""
    if hasattr(relevance, "input_relevance"):
        relevance = relevance.input_relevance
    if isinstance(relevance, Mapping):
        relevance = list(relevance.values())
    try:
        return np.asarray(relevance, dtype=float)
    except TypeError:
        raise TypeError(f"{what} has symbolic entries; propagate with arithmetic='exact' "
                        "or 'float' to plot it") from None


def _grid(values, shape, what):
    arr = _values(values, what)
    if shape is None:
        if arr.ndim == 2:
            return arr
        side = math.isqrt(arr.size)
        shape = (side, side) if side * side == arr.size else (1, arr.size)
    if arr.size != math.prod(shape):
        raise ValueError(f"{what} has {arr.size} values, which do not fit shape {tuple(shape)}")
    return arr.reshape(shape)


def _vmax(arrays, vmax):
    if vmax is not None:
        return float(vmax)
    m = max((float(np.nanmax(np.abs(a))) for a in arrays if a.size), default=0.0)
    return m if m > 0 else 1.0   # all zero: any symmetric range shows white


def heatmap(relevance: ArrayLike | Mapping | Explanation, shape: tuple[int, ...] | None = None,
            ax: Axes | None = None, *, vmax: float | None = None, colorbar: bool = True,
            title: str | None = None, size: float = 3.0) -> Figure:
    """Show relevance on a grid (the seed's Figure 1).

    Parameters
    ----------
    relevance : array-like, dict or Explanation
        Values per input, in input order (an Explanation gives its inputs').
    shape : tuple, optional
        Grid shape, e.g. ``(8, 8)``; default: square if the size is a square.
    ax : Axes, optional
    vmax : float, optional
        Colour limit; the limits are ``[-vmax, vmax]`` (default ``max |R|``),
        so white is always 0.
    colorbar : bool
    title : str, optional
    size : float
        Figure size in inches when *ax* is not given.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = heatmap([0.5, -1, 0, 2], (2, 2))
    >>> fig.axes[0].images[0].get_clim()
    (-2.0, 2.0)
    """
    grid = _grid(relevance, shape, "relevance")
    if ax is None:
        fig = Figure(figsize=(size * 1.25 if colorbar else size, size), layout="constrained")
        ax = fig.add_subplot()
    limit = _vmax([grid], vmax)
    image = ax.imshow(grid, cmap=diverging_cmap(), vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize="medium")
    if colorbar:
        ax.figure.colorbar(image, ax=ax, shrink=0.85, label="relevance")
    return ax.figure


def heatmap_grid(inputs: Sequence[ArrayLike] | None, relevances: Sequence[ArrayLike | Mapping | Explanation],
                 shape: tuple[int, ...] | None = None, titles: Sequence[str] | None = None, *,
                 ncols: int = 4, shared_scale: bool = False, input_cmap: str = "gray",
                 size: float = 2.2) -> Figure:
    """Inputs beside their heatmaps, several samples in a grid.

    Parameters
    ----------
    inputs : sequence of array-like or None
        One input per sample (shown in *input_cmap*); None: heatmaps only.
    relevances : sequence of array-like, dicts or Explanations
    shape : tuple, optional
        Grid shape of one input.
    titles : sequence of str, optional
    ncols : int
        Samples per row.
    shared_scale : bool
        One colour scale (and bar) for all heatmaps instead of one each.
    input_cmap : str
    size : float
        Size of one panel in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> fig = heatmap_grid(rng.random((3, 16)), rng.normal(size=(3, 16)), (4, 4), ["a", "b", "c"])
    >>> len([a for a in fig.axes if a.get_label() == "heatmap"])
    3
    """
    relevances = list(relevances)
    n = len(relevances)
    if inputs is not None and len(inputs) != n:
        raise ValueError(f"inputs: got {len(inputs)} inputs for {n} relevance maps")
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles: got {len(titles)} titles for {n} relevance maps")
    per = 1 if inputs is None else 2
    cols = min(ncols, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(size * per * cols + (0.8 if shared_scale else 0.5 * cols), size * rows + 0.3),
                 layout="constrained")
    axes = fig.subplots(rows, per * cols, squeeze=False)
    grids = [_grid(r, shape, f"relevances[{k}]") for k, r in enumerate(relevances)]
    shared = _vmax(grids, None) if shared_scale else None
    image = None
    for k, grid in enumerate(grids):
        row, col = divmod(k, cols)
        if inputs is not None:
            a = axes[row, per * col]
            a.imshow(_grid(inputs[k], grid.shape, f"inputs[{k}]"), cmap=input_cmap,
                     interpolation="nearest")
            a.set_title(titles[k] if titles else f"input {k}", fontsize="small")
            a.set_label("input")
        a = axes[row, per * col + per - 1]
        limit = shared or _vmax([grid], None)
        image = a.imshow(grid, cmap=diverging_cmap(), vmin=-limit, vmax=limit, interpolation="nearest")
        a.set_title("relevance" if inputs is not None else (titles[k] if titles else f"relevance {k}"),
                    fontsize="small")
        a.set_label("heatmap")
        if not shared_scale:
            fig.colorbar(image, ax=a, shrink=0.8)
    for a in axes.flat:
        a.set_xticks([])
        a.set_yticks([])
        if not a.images:
            a.set_axis_off()
    if shared_scale and image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="relevance")
    return fig


# ------------------------------------------------------------ pixel-flipping
def plot_pixel_flipping(curves: Mapping[str, ArrayLike], ax: Axes | None = None, *,
                        steps: ArrayLike | None = None, aopc: Mapping[str, float] | None = None,
                        band: bool = True, title: str | None = None, xlabel: str = "features removed",
                        ylabel: str = "output f(x)", size: tuple[float, float] = (5.0, 3.5)) -> Figure:
    """Pixel-flipping curves: the output as features are removed, one line per method.

    Parameters
    ----------
    curves : dict
        ``method -> array`` of shape ``(n_steps,)`` or ``(n_inputs, n_steps)``;
        2-D curves are averaged over inputs.
    ax : Axes, optional
        Draw into these axes (default: a new figure).
    steps : array-like, optional
        x values (default ``0 … n_steps-1``).
    aopc : dict, optional
        ``method -> AOPC``, added to the legend.
    band : bool
        Shade ± one standard error around averaged curves.
    title : str, optional
        The axes' title.
    xlabel, ylabel : str
        The axis labels.
    size : tuple of float
        The figure's size in inches, when *ax* is None.

    Returns
    -------
    matplotlib.figure.Figure
        Each mean line has gid ``"curve:<method>"``.

    Examples
    --------
    >>> fig = plot_pixel_flipping({"dtd": [[1, .5, .2], [1, .7, .1]], "random": [1, .9, .8]})
    >>> line = [l for l in fig.axes[0].lines if l.get_gid() == "curve:dtd"][0]
    >>> line.get_ydata().tolist()
    [1.0, 0.6, 0.15000000000000002]
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict {method: array}")
    if ax is None:
        fig = Figure(figsize=size, layout="constrained")
        ax = fig.add_subplot()
    for k, (method, curve) in enumerate(curves.items()):
        arr = np.asarray(curve, dtype=float)
        if arr.ndim not in (1, 2):
            raise ValueError(f"curves[{method!r}] must have shape (n_steps,) or "
                             f"(n_inputs, n_steps), got {arr.shape}")
        mean = arr if arr.ndim == 1 else arr.mean(axis=0)
        x = np.arange(mean.size) if steps is None else np.asarray(steps, dtype=float)
        if x.shape != mean.shape:
            raise ValueError(f"steps has {x.size} values, curves[{method!r}] has {mean.size} steps")
        label = str(method) if not aopc or method not in aopc else f"{method} (AOPC {aopc[method]:.3g})"
        (line,) = ax.plot(x, mean, color=f"C{k}", lw=2, ls="--" if method == "random" else "-",
                          label=label, gid=f"curve:{method}")
        if band and arr.ndim == 2 and arr.shape[0] > 1:
            err = arr.std(axis=0, ddof=1) / math.sqrt(arr.shape[0])
            ax.fill_between(x, mean - err, mean + err, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax.figure


def figure_format(path: str | os.PathLike) -> str:
    """The format :func:`save_figure` uses for *path*: its suffix (checked), or PNG.

    >>> figure_format("roots.PDF"), figure_format("roots")
    ('pdf', 'png')
    >>> figure_format("roots.xyz")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: path 'roots.xyz': matplotlib cannot write 'xyz' files; use one of ...png...
    """
    import matplotlib
    from matplotlib.backend_bases import FigureCanvasBase

    fmt = Path(path).suffix.lstrip(".").lower() or matplotlib.rcParams["savefig.format"]
    known = FigureCanvasBase.get_supported_filetypes()
    if fmt not in known:
        raise ValueError(f"path {str(path)!r}: matplotlib cannot write {fmt!r} files; use one "
                         f"of {', '.join(sorted(known))}")
    return fmt


def save_figure(fig: Figure, path: str | os.PathLike, *, dpi: float = 100) -> Path:
    """Write *fig* to *path* (format from the suffix: .png, .svg, .pdf); return the Path.

    The image is ``figsize × dpi`` pixels (no tight cropping), so its size is
    predictable. Parent directories are created, and the file is replaced
    atomically (:mod:`symdtd.core.files`): a failed save keeps the old file.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or pathlib.Path
        Where to write it; the suffix gives the format.
    dpi : int
        Pixels per inch (default 100).

    Returns
    -------
    pathlib.Path
        *path*.

    Raises
    ------
    ValueError
        For a suffix that is not an image format matplotlib writes.

    Examples
    --------
    >>> import tempfile, matplotlib.image
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = save_figure(heatmap(np.eye(3), size=2), Path(tmp) / "h.png", dpi=50)
    ...     matplotlib.image.imread(p).shape
    (100, 125, 4)
    """
    path = Path(path)
    fmt = figure_format(path)   # from the real name: the temporary file's suffix is not it
    with atomic_path(path) as temp:   # a failed save keeps the old image
        fig.savefig(temp, dpi=dpi, format=fmt)
    return path
