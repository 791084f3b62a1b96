"""Command-line values: the parsers of numbers and counts the subcommands share.

Each parser raises ``ValueError`` with what was expected; :func:`argument_type`
turns one into an argparse ``type=`` whose error argparse prints as a usage
error naming the option (``argument --top-k: expected a positive integer, got 0``).

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="demo", exit_on_error=False)
>>> _ = parser.add_argument("--n", type=argument_type(positive_int))
>>> parser.parse_args(["--n", "3"]).n
3
>>> numbers("1/2,0.25", "--box", 2)
[0.5, 0.25]
"""
from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from ..core.numbers import parse_number

__all__ = ["argument_type", "positive_int", "finite_number", "numbers"]


def argument_type(convert: Callable[[str], object], what: str | None = None) -> Callable[[str], object]:
    """An argparse ``type=`` that reports *convert*'s ValueError as a usage error.

    Parameters
    ----------
    convert : callable
        Reads the option's text; raises ValueError saying what was expected.
    what : str, optional
        How argparse names the type in some messages (default: *convert*'s name).

    Returns
    -------
    callable

    Examples
    --------
    >>> argument_type(positive_int)("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a positive integer, got 0
    """
    def parse(text):
        try:
            return convert(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    parse.__name__ = what or convert.__name__.strip("_").replace("_", " ")
    return parse


def positive_int(text: str) -> int:
    """An integer ≥ 1 from *text*.

    Parameters
    ----------
    text : str

    Returns
    -------
    int

    Raises
    ------
    ValueError
        Not an integer, or < 1.

    Examples
    --------
    >>> positive_int("12")
    12
    >>> positive_int("x")
    Traceback (most recent call last):
    ...
    ValueError: expected a positive integer, got 'x'
    """
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise ValueError(f"expected a positive integer, got {value}")
    return value


def finite_number(text: str, what: str) -> float:
    """A finite float from a command-line number (:func:`symdtd.core.numbers.parse_number`).

    Parameters
    ----------
    text : str
        ``"0.5"``, ``"1/3"``, ``"1e-3"``…
    what : str
        Names the value in errors.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Not a number, or beyond float64.

    Examples
    --------
    >>> finite_number("1/4", "bound")
    0.25
    >>> finite_number("1e999", "bound")
    Traceback (most recent call last):
    ...
    ValueError: bound: '1e999' is too large (beyond float64)
    """
    value = float(parse_number(text.strip(), what))
    if not math.isfinite(value):
        raise ValueError(f"{what}: {text!r} is too large (beyond float64)")
    return value


def numbers(text: str, what: str, count: int | None = None) -> list[float]:
    """``"0.5,0.25"`` → ``[0.5, 0.25]``, each read by :func:`finite_number`.

    Parameters
    ----------
    text : str
        Numbers separated by commas.
    what : str
        Names the values in errors.
    count : int, optional
        How many numbers are needed.

    Returns
    -------
    list of float

    Raises
    ------
    ValueError
        A value that is not a finite number, or not *count* of them.

    Examples
    --------
    >>> numbers("1,2,3", "weights", 2)
    Traceback (most recent call last):
    ...
    ValueError: weights needs 2 numbers, got 3 in '1,2,3'
    """
    values = [finite_number(v, what) for v in text.split(",")]
    if count is not None and len(values) != count:
        raise ValueError(f"{what} needs {count} numbers, got {len(values)} in {text!r}")
    return values
