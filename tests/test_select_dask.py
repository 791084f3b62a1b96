"""select() on a dask array: read chunk by chunk (never whole), with the in-memory floats exactly.

The bound is checked from Dask's side: a callback sees every array any task
of the local schedulers returns, and none may hold more rows than a chunk of
the selection (the whole dataset never exists in memory at once). The
equality is checked against ``select`` on the same rows as a NumPy array.
"""
import os

import numpy as np
import pytest
from test_select import assert_same

from symdtd.real.selection import select
from symdtd.real.selection_space import SearchSpace

da = pytest.importorskip("dask.array")

CHUNK = 16


def _case():
    from symdtd.real.models import load_digits_data
    X, y = load_digits_data()
    space = SearchSpace(input_rules=("zB", "z+"), rules=("z+",), absorb_bias=(False,))
    return X[:80], y[:80], {"space": space, "steps": 8, "chunk_rows": CHUNK}


class LargestResult:
    """A Dask callback: the most rows of any array a task returned (local schedulers)."""

    def __init__(self):
        from dask.callbacks import Callback
        self.rows = 0
        self.tasks = 0

        def posttask(key, result, dsk, state, worker_id):
            self.tasks += 1
            if isinstance(result, np.ndarray) and result.ndim == 2:
                self.rows = max(self.rows, result.shape[0])
        self.callback = Callback(posttask=posttask)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_a_dask_array_is_read_a_chunk_at_a_time_and_gives_the_numpy_floats(scheduler):
    X, y, options = _case()
    lazy = da.from_array(X, chunks=(7, 64))       # chunks that do not match the tasks' rows
    seen = LargestResult()
    with seen.callback:
        result = select("mlp", lazy, y, scheduler=scheduler, workers=2 if scheduler == "threads" else None,
                        **options)
    assert seen.tasks > 0 and 0 < seen.rows <= CHUNK < len(X)   # never more rows than one chunk
    assert_same(select("mlp", X, y, scheduler="sync", **options), result)


def test_nan_in_a_chunk_of_a_dask_array_is_refused_before_the_tasks(monkeypatch):
    import symdtd.real.selection as selection

    def fail(*args, **kwargs):
        raise AssertionError("work started")
    monkeypatch.setattr(selection, "run_tasks", fail)
    X, y, options = _case()
    X = X.copy()
    X[57, 3] = np.nan
    with pytest.raises(ValueError, match=r"NaN or inf in 1 row\(s\), e.g. rows \[57\]"):
        select("mlp", da.from_array(X, chunks=(10, 64)), y, scheduler="sync", **options)
    X[57, 3] = 99.0
    with pytest.raises(ValueError, match=r"outside the input domains in rows \[57\]: X\[57, 3\] = 99.0"):
        select("mlp", da.from_array(X, chunks=(10, 64)), y, scheduler="sync", **options)
    with pytest.raises(ValueError, match=r"shape \(rows ≥ 1, 64\)"):
        select("mlp", da.from_array(X[:, :10], chunks=(10, 10)), y, scheduler="sync", **options)


def test_the_local_cluster_runs_its_workers_without_dasks_malloc_setting(monkeypatch):
    pytest.importorskip("distributed")
    from symdtd.real.dask_cluster import local_cluster

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")   # as an earlier default cluster leaves it
    with local_cluster(1) as client:
        seen = client.run(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"),
                                   os.environ.get("OMP_NUM_THREADS")))
    assert list(seen.values()) == [(None, "1")]
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536"    # put back for this process


@pytest.mark.slow
def test_a_dask_array_on_a_local_cluster_gives_the_numpy_floats():
    pytest.importorskip("distributed")
    from symdtd.real.dask_cluster import local_cluster

    X, y, options = _case()
    with local_cluster(2) as client:
        result = select("mlp", da.from_array(X, chunks=(7, 64)), y, client=client, **options)
    assert_same(select("mlp", X, y, scheduler="sync", **options), result)
