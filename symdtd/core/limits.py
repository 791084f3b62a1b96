"""Size limits: refuse up front work that would run for minutes or hours.

Each mode estimates its cost before starting — the fan-in of a derivation or
proof, the number of edges a propagation walks, the digits of the exact
numbers it builds — and raises :class:`LimitExceeded` (a ``ValueError``)
past a documented limit, naming the argument, its size and how to raise the
limit. The limits are the attributes of :data:`LIMITS`:

==================  =========  ==========================================================
limit               default    what it bounds
==================  =========  ==========================================================
``derive_fan_in``   64         ``n`` of ``derive(rule, n)`` (n = 50: ~10 s)
``verify_fan_in``   4          ``n`` of ``verify(rule, n=n)`` (zB: n = 4 ~20 s, n = 5 ~2 min)
``symbolic_edges``  1,000      edges walked by ``propagate(..., "symbolic")`` (576: ~15 s)
``exact_edges``     100,000    edges walked by ``propagate(..., "exact")``
``float_edges``     1,000,000  edges walked by ``propagate(..., "float")`` (45,000: ~2 s)
``exact_digits``    2,000      digits of one exact relevance value (numerator or
                               denominator) during exact propagation (the shipped CNN
                               reaches 1,589; a 256-128-64-64-10 net of float weights
                               4,904 after 70 s, more than Python prints)
==================  =========  ==========================================================

Raise one for the session (``symdtd.core.limits.LIMITS.exact_edges = 10**6``),
for a block of code (``with symdtd.core.limits.raised(exact_edges=10**6): ...``)
or on the command line (``symdtd explain NET --limit exact_edges=1000000``).
``None`` removes a limit. For large networks :func:`~symdtd.compiler.compiled.compile` (batched
float64) has no such limit and is thousands of times faster.

Examples
--------
>>> from symdtd import derive
>>> derive("z+", n=100_000)
Traceback (most recent call last):
...
symdtd.core.limits.LimitExceeded: fan-in n = 100,000 is over the limit derive_fan_in = 64; ...
>>> with raised(derive_fan_in=100):
...     LIMITS.derive_fan_in
100
>>> LIMITS.derive_fan_in
64
"""
from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, fields

__all__ = ["LIMITS", "Limits", "LimitExceeded", "raised", "check", "check_fan_in",
           "check_edges", "check_digits", "digits", "parse_limits"]


class LimitExceeded(ValueError):
    """A size over one of the :data:`LIMITS`; the message says how to raise it."""


@dataclass
class Limits:
    """The size limits (see the module's table); ``None`` means no limit."""

    derive_fan_in: int | None = 64
    verify_fan_in: int | None = 4
    symbolic_edges: int | None = 1_000
    exact_edges: int | None = 100_000
    float_edges: int | None = 1_000_000
    exact_digits: int | None = 2_000


#: the limits in force
LIMITS = Limits()
_NAMES = tuple(f.name for f in fields(Limits))


def _check_value(name, value):
    if name not in _NAMES:
        raise ValueError(f"unknown limit {name!r}; the limits are {', '.join(_NAMES)}")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                              or value < 1):
        raise ValueError(f"limit {name} must be a positive integer or None, got {value!r}")


@contextlib.contextmanager
def raised(**values: int | None) -> Iterator[Limits]:
    """Set some limits inside a ``with`` block, restoring them afterwards.

    Parameters
    ----------
    **values : int or None
        New values of limits, by name (``None`` removes the limit).

    Yields
    ------
    Limits
        :data:`LIMITS`, with the new values until the block ends.

    Raises
    ------
    ValueError
        For an unknown limit name or a value that is not a positive integer or None.

    Examples
    --------
    >>> with raised(exact_edges=None):
    ...     LIMITS.exact_edges is None
    True
    """
    for name, value in values.items():
        _check_value(name, value)
    old = {name: getattr(LIMITS, name) for name in values}
    try:
        for name, value in values.items():
            setattr(LIMITS, name, value)
        yield LIMITS
    finally:
        for name, value in old.items():
            setattr(LIMITS, name, value)


def check(name: str, size: int, what: str, hint: str = "") -> None:
    """Raise :class:`LimitExceeded` when *size* is over the limit *name*.

    Parameters
    ----------
    name : str
        An attribute of :data:`LIMITS`.
    size : int
    what : str
        The argument and what was measured, e.g. ``"fan-in n = 8"``.
    hint : str
        A cheaper alternative, appended to the message.

    >>> check("verify_fan_in", 3, "fan-in n = 3")   # within the limit: nothing
    >>> check("verify_fan_in", 9, "fan-in n = 9")
    Traceback (most recent call last):
    ...
    symdtd.core.limits.LimitExceeded: fan-in n = 9 is over the limit verify_fan_in = 4; raise it with
    symdtd.core.limits.raised(verify_fan_in=9) or --limit verify_fan_in=9 on the command line
    """
    limit = getattr(LIMITS, name)
    if limit is not None and size > limit:
        raise LimitExceeded(f"{what} is over the limit {name} = {limit:,}; raise it with "
                            f"symdtd.core.limits.raised({name}={size}) or --limit {name}={size} "
                            f"on the command line" + (f"; {hint}" if hint else ""))


def check_fan_in(name: str, n: int | None, command: str) -> None:
    """:func:`check` of the fan-in *n* of ``derive``/``verify`` (*command*) against *name*.

    >>> check_fan_in("verify_fan_in", 50, "verify")
    Traceback (most recent call last):
    ...
    symdtd.core.limits.LimitExceeded: fan-in n = 50 is over the limit verify_fan_in = 4; ...
    """
    if isinstance(n, int) and not isinstance(n, bool):
        check(name, n, f"fan-in n = {n:,}",
              f"{command}(rule) without n (CLI: without -n) works for every fan-in at once")


_HINTS = {"symbolic": "arithmetic='exact' or 'float' walks far more edges",
          "exact": "arithmetic='float', or symdtd.compile(network).explain(X) for batches",
          "float": "symdtd.compile(network).explain(X) does the same in float64 far faster"}


def check_edges(n_edges: int, arithmetic: str, output: Hashable) -> None:
    """Refuse a propagation in *arithmetic* that walks more than ``LIMITS.<arithmetic>_edges``.

    >>> check_edges(3000, "symbolic", "y")
    Traceback (most recent call last):
    ...
    symdtd.core.limits.LimitExceeded: arithmetic='symbolic': explaining output 'y' walks 3,000 edges, which is
    over the limit symbolic_edges = 1,000; ...
    """
    if arithmetic in _HINTS:
        check(f"{arithmetic}_edges", n_edges,
              f"arithmetic={arithmetic!r}: explaining output {output!r} walks {n_edges:,} "
              f"edges, which", _HINTS[arithmetic])


def digits(value: object) -> int:
    """Decimal digits of the larger of an exact number's numerator and denominator
    (0 for anything that is not a ``Rational``).

    >>> import sympy as sp
    >>> digits(sp.Rational(12345, 7)), digits(0.5)
    (5, 0)
    """
    p, q = getattr(value, "p", None), getattr(value, "q", None)
    if not isinstance(p, int) or not isinstance(q, int):
        return 0
    return len(str(max(abs(p), q))) if max(abs(p), q) < 10 ** 18 else int(
        max(abs(p), q).bit_length() * 0.30103) + 1


def check_digits(value: object, node: Hashable) -> None:
    """Refuse an exact relevance whose numerator or denominator has more than
    ``LIMITS.exact_digits`` digits: the network's weights are floats, whose exact
    binary fractions make every layer's sum of ``R_j / Σ q`` multiply denominators.
    """
    size = digits(value)
    if size:
        check("exact_digits", size,
              f"in exact arithmetic, the relevance of neuron {node!r} has {size:,} digits (float weights "
              f"are exact binary fractions, and each layer's sum of R_j / Σq multiplies "
              f"their denominators), which", "use arithmetic='float' for such networks")


def parse_limits(items: Iterable[str] | None) -> dict[str, int | None]:
    """``["exact_edges=1000000", "verify_fan_in=none"]`` → a dict for :func:`raised`.

    >>> parse_limits(["exact_edges=1000000", "verify_fan_in=none"])
    {'exact_edges': 1000000, 'verify_fan_in': None}
    """
    values = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep:
            raise ValueError(f"--limit expects NAME=VALUE, got {item!r}")
        if text.lower() == "none":
            value = None
        elif text.isascii() and text.isdigit() and len(text) <= 18:
            value = int(text)
        else:
            raise ValueError(f"--limit {name}: expected a positive integer or 'none', "
                             f"got {text!r}")
        _check_value(name, value)
        values[name] = value
    return values
