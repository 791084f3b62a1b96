"""Candidates × row chunks as tasks: in process, on Dask's threads, or on a Dask cluster.

:func:`score_chunk` is one task: explain one chunk of rows with one
candidate (:class:`~symdtd.real.selection_space.Candidate`) and measure the
AOPC of every row under each pixel-flipping baseline
(:func:`~symdtd.real.evaluate.pixel_flipping`). :func:`run_tasks` runs all
of them and returns their results in task order:

* ``scheduler="sync"`` — a loop in this process (needs no Dask);
* ``scheduler="threads"`` (the default when Dask is installed) — Dask's local
  threaded scheduler;
* ``client=`` a :class:`dask.distributed.Client` — the cluster behind it.

Every path calls the same task function on the same chunks, with BLAS on
one thread per task (as Dask's workers run it), so the per-row values are
the same floats; :class:`Tally` then reduces them exactly
(:func:`math.fsum` sums and counts, never means of means). A failed task —
a worker lost more often than the cluster allows, a bug — raises a
``RuntimeError`` naming the candidate: a result is whole or absent.

Examples
--------
>>> import numpy as np
>>> from symdtd import Network
>>> from symdtd.network.composites import PaperDefault
>>> from symdtd.real.selection_space import Candidate
>>> net = Network.from_dense([[[1.0], [-2.0]], [[3.0]]])
>>> c = Candidate("default", PaperDefault())
>>> X, t = np.array([[1.0, 0.25]]), np.array([0])
>>> run_tasks([(net, c, X, t, {"blank": 0.0}, None)], scheduler="sync")[0]["blank"]
array([1.])
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence

import numpy as np

from .evaluate import compiled, mean_ci, pixel_flipping
from .gradients import gradient_x_input
from .selection_space import GRADIENT_X_INPUT, Candidate

__all__ = ["score_chunk", "run_tasks", "Tally", "chunk_slices", "SCHEDULERS"]

SCHEDULERS = ("sync", "threads")


def chunk_slices(n: int, rows: int) -> list[slice]:
    """The row chunks of *n* rows, *rows* at a time (the last may be shorter).

    Parameters
    ----------
    n : int
        Number of rows.
    rows : int
        Rows per chunk (≥ 1).

    Returns
    -------
    list of slice

    Examples
    --------
    >>> chunk_slices(5, 2)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    return [slice(s, min(s + rows, n)) for s in range(0, n, rows)]


def score_chunk(network: object, candidate: Candidate, X: np.ndarray, target: np.ndarray,
                baselines: dict, steps: int | None = None) -> dict:
    """One task: the AOPC of every row of a chunk under each baseline.

    Parameters
    ----------
    network : Network
        The network explained (its compiled form is cached per network
        object, so a worker compiles each candidate once).
    candidate : Candidate
        The rules (or the gradient × input baseline).
    X : numpy.ndarray, shape (rows, n_inputs)
        The chunk.
    target : numpy.ndarray of int, shape (rows,)
        The explained output per row.
    baselines : dict
        Name -> value a removed pixel takes (a number or one per input).
    steps : int, optional
        Pixel-flipping steps (default: every input).

    Returns
    -------
    dict
        Baseline name -> AOPC per row (float64 array of the chunk's length).
    """
    if candidate.method == GRADIENT_X_INPUT:
        R = gradient_x_input(network, X, target)
    else:
        model = compiled(network, composite=candidate.composite)
        R = model.explain(X, target, absorb_bias=candidate.absorb_bias).relevance
    return {name: pixel_flipping(network, X, R, target, baseline=value, steps=steps).aopc_per_input
            for name, value in baselines.items()}


def _labels(tasks):
    return [f"{t[1].label} rows {len(t[2])}" for t in tasks]


def _is_lazy(part):
    return type(part).__module__.startswith("dask.") and hasattr(part, "compute")


def _in_process(tasks, progress, label):
    """The tasks in a loop, grouped by their rows: a lazy (dask) chunk is read once for all the
    candidates that use it, then dropped."""
    groups = {}
    for k, t in enumerate(tasks):
        groups.setdefault(id(t[2]), []).append(k)
    results, done = [None] * len(tasks), 0
    for ks in groups.values():
        part = tasks[ks[0]][2]
        X = part.compute(scheduler="sync") if _is_lazy(part) else part
        for k in ks:
            network, candidate, _, *rest = tasks[k]
            results[k] = score_chunk(network, candidate, X, *rest)
            done += 1
            if progress:
                progress(done, len(tasks), label)
    return results


def _threaded(tasks, workers, progress, label):
    import dask
    from dask.callbacks import Callback

    for t in tasks:  # compiled once here (cached per network): threads do not compile it twice
        if t[1].method != GRADIENT_X_INPUT:
            compiled(t[0], composite=t[1].composite)
    delayed = [dask.delayed(score_chunk, pure=False)(*t) for t in tasks]
    keys = {d.key for d in delayed}
    done = [0]

    def posttask(key, result, dsk, state, worker_id):
        if key in keys:
            done[0] += 1
            progress(done[0], len(tasks), label)

    callback = Callback(posttask=posttask) if progress else Callback()
    with callback:
        return list(dask.compute(*delayed, scheduler="threads", num_workers=workers))


def _distributed(tasks, client, progress, label):
    from distributed import as_completed

    networks, parts = {}, {}
    for t in tasks:  # each network is sent once to every worker
        if id(t[0]) not in networks:
            networks[id(t[0])] = client.scatter(t[0], broadcast=True, hash=False)
        if _is_lazy(t[2]) and id(t[2]) not in parts:  # a dask chunk is read on the cluster, once
            parts[id(t[2])] = client.compute(t[2])
    # a candidate's chunks prefer one worker, which then compiles it once; any other
    # worker may take them (a lost worker's tasks go elsewhere)
    addresses = sorted(client.nthreads()) or [None]
    home = {}
    for t in tasks:
        home.setdefault(t[1], addresses[len(home) % len(addresses)])
    futures = [client.submit(score_chunk, networks[id(t[0])], t[1], parts.get(id(t[2]), t[2]),
                             *t[3:], pure=False,
                             workers=None if home[t[1]] is None else [home[t[1]]],
                             allow_other_workers=True) for t in tasks]
    where = {f.key: k for k, f in enumerate(futures)}
    try:
        for done, future in enumerate(as_completed(futures), 1):
            if future.status == "error":
                k = where[future.key]
                raise RuntimeError(f"selection task {k + 1} of {len(tasks)} ({_labels(tasks)[k]}) "
                                   f"failed on the cluster: {future.exception()!r}; no partial "
                                   "result is returned")
            if progress:
                progress(done, len(tasks), label)
        results = client.gather(futures)
    finally:
        client.cancel(futures + list(parts.values()))
    return results


def _one_blas_thread():
    """BLAS on one thread while tasks run here, as on Dask's workers (whose nannies set
    ``OMP_NUM_THREADS=1``): a matrix product's rounding can depend on the thread count,
    and the paths must give the same floats. A no-op without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def run_tasks(tasks: Sequence[tuple], *, scheduler: str | None = None, client: object = None,
              workers: int | None = None,
              progress: Callable[[int, int, str], object] | None = None,
              label: str = "tasks") -> list[dict]:
    """Run :func:`score_chunk` tasks; their results in task order, all or none.

    Parameters
    ----------
    tasks : sequence of tuple
        The arguments of :func:`score_chunk`, one tuple per task.
    scheduler : {"sync", "threads"}, optional
        Without *client*: a loop in this process, or Dask's threaded
        scheduler (the default when Dask is installed).
    client : dask.distributed.Client, optional
        Run on its cluster instead.
    workers : int, optional
        Threads of the threaded scheduler (default: Dask's, the CPU count).
    progress : callable, optional
        Called as ``progress(done, total, label)`` as tasks finish.
    label : str
        What the progress calls name.

    Returns
    -------
    list of dict
        :func:`score_chunk`'s result of each task.

    Raises
    ------
    ValueError
        An unknown *scheduler*, or both *scheduler* and *client*.
    RuntimeError
        A task failed on the cluster (the message names it).
    ImportError
        Dask asked for but not installed.
    """
    if client is not None:
        if scheduler is not None:
            raise ValueError("give scheduler= or client=, not both")
        return _distributed(tasks, client, progress, label)
    if scheduler is None:
        try:
            import dask  # noqa: F401
            scheduler = "threads"
        except ImportError:
            scheduler = "sync"
    if scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {SCHEDULERS} or a client=, got {scheduler!r}")
    if scheduler == "threads":
        try:
            import dask  # noqa: F401
        except ImportError:
            raise ImportError("scheduler='threads' needs Dask: pip install 'symdtd[dask]'") from None
        with _one_blas_thread():
            return _threaded(tasks, workers, progress, label)
    with _one_blas_thread():
        return _in_process(tasks, progress, label)


class Tally:
    """Exact reduction of per-row values: :func:`math.fsum` sums and counts, kept per row.

    Parameters
    ----------
    parts : sequence of numpy.ndarray
        Per-row values of each chunk, in row order.

    Attributes
    ----------
    values : numpy.ndarray
        All rows, in order.
    total : float
        ``fsum(values)``, correctly rounded whatever the chunking.
    count : int
    mean : float
        ``total / count``.

    Examples
    --------
    >>> t = Tally([np.array([0.1, 0.2]), np.array([0.3])])
    >>> t.total == Tally([np.array([0.1]), np.array([0.2, 0.3])]).total, t.count
    (True, 3)
    """

    def __init__(self, parts: Sequence[np.ndarray]):
        self.values = np.concatenate([np.asarray(p, dtype=np.float64) for p in parts])
        self.total = math.fsum(self.values)
        self.count = len(self.values)
        self.mean = self.total / self.count if self.count else math.nan

    def ci(self, confidence: float = 0.95) -> tuple[float, float]:
        """The t confidence interval of the mean over rows.

        Parameters
        ----------
        confidence : float
            Its level.

        Returns
        -------
        tuple of float
            ``(low, high)``; NaN for fewer than two rows.
        """
        _, (low, high) = mean_ci(self.values, confidence)
        half = (high - low) / 2  # centred on the exact mean
        return self.mean - half, self.mean + half
