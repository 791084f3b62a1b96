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

import numpy as np
from numpy.typing import ArrayLike

from ..core.numbers import check_positive_int
from ..network.composites import PaperDefault
from .dask_run import Tally, chunk_slices, run_tasks
from .selection_report import Selection
from .selection_rows import (
    as_network,
    check_domains,
    check_rows,
    check_splits,
    is_dask_array,
    read_rows,
    row_count,
    split_rows,
    take_rows,
)
from .selection_space import GRADIENT_X_INPUT, Candidate, SearchSpace, candidates

__all__ = ["select"]

#: the metrics :func:`select` measures
METRICS = ("aopc",)


def _baselines(baselines, mean, width):
    """The flipping baselines as float64 arrays; by default blank (0) and *mean* (the selection
    rows' column mean)."""
    if baselines is None:
        baselines = {"blank": 0.0, "mean": mean}
    if not isinstance(baselines, dict) or not baselines:
        raise ValueError("baselines must be a non-empty dict {name: value or one value per input}")
    out = {}
    for name, value in baselines.items():
        v = np.asarray(value, dtype=np.float64)
        if v.shape not in ((), (width,)) or not np.isfinite(v).all():
            raise ValueError(f"baseline {name!r} must be a finite number or {width} finite values")
        out[name] = v
    return out


def _tallies(results, labels):
    """Per candidate label: baseline -> Tally over its chunks (in row order)."""
    out = {}
    for label, result in zip(labels, results):
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
    width = len(network.inputs)
    if not is_dask_array(X):  # in memory: checked whole (a dask array: chunk by chunk, below)
        X = check_rows(X, width)
        check_domains(network, X)
    n = row_count(X, width)
    chunk_rows = check_positive_int(chunk_rows, "chunk_rows")
    if steps is not None:
        check_positive_int(steps, "steps")
    if y is not None and len(np.asarray(y)) != n:
        raise ValueError(f"y has {len(np.asarray(y))} labels for {n} rows")
    if isinstance(split, tuple):
        sel, held = check_splits(n, *split)
    else:
        sel, held = split_rows(n, y, split, seed)
    if baselines is not None:
        _baselines(baselines, None, width)
    if baseline not in (baselines or ("blank", "mean")):
        raise ValueError(f"baseline {baseline!r} is not one of the baselines "
                         f"{list(baselines or ('blank', 'mean'))}")
    if target not in ("predicted", "label") or (target == "label" and y is None):
        raise ValueError(f"target must be 'predicted' or 'label' (with y), got {target!r}")
    found, skipped = candidates(network, space or SearchSpace(), on_misfit=on_misfit)
    # the checks of the arguments are done: X is read, one chunk of rows at a time
    parts = {}
    for side, rows in (("selection", sel), ("held-out", held)):
        parts[side] = [rows[s] for s in chunk_slices(len(rows), chunk_rows)]
    predicted, mean = read_rows(network, X, parts["selection"] + parts["held-out"],
                                mean_of=len(parts["selection"]),
                                scheduler="sync" if scheduler == "sync" else None)
    base = _baselines(baselines, mean, width)
    t = predicted if target == "predicted" else np.asarray(y, dtype=np.int64)
    blocks = {side: [(r, take_rows(X, r)) for r in chunks] for side, chunks in parts.items()}
    run = {"scheduler": scheduler, "client": client, "workers": workers, "progress": progress}

    def score(cands, side):
        tasks, labels = [], []
        for c in cands:
            for r, part in blocks[side]:  # one part per chunk, shared by the candidates
                tasks.append((network, c, part, t[r], base, steps))
                labels.append(c.label)
        return _tallies(run_tasks(tasks, label=f"{side} split", **run), labels)

    scores = score(found, "selection")
    best = max(found, key=lambda c: scores[c.label, baseline].mean)  # ties: the first tried
    default = Candidate("paper default (zB, z+)", PaperDefault())
    gxi = Candidate(GRADIENT_X_INPUT, None, method=GRADIENT_X_INPUT)
    held_out = score([Candidate(f"winner: {best.label}", best.composite, best.absorb_bias),
                      default, gxi], "held-out")
    held_out = {(best.label if k[0].startswith("winner: ") else k[0], k[1]): v
                for k, v in held_out.items()}
    comparisons = {(other.label, b): Tally([held_out[best.label, b].values
                                            - held_out[other.label, b].values])
                   for other in (default, gxi) for b in base}
    return Selection(found, scores, best, held_out, comparisons, sel, held, tuple(base), baseline,
                     skipped, time.perf_counter() - start)
