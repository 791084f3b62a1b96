"""symdtd.numbers: the one parser of number strings and the check of user values."""
import datetime
import decimal
import time
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from symdtd.core import numbers
from symdtd.core.numbers import check_integer, number_limits, parse_number, real_number, to_sympy

R = sp.Rational


@pytest.mark.parametrize("text, value", [
    ("3", 3), ("-3", -3), ("+3", 3), ("0.25", R(1, 4)), (".5", R(1, 2)), ("2.", 2),
    ("1.5e-3", R(3, 2000)), ("-2E2", -200), ("3/4", R(3, 4)), (" -1 / 3 ", R(-1, 3)),
    ("1e3/7", R(1000, 7)), ("0.5/0.25", 2), ("007", 7), ("1e-1000", R(1, 10**1000)),
])
def test_accepted_forms_are_exact(text, value):
    result = parse_number(text, "w")
    assert result == value and isinstance(result, sp.Rational)


@pytest.mark.parametrize("text", [
    "", " ", ".", "-", "e5", "1e", "1e+", "1.2.3", "1_000", "0x10", "nan", "inf", "-inf",
    "1/2/3", "1/", "/2", "3 4", "1+1", "2**3", "x", "١", "１", "²", "1\x00",
    "__import__('os').system('echo hacked')", "(1)", "[1]", "1j", "Rational(1, 2)",
])
def test_refused_forms_name_the_field(text):
    with pytest.raises(ValueError, match=r"^neurons\[0\]\.bias: .* not a number"):
        parse_number(text, "neurons[0].bias")


def test_zero_denominator():
    with pytest.raises(ValueError, match="divides by zero"):
        parse_number("1/0", "w")


@pytest.mark.parametrize("text, message", [
    ("1e100000000", "the exponent of '1e100000000' is 100000000; at most 1000"),
    ("1e-1001", "the exponent .* is -1001; at most 1000"),
    ("1e" + "9" * 30, "the exponent of '1e999.* is 9{12}…; at most 1000"),
    ("1e" + "9" * 10_000, "characters long"),
    ("1" * 1001, "has 1001 digits; at most 1000"),
    ("1/" + "1" * 1001, "has 1001 digits"),
    ("0." + "0" * 5000 + "1", "characters long"),
    ("1" * 10**6, "characters long"),
], ids=lambda v: repr(v)[:20])
def test_limits_refuse_huge_numbers_at_once(text, message):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=message):
        parse_number(text, "w")
    assert time.perf_counter() - start < 0.5
    assert "symdtd.core.numbers.MAX_" in str(pytest.raises(ValueError, parse_number, text, "w").value)


def test_limits_can_be_raised_per_call_block_and_module(monkeypatch):
    assert parse_number("1e1500", "w", max_exponent=2000) == 10**1500
    with number_limits(max_digits=5000, max_exponent=2000):
        assert parse_number("9" * 4500, "w") == 10**4500 - 1  # past int()'s 4300 too
        assert parse_number("1e-1500", "w") == R(1, 10**1500)
    with pytest.raises(ValueError):
        parse_number("1e1500", "w")  # restored
    monkeypatch.setattr(numbers, "MAX_DIGITS", 3)
    with pytest.raises(ValueError, match="has 4 digits; at most 3"):
        parse_number("1234", "w")
    with pytest.raises(ValueError, match="at most 3"):
        check_integer(12345, "w")
    with pytest.raises(ValueError, match="max_digits must be a positive integer"):
        with number_limits(max_digits=0):
            pass


def test_huge_integers_are_refused_without_converting_them():
    assert check_integer(10**999, "w") == 10**999
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"^weight has about 100001 digits; at most 1000"):
        check_integer(10**100000, "weight")
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("value, expected", [
    (3, 3), (0.5, 0.5), (np.float32(0.25), 0.25), (np.int64(-2), -2), (np.array(1.5), 1.5),
    (np.array("3/4"), R(3, 4)), (np.str_("1/2"), R(1, 2)), (Fraction(1, 3), R(1, 3)),
    (decimal.Decimal("0.125"), R(1, 8)), (R(2, 7), R(2, 7)), (sp.sqrt(2), sp.sqrt(2)),
    ("-7/2", R(-7, 2)),
])
def test_real_number_accepts(value, expected):
    assert real_number(value, "x") == expected


@pytest.mark.parametrize("value, error, message", [
    (True, TypeError, "must be a number, got a bool"),
    (np.bool_(False), TypeError, "got a bool"),
    (None, TypeError, "must be a real number, got None"),
    (b"1", TypeError, "got bytes"),
    ([1], TypeError, "got list"),
    ((1,), TypeError, "got tuple"),
    ({"a": 1}, TypeError, "got dict"),
    (1 + 2j, TypeError, "got complex"),
    (np.complex128(1), TypeError, "complex128"),
    (np.datetime64("2020-01-01"), TypeError, "datetime64"),
    (datetime.date(2020, 1, 1), TypeError, "got date"),
    (np.array([1.0, 2.0]), TypeError, r"array of shape \(2,\)"),
    (object(), TypeError, "got object"),
    (float("nan"), ValueError, r"is not finite \(nan\)"),
    (float("-inf"), ValueError, "is not finite"),
    (np.float64("inf"), ValueError, "is not finite"),
    (decimal.Decimal("NaN"), ValueError, "is not finite"),
    (decimal.Decimal("1e100000000"), ValueError, "exponent"),
    (sp.nan, ValueError, "is not finite"),
    (sp.oo, ValueError, "is not finite"),
    (sp.zoo, ValueError, "is not finite"),
    (sp.I, ValueError, "must be a real number, got I"),
    (1 + sp.I, ValueError, "must be a real number"),
    (sp.Symbol("w"), ValueError, r"is symbolic \(w\)"),
    (sp.Eq(sp.Symbol("a"), 1), TypeError, "must be a number or an expression"),
    (Fraction(10**2000, 3), ValueError, "digits"),
    (10**5000, ValueError, "digits"),
], ids=lambda v: type(v).__name__)
def test_real_number_refuses_naming_the_value(value, error, message):
    with pytest.raises(error, match=message) as info:
        real_number(value, "input 'x1'")
    assert str(info.value).startswith("input 'x1'")


def test_objects_are_never_converted_through_their_text():
    ran = []

    class Sneaky:
        def __str__(self):
            ran.append(1)
            return "__import__('os').getcwd()"

        __repr__ = __str__

    with pytest.raises(TypeError):
        real_number(Sneaky(), "x")
    assert not ran


def test_symbols_only_when_asked():
    w = sp.Symbol("w")
    assert real_number(w, "x", symbols=True) is w
    assert real_number(2 * w + 1, "x", symbols=True) == 2 * w + 1
    with pytest.raises(ValueError, match="is not finite"):
        real_number(w + sp.oo, "x", symbols=True)


def test_to_sympy():
    assert to_sympy(3) == 3 and isinstance(to_sympy(3), sp.Integer)
    assert isinstance(to_sympy(0.5), sp.Float)
    with pytest.raises(TypeError):
        to_sympy("1/2")
