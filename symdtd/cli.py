"""The ``symdtd`` command.

Each subcommand lives in a small function here or in the module it exposes;
every one prints an example in its ``--help``. Errors caused by the user's
input (``ValueError``, ``TypeError``, a missing file) are printed as one line
``symdtd: error: …`` with exit code 2 and no traceback.

Examples
--------
>>> main(["derive", "z+", "--format", "markdown"])  # doctest: +ELLIPSIS
### Derivation of the z⁺ rule (fan-in n, domain ℝⁿ₊)
...
0
>>> main(["derive", "nope"])
2
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main", "build_parser"]

_FORMATS = ("text", "latex", "markdown")


def _emit(text: str, output) -> None:
    """Print *text*, or write it to *output* when a path is given."""
    if output:
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {path}")
    else:
        print(text)


def _format_of(args) -> str:
    if getattr(args, "latex", False):
        return "latex"
    if getattr(args, "markdown", False):
        return "markdown"
    return args.format


def _emit_formatted(result, args) -> int:
    """Print a derivation or report in the format the options ask for."""
    fmt = _format_of(args)
    text = {"text": str, "latex": lambda r: r.to_latex(),
            "markdown": lambda r: r.to_markdown()}[fmt](result)
    _emit(text, args.output)
    return 0


def _cmd_derive(args) -> int:
    from .derivation import derive
    return _emit_formatted(derive(args.rule, args.n), args)


def _cmd_verify(args) -> int:
    from .verify import verify
    return _emit_formatted(verify(args.rule, n=args.n, bias=args.bias), args)


def _cmd_demo(args) -> int:
    from .demo import run_demo
    run_demo(args.output)
    return 0


def _add_format(parser) -> None:
    parser.add_argument("--format", choices=_FORMATS, default="text",
                        help="output format (default: text)")
    parser.add_argument("--latex", action="store_true", help="same as --format latex")
    parser.add_argument("--markdown", action="store_true", help="same as --format markdown")
    parser.add_argument("-o", "--output", help="write to this file instead of printing")


def _fan_in(value: str):
    if value in ("n", "any"):
        return None
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"fan-in must be a positive integer or 'n', "
                                         f"got {value!r}") from None


def _subparser(sub, name, help_text, example):
    p = sub.add_parser(name, help=help_text, description=help_text,
                       epilog=f"example:\n  {example}",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", action="append", metavar="NAME=VALUE",
                   help="raise a size limit for this run, e.g. exact_edges=1000000 or "
                        "verify_fan_in=none (see symdtd.limits)")
    return p


def _limited(run):
    """*run* inside ``symdtd.limits.raised(...)`` with the ``--limit`` values."""
    def wrapped(args):
        from .limits import parse_limits, raised
        with raised(**parse_limits(getattr(args, "limit", None))):
            return run(args)
    return wrapped


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``symdtd`` command."""
    parser = argparse.ArgumentParser(
        prog="symdtd",
        description="Deep Taylor decomposition of ReLU networks: derive the rules with "
                    "SymPy, prove them, and apply them to networks.",
        epilog="example:\n  symdtd derive z+\n  symdtd verify zB",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = _subparser(sub, "derive", "derive a rule step by step from its search direction",
                   "symdtd derive z+ --markdown")
    p.add_argument("rule", help="w2, z+, zB, z or gamma")
    p.add_argument("-n", "--n", type=_fan_in, default=None,
                   help="fan-in (default: arbitrary n, with indexed sums)")
    _add_format(p)
    p.set_defaults(run=_cmd_derive)

    p = _subparser(sub, "verify", "prove or refute a rule's claims "
                   "(conservation, root on hyperplane, root in domain, positivity)",
                   "symdtd verify z+ --bias positive")
    p.add_argument("rule", help="w2, z+, zB, z or gamma")
    p.add_argument("-n", "--n", type=_fan_in, default=None, help="fan-in (default: arbitrary)")
    p.add_argument("--bias", choices=("nonpositive", "real", "positive"), default=None,
                   help="assumption on the bias (default: the rule's own, b <= 0)")
    _add_format(p)
    p.set_defaults(run=_cmd_verify)

    p = _subparser(sub, "demo", "derive, verify, propagate and draw; write files to a folder",
                   "symdtd demo -o demo-output")
    p.add_argument("-o", "--output", default="demo-output", help="output folder")
    p.set_defaults(run=_cmd_demo)

    for register in _extra_commands():
        register(sub, _subparser)
    return parser


def _extra_commands():
    """Subcommands defined next to the features they expose."""
    from . import cli_commands
    return cli_commands.REGISTRY


def main(argv=None) -> int:
    """Run the ``symdtd`` command; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:   # argparse already printed its message
        return int(stop.code or 0)
    args.run = _limited(args.run)
    try:
        return args.run(args)
    except (ValueError, TypeError, FileNotFoundError, KeyError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        print(f"symdtd: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())
