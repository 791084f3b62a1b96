"""Time rule selection's candidates × chunks in process, on Dask threads and on a LocalCluster(2).

Targets (issue 15): 20 candidates × the 450 held-out digits with the shipped
CNN (explain, then pixel-flipping AOPC with the blank and mean-image
baselines, 64 steps): the LocalCluster of 2 worker processes in at most 0.7×
the in-process time; the memory of ``explain_dataset`` (written to .npy per
chunk) flat as the rows grow 10× at a fixed chunk size.

Each mode starts from a freshly loaded network (so every mode compiles its
candidates: nothing is served from an earlier run's cache) and is timed
``REPEATS`` times; the minimum is reported. The cluster is started before the
clock starts. All modes must return the same floats (checked). The machine's
load average is printed with the figures: the ratio means little on a
loaded machine.
"""
import json
import os
import tempfile
import time
import tracemalloc

import numpy as np

from symdtd.real.dask_run import chunk_slices, run_tasks
from symdtd.real.models import digits_train_mean, load_digits_data, load_model
from symdtd.real.selection_space import SearchSpace, candidates

REPEATS = 2
SPACE = SearchSpace(input_rules=("zB", "w2"), rules=("z+", "z", "gamma"), gammas=(0.1, 0.25, 1.0),
                    absorb_bias=(False, True))


def tasks(chunk_rows=64):
    net = load_model("cnn")
    X, _ = load_digits_data()
    found, _ = candidates(net, SPACE)
    assert len(found) == 20
    from symdtd.real.evaluate import compiled
    target = compiled(net).forward(X).argmax(axis=1)
    base = {"blank": np.float64(0.0), "mean": digits_train_mean()}
    return [(net, c, X[s], target[s], base, None) for c in found
            for s in chunk_slices(len(X), chunk_rows)]


def timed(**run):
    best, result = float("inf"), None
    for _ in range(REPEATS):
        todo = tasks()
        t0 = time.perf_counter()
        result = run_tasks(todo, **run)
        best = min(best, time.perf_counter() - t0)
    return best, result


def same(a, b):
    return all(np.array_equal(x[k], y[k]) for x, y in zip(a, b) for k in x)


def memory(rows, chunk_rows=450):
    import dask.array as da

    from symdtd.real.dataset import explain_dataset
    X, _ = load_digits_data()
    big = da.concatenate([da.from_array(X, chunks=(chunk_rows, 64))] * (rows // len(X)))
    maps = explain_dataset("cnn", big, chunk_rows=chunk_rows)
    with tempfile.TemporaryDirectory() as folder:
        tracemalloc.start()
        t0 = time.perf_counter()
        maps.write(folder, scheduler="threads")
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return {"rows": rows, "chunk_rows": chunk_rows, "peak_MB": round(peak / 2 ** 20, 1),
            "seconds": round(seconds, 2)}


def main():
    from distributed import Client, LocalCluster

    load_before = os.getloadavg()
    sync_s, sync = timed(scheduler="sync")
    threads_s, threaded = timed(scheduler="threads", workers=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        cluster_s, clustered = timed(client=client)
    assert same(sync, threaded) and same(sync, clustered), "the modes disagree"
    small, large = memory(4500), memory(45000)
    result = {"candidates": 20, "rows": 450, "tasks": len(sync),
              "in_process_s": round(sync_s, 2), "dask_threads_s": round(threads_s, 2),
              "local_cluster_2_s": round(cluster_s, 2),
              "ratio_threads": round(threads_s / sync_s, 3), "ratio_cluster": round(cluster_s / sync_s, 3),
              "target_ratio_cluster": 0.7, "within_target": cluster_s / sync_s <= 0.7,
              "equal_floats": True,
              "explain_dataset_memory": [small, large],
              "memory_growth_10x_rows": round(large["peak_MB"] / small["peak_MB"], 2),
              "load_average_before": [round(v, 2) for v in load_before],
              "load_average_after": [round(v, 2) for v in os.getloadavg()], "cpus": os.cpu_count()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
