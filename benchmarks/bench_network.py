"""Benchmark networks and propagation; prints one JSON object.

Run: ``python benchmarks/bench_network.py``. Targets (issue 3):
symbolic 2-4-4-1 propagation with symbolic inputs and the conservation proof
< 5 s; exact propagation and proof for one input of a 64-32-16-10 network
with rational weights < 3 s; ``from_dense`` for 784-300-100-10 (266,200
edges) < 3 s and < 400 MB.
"""
import gc
import json
import platform
import resource
import time
import tracemalloc

import numpy as np
import sympy as sp

from symdtd.core.domains import Box
from symdtd.network.graph import Network
from symdtd.proof.network import verify_network
from symdtd.propagation.backward import propagate


def rational_mlp(sizes, seed):
    rng = np.random.default_rng(seed)
    weights = [[[sp.Rational(int(k), 8) for k in row] for row in rng.integers(-8, 9, (a, b))]
               for a, b in zip(sizes, sizes[1:])]
    biases = [[sp.Rational(-int(k), 8) for k in rng.integers(0, 5, b)] for b in sizes[1:]]
    return Network.from_dense(weights, biases, input_domain=Box(0, 1))


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def bench_symbolic():
    net = rational_mlp([2, 4, 4, 1], seed=1)
    explanation, t_prop = timed(lambda: propagate(net))
    report, t_all = timed(lambda: verify_network(net))
    return {"network": "2-4-4-1", "inputs": "symbols x1, x2 (piecewise activations)",
            "propagate_s": round(t_prop, 3), "verify_network_s": round(t_all, 3),
            "note": "propagate_s: first call (may derive rules); verify_network_s: propagates again, proves",
            "status": report.status, "target_s": 5}


def bench_exact():
    net = rational_mlp([64, 32, 16, 10], seed=2)
    rng = np.random.default_rng(3)
    point = {p: sp.Rational(int(k), 16) for p, k in zip(net.inputs, rng.integers(0, 17, 64))}
    explanation, t_prop = timed(lambda: propagate(net, point, output="y1", arithmetic="exact"))
    report, t_all = timed(lambda: verify_network(net, point, output="y1"))
    return {"network": "64-32-16-10", "edges": net.graph.number_of_edges(),
            "propagate_s": round(t_prop, 3), "verify_network_s": round(t_all, 3),
            "note": "propagate_s: first call (may derive rules); verify_network_s: propagates again, proves",
            "proof_includes": "exact residual, float residual, root checks, generation totals",
            "status": report.status, "float_residual": report.float_residual, "target_s": 3}


def bench_from_dense():
    sizes = [784, 300, 100, 10]
    rng = np.random.default_rng(4)
    weights = [rng.normal(size=(a, b)) for a, b in zip(sizes, sizes[1:])]
    biases = [rng.normal(size=b) for b in sizes[1:]]
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    net, seconds = timed(lambda: Network.from_dense(weights, biases))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    edges = net.graph.number_of_edges()
    out, t_forward = timed(lambda: net.forward(rng.random((32, 784))))
    point = dict(zip(net.inputs, rng.random(784).tolist()))
    _, t_float = timed(lambda: propagate(net, point, output="y1", arithmetic="float"))
    del net
    gc.collect()
    tracemalloc.start()  # a second build, traced (tracing slows it, so it is not timed)
    net = Network.from_dense(weights, biases)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"network": "784-300-100-10", "edges": edges, "seconds": round(seconds, 3),
            "traced_peak_MB": round(peak / 2**20, 1),
            "max_rss_growth_MB": round((rss_after - rss_before) / 1024, 1),
            "forward_batch32_s": round(t_forward, 3),
            "propagate_float_reference_s": round(t_float, 3), "target_s": 3, "target_MB": 400}


def main():
    results = {"python": platform.python_version(), "sympy": sp.__version__,
               "symbolic_2_4_4_1": bench_symbolic(), "exact_64_32_16_10": bench_exact(),
               "from_dense_784_300_100_10": bench_from_dense()}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
