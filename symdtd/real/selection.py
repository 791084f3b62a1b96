"""Choosing the rules by measured quality, without bias: :func:`select`.

The paper leaves open how to choose the propagation rules "such that a
measure of quality of the decomposition is maximized" in an unbiased way.
:func:`select` does it the way a model is chosen: every candidate of a
:class:`~symdtd.real.selection_space.SearchSpace` is scored by pixel-flipping
AOPC on a *selection* split, the best is kept, and the figure reported is
measured on a *held-out* split the search never saw, with paired differences
against the paper's default composite and against gradient × input. Two
flipping baselines (a blank pixel and a mean image) are measured throughout,
so a winner that depends on the baseline shows.

The candidates × row chunks run on Dask when it is installed
(:mod:`symdtd.real.dask_run`).

Examples
--------
>>> import numpy as np
>>> from symdtd import Box, Network
>>> from symdtd.real.selection_space import SearchSpace
>>> net = Network.from_dense([[[1.0, 0.5], [-1.0, 1.0], [0.5, -0.5]], [[1.0], [1.0]]],
...                          input_domain=Box(0, 1))
>>> X = np.random.default_rng(0).random((40, 3)) * [1.0, 0.3, 0.6]
>>> result = select(net, X, space=SearchSpace(rules=("z+", "z"), absorb_bias=(False,)),
...                 scheduler="sync")
>>> len(result.candidates), len(set(result.selection_rows) & set(result.held_out_rows))
(6, 0)
>>> print(result.table())  # doctest: +ELLIPSIS
Selection split: 20 rows, 6 candidates; AOPC mean [95% CI], chosen by blank
...
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from ..core.numbers import check_positive_int
from ..network.composites import PaperDefault
from .dask_run import Tally, chunk_slices, run_tasks
from .selection_space import GRADIENT_X_INPUT, Candidate, SearchSpace, candidates

__all__ = ["select", "Selection", "split_rows", "check_splits", "check_rows", "as_network"]

#: the metrics :func:`select` measures
METRICS = ("aopc",)


def split_rows(n: int, y: ArrayLike | None = None, fraction: float = 0.5,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint selection and held-out row indices, stratified by *y* when given.

    Parameters
    ----------
    n : int
        Number of rows.
    y : array-like, optional
        Labels: each class is split in the same proportion.
    fraction : float
        Share of the rows for selection (0 < fraction < 1).
    seed : int
        Seed of the shuffle.

    Returns
    -------
    selection, held_out : numpy.ndarray of int
        Sorted row indices; together every row once.

    Raises
    ------
    ValueError
        A fraction outside (0, 1), labels of another length, a split that
        leaves a side empty.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1, 2, 2])
    >>> selection, held_out = split_rows(6, y)
    >>> y[selection].tolist(), y[held_out].tolist()     # one of each class on each side
    ([0, 1, 2], [0, 1, 2])
    >>> sorted(selection.tolist() + held_out.tolist())
    [0, 1, 2, 3, 4, 5]
    """
    if not 0 < fraction < 1:
        raise ValueError(f"split fraction must lie strictly between 0 and 1, got {fraction!r}")
    rng = np.random.default_rng(seed)
    labels = np.zeros(n, int) if y is None else np.asarray(y)
    if len(labels) != n:
        raise ValueError(f"y has {len(labels)} labels for {n} rows")
    chosen = []
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        chosen.append(rows[:int(round(fraction * len(rows)))])
    selection = np.sort(np.concatenate(chosen))
    held_out = np.setdiff1d(np.arange(n), selection)
    if not len(selection) or not len(held_out):
        raise ValueError(f"a split of {n} rows with fraction {fraction} leaves a side empty")
    return selection, held_out


def check_splits(n: int, selection: ArrayLike, held_out: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Check user-given split indices: integers in ``0..n-1``, both sides non-empty, disjoint.

    Parameters
    ----------
    n : int
        Number of rows.
    selection, held_out : array-like of int
        Row indices of each side.

    Returns
    -------
    selection, held_out : numpy.ndarray of int

    Raises
    ------
    ValueError
        Empty sides, indices out of range, or overlapping splits (the
        shared rows are named).

    Examples
    --------
    >>> check_splits(4, [0, 1], [1, 2])
    Traceback (most recent call last):
    ...
    ValueError: split: the selection and held-out rows overlap in 1 row(s), e.g. [1]; they must be disjoint
    """
    sides = []
    for name, rows in (("selection", selection), ("held-out", held_out)):
        rows = np.asarray(rows)
        if rows.ndim != 1 or not len(rows) or not np.issubdtype(rows.dtype, np.integer):
            raise ValueError(f"split: the {name} rows must be a non-empty 1-D array of integers")
        if rows.min() < 0 or rows.max() >= n:
            raise ValueError(f"split: the {name} rows must lie in 0..{n - 1}")
        sides.append(np.unique(rows))
    shared = np.intersect1d(*sides)
    if len(shared):
        raise ValueError(f"split: the selection and held-out rows overlap in {len(shared)} row(s), "
                         f"e.g. {shared[:5].tolist()}; they must be disjoint")
    return sides[0], sides[1]


def check_rows(X: object, width: int) -> np.ndarray:
    """*X* as a float64 array ``(rows, width)`` without NaN or inf (a dask array is computed).

    Parameters
    ----------
    X : array-like or dask.array.Array
        The rows.
    width : int
        The number of inputs of the network.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        Another shape, or NaN/inf (the first bad rows are named).

    Examples
    --------
    >>> check_rows([[0.0, float("nan")]], 2)
    Traceback (most recent call last):
    ...
    ValueError: X has NaN or inf in 1 row(s), e.g. rows [0]
    """
    if hasattr(X, "compute") and hasattr(X, "chunks"):
        X = X.compute()
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != width or not len(X):
        raise ValueError(f"X must have shape (rows ≥ 1, {width}) (one column per input), got {X.shape}")
    bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if len(bad):
        raise ValueError(f"X has NaN or inf in {len(bad)} row(s), e.g. rows {bad[:5].tolist()}")
    return X


@dataclass
class Selection:
    """What :func:`select` measured; ``str()`` prints the report.

    Its fields are the constructor's parameters.

    Parameters
    ----------
    candidates : list of Candidate
        Every candidate scored, in the order tried.
    scores : dict
        ``(label, baseline) -> Tally`` of per-row AOPC on the selection split.
    best : Candidate
        The winner by the selection metric on the selection split.
    held_out : dict
        ``(label, baseline) -> Tally`` on the held-out split, for the winner,
        the paper's default and gradient × input.
    comparisons : dict
        ``(other, baseline) -> Tally`` of the paired differences winner − other
        over the held-out rows.
    selection_rows, held_out_rows : numpy.ndarray of int
        The rows of each split (disjoint).
    baselines : tuple of str
    metric : str
        The baseline whose AOPC chose the winner.
    skipped : list of (str, str)
        Candidates left out and why.
    seconds : float
    """

    candidates: list
    scores: dict
    best: Candidate
    held_out: dict
    comparisons: dict
    selection_rows: np.ndarray
    held_out_rows: np.ndarray
    baselines: tuple
    metric: str
    skipped: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def best_composite(self):
        """The winner's composite (pass it to ``compile``, ``propagate``, ``render``)."""
        return self.best.composite

    def ranking(self, baseline=None):
        """Candidates by decreasing selection-split AOPC under *baseline* (default the metric's)."""
        baseline = baseline or self.metric
        return sorted(self.candidates, key=lambda c: -self.scores[c.label, baseline].mean)

    def table(self):
        """One row per candidate: AOPC mean and 95% CI on the selection split, each baseline."""
        width = max(len(c.label) for c in self.candidates) + 2
        lines = [f"Selection split: {len(self.selection_rows)} rows, {len(self.candidates)} candidates; "
                 f"AOPC mean [95% CI], chosen by {self.metric}",
                 "rank  " + "candidate".ljust(width) + "".join(f"{b:>26}" for b in self.baselines)]
        for k, c in enumerate(self.ranking(), 1):
            cells = "".join(_cell(self.scores[c.label, b]) for b in self.baselines)
            lines.append(f"{k:>4}  " + c.label.ljust(width) + cells)
        return "\n".join(lines)

    def report(self):
        """The table, the winner on both splits and the paired held-out comparisons, as text."""
        lines = [self.table(), ""]
        if self.skipped:
            lines += [f"skipped {len(self.skipped)} candidate(s) whose rules cannot apply, e.g. "
                      f"{self.skipped[0][0]}: {self.skipped[0][1]}", ""]
        lines.append(f"winner ({len(self.candidates)} candidates tried on {len(self.selection_rows)} "
                     f"selection rows): {self.best.label}")
        for b in self.baselines:
            sel, held = self.scores[self.best.label, b], self.held_out[self.best.label, b]
            lines.append(f"  AOPC ({b}): selection {sel.mean:.4f}, held-out {held.mean:.4f} "
                         f"[{held.ci()[0]:.4f}, {held.ci()[1]:.4f}] on {held.count} rows")
        others = [b for b in self.baselines if b != self.metric]
        for b in others:
            alt = self.ranking(b)[0]
            if alt != self.best:
                lines.append(f"  by the {b} baseline the winner would be {alt.label}: "
                             "the choice depends on the baseline")
        lines += ["", f"held-out split ({len(self.held_out_rows)} rows, never seen by the search):"]
        width = max(len(k[0]) for k in self.held_out) + 2
        for label in {k[0]: None for k in self.held_out}:  # in order, once each
            lines.append("  " + label.ljust(width)
                         + "".join(_cell(self.held_out[label, b]) for b in self.baselines))
        for (other, b), d in self.comparisons.items():
            lo, hi = d.ci()
            lines.append(f"  paired difference winner − {other} ({b}): {d.mean:+.4f} "
                         f"[{lo:+.4f}, {hi:+.4f}]")
        return "\n".join(lines)

    __str__ = report

    def as_dict(self):
        """A JSON-ready summary: the table, the winner (its composite's JSON) and the held-out figures."""
        def figures(tally):
            return {"mean": tally.mean, "ci": list(tally.ci()), "sum": tally.total, "count": tally.count}
        return {"metric": self.metric, "baselines": list(self.baselines),
                "selection_rows": self.selection_rows.tolist(),
                "held_out_rows": self.held_out_rows.tolist(),
                "candidates": [{"candidate": c.to_dict(),
                                **{b: figures(self.scores[c.label, b]) for b in self.baselines}}
                               for c in self.candidates],
                "best": self.best.to_dict(),
                "held_out": {f"{k[0]} | {k[1]}": figures(t) for k, t in self.held_out.items()},
                "comparisons": {f"winner - {k[0]} | {k[1]}": figures(t)
                                for k, t in self.comparisons.items()},
                "skipped": [list(s) for s in self.skipped], "seconds": self.seconds}


def _cell(tally):
    lo, hi = tally.ci()
    return f"{tally.mean:9.4f} [{lo:.4f}, {hi:.4f}]".rjust(26)


def as_network(model: object) -> object:
    """The neuron-level network of *model*: a Network, a shipped model's name or a LayerNetwork.

    A :class:`~symdtd.network.layer_graph.LayerNetwork` is taken through its
    neuron view (:meth:`~symdtd.network.layer_graph.LayerNetwork.neurons`),
    whose inputs are its pixels in flat order.

    Parameters
    ----------
    model : Network, LayerNetwork or {"mlp", "cnn"}
        The model.

    Returns
    -------
    Network

    Raises
    ------
    TypeError
        Anything else.

    Examples
    --------
    >>> len(as_network("mlp").inputs)
    64
    """
    from ..network.graph import Network
    from ..network.layer_graph import LayerNetwork

    if isinstance(model, str):
        from .models import load_model
        return load_model(model)
    if isinstance(model, LayerNetwork):
        return model.neurons()
    if not isinstance(model, Network):
        raise TypeError(f"model must be a Network, a LayerNetwork or a shipped model's name, "
                        f"got {type(model).__name__}")
    return model


def _check_domains(network, X):
    """ValueError naming the rows of *X* outside the input domains (the explanation needs them in)."""
    from ..compiler.batch import check_inputs, numeric_bound

    domains = [network.graph.nodes[p]["domain"] for p in network.inputs]
    low = np.array([numeric_bound(d, 0) for d in domains])
    high = np.array([numeric_bound(d, 1) for d in domains])
    check_inputs(X, network.inputs, domains, low, high, np.float64)


def _baselines(baselines, X_selection, width):
    if baselines is None:
        baselines = {"blank": 0.0, "mean": X_selection.mean(axis=0)}
    if not isinstance(baselines, dict) or not baselines:
        raise ValueError("baselines must be a non-empty dict {name: value or one value per input}")
    out = {}
    for name, value in baselines.items():
        v = np.asarray(value, dtype=np.float64)
        if v.shape not in ((), (width,)) or not np.isfinite(v).all():
            raise ValueError(f"baseline {name!r} must be a finite number or {width} finite values")
        out[name] = v
    return out


def _tallies(results, spans):
    """Per candidate label: baseline -> Tally over its chunks (in row order)."""
    out = {}
    for (label, _), result in zip(spans, results):
        for b, values in result.items():
            out.setdefault((label, b), []).append(values)
    return {k: Tally(v) for k, v in out.items()}


def select(model: object, X: ArrayLike, y: ArrayLike | None = None, *, space: SearchSpace | None = None,
           metric: str = "aopc", baseline: str = "blank", baselines: dict | None = None,
           split: float | tuple = 0.5, seed: int = 0, target: str = "predicted",
           steps: int | None = None, on_misfit: str = "skip", chunk_rows: int = 64,
           scheduler: str | None = None, client: object = None, workers: int | None = None,
           progress: Callable[[int, int, str], object] | None = None) -> Selection:
    """Search a space of composites for the best AOPC; report it on rows the search never saw.

    Parameters
    ----------
    model : Network, LayerNetwork or {"mlp", "cnn"}
        The network (a LayerNetwork through its neuron view, see
        :func:`as_network`), or a shipped digits model's name.
    X : array-like or dask.array.Array, shape (rows, n_inputs)
        The rows (in the input domains; no NaN).
    y : array-like, optional
        Labels: the split is stratified by them; ``target="label"`` explains them.
    space : SearchSpace, optional
        The choices (default :class:`SearchSpace()`: 3 input rules × 5 rules above × 2 bias handlings).
    metric : {"aopc"}
        Pixel-flipping AOPC (higher: the relevance order destroys the output faster).
    baseline : str
        The baseline (a key of *baselines*) whose AOPC chooses the winner.
    baselines : dict, optional
        Name -> value of a removed input; default ``{"blank": 0.0, "mean":``
        the selection rows' mean ``}``.
    split : float or (array, array)
        Share of rows for selection, or explicit ``(selection, held_out)`` indices.
    seed : int
        Seed of the split.
    target : {"predicted", "label"}
        Explain the predicted output, or the label's (needs *y*).
    steps : int, optional
        Pixel-flipping steps (default: every input).
    on_misfit : {"skip", "refuse"}
        A candidate whose rule cannot apply to a layer is skipped (and
        reported) or refused with a ValueError.
    chunk_rows : int
        Rows per task.
    scheduler : {"sync", "threads"}, optional
        Default: Dask's threaded scheduler if Dask is installed, else in process.
    client : dask.distributed.Client, optional
        Run the tasks on this cluster.
    workers : int, optional
        Threads of the threaded scheduler.
    progress : callable, optional
        ``progress(done, total, label)`` as tasks finish.

    Returns
    -------
    Selection
        ``print(selection)`` shows the report; ``selection.best`` the winner.

    Raises
    ------
    ValueError
        Before any work: an empty space, a misfit with ``on_misfit="refuse"``,
        overlapping splits, NaN in *X* or values outside the input domains, an
        unknown metric or baseline.
    RuntimeError
        A task failed on the cluster (no partial result).
    """
    start = time.perf_counter()
    network = as_network(model)
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    X = check_rows(X, len(network.inputs))
    _check_domains(network, X)
    chunk_rows = check_positive_int(chunk_rows, "chunk_rows")
    if steps is not None:
        check_positive_int(steps, "steps")
    if y is not None and len(np.asarray(y)) != len(X):
        raise ValueError(f"y has {len(np.asarray(y))} labels for {len(X)} rows")
    if isinstance(split, tuple):
        sel, held = check_splits(len(X), *split)
    else:
        sel, held = split_rows(len(X), y, split, seed)
    base = _baselines(baselines, X[sel], X.shape[1])
    if baseline not in base:
        raise ValueError(f"baseline {baseline!r} is not one of the baselines {list(base)}")
    if target not in ("predicted", "label") or (target == "label" and y is None):
        raise ValueError(f"target must be 'predicted' or 'label' (with y), got {target!r}")
    found, skipped = candidates(network, space or SearchSpace(), on_misfit=on_misfit)
    # the checks are done: the work starts
    from .evaluate import compiled
    t = (compiled(network).forward(X).argmax(axis=1) if target == "predicted"
         else np.asarray(y, dtype=np.int64))
    run = {"scheduler": scheduler, "client": client, "workers": workers, "progress": progress}

    def score(cands, rows, label):
        tasks, spans = [], []
        for c in cands:
            for s in chunk_slices(len(rows), chunk_rows):
                r = rows[s]
                tasks.append((network, c, X[r], t[r], base, steps))
                spans.append((c.label, s))
        return _tallies(run_tasks(tasks, label=label, **run), spans)

    scores = score(found, sel, "selection split")
    best = max(found, key=lambda c: scores[c.label, baseline].mean)  # ties: the first tried
    default = Candidate("paper default (zB, z+)", PaperDefault())
    gxi = Candidate(GRADIENT_X_INPUT, None, method=GRADIENT_X_INPUT)
    held_out = score([Candidate(f"winner: {best.label}", best.composite, best.absorb_bias),
                      default, gxi], held, "held-out split")
    held_out = {(best.label if k[0].startswith("winner: ") else k[0], k[1]): v
                for k, v in held_out.items()}
    comparisons = {(other.label, b): Tally([held_out[best.label, b].values
                                            - held_out[other.label, b].values])
                   for other in (default, gxi) for b in base}
    return Selection(found, scores, best, held_out, comparisons, sel, held, tuple(base), baseline,
                     skipped, time.perf_counter() - start)
