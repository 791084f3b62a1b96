"""Peak memory of the compiled ``explain`` against the number of rows (issue 14, item 12).

For each shipped model (MLP, CNN) and batch size (1k, 8k, 64k rows) a fresh
subprocess loads the model, compiles it, builds the batch, and records its
peak resident set size (``ru_maxrss``) before and after one
``explain(X, target)``. It runs twice: chunked (the default ``chunk_size``)
and unchunked (``chunk_size=len(X)``, the behaviour before chunking: the
baseline). Printed per run: the peak growth during ``explain`` in MB, the
unavoidable part (the result arrays ``relevance``, ``output``, ``target``
and the conservation report, which grow with the rows whatever the chunks),
and KB per row; ``ratio`` is chunked / unchunked peak growth and ``time
ratio`` chunked / unchunked time of the ``explain`` call. Each figure is the
minimum of ``REPEAT`` subprocesses.

Run: ``python benchmarks/bench_memory.py`` (a few minutes: the unchunked 64k-row CNN
alone needs about 2 GB).
"""
import json
import subprocess
import sys

SIZES = (1_024, 8_192, 65_536)
MODELS = ("mlp", "cnn")
REPEAT = 2

CHILD = r"""
import json, resource, sys, time
import numpy as np
import symdtd
from symdtd.real.models import load_model

name, rows, chunked = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
model = symdtd.compile(load_model(name))
rng = np.random.default_rng(0)
X = rng.random((rows, 64))
target = rng.integers(0, 10, rows)
model.explain(X[:8], target[:8])                      # warm up: imports, caches
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
e = model.explain(X, target, chunk_size=None if chunked else rows)
seconds = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
c = e.conservation
result = sum(a.nbytes for a in (e.relevance, e.output, e.target, c.residual, c.output, c.lost,
                                c.zero_denominators, c.absorbed))
result += sum(t.nbytes for _, t in c.blocks)
print(json.dumps({"growth_kb": after - before, "result_kb": result / 1024, "s": seconds,
                  "chunk": model.chunk_rows()}))
"""


def measure(name, rows, chunked):
    runs = []
    for _ in range(REPEAT):
        out = subprocess.run([sys.executable, "-c", CHILD, name, str(rows), str(int(chunked))],
                             capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out))
    best = min(runs, key=lambda r: r["growth_kb"])
    return dict(best, s=min(r["s"] for r in runs))


def main():
    table = []
    print(f"{'model':5} {'rows':>7} {'chunk':>6} {'chunked MB':>11} {'unchunked MB':>13} "
          f"{'results MB':>11} {'KB/row chunked':>15} {'KB/row unchunked':>17} {'ratio':>6} "
          f"{'time ratio':>10}")
    for name in MODELS:
        for rows in SIZES:
            ch, un = measure(name, rows, True), measure(name, rows, False)
            row = {"model": name, "rows": rows, "chunk_rows": ch["chunk"],
                   "chunked_mb": round(ch["growth_kb"] / 1024, 1),
                   "unchunked_mb": round(un["growth_kb"] / 1024, 1),
                   "results_mb": round(ch["result_kb"] / 1024, 1),
                   "kb_per_row_chunked": round(ch["growth_kb"] / rows, 2),
                   "kb_per_row_unchunked": round(un["growth_kb"] / rows, 2),
                   "ratio": round(ch["growth_kb"] / max(1, un["growth_kb"]), 3),
                   "time_ratio": round(ch["s"] / un["s"], 2)}
            table.append(row)
            print(f"{name:5} {rows:>7} {row['chunk_rows']:>6} {row['chunked_mb']:>11} "
                  f"{row['unchunked_mb']:>13} {row['results_mb']:>11} "
                  f"{row['kb_per_row_chunked']:>15} {row['kb_per_row_unchunked']:>17} "
                  f"{row['ratio']:>6} {row['time_ratio']:>10}", flush=True)
    print(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
