"""Layer-level DTD of VGG-16, ResNet-50 and GoogLeNet at 224×224 against a hand-written torch reference.

For each architecture (:mod:`symdtd.real.architectures`, random weights, biases ≤ 0)
and batch (1 and 8), in float32, one process, 2 torch threads, prints:

* **import + compile**: ``layers_from_torch(model, (3, 224, 224), Box(0, 1))``
  then ``compile_layers(net, backend="torch", dtype="float32")`` (seconds): the
  fastest of ``--runs`` builds and, in brackets, the first (the one a user waits
  for, when the process is first given memory for the weight copies; the target
  is judged on it);
* **explain** with the NumPy and the torch backend, and the reference
  :func:`symdtd.real.torch_reference.dtd_reference` (modified weights ×
  gradient, what Zennit does), each the minimum of ``--runs`` runs (default 5),
  with the ratios to the reference;
* **peak memory** of one explain call and of one reference call: the growth of
  the process's resident set high-water mark (``VmHWM`` in ``/proc/self/status``,
  reset before each call by writing 5 to ``/proc/self/clear_refs``), which sees
  NumPy and torch allocations alike (the script re-runs itself with glibc told to
  map every block of 64 kB or more on its own, so that freed memory leaves the
  resident set); for the NumPy backend also the ``tracemalloc`` peak (NumPy's
  allocations only);
* the largest difference between symdtd's relevance (torch backend) and the
  reference's, relative to the reference's largest entry;
* the first explain call's time (it also computes each layer's modified
  weights, ``w⁺`` etc., which the layers keep for the next calls) and the
  memory those kept weights take.

The composite is the paper's default, which gives residual additions the z
rule: what the gradient through an addition computes in the reference and in
Zennit. The explained class is each
row's largest output.

Targets (issue 12): torch-backend explain ≤ 1.0× the reference; import +
compile of VGG-16 ≤ 5 s; peak memory of explain ≤ 1.5× the reference's.

A last table lists the targets per model and batch and whether each is met.

Run: ``python benchmarks/bench_real_scale.py`` (about an hour on two cores,
mostly the NumPy backend on VGG-16), ``--skip-numpy`` (the same runs without
the NumPy backend: every target's column, in a fraction of the time), or
``--quick`` (batches 1 and 8, 2 runs, the NumPy backend only at batch 1 and
not on VGG-16).
"""
import argparse
import gc
import os
import sys
import time
import tracemalloc

import numpy as np
import torch

from symdtd.compiler.layer_pass import compile_layers
from symdtd.core.domains import Box
from symdtd.real.architectures import googlenet, resnet50, vgg16
from symdtd.real.fx_import import layers_from_torch
from symdtd.real.torch_reference import dtd_reference

ARCHITECTURES = {"VGG-16": vgg16, "ResNet-50": resnet50, "GoogLeNet": googlenet}
SHAPE = (3, 224, 224)


def status(field):
    """A ``/proc/self/status`` memory figure in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_rss(fn):
    """Growth of the resident-set high-water mark while *fn* runs, MB."""
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                                   # resets VmHWM to the current RSS
    before = status("VmRSS")
    fn()
    return status("VmHWM") - before


def peak_traced(fn):
    """``tracemalloc``'s peak while *fn* runs, MB (NumPy's allocations; not torch's)."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


def best(fn, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def compile_float32(net, **kwargs):
    """``compile_layers(..., dtype="float32")``, or float64 where that option is missing."""
    try:
        return compile_layers(net, dtype="float32", **kwargs)
    except TypeError:
        return compile_layers(net, **kwargs)


def build(model, runs):
    """``(first, fastest)`` import + compile times, the torch-compiled and the NumPy-compiled network.

    The first build is the one a user waits for: the process has not yet been
    given the memory the weight copies need.
    """
    times = []

    def once():
        t = time.perf_counter()
        net = layers_from_torch(model, SHAPE, Box(0, 1))
        compiled = compile_float32(net, backend="torch")
        times.append(time.perf_counter() - t)
        return compiled, net
    for _ in range(runs):
        compiled, net = once()
    return (times[0], min(times)), compiled, compile_float32(net)


def row(name, model, batch, runs, numpy_too, seconds, compiled_torch, compiled_numpy):
    x = torch.rand((batch,) + SHAPE, generator=torch.Generator().manual_seed(batch))
    with torch.no_grad():
        target = model(x).argmax(dim=1).numpy()
    X = x.numpy()
    reference = lambda: dtd_reference(model, x, target.tolist(), low=0.0, high=1.0)   # noqa: E731
    mine = lambda: compiled_torch.explain(X, target)                                   # noqa: E731
    R = reference()[0].numpy()
    t = time.perf_counter()
    first = mine()                       # the first call also computes the layers' modified weights
    t_first = time.perf_counter() - t
    diff = np.abs(first.relevance - R).max() / np.abs(R).max()
    t_ref, t_torch = best(reference, runs), best(mine, runs)
    m_ref, m_torch = peak_rss(reference), peak_rss(mine)
    kept = sum(w.nbytes for layer in (compiled_torch.net.layer(n) for n in compiled_torch.net.order())
               for w in getattr(layer, "modified_weights", {}).values()) / 2 ** 20
    out = dict(model=name, batch=batch, build=seconds[1], first_build=seconds[0], ref=t_ref,
               torch=t_torch, m_ref=m_ref,
               first=t_first, kept=kept,
               m_torch=m_torch, diff=diff, numpy=np.nan, m_numpy=np.nan, traced=np.nan)
    if numpy_too:
        plain = lambda: compiled_numpy.explain(X, target)                              # noqa: E731
        out.update(numpy=best(plain, runs), m_numpy=peak_rss(plain), traced=peak_traced(plain))
    return out


#: glibc keeps freed blocks below its (growing) mmap threshold in the heap, so the resident set
#: would not fall back after a call and the next call's peak would hide in it: every block of
#: 64 kB or more is mapped and unmapped on its own instead (set before the interpreter starts)
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "65536"}


def numpy_time(r):
    """The NumPy backend's time cell, or – when it was not timed."""
    return "–" if r["numpy"] != r["numpy"] else f"{r['numpy']:.2f} ({r['numpy'] / r['ref']:.2f}×)"


def numpy_memory(r):
    """The NumPy backend's memory cell, or – when it was not measured."""
    if r["m_numpy"] != r["m_numpy"]:
        return "–"
    return f"{r['m_numpy']:.0f} ({r['m_numpy'] / r['m_ref']:.2f}×) [{r['traced']:.0f}]"


def main():
    if any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **MALLOC_ENV})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="2 runs, NumPy backend at batch 1 only and not on VGG-16")
    parser.add_argument("--batches", nargs="*", type=int, default=[1, 8])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", nargs="*", default=list(ARCHITECTURES), choices=list(ARCHITECTURES))
    parser.add_argument("--skip-numpy", action="store_true",
                        help="time the torch backend and the reference only (the targets' columns), "
                             "without the NumPy backend, which takes most of the hour")
    args = parser.parse_args()
    runs = 2 if args.quick else args.runs
    batches = tuple(args.batches)
    torch.set_num_threads(2)
    header = ("| model | batch | import+compile s [first] | explain torch s (× ref) [first call] | "
              "explain NumPy s (× ref) | reference s | peak torch MB (× ref) | "
              "peak NumPy MB (× ref) [tracemalloc] | reference MB | modified weights kept MB | "
              "max rel. diff |")
    print(f"load average {os.getloadavg()[0]:.2f}; "
          f"float32, 224×224, min of {runs} runs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; peak = growth of VmHWM (RSS high-water mark)\n")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    results = []
    for name in args.models:
        model = ARCHITECTURES[name](nonpositive_bias=True)
        seconds, compiled_torch, compiled_numpy = build(model, runs)
        if getattr(compiled_torch, "dtype", None) != np.float32:
            print(f"(compile_layers has no dtype='float32' here: {name} is explained in float64)")
        for batch in batches:
            numpy_too = not args.skip_numpy and not (args.quick and (name == "VGG-16" or batch > 1))
            r = row(name, model, batch, runs, numpy_too, seconds, compiled_torch, compiled_numpy)
            results.append(r)
            print(f"| {r['model']} | {r['batch']} | {r['build']:.2f} [{r['first_build']:.2f}] | {r['torch']:.2f} "
                  f"({r['torch'] / r['ref']:.2f}×) [{r['first']:.2f}] | {numpy_time(r)} | "
                  f"{r['ref']:.2f} | {r['m_torch']:.0f} ({r['m_torch'] / r['m_ref']:.2f}×) | "
                  f"{numpy_memory(r)} | {r['m_ref']:.0f} | {r['kept']:.0f} | {r['diff']:.1e} |",
                  flush=True)
        del compiled_torch, compiled_numpy, model
        gc.collect()
    print("\ntargets (issue 12):\n\n| model | batch | target | measured | met |\n|---|---|---|---|---|")
    for r in results:
        print(f"| {r['model']} | {r['batch']} | torch explain ≤ 1.0× reference | "
              f"{r['torch'] / r['ref']:.2f}× | {r['torch'] <= r['ref']} |")
        print(f"| {r['model']} | {r['batch']} | peak memory ≤ 1.5× reference | "
              f"{r['m_torch'] / r['m_ref']:.2f}× | {r['m_torch'] <= 1.5 * r['m_ref']} |")
    for r in results:
        if r["model"] == "VGG-16" and r["batch"] == batches[0]:
            print(f"| VGG-16 | – | import + compile ≤ 5 s (first build) | {r['first_build']:.2f} s "
                  f"(fastest {r['build']:.2f} s) | {r['first_build'] <= 5} |")


if __name__ == "__main__":
    main()
