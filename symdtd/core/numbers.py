"""Numbers from users: one parser for number strings, one check for values.

Every place where symdtd turns a user's text into a number goes through
:func:`parse_number`: weights, biases and box bounds in network JSON files,
fraction strings given to :meth:`Network.add_neuron
<symdtd.network.graph.Network.add_neuron>` or :func:`~symdtd.propagation.backward.propagate`, the
command line's ``--input NAME=VALUE``, ``plot-root --neuron`` and ``--box``.
Every value given through the Python API (an input value, a weight, a point
of :func:`symdtd.find_root`) is checked by :func:`real_number`. Neither ever
hands a user's string to SymPy's parser or to ``eval``: a string is a number
in one of these forms, or an error.

Accepted text
    A decimal number — ``3``, ``-0.25``, ``.5``, ``1.5e-3``, ``+2E10`` — or a
    fraction of two of them, ``3/4``, ``-1/3``, ``1e3/7``. ASCII digits only;
    spaces only around the text and around ``/``. No ``nan``, ``inf``,
    underscores or expressions.

Limits (so that a short string cannot make a huge number)
    A number may have at most :data:`MAX_DIGITS` digits (per side of a
    fraction) and an exponent of magnitude at most :data:`MAX_EXPONENT`:
    ``"1e100000000"`` is refused at once instead of building a
    100-million-digit integer. Python integers are held to the same digit
    count. Raise the limits for one call (``max_digits=``,
    ``max_exponent=``), for a block (:func:`number_limits`), or for the
    whole program by assigning the module attributes.

Each error is a ``ValueError`` (``TypeError`` for a value of the wrong type)
whose message starts with the name of the field, as the caller gave it.

Examples
--------
>>> parse_number("3/4", "weight")
3/4
>>> parse_number("-1.25e-2", "bias")
-1/80
>>> parse_number("1e100000000", "neurons[0].bias")
Traceback (most recent call last):
...
ValueError: neurons[0].bias: the exponent of '1e100000000' is 100000000; at most 1000 is allowed (raise
symdtd.core.numbers.MAX_EXPONENT)
>>> parse_number("__import__('os')", "input 'x1'")
Traceback (most recent call last):
...
ValueError: input 'x1': "__import__('os')" is not a number; write a decimal (-0.25, 1e-3) or a fraction (3/4)
>>> real_number(float("nan"), "input 'x1'")
Traceback (most recent call last):
...
ValueError: input 'x1' is not finite (nan)
>>> with number_limits(max_digits=2000):
...     len(str(parse_number("9" * 1500, "w")))
1500
"""
from __future__ import annotations

import contextlib
import datetime
import decimal
import math
import numbers as _abc
import re
from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import sympy as sp

__all__ = ["MAX_DIGITS", "MAX_EXPONENT", "parse_number", "real_number", "check_integer",
           "check_positive_int", "to_sympy", "number_limits", "RealLike"]

#: the type of a real number in hints: a Python or NumPy real (``int``,
#: ``float``, ``Fraction``, ``np.float64``, ...) or a SymPy number
RealLike = _abc.Real | sp.Expr

#: Most digits a number may have: in a string (per side of a fraction,
#: leading zeros included) and in a Python integer given as a value.
MAX_DIGITS = 1000
#: Largest magnitude of a decimal exponent in a string (``1e1000`` is fine,
#: ``1e1001`` is not).
MAX_EXPONENT = 1000

_DECIMAL = r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?"
_NUMBER = re.compile(rf"\s*{_DECIMAL}\s*(?:/\s*{_DECIMAL}\s*)?", re.ASCII)
_LOG2_10 = math.log2(10)
_SHOWN = 40  # characters of a long string shown in a message


def _show(text):
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


@contextlib.contextmanager
def number_limits(max_digits: int | None = None, max_exponent: int | None = None) -> Iterator[None]:
    """Raise (or lower) :data:`MAX_DIGITS` and :data:`MAX_EXPONENT` inside a ``with`` block.

    >>> with number_limits(max_exponent=5000):
    ...     parse_number("1e5000", "w") > 0
    True
    """
    global MAX_DIGITS, MAX_EXPONENT
    saved = MAX_DIGITS, MAX_EXPONENT
    for name, value in (("max_digits", max_digits), ("max_exponent", max_exponent)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    MAX_DIGITS = saved[0] if max_digits is None else max_digits
    MAX_EXPONENT = saved[1] if max_exponent is None else max_exponent
    try:
        yield
    finally:
        MAX_DIGITS, MAX_EXPONENT = saved


def _digits_to_int(digits):
    # int() refuses more than sys.get_int_max_str_digits() digits (4300): go in chunks
    value = 0
    for start in range(0, len(digits), 4000):
        chunk = digits[start:start + 4000]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


def _decimal(groups, text, what, max_digits, max_exponent):
    sign, whole, frac, exponent = groups
    frac = frac or ""
    if not whole and not frac:
        return None
    if len(whole) + len(frac) > max_digits:
        raise ValueError(f"{what}: {_show(text)} has {len(whole) + len(frac)} digits; at most "
                         f"{max_digits} are allowed (raise symdtd.core.numbers.MAX_DIGITS)")
    exp = 0
    if exponent:
        magnitude = exponent.lstrip("+-").lstrip("0")
        if len(magnitude) > len(str(max_exponent)) or int(magnitude or 0) > max_exponent:
            shown = exponent if len(exponent) <= 12 else exponent[:12] + "…"
            raise ValueError(f"{what}: the exponent of {_show(text)} is {shown}; at most "
                             f"{max_exponent} is allowed (raise symdtd.core.numbers.MAX_EXPONENT)")
        exp = int(exponent)
    mantissa = _digits_to_int(whole + frac)
    if sign == "-":
        mantissa = -mantissa
    exp -= len(frac)
    return sp.Integer(mantissa * 10 ** exp) if exp >= 0 else sp.Rational(mantissa, 10 ** -exp)


def parse_number(text: str, what: str, *, max_digits: int | None = None,
                 max_exponent: int | None = None) -> sp.Rational:
    """The exact value of a number string, as a SymPy ``Rational``.

    Parameters
    ----------
    text : str
        A decimal (``-0.25``, ``1e-3``) or a fraction (``3/4``), in ASCII.
    what : str
        Names the value in error messages (``"neurons[2].bias"``).
    max_digits, max_exponent : int, optional
        Override :data:`MAX_DIGITS` and :data:`MAX_EXPONENT` for this call.

    Returns
    -------
    sympy.Rational

    Raises
    ------
    TypeError
        *text* is not a string.
    ValueError
        Not a number in the accepted forms, a zero denominator, or past a limit.
    """
    if not isinstance(text, str):
        raise TypeError(f"{what}: expected a number string, got {type(text).__name__}")
    max_digits = MAX_DIGITS if max_digits is None else max_digits
    max_exponent = MAX_EXPONENT if max_exponent is None else max_exponent
    # bound the work before the regular expression looks at the text
    if len(text) > 2 * max_digits + 2 * len(str(max_exponent)) + 64:
        raise ValueError(f"{what}: {_show(text)} is {len(text)} characters long; a number may "
                         f"have at most {max_digits} digits (raise symdtd.core.numbers.MAX_DIGITS)")
    match = _NUMBER.fullmatch(text)
    parts = None
    if match:
        groups = match.groups()
        top = _decimal(groups[:4], text, what, max_digits, max_exponent)
        bottom = (_decimal(groups[4:], text, what, max_digits, max_exponent)
                  if "/" in text else sp.Integer(1))
        if top is not None and bottom is not None:
            parts = top, bottom
    if parts is None:
        raise ValueError(f"{what}: {_show(text)} is not a number; write a decimal "
                         "(-0.25, 1e-3) or a fraction (3/4)")
    if parts[1] == 0:
        raise ValueError(f"{what}: {_show(text)} is not a number: it divides by zero")
    return parts[0] / parts[1]


def check_integer(value: int, what: str, *, max_digits: int | None = None) -> int:
    """*value* (a Python ``int``) if it has at most about :data:`MAX_DIGITS` digits.

    Counted from the bit length, so even a huge integer is checked at once.

    >>> check_integer(10**2000, "weight of edge 'a' -> 'b'")
    Traceback (most recent call last):
    ...
    ValueError: weight of edge 'a' -> 'b' has about 2001 digits; at most 1000 are allowed (raise
    symdtd.core.numbers.MAX_DIGITS)
    """
    max_digits = MAX_DIGITS if max_digits is None else max_digits
    bits = int(value).bit_length()
    if bits > math.ceil(max_digits * _LOG2_10):
        raise ValueError(f"{what} has about {int(bits / _LOG2_10) + 1} digits; at most "
                         f"{max_digits} are allowed (raise symdtd.core.numbers.MAX_DIGITS)")
    return value


def check_positive_int(value: object, what: str) -> int:
    """*value* as a Python ``int``, if it is a positive integer (Python or NumPy).

    For counts given by a user, such as a number of steps or a patch size.
    ``True`` and ``False`` are refused although Python counts them as integers.

    Parameters
    ----------
    value : object
        The value to check.
    what : str
        The argument's name, as error messages show it.

    Returns
    -------
    int
        *value* converted to a Python ``int``.

    Raises
    ------
    TypeError
        *value* is not an integer (a float, a string, a bool…).
    ValueError
        *value* is 0 or negative.

    Examples
    --------
    >>> check_positive_int(np.int64(3), "steps")
    3
    >>> check_positive_int(0, "steps")
    Traceback (most recent call last):
    ...
    ValueError: steps must be a positive integer, got 0
    >>> check_positive_int(2.0, "steps")
    Traceback (most recent call last):
    ...
    TypeError: steps must be a positive integer, got 2.0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value}")
    return int(value)


def _check_rational(p, q, what):
    check_integer(p, what)
    check_integer(q, what)


def real_number(value: object, what: str, *, symbols: bool = False) -> int | float | sp.Expr:
    """Check one user value: a finite real number (or, with *symbols*, a SymPy expression).

    Accepts Python ``int`` and ``float``, ``Fraction``, ``Decimal``, NumPy
    real scalars and 0-d arrays, SymPy numbers and number strings
    (:func:`parse_number`). Refuses bools, ``None``, bytes, sequences,
    complex numbers, dates, NaN and infinities, and any other object —
    without converting it through text.

    Parameters
    ----------
    value : object
    what : str
        Names the value in error messages (``"input 'x1'"``).
    symbols : bool
        Also accept SymPy expressions with free symbols (symbolic arithmetic).

    Returns
    -------
    int, float or sympy.Expr
        Python numbers stay Python numbers; strings, fractions and decimals
        become ``Rational``; SymPy values are returned as they are.

    Raises
    ------
    TypeError
        A value of the wrong type (named in the message).
    ValueError
        NaN, an infinity, a non-real SymPy number, a bad string, or past a limit.

    Examples
    --------
    >>> real_number(np.float32(0.5), "x"), real_number("1/3", "x")
    (0.5, 1/3)
    >>> real_number([1], "input 'x1'")
    Traceback (most recent call last):
    ...
    TypeError: input 'x1' must be a real number, got list
    """
    if isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise TypeError(f"{what} must be a single number, got an array of shape "
                            f"{value.shape}")
        if value.dtype.kind not in "biufUO":
            raise TypeError(f"{what} must be a real number, got dtype {value.dtype}")
        value = value.item()
    elif isinstance(value, np.generic) and not isinstance(value, np.str_):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"{what} must be a real number, got {type(value).__name__}")
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be a number, got a bool")
    if isinstance(value, str):
        return parse_number(value, what)
    if type(value) is int:
        return check_integer(value, what)
    if type(value) is float:
        if not math.isfinite(value):
            raise ValueError(f"{what} is not finite ({value})")
        return value
    if isinstance(value, sp.Basic):
        return _sympy_value(value, what, symbols)
    if isinstance(value, Fraction):
        _check_rational(value.numerator, value.denominator, what)
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"{what} is not finite ({value})")
        return parse_number(str(value), what)
    if isinstance(value, (complex, datetime.date, datetime.timedelta)) or \
            not isinstance(value, _abc.Real):
        name = "None" if value is None else type(value).__name__
        raise TypeError(f"{what} must be a real number, got {name}")
    if isinstance(value, _abc.Integral):
        return check_integer(int(value), what)
    if isinstance(value, _abc.Rational):
        p, q = int(value.numerator), int(value.denominator)
        _check_rational(p, q, what)
        return sp.Rational(p, q)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__}") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} is not finite ({number})")
    return number


def _sympy_value(value, what, symbols):
    if not isinstance(value, sp.Expr):
        raise TypeError(f"{what} must be a number or an expression, got {type(value).__name__}")
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise ValueError(f"{what} is not finite ({value})")
    if value.free_symbols:
        if not symbols:
            raise ValueError(f"{what} is symbolic ({value}); use arithmetic='symbolic'")
        return value
    if not value.is_number:
        raise ValueError(f"{what} must be a number or a symbol, got {value}")
    if value.is_extended_real is False:
        raise ValueError(f"{what} must be a real number, got {value}")
    if value.is_Rational:
        _check_rational(value.p, value.q, what)
    return value


def to_sympy(value: RealLike) -> sp.Expr:
    """A value checked by :func:`real_number` as a SymPy number, without parsing text.

    ``int`` → ``Integer``, ``float`` → ``Float``, SymPy values unchanged.

    >>> to_sympy(2), to_sympy(0.5), to_sympy(sp.Rational(1, 3))
    (2, 0.500000000000000, 1/3)
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        return sp.Float(value)
    raise TypeError(f"to_sympy takes a checked number, got {type(value).__name__}")
