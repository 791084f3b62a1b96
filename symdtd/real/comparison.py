"""Attribution methods compared on the shipped digits models: pixel-flipping AOPC and figures.

:func:`evaluate_models` explains every held-out digit (:mod:`symdtd.real.models`)
with DTD and the baselines (sensitivity, gradient × input, random), removes
pixels in order of decreasing relevance (:func:`symdtd.real.evaluate.pixel_flipping`)
and returns an :class:`Evaluation`, which prints the AOPC table;
:func:`write_evaluation_figures` draws its heatmaps and curves.

Examples
--------
>>> ev = evaluate_models(["mlp"], ["DTD zB+z+", "random"], baselines=["zero"], n=20, steps=4)
>>> sorted(ev.accuracy), ev.steps
(['mlp'], 4)
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.numbers import check_positive_int
from .models import DIGIT_SHAPE, MODEL_NAMES, check_model_name, digits_train_mean, load_digits_data, load_model

__all__ = ["evaluate_models", "write_evaluation_figures", "demo_digits", "dtd_composites", "Evaluation",
           "METHODS", "BASELINES"]


def dtd_composites() -> dict:
    """The rule composites of the DTD methods of :func:`evaluate_models`: name -> composite.

    Returns
    -------
    dict
        Method name -> :class:`~symdtd.network.composites.Composite`.

    Examples
    --------
    >>> dtd_composites()["DTD zB+gamma (0.25)"]
    GammaAbove(gamma=0.25)
    """
    from ..network.composites import GammaAbove, PaperDefault
    return {"DTD zB+z+": PaperDefault(), "DTD zB+z+, b+ absorbed": PaperDefault(),
            "DTD zB+gamma (0.25)": GammaAbove(0.25)}


#: attribution methods compared by :func:`evaluate_models`: name -> (network, X, target) -> R
def _methods():
    from . import evaluate as ev
    composites = dtd_composites()
    return {
        "DTD zB+z+": lambda net, X, t: ev.dtd(net, X, t, composite=composites["DTD zB+z+"]),
        "DTD zB+z+, b+ absorbed": lambda net, X, t: ev.dtd(
            net, X, t, absorb_bias=True, composite=composites["DTD zB+z+, b+ absorbed"]),
        "DTD zB+gamma (0.25)": lambda net, X, t: ev.dtd(
            net, X, t, composite=composites["DTD zB+gamma (0.25)"]),
        "sensitivity": ev.sensitivity,
        "gradient x input": ev.gradient_x_input,
        "random": lambda net, X, t: ev.random_attribution(X, seed=0),
    }


METHODS = ("DTD zB+z+", "DTD zB+z+, b+ absorbed", "DTD zB+gamma (0.25)", "sensitivity",
           "gradient x input", "random")
BASELINES = {"zero": "0 (blank pixel, the box's lower bound)",
             "train mean": "the mean training image"}


@dataclass
class Evaluation:
    """What :func:`evaluate_models` measured; ``str()`` (or :meth:`table`) prints it.

    Attributes
    ----------
    flips : dict
        ``(model, method, baseline) -> FlipResult``.
    relevance : dict
        ``(model, method) -> array (n, 64)``.
    X, y : ndarray
        The evaluated test digits and their labels.
    targets : dict
        ``model -> explained output per row`` (the predicted digit).
    accuracy : dict
        ``model -> accuracy measured on X`` by the compiled network.
    seconds : dict
        Wall-clock times: ``(model, method) -> explaining all rows``, ``"total"``.
    steps : int
        Removal steps per curve (``L``).
    patch : int or None
    """

    flips: dict
    relevance: dict
    X: np.ndarray
    y: np.ndarray
    targets: dict
    accuracy: dict
    seconds: dict
    steps: int
    patch: object = None
    models: tuple = MODEL_NAMES
    methods: tuple = METHODS
    baselines: tuple = tuple(BASELINES)

    def table(self):
        """The AOPC table as text: one block per baseline, a column per model."""
        unit = "pixels" if self.patch is None else f"{self.patch}x{self.patch} patches"
        lines = [f"Pixel-flipping on {len(self.X)} held-out digits: AOPC over L = {self.steps} "
                 f"steps of {unit}, mean [95% CI] over inputs (higher: the order destroys "
                 "the explained logit faster)",
                 "accuracy: " + ", ".join(f"{m} {self.accuracy[m]:.4f}" for m in self.models)]
        width = max(len(m) for m in self.methods) + 2
        for base in self.baselines:
            lines += ["", f"baseline: {BASELINES.get(base, base)}",
                      " " * width + "".join(f"{m + ' AOPC':>26}" for m in self.models)]
            for method in self.methods:
                cells = []
                for m in self.models:
                    r = self.flips[m, method, base]
                    cells.append(f"{r.aopc:9.3f} [{r.ci[0]:.3f}, {r.ci[1]:.3f}]".rjust(26))
                lines.append(method.ljust(width) + "".join(cells))
            first = self.methods[0]
            for other in [m for m in ("sensitivity", "random") if m in self.methods[1:]]:
                diffs = []
                for m in self.models:
                    d, (lo, hi) = self.compare(m, first, other, base)
                    diffs.append(f"{m} {d:+.3f} [{lo:+.3f}, {hi:+.3f}]")
                lines.append(f"  paired difference {first} − {other}: " + ", ".join(diffs))
        lines += ["", "explain time for all rows (s): " + ", ".join(
            f"{m} {method}: {self.seconds[m, method]:.3f}" for m in self.models
            for method in self.methods[:1]) + f"; total {self.seconds['total']:.1f} s"]
        return "\n".join(lines)

    __str__ = table

    def compare(self, model, a, b, baseline="zero"):
        """Paired AOPC difference ``a − b`` over the same inputs: ``(mean, (low, high))``."""
        from .evaluate import mean_ci

        return mean_ci(self.flips[model, a, baseline].aopc_per_input
                       - self.flips[model, b, baseline].aopc_per_input)

    def ranking(self, model, baseline="zero"):
        """Methods by decreasing AOPC for one model and baseline."""
        return sorted(self.methods, key=lambda meth: -self.flips[model, meth, baseline].aopc)

    def as_dict(self):
        """A JSON-ready summary (AOPC, CI, accuracy, timings)."""
        return {"n": len(self.X), "steps": self.steps, "patch": self.patch,
                "accuracy": dict(self.accuracy),
                "aopc": {f"{m} | {meth} | {b}": {"aopc": r.aopc, "ci": list(r.ci)}
                         for (m, meth, b), r in self.flips.items()},
                "seconds": {k if isinstance(k, str) else " | ".join(k): v
                            for k, v in self.seconds.items()}}


def evaluate_models(models: Sequence[str] = MODEL_NAMES, methods: Sequence[str] = METHODS, *,
                    baselines: Sequence[str] = tuple(BASELINES), n: int | None = None,
                    patch: int | tuple[int, int] | None = None, steps: int | None = None,
                    progress: Callable[[int, int, str], object] | None = None,
                    composites: dict | None = None) -> Evaluation:
    """Pixel-flipping evaluation of DTD and the baselines on the shipped digits models.

    For each model, the predicted digit's logit of every held-out image is
    explained by each method; pixels (or *patch* × *patch* tiles) are then
    removed in order of decreasing relevance and AOPC is measured
    (:func:`symdtd.real.evaluate.pixel_flipping`).

    Parameters
    ----------
    models : sequence of {"mlp", "cnn"}
    methods : sequence of str
        Names from :data:`METHODS`.
    baselines : sequence of {"zero", "train mean"}
        The value removed pixels take: 0, or the mean training image.
    n : int, optional
        Use the first *n* held-out images (default all 450); 1 ≤ n ≤ 450.
    patch : int or (int, int), optional
        Remove tiles of this size (positive) instead of single pixels.
    steps : int, optional
        Removal steps (default: all pixels or patches).
    progress : callable, optional
        Called as ``progress(done, total, label)`` after each model × method
        (the command line draws a progress bar with it).
    composites : dict, optional
        More DTD methods, ``{label: Composite}`` (:mod:`symdtd.network.composites`),
        evaluated after *methods*; the DTD methods of :data:`METHODS` are
        composites too (:func:`dtd_composites`).

    Returns
    -------
    Evaluation
        ``print(evaluation)`` shows the table.

    Examples
    --------
    >>> ev = evaluate_models(["mlp"], ["DTD zB+z+", "random"], baselines=["zero"], n=40, steps=8)
    >>> ev.ranking("mlp")
    ['DTD zB+z+', 'random']
    """
    import time

    from . import evaluate as ev
    start = time.perf_counter()
    known = _methods()
    for meth in methods:
        if meth not in known:
            raise ValueError(f"unknown method {meth!r}; choose from {list(METHODS)}")
    if composites:
        from ..network.composites import Composite
        for label, composite in composites.items():
            if not isinstance(composite, Composite):
                raise TypeError(f"composites[{label!r}] must be a Composite, "
                                f"got {type(composite).__name__}")
            if label in methods:
                raise ValueError(f"composites: {label!r} is also given in methods")
            known[label] = (lambda c: lambda net, X, t: ev.dtd(net, X, t, composite=c))(composite)
        methods = tuple(methods) + tuple(composites)
    values = {"zero": 0.0, "train mean": digits_train_mean()}
    for base in baselines:
        if base not in values:
            raise ValueError(f"unknown baseline {base!r}; choose from {list(BASELINES)}")
    X, y = load_digits_data()
    if n is not None:
        n = check_positive_int(n, "n")
        if n > len(X):
            raise ValueError(f"n must be at most {len(X)} (the held-out digits), got {n}")
    if patch is not None:   # checked before any work
        ph, pw = ev.check_patch(patch)
        if ph > DIGIT_SHAPE[0] or pw > DIGIT_SHAPE[1]:
            raise ValueError(f"patch {ph}x{pw} is larger than the {DIGIT_SHAPE[0]}x"
                             f"{DIGIT_SHAPE[1]} digits")
    if steps is not None:
        check_positive_int(steps, "steps")
    for m in models:
        check_model_name(m)
    X, y = X[:n], y[:n]
    flips, relevance, targets, accuracy, seconds = {}, {}, {}, {}, {}
    total, done = len(models) * len(methods), 0
    for m in models:
        net = load_model(m)
        logits = ev.compiled(net).forward(X)
        targets[m] = logits.argmax(axis=1)
        accuracy[m] = float((targets[m] == y).mean())
        for meth in methods:
            t0 = time.perf_counter()
            relevance[m, meth] = known[meth](net, X, targets[m])
            seconds[m, meth] = time.perf_counter() - t0
            for base in baselines:
                flips[m, meth, base] = ev.pixel_flipping(net, X, relevance[m, meth], targets[m],
                                                         baseline=values[base], patch=patch,
                                                         shape=DIGIT_SHAPE, steps=steps)
            done += 1
            if progress is not None:
                progress(done, total, f"{m}: {meth}")
    seconds["total"] = time.perf_counter() - start
    L = next(iter(flips.values())).curves.shape[1] - 1
    return Evaluation(flips, relevance, X, y, targets, accuracy, seconds, L, patch,
                      tuple(models), tuple(methods), tuple(baselines))


def write_evaluation_figures(evaluation: Evaluation, directory: str | os.PathLike, *, n_examples: int = 4,
                             dpi: float = 100) -> list[Path]:
    """Write heatmaps and pixel-flipping curves of an :class:`Evaluation` as PNG files.

    Files: ``digits_heatmaps_{model}.png`` (each example digit beside its
    DTD, sensitivity and gradient × input maps, where evaluated) and
    ``digits_pixel_flipping.png`` (mean curves ± one standard error, a panel
    per model and baseline).

    Parameters
    ----------
    evaluation : Evaluation
        What :func:`evaluate_models` returned.
    directory : str or pathlib.Path
        An existing folder to write the files into.
    n_examples : int
        How many example digits to show per model (default 4).
    dpi : int
        The resolution of the PNG files (default 100).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from matplotlib.figure import Figure

    from ..see.plotting import heatmap, plot_pixel_flipping, save_figure

    directory = Path(directory)
    written = []
    shown = [m for m in ("DTD zB+z+", "sensitivity", "gradient x input")
             if m in evaluation.methods]
    rows = min(n_examples, len(evaluation.X))
    for model in evaluation.models:
        fig = Figure(figsize=(2.3 * (1 + len(shown)), 2.1 * rows), layout="constrained")
        axes = fig.subplots(rows, 1 + len(shown), squeeze=False)
        for r in range(rows):
            digit = evaluation.targets[model][r]
            axes[r, 0].imshow(evaluation.X[r].reshape(DIGIT_SHAPE), cmap="gray_r", vmin=0, vmax=1)
            axes[r, 0].set_title(f"label {evaluation.y[r]}, predicted {digit}", fontsize="small")
            axes[r, 0].set_axis_off()
            for c, meth in enumerate(shown, start=1):
                heatmap(evaluation.relevance[model, meth][r], DIGIT_SHAPE, ax=axes[r, c],
                        title=meth, colorbar=False)
        fig.suptitle(f"{model}: relevance of the predicted digit's logit (red +, blue −)")
        written.append(save_figure(fig, directory / f"digits_heatmaps_{model}.png", dpi=dpi))
    fig = Figure(figsize=(5.2 * len(evaluation.baselines), 3.8 * len(evaluation.models)),
                 layout="constrained")
    axes = fig.subplots(len(evaluation.models), len(evaluation.baselines), squeeze=False)
    for i, model in enumerate(evaluation.models):
        for j, base in enumerate(evaluation.baselines):
            flips = {meth: evaluation.flips[model, meth, base] for meth in evaluation.methods}
            plot_pixel_flipping({meth: f.curves for meth, f in flips.items()}, ax=axes[i, j],
                                aopc={meth: f.aopc for meth, f in flips.items()},
                                title=f"{model}, baseline {base}",
                                xlabel="steps (pixels removed)" if evaluation.patch is None
                                else f"steps ({evaluation.patch}x{evaluation.patch} patches removed)",
                                ylabel="explained logit")
    written.append(save_figure(fig, directory / "digits_pixel_flipping.png", dpi=dpi))
    return written


def demo_digits(folder: str | os.PathLike, **options: object) -> tuple[list[Path], str]:
    """Evaluate the shipped digits models and write their figures (what ``symdtd demo`` shows).

    Parameters
    ----------
    folder : str or Path
    **options
        Passed to :func:`evaluate_models` (e.g. ``n=``, ``steps=``).

    Returns
    -------
    written : list of pathlib.Path
        The heatmap and pixel-flipping PNG files.
    table : str
        The AOPC table.
    """
    evaluation = evaluate_models(**options)
    return write_evaluation_figures(evaluation, folder), evaluation.table()
