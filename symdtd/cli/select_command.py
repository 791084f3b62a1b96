"""``symdtd select``: choose the rules of a shipped digits model by held-out AOPC.

The command runs :func:`symdtd.select` on the 450 held-out digits (split into
a selection half and a held-out half), prints the report and, with ``-o``,
writes the winner as JSON (:meth:`symdtd.real.selection_space.Candidate.save`).
The tasks run on Dask's threaded scheduler (or in process without Dask),
on a local cluster of ``--workers N`` processes, or on the cluster at
``--scheduler ADDRESS``.

Examples
--------
>>> from symdtd.cli.app import build_parser
>>> args = build_parser().parse_args(["select", "mlp", "--workers", "2", "--gammas", "0.5"])
>>> args.model, args.workers, args.gammas
('mlp', 2, [0.5])
"""
from __future__ import annotations

import argparse

__all__ = ["register_select", "run_select"]


def _count(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _gammas(text):
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--gammas expects numbers separated by commas, got {text!r}") from None
    if any(not v >= 0 for v in values):
        raise argparse.ArgumentTypeError(f"--gammas must be ≥ 0, got {text!r}")
    return values


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"--split must lie strictly between 0 and 1, got {text!r}")
    return value


def _bar(done, total, label):
    """Redraw the progress bar on standard error when it is a terminal."""
    import sys

    from ..core.progress import format_bar, is_active
    if is_active(sys.stderr):
        sys.stderr.write("\r" + format_bar(done, total, label) + ("\n" if done >= total else ""))
        sys.stderr.flush()


def run_select(args: argparse.Namespace) -> int:
    """Run the ``select`` subcommand with parsed *args*.

    Parameters
    ----------
    args : argparse.Namespace
        What :func:`register_select`'s parser produced.

    Returns
    -------
    int
        The exit code, 0.
    """
    from ..real.models import digits_train_mean, load_digits_data
    from ..real.selection import select
    from ..real.selection_space import SearchSpace

    space = SearchSpace(gammas=tuple(args.gammas), per_layer=args.per_layer,
                        absorb_bias=(False, True) if args.bias == "both" else (args.bias == "absorb",))
    X, y = load_digits_data()
    if args.n is not None:
        if args.n > len(X):
            raise ValueError(f"--n must be at most {len(X)} (the held-out digits), got {args.n}")
        X, y = X[:args.n], y[:args.n]
    options = {"space": space, "baselines": {"blank": 0.0, "mean": digits_train_mean()},
               "baseline": args.baseline, "split": args.split, "seed": args.seed, "steps": args.steps,
               "chunk_rows": args.chunk_rows, "progress": None if args.quiet else _bar}
    if args.scheduler:
        from distributed import Client
        with Client(args.scheduler) as client:
            result = select(args.model, X, y, client=client, **options)
    elif args.workers:
        from ..real.dask_cluster import local_cluster
        with local_cluster(args.workers) as client:
            result = select(args.model, X, y, client=client, **options)
    else:
        result = select(args.model, X, y, **options)
    print(f"symdtd select {args.model}: {len(X)} of the shipped held-out digits, "
          f"split {len(result.selection_rows)} / {len(result.held_out_rows)}; {result.seconds:.1f} s\n")
    print(result)
    if args.output:
        print(f"wrote {result.best.save(args.output)}")
    return 0


def register_select(sub: object, make: object) -> None:
    """Add the ``select`` subcommand to the parser's subparsers *sub*.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The subparsers of the ``symdtd`` parser.
    make : callable
        ``make(sub, name, help, example)`` makes one subparser (as for every command).
    """
    p = make(sub, "select", "choose the rules of a shipped digits model by AOPC on a selection "
             "split, reported on a held-out split", "symdtd select cnn --workers 2 -o best.json")
    p.add_argument("model", choices=("mlp", "cnn"), help="shipped model")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_count, default=None,
                       help="run on a local Dask cluster of N worker processes (needs symdtd[dask])")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on the Dask cluster at ADDRESS, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--gammas", type=_gammas, default=[0.1, 0.25, 1.0],
                   help="the γ grid, e.g. 0.1,0.25,1 (default)")
    p.add_argument("--per-layer", action="store_true",
                   help="one rule per layer above the first (instead of one for all of them)")
    p.add_argument("--bias", choices=("both", "keep", "absorb"), default="both",
                   help="bias handling tried: both (default), conserve only, absorb only")
    p.add_argument("--baseline", choices=("blank", "mean"), default="blank",
                   help="pixel-flipping baseline whose AOPC chooses (both are reported)")
    p.add_argument("--split", type=_fraction, default=0.5, help="share of rows for selection (default 0.5)")
    p.add_argument("--seed", type=int, default=0, help="seed of the stratified split (default 0)")
    p.add_argument("--n", type=_count, default=None, help="use the first N of the 450 digits")
    p.add_argument("--steps", type=_count, default=None, help="pixel-flipping steps (default: all 64)")
    p.add_argument("--chunk-rows", type=_count, default=64, help="rows per task (default 64)")
    p.add_argument("-o", "--output", default=None, help="write the winner (composite and bias) as JSON "
                   "(default: none written; only the table is printed)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_select)
