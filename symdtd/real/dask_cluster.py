"""A Dask ``LocalCluster`` on this machine, set up for selection's tasks: :func:`local_cluster`.

``symdtd select --workers N`` and the benchmark start their cluster here;
on a cluster of your own, pass its ``Client`` to
:func:`~symdtd.real.selection.select` (``client=``), and see the guide for
the worker settings that matter (one BLAS thread per worker thread, no
``MALLOC_TRIM_THRESHOLD_``).

Needs Dask (``pip install 'symdtd[dask]'``).

Examples
--------
>>> import os
>>> with local_cluster(1) as client:
...     sorted(client.run(lambda: [os.environ.get(v) for v in ("OMP_NUM_THREADS",
...                                                        "MALLOC_TRIM_THRESHOLD_")]).values())
[['1', None]]
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from ..core.numbers import check_positive_int

__all__ = ["local_cluster"]


def _worker_imports():
    from ..compiler import compiled  # noqa: F401
    from . import evaluate  # noqa: F401
    return True


@contextlib.contextmanager
def local_cluster(workers: int = 2) -> Iterator[object]:
    """A Dask ``LocalCluster`` set up for these tasks, and its ``Client``; closed on leaving.

    *workers* processes on this machine (loopback only, no dashboard), one
    thread each with BLAS on one thread (Dask's default for worker
    processes), and glibc's own ``malloc`` thresholds: Dask's nanny sets
    ``MALLOC_TRIM_THRESHOLD_=65536`` by default, which gives every large
    array its own ``mmap`` and page faults, about 1.5× the CPU time of the
    same tasks in process. The workers import symdtd's passes before the
    client is handed out (as part of starting the cluster).

    Parameters
    ----------
    workers : int
        Number of worker processes.

    Yields
    ------
    distributed.Client
        Pass it as ``select(..., client=client)``.

    Raises
    ------
    ImportError
        Without ``distributed`` (``pip install 'symdtd[dask]'``).

    Examples
    --------
    >>> with local_cluster(1) as client:
    ...     list(client.nthreads().values())
    [1]
    """
    check_positive_int(workers, "workers")
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("a local cluster needs Dask: pip install 'symdtd[dask]'") from None
    # a nanny started earlier in this process leaves its variable in os.environ, which the
    # worker processes would inherit
    leaked = os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}), \
                LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                             dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(_worker_imports)
            yield client
    finally:
        if leaked is not None:
            os.environ["MALLOC_TRIM_THRESHOLD_"] = leaked
