"""The ``symdtd`` command.

Each subcommand lives in a small function here or in the module it exposes;
every one prints an example in its ``--help``. The ``-o`` target is checked
before any work starts (:func:`symdtd.core.files.check_output`) and written
atomically. Exit codes: 0 done; 2 an error in the input (bad argument, file
or path: one line ``symdtd: error: …``, no traceback); 130 interrupted
(Ctrl-C); 1 a bug in symdtd (the traceback is saved to a file whose name is
printed, see :func:`symdtd.core.errors.write_bug_report`) or standard output
closed early (``symdtd … | head``, silently).

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
import os
import sys
import warnings
from collections.abc import Sequence

from ..core.errors import is_input_error, one_line, write_bug_report
from ..core.files import check_output
from .output import emit

__all__ = ["main", "build_parser"]

_FORMATS = ("text", "latex", "markdown")
_RULE_HELP = ("w2, z+, zB, z, gamma or a registered rule's name; other spellings such as "
              "zb, zplus, z⁺, w², wsquare are accepted (symdtd.core.rules.ALIASES)")


def _format_of(args) -> str:
    if getattr(args, "standalone", False):
        if args.markdown or args.format == "markdown":
            raise ValueError("--standalone writes a LaTeX document; it does not go with "
                             "--markdown")
        return "latex"
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
    if args.standalone:   # a whole document: compiles with pdflatex and standard packages
        from ..derivation.printing import latex_document
        text = latex_document(text)
    emit(text, args.output)
    return 0


def _cmd_derive(args) -> int:
    from ..derivation.taylor import derive
    derivation = derive(args.rule, args.n)
    if args.at:   # the same steps with numbers: symdtd derive z+ --at "w=1,-1 b=-1/4 x=3/2,1/2"
        from .teach import parse_point
        return _emit_formatted(derivation.at(**parse_point(args.at)), args)
    return _emit_formatted(derivation, args)


def _cmd_verify(args) -> int:
    from ..proof.neuron import verify
    return _emit_formatted(verify(args.rule, n=args.n, bias=args.bias), args)


def _cmd_demo(args) -> int:
    from .demo import run_demo
    run_demo(args.output, force=args.force)
    return 0


def _add_format(parser) -> None:
    parser.add_argument("--format", choices=_FORMATS, default="text",
                        help="output format (default: text)")
    parser.add_argument("--latex", action="store_true", help="same as --format latex")
    parser.add_argument("--markdown", action="store_true", help="same as --format markdown")
    parser.add_argument("--standalone", action="store_true",
                        help="write a complete LaTeX document (\\documentclass … \\end{document}, "
                             "standard packages only) instead of a fragment; implies --latex")
    parser.add_argument("-o", "--output", help="write to this file instead of printing "
                                               "(default: print on standard output)")


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
    """*run* inside ``symdtd.core.limits.raised(...)`` with the ``--limit`` values."""
    def wrapped(args):
        from ..core.limits import parse_limits, raised
        with raised(**parse_limits(getattr(args, "limit", None))):
            return run(args)
    return wrapped


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``symdtd`` command.

    Returns
    -------
    argparse.ArgumentParser
        The parser, one subparser per subcommand; each sets ``run`` to the function running it.

    Examples
    --------
    >>> build_parser().parse_args(["derive", "z+"]).rule
    'z+'
    """
    parser = argparse.ArgumentParser(
        prog="symdtd",
        description="Deep Taylor decomposition of ReLU networks: derive the rules with "
                    "SymPy, prove them, and apply them to networks.",
        epilog="example:\n  symdtd derive z+\n  symdtd verify zB",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = _subparser(sub, "derive", "derive a rule step by step from its search direction",
                   "symdtd derive z+ --markdown\n  symdtd derive z+ --at \"w=1,-1 b=-1/4 x=3/2,1/2\"")
    p.add_argument("rule", help=_RULE_HELP)
    p.add_argument("-n", "--n", type=_fan_in, default=None,
                   help="fan-in (default: arbitrary n, with indexed sums)")
    p.add_argument("--at", metavar="POINT", default=None,
                   help='every step with numbers at a point, e.g. "w=1,-1 b=-1/4 x=3/2,1/2" '
                        "(zB also l=… h=…, gamma also gamma=…; the fan-in is the number of x values)")
    _add_format(p)
    p.set_defaults(run=_cmd_derive)

    p = _subparser(sub, "verify", "prove or refute a rule's claims "
                   "(conservation, root on hyperplane, root in domain, positivity)",
                   "symdtd verify z+ --bias positive")
    p.add_argument("rule", help=_RULE_HELP)
    p.add_argument("-n", "--n", type=_fan_in, default=None, help="fan-in (default: arbitrary)")
    p.add_argument("--bias", choices=("nonpositive", "real", "positive"), default=None,
                   help="assumption on the bias (default: the rule's own, b <= 0)")
    _add_format(p)
    p.set_defaults(run=_cmd_verify)

    p = _subparser(sub, "demo", "derive, verify, propagate and draw; write files to a folder",
                   "symdtd demo -o demo-output")
    p.add_argument("-o", "--output", default="demo-output",
                   help="output folder (default: demo-output)")
    p.add_argument("--force", action="store_true",
                   help="replace files in the folder that the demo did not write, or that "
                        "were changed since it wrote them")
    p.set_defaults(run=_cmd_demo, output_is_folder=True)

    for register in _extra_commands():
        register(sub, _subparser)
    return parser


def _extra_commands():
    """Subcommands defined next to the features they expose."""
    from . import commands as cli_commands
    from .teach import register_compare
    return [*cli_commands.REGISTRY, register_compare]


def _run(args) -> int:
    """Check the output path, do the work, and flush standard output."""
    if getattr(args, "output", None):
        check_output(args.output, folder=getattr(args, "output_is_folder", False))
    code = _limited(args.run)(args)   # with the --limit values in force
    sys.stdout.flush()   # a closed pipe shows here, not at interpreter exit
    return code


def _warning_printer(previous):
    """symdtd's own warnings as one line ``symdtd: warning: …``; others as Python shows them."""
    def show(message, category, filename, lineno, file=None, line=None):
        if not category.__module__.startswith("symdtd"):
            return previous(message, category, filename, lineno, file, line)
        print(f"symdtd: warning: {' '.join(str(message).split())}", file=sys.stderr)
    return show


def _stdout_closed() -> int:
    """``symdtd … | head``: stop quietly, as the Python docs recommend."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())   # the exit-time flush must not fail again
    except (OSError, ValueError, AttributeError):   # stdout is not a real file (tests)
        pass
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``symdtd`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: 0 done, 2 an error in the input, 130 interrupted, 1 a bug
        (see the module docstring).

    Examples
    --------
    >>> main(["derive", "nope"])
    2
    """
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as stop:   # argparse already printed its message
            return int(stop.code or 0)
        with warnings.catch_warnings():
            warnings.showwarning = _warning_printer(warnings.showwarning)
            return _run(args)
    except KeyboardInterrupt:
        print("symdtd: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _stdout_closed()
    except Exception as error:   # noqa: BLE001 -- sorted into input errors and bugs
        if is_input_error(error):
            print(f"symdtd: error: {one_line(error)}", file=sys.stderr)
            return 2
        print(f"symdtd: internal error, a bug in symdtd: {type(error).__name__}: "
              f"{one_line(error)}", file=sys.stderr)
        try:
            report = write_bug_report(error, argv)
        except OSError:   # no writable temporary folder: show the traceback instead
            import traceback
            traceback.print_exception(error)
            return 1
        print(f"symdtd: the traceback is saved in {report}; please report the bug "
              "with that file", file=sys.stderr)
        return 1


if __name__ == "__main__":   # pragma: no cover
    sys.exit(main())
