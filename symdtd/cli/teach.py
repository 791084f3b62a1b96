"""Commands for learning: ``derive --at`` (a derivation with numbers) and ``symdtd compare``.

``symdtd derive z+ --at "w=1,-1 b=-1/4 x=3/2,1/2"`` prints every step of the
derivation with its values (:meth:`symdtd.derivation.taylor.Derivation.at`);
``symdtd compare`` draws the rules side by side on the shipped digits models
(:func:`symdtd.real.side_by_side.compare`).

Examples
--------
>>> parse_point("w=1,-1 b=-1/4 x=3/2,1/2")
{'w': ['1', '-1'], 'b': '-1/4', 'x': ['3/2', '1/2']}
>>> parse_point("w=1,-1 b=1,2 x=1,1")
Traceback (most recent call last):
...
ValueError: --at: b=1,2: b takes one number, got 2
"""
from __future__ import annotations

from ..core.numbers import parse_number
from .options import argument_type, positive_int

__all__ = ["parse_point", "register_compare", "COMPARE_OUTPUT"]

_KEYS = {"w": "the weights, one per input", "b": "the bias (one number)",
         "x": "the data point, one number per input", "l": "the box's lower bound(s) (zB)",
         "h": "the box's upper bound(s) (zB)", "gamma": "γ of the gamma rule (one number)"}
_SCALAR = ("b", "gamma")
#: where ``symdtd compare`` writes its figure unless ``-o`` says otherwise
COMPARE_OUTPUT = "compare.png"


def parse_point(text: str) -> dict:
    """``"w=1,-1 b=-1/4 x=3/2,1/2"`` as ``{"w": [...], "b": ..., "x": [...]}`` (strings, checked).

    Parameters
    ----------
    text : str
        Space-separated ``KEY=VALUES`` parts; keys ``w``, ``b``, ``x`` (needed)
        and ``l``, ``h``, ``gamma``; values are numbers or fractions,
        comma-separated for ``w``, ``x``, ``l``, ``h``.

    Returns
    -------
    dict
        Key -> one number string (``b``, ``gamma``) or a list of them.

    Raises
    ------
    ValueError
        One line naming the part at fault: an unknown or repeated key, a
        missing ``=``, a bad number, or a missing ``w``, ``b`` or ``x``.

    Examples
    --------
    >>> parse_point("w=1 b=0 x=2 gamma=1/2")["gamma"]
    '1/2'
    >>> parse_point("w=1 b=0 x=two")
    Traceback (most recent call last):
    ...
    ValueError: --at: x=two: 'two' is not a number; write a decimal (-0.25, 1e-3) or a fraction (3/4)
    """
    point = {}
    for part in text.split():
        key, sep, values = part.partition("=")
        if not sep or not key or not values:
            raise ValueError(f"--at: {part!r} is not KEY=VALUES (e.g. w=1,-1 b=-1/4 x=3/2,1/2)")
        if key not in _KEYS:
            raise ValueError(f"--at: {part}: unknown key {key!r}; known: {', '.join(_KEYS)}")
        if key in point:
            raise ValueError(f"--at: {key} is given twice")
        numbers = values.split(",")
        for number in numbers:
            try:
                parse_number(number, part)
            except ValueError as err:
                raise ValueError(f"--at: {err}") from None
        if key in _SCALAR:
            if len(numbers) != 1:
                raise ValueError(f"--at: {part}: {key} takes one number, got {len(numbers)}")
            point[key] = numbers[0]
        elif key in ("l", "h") and len(numbers) == 1:
            point[key] = numbers[0]   # one bound for every input
        else:
            point[key] = numbers
    missing = [k for k in ("w", "b", "x") if k not in point]
    if missing:
        raise ValueError(f"--at: give {', '.join(missing)} too: "
                         + "; ".join(f"{k} is {_KEYS[k]}" for k in missing))
    return point


def _compare(args) -> int:
    from ..real.models import load_digits_data, load_model
    from ..real.side_by_side import compare, default_composites
    from ..see.plotting import figure_format, save_figure
    figure_format(args.output)   # a wrong suffix stops before the work
    X, y = load_digits_data()
    picked = []
    for digit in args.digits:
        rows = [i for i in range(len(y)) if y[i] == digit]
        picked.append(rows[0])
    composites = default_composites(gammas=args.gamma)
    result = compare(load_model(args.model), X[picked], composites=composites,
                     aopc_inputs=X[:args.n], steps=args.steps)
    print(result)
    path = save_figure(result.figure, args.output)
    print(f"wrote {path}")
    return 0


def _digit(text):
    import argparse
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 9:
        raise argparse.ArgumentTypeError(f"a digit is 0 … 9, got {text!r}")
    return value


def _gamma(text):
    import argparse
    try:
        value = parse_number(text, "--gamma")
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"--gamma: γ must be ≥ 0, got {text}")
    return value


def register_compare(sub, make) -> None:
    """Add ``symdtd compare`` to the subcommands *sub* (*make* builds a subparser).

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The parser's subcommands.
    make : callable
        ``make(sub, name, help, example)`` returns the new subparser.

    Examples
    --------
    >>> from symdtd.cli.app import build_parser
    >>> build_parser().parse_args(["compare", "--digits", "0", "3"]).digits
    [0, 3]
    """
    p = make(sub, "compare", "rules side by side: a grid of heatmaps (rows: composites, "
             "columns: digits) with each composite's AOPC, for a shipped digits model",
             "symdtd compare --model mlp --digits 0 3 8 -o compare.png")
    p.add_argument("--model", choices=("mlp", "cnn"), default="mlp",
                   help="shipped digits model (default: mlp)")
    p.add_argument("--digits", nargs="+", type=_digit, default=[0, 3, 8],
                   help="one column per digit: the first held-out image of each (default: 0 3 8)")
    p.add_argument("--gamma", nargs="+", type=_gamma, default=None,
                   help="γ values of the zB+γ rows (default: 0.25 1)")
    p.add_argument("--n", type=argument_type(positive_int), default=100,
                   help="held-out digits the AOPC is measured on (default: 100)")
    p.add_argument("--steps", type=argument_type(positive_int), default=16,
                   help="pixel-flipping steps L of the AOPC (default: 16)")
    p.add_argument("-o", "--output", default=COMPARE_OUTPUT,
                   help=f"image file, .png, .svg or .pdf (default: {COMPARE_OUTPUT})")
    p.set_defaults(run=_compare)
