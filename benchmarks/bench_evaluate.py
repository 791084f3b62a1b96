"""Time explaining the shipped digits models and the whole evaluation; print a JSON table.

Targets (issue 6): explaining all held-out digits (450) with the shipped CNN
in under 2 s; the whole evaluation (``evaluate_models()``: 2 models × 6
methods × 2 baselines, 64 pixel-flipping steps each) in under 60 s. Timings
are medians of repeated runs in one process; the cold path (load the
weights, build the network, compile, first explanation) is timed once in a
fresh process state.
"""
import json
import statistics
import time

START = time.perf_counter()
import numpy as np  # noqa: E402

import symdtd  # noqa: E402
from symdtd.real import evaluate as ev  # noqa: E402
from symdtd.real.comparison import evaluate_models  # noqa: E402
from symdtd.real.models import load_digits_data, load_model  # noqa: E402


def median_time(fn, repeat=5):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    X, _ = load_digits_data()
    rows = {}
    for name in ("cnn", "mlp"):
        t0 = time.perf_counter()
        net = load_model(name)
        t1 = time.perf_counter()
        model = symdtd.compile(net)
        t2 = time.perf_counter()
        target = model.forward(X).argmax(axis=1)
        model.explain(X, target)
        t3 = time.perf_counter()
        rows[name] = {
            "neurons": net.graph.number_of_nodes() - len(net.inputs),
            "edges": net.graph.number_of_edges(),
            "load_build_s": round(t1 - t0, 3), "compile_s": round(t2 - t1, 3),
            "cold_total_s": round(t3 - t0, 3),
            "explain_450_s": round(median_time(lambda: model.explain(X, target)), 4),
            "explain_450_float32_s": round(median_time(
                lambda m=symdtd.compile(net, np.float32): m.explain(X, target)), 4),
            "gradient_450_s": round(median_time(lambda: ev.gradient(net, X, target)), 4),
            "pixel_flipping_64_steps_s": round(median_time(
                lambda: ev.pixel_flipping(model, X, ev.random_attribution(X), target), 3), 3),
        }
    t0 = time.perf_counter()
    evaluation = evaluate_models()
    total = time.perf_counter() - t0
    aopc = {f"{m} | {meth} | {base}": f"{r.aopc:.3f} [{r.ci[0]:.3f}, {r.ci[1]:.3f}]"
            for (m, meth, base), r in evaluation.flips.items()}
    result = {
        "models": rows,
        "evaluate_models_s": round(total, 2),
        "accuracy": evaluation.accuracy,
        "aopc_mean_ci95": aopc,
        "targets": {"cnn_explain_450_s": 2, "evaluate_models_s": 60},
        "within_target": rows["cnn"]["explain_450_s"] < 2 and total < 60,
        "process_total_s": round(time.perf_counter() - START, 2),
        "symdtd": symdtd.__version__, "numpy": np.__version__,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
