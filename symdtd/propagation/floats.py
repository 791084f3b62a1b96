"""Floats read by exact arithmetic: the value of a float is its binary value.

Exact (and symbolic) arithmetic converts a Python float to the rational
number it stores, so ``0.1`` becomes ``3602879701896397/36028797018963968``,
not ``1/10``. That is exact, but rarely what was meant.
:func:`~symdtd.propagation.backward.propagate` therefore issues one
:class:`InexactFloatWarning` per call when an input value, weight, bias or
box bound is a float whose binary value differs from the decimal it prints
as. Give such values as strings (``"0.1"`` or ``"1/10"``, read exactly by
:func:`symdtd.core.numbers.parse_number`) or as ``fractions.Fraction``; the
command line reads every ``--input`` value as a string, so ``x1=0.1`` is
``1/10`` there.

Examples
--------
>>> import warnings
>>> from symdtd import examples, propagate
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     e = propagate(examples.xor(), {"x1": 0.1, "x2": 0}, arithmetic="exact")
>>> e.activations["x1"]
3602879701896397/36028797018963968
>>> print(caught[0].message)  # doctest: +NORMALIZE_WHITESPACE
exact arithmetic reads floats as their binary values: input 'x1' = 0.1 is
3602879701896397/36028797018963968, not 1/10; give the value as a string
("0.1" or "1/10") to mean the decimal
>>> propagate(examples.xor(), {"x1": "0.1", "x2": 0}, arithmetic="exact").activations["x1"]
1/10
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from fractions import Fraction

from ..core.domains import Box

__all__ = ["InexactFloatWarning", "inexact_float", "warn_inexact_floats"]


class InexactFloatWarning(UserWarning):
    """Exact arithmetic read a float whose binary value is not the decimal it prints as.

    ``0.1`` is stored as ``3602879701896397/36028797018963968``; exact and
    symbolic arithmetic use that number. Pass ``"0.1"`` or ``"1/10"`` (a
    string) for the decimal, or silence the warning where binary values are
    intended (weights trained in floating point, for example)::

        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", symdtd.InexactFloatWarning)
            e = symdtd.propagate(net, point, arithmetic="exact")
    """


def inexact_float(value: object) -> bool:
    """Whether *value* is a float whose exact value differs from its shortest decimal.

    Parameters
    ----------
    value : object
        Any value; only Python and NumPy floats can be inexact.

    Returns
    -------
    bool
        True for ``0.1`` (binary ``3602879701896397/2⁵⁵``), False for ``0.5``,
        ``2.0``, integers, strings and fractions.

    Examples
    --------
    >>> inexact_float(0.1), inexact_float(0.5), inexact_float("0.1"), inexact_float(3)
    (True, False, False, False)
    """
    if not isinstance(value, float) and type(value).__name__ not in ("float32", "float64", "float16"):
        return False
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")) or value.is_integer():
        return False
    return Fraction(repr(value)) != Fraction(value)


def _values(network, inputs: Mapping | None, nodes: Iterable[str]):
    """``(what, value)`` of every number exact arithmetic reads for *nodes*."""
    G = network.graph
    for name, value in (inputs or {}).items():
        yield f"input {name!r}", value
    for j in nodes:
        data = G.nodes[j]
        domain = data.get("domain")
        if isinstance(domain, Box) and not domain.symbolic:
            yield f"bound of input {j!r}", domain.low
            yield f"bound of input {j!r}", domain.high
        if "bias" in data:
            yield f"bias of neuron {j!r}", data["bias"]
        for i, edge in G.pred[j].items():
            yield f"weight of edge {i!r} -> {j!r}", edge.get("weight")


def warn_inexact_floats(network: object, inputs: Mapping | None, nodes: Iterable[str], *,
                        stacklevel: int = 3) -> int:
    """Issue one :class:`InexactFloatWarning` if exact arithmetic would read an inexact float.

    Parameters
    ----------
    network : Network
        The network propagated.
    inputs : dict or None
        The input values (or the symbolic point ``at``).
    nodes : iterable of str
        The nodes whose biases, incoming weights and box bounds are read.
    stacklevel : int
        As for :func:`warnings.warn` (default: the caller of the caller).

    Returns
    -------
    int
        How many inexact floats were found (0: no warning).

    Examples
    --------
    >>> from symdtd import examples
    >>> warn_inexact_floats(examples.xor(), {"x1": "0.1", "x2": 1}, ["h1", "h2", "y"])
    0
    """
    found = [(what, value) for what, value in _values(network, inputs, nodes)
             if inexact_float(value)]
    if found:
        what, value = found[0]
        more = f" (and {len(found) - 1} more float(s))" if len(found) > 1 else ""
        decimal = Fraction(repr(float(value)))
        warnings.warn(f"exact arithmetic reads floats as their binary values: {what} = "
                      f"{float(value)!r} is {Fraction(float(value))}, not {decimal}{more}; give "
                      f'the value as a string ("{float(value)!r}" or "{decimal}") to mean the '
                      "decimal", InexactFloatWarning, stacklevel=stacklevel)
    return len(found)
