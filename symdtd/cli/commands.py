"""Subcommands of ``symdtd`` that expose networks, rendering and evaluation.

Each function of :data:`REGISTRY` adds one subcommand to the parser; the
work is done by the module the feature lives in. A network argument is a JSON
file written by :func:`symdtd.network.netjson.save_network` or the name of a built-in
example (``figure3``, ``xor``, ``skip_dag``).

Examples
--------
>>> from symdtd.cli.app import main
>>> main(["explain", "xor", "--input", "x1=1", "x2=0"])  # doctest: +ELLIPSIS
Network(...
0
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from ..core.numbers import parse_number
from .options import argument_type, finite_number, numbers, positive_int
from .select_command import register_select

__all__ = ["REGISTRY", "load_network_argument", "parse_inputs"]


def load_network_argument(value):
    """A network from a JSON path or a built-in example name."""
    from ..network import examples
    from ..network.netjson import load_network
    if value in examples.names() and not Path(value).exists():
        return examples.get(value)
    if not Path(value).exists():
        raise FileNotFoundError(f"network file {value!r} not found (and not a built-in "
                                f"example: {', '.join(examples.names())})")
    return load_network(value)


def parse_inputs(items: Iterable[str], network: object = None) -> dict[str, str]:
    """``["x1=3/4", "x2=0.5"]`` → ``{"x1": "3/4", "x2": "0.5"}``.

    Values stay strings, checked here by :func:`symdtd.core.numbers.parse_number`
    (the network code then reads them exactly); a name given twice is an
    error.

    >>> parse_inputs(["x1=3/4,x2=0.5"])
    {'x1': '3/4', 'x2': '0.5'}
    >>> parse_inputs(["x1=1", "x1=2"])
    Traceback (most recent call last):
    ...
    ValueError: --input: x1 is given twice (x1=1, then x1=2)
    """
    values = {}
    for item in items or []:
        for part in item.split(","):
            if not part.strip():
                continue
            name, sep, value = part.partition("=")
            name, value = name.strip(), value.strip()
            if not sep or not name or not value:
                raise ValueError(f"--input expects NAME=VALUE pairs, got {part!r}")
            if name in values:
                raise ValueError(f"--input: {name} is given twice ({name}={values[name]}, "
                                 f"then {name}={value})")
            parse_number(value, f"--input {name}")
            values[name] = value
    return values


def _default_inputs(network_argument, values):
    from ..network import examples
    if values or network_argument not in examples.names():
        if not values:
            raise ValueError("--input is required: give NAME=VALUE for every input")
        return values
    return dict(examples.example_inputs(network_argument)[0])


def _explain(args) -> int:
    from .model_explain import is_model_file, refuse_model_options, run_model_explain
    if is_model_file(args.network):
        return run_model_explain(args)
    refuse_model_options(args)
    from ..proof.network import explain_command
    network = load_network_argument(args.network)
    inputs = _default_inputs(args.network, parse_inputs(args.input, network))
    from .output import emit
    emit(explain_command(network, inputs, output=args.output_neuron,
                          arithmetic=args.arithmetic), args.output)
    return 0


def _render(args) -> int:
    from ..propagation.backward import propagate
    from ..see.flow import render, write
    from ..see.flowgraph import image_format
    image_format(args.output)   # a wrong suffix stops before the work
    network = load_network_argument(args.network)
    inputs = _default_inputs(args.network, parse_inputs(args.input, network))
    if args.arithmetic == "symbolic":   # closed forms on the point's region, coloured at the point
        explanation = propagate(network, None, args.output_neuron, arithmetic="symbolic", at=inputs)
    else:
        explanation = propagate(network, inputs, args.output_neuron, arithmetic=args.arithmetic)
    collapse = args.collapse_above if args.collapse_above is not None else "auto"
    graph = render(network, explanation, top_k=args.top_k, hide_inactive=args.hide_inactive,
                   collapse_above=collapse, highlight=args.highlight,
                   show_weights=args.show_weights)
    path = write(graph, args.output)
    print(f"wrote {path}")
    return 0


def _box_bound(text):
    return finite_number(text, "bound")


def _parse_neuron(text):
    parts = text.split(":")
    if len(parts) != 3:
        raise ValueError(f"--neuron expects W1,W2:B:X1,X2, got {text!r}")
    weights = numbers(parts[0], "neuron weights", 2)
    (bias,) = numbers(parts[1], "neuron bias", 1)
    point = numbers(parts[2], "data point", 2)
    return (tuple(weights), bias, tuple(point))


def _plot_root(args) -> int:
    from ..see.plotting import figure_format, plot_root_search, save_figure
    from ..see.rootplot import root_search_notes
    figure_format(args.output)   # a wrong suffix stops before the work
    neurons = [_parse_neuron(text) for text in args.neuron]
    low, high = args.box
    if low > high:
        raise ValueError(f"--box low {low} is greater than high {high}")
    figure = plot_root_search(neurons, rules=args.rules, box=(low, high))
    path = save_figure(figure, args.output)
    print(f"wrote {path}")
    for note in root_search_notes(neurons, rules=args.rules, box=(low, high)):
        print(f"note: {note}")   # also written on the panel
    return 0


def _network_options(parser, arithmetic="exact", models=False):
    parser.add_argument("network", help="network JSON file or built-in example "
                                        "(figure3, xor, skip_dag)" +
                                        ("; or a saved torch model MODEL.pt (see below)" if models else ""))
    parser.add_argument("--input", nargs="+", metavar="NAME=VALUE",
                        help="input values, e.g. x1=3/4 x2=0.5, read exactly (0.1 is 1/10) "
                             "(default for examples: the example's first input)" +
                             ("; for MODEL.pt: image files (PNG, JPEG)" if models else ""))
    parser.add_argument("--output-neuron", default=None,
                        help="which output neuron to explain (needed when there are several)")
    parser.add_argument("--arithmetic", choices=("exact", "float", "symbolic"),
                        default=arithmetic,
                        help="number type: exact (rationals; 0.1 is read as 1/10), float, or "
                             "symbolic (closed forms valid on the point's activation region) "
                             f"(default: {arithmetic})")


def _register_explain(sub, make):
    from .model_explain import add_model_options
    p = make(sub, "explain", "propagate relevance through a network and prove conservation; "
             "or write heatmaps of a saved torch model on images",
             "symdtd explain xor --input x1=1 x2=0\n"
             "  symdtd explain model.pt --input cat.png --target 3 -o heatmap.png")
    _network_options(p, models=True)
    p.add_argument("-o", "--output", default=None,
                   help="write the table to this file (default: print it on standard output); "
                        "for MODEL.pt the heatmap PNG (default heatmap.png; several images: "
                        "heatmap-1.png, heatmap-2.png, …)")
    add_model_options(p)
    p.set_defaults(run=_explain)


def _register_render(sub, make):
    p = make(sub, "render", "draw the relevance flow of a network with graphviz",
             "symdtd render figure3 --input x1=1 x2=1/2 x3=1/4 -o flow.svg")
    _network_options(p)
    p.add_argument("-o", "--output", default="flow.svg",
                   help="image file: .svg, .png, .pdf or .gv (DOT source) (default: flow.svg)")
    positive = argument_type(positive_int, "positive integer")
    p.add_argument("--top-k", type=positive, default=None, metavar="K",
                   help="draw only the K strongest edges, K >= 1 (default: all)")
    p.add_argument("--collapse-above", type=positive, default=None, metavar="N",
                   help="collapse layers wider than N (N >= 1) into one summary node "
                        "(default: layers wider than 24 when the network has more than 100 nodes)")
    p.add_argument("--hide-inactive", action="store_true", help="leave out inactive neurons")
    p.add_argument("--highlight", default=None, help="highlight the paths of this input")
    p.add_argument("--show-weights", action="store_true", help="label edges with weights")
    p.set_defaults(run=_render)


def _register_plot_root(sub, make):
    p = make(sub, "plot-root", "draw the root-point search of 2-input neurons (Fig. 2 kind)",
             "symdtd plot-root --neuron=1,-1:-0.25:1.5,0.5 --neuron=-0.5,1:-0.25:0.5,1 "
             "--box 0 2 -o roots.png\n  (write --neuron=... when the first weight is negative)")
    p.add_argument("--neuron", action="append", required=True, metavar="W1,W2:B:X1,X2",
                   help="weights, bias and data point of one neuron (repeat for more)")
    p.add_argument("--rules", nargs="+", default=["w2", "z+", "zB"],
                   help="rules whose search to draw, each in its own fixed colour "
                        "(default: w2 z+ zB)")
    p.add_argument("--box", nargs=2, type=argument_type(_box_bound, "number"), default=(0.0, 1.0),
                   metavar=("LOW", "HIGH"),
                   help="input box for zB (default: 0 1)")
    p.add_argument("-o", "--output", default="root-search.png",
                   help="image file: .png, .svg or .pdf (default: root-search.png)")
    p.set_defaults(run=_plot_root)


def progress_bar(done: int, total: int, label: str, *, width: int = 30,
                 stream: TextIO | None = None) -> None:
    """Draw a one-line progress bar on standard error (redrawn in place), if it is a
    terminal (:func:`symdtd.core.progress.is_active`); quiet in pipes and logs."""
    import sys

    from ..core.progress import is_active
    if stream is None and not is_active(sys.stderr):
        return
    stream = stream or sys.stderr
    filled = int(width * done / max(total, 1))
    end = "\n" if done >= total else ""
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label:<30}{end}")
    stream.flush()


def _evaluate(args) -> int:
    from ..real.comparison import evaluate_models, write_evaluation_figures
    baselines = {"zero": "zero", "mean": "train mean"}
    _check_flipping(args.patch, args.steps)
    evaluation = evaluate_models(args.models, baselines=[baselines[b] for b in args.baseline],
                                 n=args.n, patch=args.patch, steps=args.steps,
                                 progress=None if args.quiet else progress_bar)
    print(evaluation)
    if args.output:
        for path in write_evaluation_figures(evaluation, args.output):
            print(f"wrote {path}")
    return 0


def _check_flipping(patch, steps, side=8):
    """``--patch`` and ``--steps`` against the shipped side × side digits, in the command's words."""
    if patch is not None and patch > side:
        raise ValueError(f"--patch {patch}: larger than the {side}x{side} digits; "
                         f"use 1..{side}")
    groups = side * side if patch is None else math.ceil(side / patch) ** 2
    if steps is not None and steps > groups:
        unit = "pixels" if patch is None else f"{patch}x{patch} patches"
        raise ValueError(f"--steps {steps}: an {side}x{side} digit has only {groups} {unit}; "
                         f"use 1..{groups}")


def _register_evaluate(sub, make):
    p = make(sub, "evaluate", "pixel-flipping evaluation (AOPC) of DTD and baselines on the "
             "shipped digit models", "symdtd evaluate --models mlp --n 100 -o figures")
    p.add_argument("--models", nargs="+", choices=("mlp", "cnn"), default=["mlp", "cnn"],
                   help="shipped models to evaluate (default: both)")
    positive = argument_type(positive_int, "positive integer")
    p.add_argument("--n", type=positive, default=None, help="use the first N held-out digits")
    p.add_argument("--patch", type=positive, default=None, help="flip PATCH×PATCH tiles")
    p.add_argument("--steps", type=positive, default=None, help="number of flipping steps")
    p.add_argument("--baseline", nargs="+", choices=("zero", "mean"), default=["zero", "mean"],
                   help="value a flipped pixel takes: 0 or the mean training image")
    p.add_argument("-o", "--output", default=None,
                   help="folder for heatmaps and curves (PNG) (default: none; only the table "
                        "is printed)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_evaluate, output_is_folder=True)


REGISTRY = [_register_explain, _register_render, _register_plot_root, _register_evaluate, register_select]
