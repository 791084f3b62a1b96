"""Rules side by side: one heatmap per composite and input, each composite with its AOPC.

:func:`compare` explains the same inputs with several composites (rows:
zᴮ+z⁺, w²+z⁺, zᴮ+γ for some γ, LRP-0 …; columns: the inputs), measures each
composite's pixel-flipping AOPC (:func:`symdtd.real.evaluate.pixel_flipping`,
``AOPC = 1/(L+1) Σ_{k=0}^{L} (f(x) − f(x^(k)))``) and draws the grid with
matplotlib. ``symdtd compare`` writes it for a shipped digits model.

Examples
--------
>>> from symdtd.real.models import load_digits_data
>>> X, y = load_digits_data()
>>> result = compare("mlp", X[:2], composites={"zB+z+": "paper", "LRP-0": "z"}, steps=4)
>>> sorted(result.relevance), result.relevance["LRP-0"].shape
(['LRP-0', 'zB+z+'], (2, 64))
>>> len(result.figure.axes)
6
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from ..core.numbers import RealLike
from ..network.composites import Composite, GammaAbove, PaperDefault
from ..network.graph import Network
from ..network.overrides import ByLayer, Everywhere
from . import evaluate as ev
from .models import DIGIT_SHAPE, MODEL_NAMES, check_model_name, load_model

__all__ = ["compare", "Comparison", "default_composites"]


def default_composites(gammas: Sequence[RealLike] | None = None) -> dict:
    """The rows of :func:`compare`: zᴮ+z⁺, w²+z⁺, zᴮ+γ for each γ, and LRP-0.

    Parameters
    ----------
    gammas : sequence of numbers, optional
        The γ values of the zᴮ+γ rows (default ``0.25`` and ``1``).

    Returns
    -------
    dict
        Label -> :class:`~symdtd.network.composites.Composite`, in row order.

    Examples
    --------
    >>> list(default_composites([0.5]))
    ['zB+z+ (paper)', 'w2+z+', 'zB+γ (γ=0.5)', 'LRP-0 (z everywhere)']
    """
    rows = {"zB+z+ (paper)": PaperDefault(),
            "w2+z+": ByLayer({1: "w2"}) | PaperDefault()}
    for gamma in (0.25, 1) if gammas is None else gammas:
        rows[f"zB+γ (γ={gamma})"] = GammaAbove(gamma)
    rows["LRP-0 (z everywhere)"] = Everywhere("z")
    return rows


def _composite(value, label):
    if isinstance(value, Composite):
        return value
    if value == "paper":
        return PaperDefault()
    if isinstance(value, str):
        return Everywhere(value)
    raise TypeError(f"composites[{label!r}] must be a Composite, 'paper' or a rule name, "
                    f"got {type(value).__name__}")


@dataclass(eq=False)
class Comparison:
    """What :func:`compare` returns: relevance and AOPC per composite, and the figure.

    Parameters
    ----------
    X : numpy.ndarray
        The inputs shown, one column each.
    targets : numpy.ndarray
        The explained output of each input.
    relevance : dict
        Composite label -> relevance array, shape ``(len(X), n_inputs)``.
    flips : dict
        Composite label -> :class:`~symdtd.real.evaluate.FlipResult` of the AOPC.
    figure : matplotlib.figure.Figure
        The grid: the inputs on top, one row per composite, the AOPC beside it.

    Examples
    --------
    >>> from symdtd.real.models import load_digits_data
    >>> X, y = load_digits_data()
    >>> result = compare("mlp", X[:1], composites={"paper": "paper"}, steps=2)
    >>> print(result)   # doctest: +ELLIPSIS
    composite   AOPC  [95% CI]    (L = 2 steps, 1 inputs)
    paper      ...
    """

    X: np.ndarray
    targets: np.ndarray
    relevance: dict
    flips: dict
    figure: Figure

    @property
    def aopc(self) -> dict:
        """Composite label -> AOPC (the mean over the evaluated inputs)."""
        return {label: flip.aopc for label, flip in self.flips.items()}

    def __str__(self):
        width = max(len(label) for label in self.flips) + 2
        any_flip = next(iter(self.flips.values()))
        lines = [f"{'composite'.ljust(width)} AOPC  [95% CI]    (L = {any_flip.curves.shape[1] - 1} "
                 f"steps, {len(any_flip.curves)} inputs)"]
        for label, flip in self.flips.items():
            low, high = flip.ci
            ci = "" if math.isnan(low) else f"  [{low:.3f}, {high:.3f}]"
            lines.append(f"{label.ljust(width)}{flip.aopc:6.3f}{ci}")
        return "\n".join(lines)


def compare(model_or_network: Network | str, X: ArrayLike,
            composites: Mapping[str, Composite | str] | None = None,
            targets: int | ArrayLike | None = None, *, shape: tuple[int, int] | None = None,
            aopc_inputs: ArrayLike | None = None, steps: int | None = None,
            baseline: float | ArrayLike = 0.0, size: float = 1.6) -> Comparison:
    """Explain *X* with several composites and draw them side by side, each with its AOPC.

    Parameters
    ----------
    model_or_network : Network or {"mlp", "cnn"}
        A network, or the name of a shipped digits model.
    X : array-like, shape (k, n_inputs)
        The inputs, one column of the grid each.
    composites : dict, optional
        Row label -> :class:`~symdtd.network.composites.Composite`, ``"paper"``
        or a rule name (that rule everywhere). Default :func:`default_composites`.
    targets : int or array-like of int, optional
        The output explained, one or one per input (default: the predicted one).
    shape : (int, int), optional
        Image shape of an input (default 8×8 for 64 inputs, else square or one row).
    aopc_inputs : array-like, optional
        The inputs the AOPC is measured on (default *X*), each explaining its
        predicted output.
    steps : int, optional
        Pixel-flipping steps ``L`` (default: every input feature).
    baseline : float or array-like
        The value a removed feature takes (default 0).
    size : float
        The size of one heatmap in inches.

    Returns
    -------
    Comparison
        The relevance, the AOPC results and the figure.

    Raises
    ------
    ValueError
        An unknown model name, no composites, inputs of the wrong width, or a
        composite that does not fit the network (from the rule choice).
    TypeError
        A composite that is none of the accepted kinds.

    Examples
    --------
    >>> from symdtd import Network
    >>> net = Network.from_dense([[[1.0, 0.5], [-1.0, 1.0]], [[1.0], [1.0]]])
    >>> result = compare(net, [[1.0, 0.5]], composites={"z+": "paper", "z": "z"}, shape=(1, 2))
    >>> float(result.relevance["z"].sum()), float(result.relevance["z+"].sum())   # f(x) = 1.5
    (1.5, 1.5)
    """
    if isinstance(model_or_network, str):
        check_model_name(model_or_network)
        network = load_model(model_or_network)
    elif isinstance(model_or_network, Network):
        network = model_or_network
    else:
        raise TypeError(f"model_or_network must be a Network or one of {list(MODEL_NAMES)}, "
                        f"got {type(model_or_network).__name__}")
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    width = len(network.inputs)
    if X.shape[1] != width:
        raise ValueError(f"X has {X.shape[1]} values per row; the network has {width} inputs")
    rows = {label: _composite(c, label)
            for label, c in (default_composites() if composites is None else composites).items()}
    if not rows:
        raise ValueError("composites is empty: give at least one row")
    shape = shape or (DIGIT_SHAPE if width == 64 else _square(width))
    forward = ev.compiled(network).forward
    targets = (forward(X).argmax(axis=1) if targets is None
               else np.broadcast_to(np.asarray(targets), (len(X),)))
    A = X if aopc_inputs is None else np.atleast_2d(np.asarray(aopc_inputs, dtype=np.float64))
    a_targets = targets if aopc_inputs is None else forward(A).argmax(axis=1)
    relevance, flips = {}, {}
    for label, composite in rows.items():
        relevance[label] = ev.dtd(network, X, targets, composite=composite)
        R = relevance[label] if aopc_inputs is None else ev.dtd(network, A, a_targets,
                                                                composite=composite)
        flips[label] = ev.pixel_flipping(network, A, R, a_targets, baseline=baseline,
                                         shape=shape, steps=steps)
    figure = _draw(X, targets, relevance, flips, shape, size)
    return Comparison(X, np.asarray(targets), relevance, flips, figure)


def _square(width):
    side = math.isqrt(width)
    return (side, side) if side * side == width else (1, width)


def _draw(X, targets, relevance, flips, shape, size):
    from ..see.plotting import heatmap
    rows, cols = len(relevance) + 1, len(X)
    fig = Figure(figsize=(size * cols + 2.2, size * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    for c in range(cols):
        axes[0, c].imshow(X[c].reshape(shape), cmap="gray_r", interpolation="nearest")
        axes[0, c].set_title(f"input {c}, output {targets[c]}", fontsize="small")
        axes[0, c].set_xticks([])
        axes[0, c].set_yticks([])
    axes[0, 0].set_ylabel("input", fontsize="small")
    for r, (label, R) in enumerate(relevance.items(), start=1):
        for c in range(cols):
            heatmap(R[c], shape, ax=axes[r, c], colorbar=False)
        axes[r, 0].set_ylabel(f"{label}\nAOPC {flips[label].aopc:.3f}", fontsize="small",
                              rotation=0, ha="right", va="center")
    fig.suptitle("relevance per composite (red +, blue −); AOPC: higher removes the "
                 "explained output faster", fontsize="small")
    return fig
