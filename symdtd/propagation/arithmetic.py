"""The three arithmetics of :func:`~symdtd.propagation.backward.propagate`, and the forward pass.

A backend turns weights, biases and input values into its numbers and does
the few operations relevance propagation needs (sums, ReLU, max, sign,
positive part, zero test); ``ARITHMETIC`` maps each name of :data:`ARITHMETICS`
to its backend:

``"symbolic"``
    SymPy expressions; symbols are kept, numbers become exact.
``"exact"``
    SymPy ``Rational`` numbers (floats are converted exactly); symbols are
    refused.
``"float"``
    Python floats (sums with ``math.fsum``). A value that overflows (or a
    number too large for a float) is a ``ValueError`` naming the neuron or
    the value: no inf or NaN comes out.

Values are checked by :func:`symdtd.core.numbers.real_number` (strings by
:func:`symdtd.core.numbers.parse_number`: never by SymPy's parser).
:func:`forward_values` computes every activation in one of them, checking
the input values against the inputs' domains. Two conventions are shared
with :func:`~symdtd.compiler.compiled.compile`: :func:`zero_denominator`, the one test of when
a relevance denominator counts as zero, and :class:`NegativeOutputWarning`,
issued when an explained output is negative.

Examples
--------
>>> from symdtd import examples
>>> from symdtd.propagation.arithmetic import forward_values
>>> net = examples.xor()
>>> forward_values(net, {"x1": "3/4", "x2": "1/2"})["y"]
3/4
>>> forward_values(net, {"x1": 0.75, "x2": 0.5}, arithmetic="float")["y"]
0.75
>>> forward_values(net, None, arithmetic="symbolic", at={"x1": 1, "x2": 1})["y"]
-x1 - x2 + 2
"""
from __future__ import annotations

import math
import sys
from collections.abc import Mapping

import networkx as nx
import sympy as sp

from ..core.domains import Box, Positive
from ..core.numbers import real_number, to_sympy
from ..network.kind_registry import kind_named

__all__ = ["ARITHMETICS", "UNIT_ROUNDOFF", "NegativeOutputWarning", "forward_values",
           "zero_denominator"]

ARITHMETICS = ("symbolic", "exact", "float")
_FAST_BITS = 64  # an int this short needs no digit check

class NegativeOutputWarning(UserWarning):
    """The explained output ``x_f`` is negative (e.g. a logit that did not win).

    The root search of every rule assumes ``x_f > 0``: with ``x_f < 0`` the
    relevance redistributes a negative value, so the map is (mostly)
    negative and its signs do not mean "for" and "against". Explain a
    positive output (usually the winning logit; a network can have rows
    where every logit is negative), or silence the warning where negative
    maps are intended::

        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", symdtd.NegativeOutputWarning)
            e = symdtd.propagate(net, point, arithmetic="exact")

    :func:`~symdtd.propagation.backward.propagate` names the output,
    :meth:`CompiledNetwork.explain <symdtd.compiler.compiled.CompiledNetwork.explain>`
    the rows of the batch.
    """


#: Unit roundoff ``u`` (half the machine epsilon) per number type; exact numbers have none.
UNIT_ROUNDOFF = {"float64": 2.0 ** -53, "float32": 2.0 ** -24, "exact": 0}


def zero_denominator(Z, magnitude, count, number="float64"):
    """Does a relevance denominator ``Z = Σ_i q_ij`` count as zero? The one rule of symdtd.

    ``Z`` is zero when ``|Z| ≤ count · u · magnitude``: no larger than the
    worst-case rounding error of adding up the parts that formed it
    (Higham's bound ``γ_n ≈ n·u`` for a sum of ``n`` terms), where
    *magnitude* is ``Σ |part|`` over the parts that were rounded separately
    before being added. In exact arithmetic ``u = 0``, and with a single
    part ``magnitude = |Z|``: in both cases the rule is ``Z = 0``.

    :func:`~symdtd.propagation.backward.propagate` adds the numerators ``q_ij`` with ``math.fsum``
    (one rounding: a single part), so in every arithmetic it decides
    ``Z = 0`` exactly. :func:`~symdtd.compiler.compiled.compile` adds matrix products computed
    apart (``X @ W`` and zᴮ's folded ``−l·w⁺ − h·w⁻``, which cancel at a box
    corner where every ``q`` is 0), with *count* = fan-in + number of parts.
    A neuron whose denominator is zero passes nothing on (messages 0) and
    the relevance it held is reported as lost.

    Parameters
    ----------
    Z : number or numpy.ndarray
        The computed denominator(s).
    magnitude : number or numpy.ndarray
        ``Σ |part|`` over the parts added to form ``Z`` (same shape as ``Z``).
    count : int
        How many roundings the sum took: fan-in plus number of parts.
    number : {"float64", "float32", "exact"}
        The number type, for its unit roundoff :data:`UNIT_ROUNDOFF`.

    Returns
    -------
    bool or numpy.ndarray of bool

    Examples
    --------
    A rounding residue of two parts that cancel is zero; ``2⁻⁴⁰`` is not:

    >>> zero_denominator(2.0 ** -60, magnitude=2.0, count=3)
    True
    >>> zero_denominator(2.0 ** -40, magnitude=2.0, count=3)
    False
    >>> zero_denominator(2.0 ** -60, magnitude=2.0 ** -60, count=3)   # a single part
    False
    """
    return abs(Z) <= count * UNIT_ROUNDOFF[str(number)] * magnitude


# ------------------------------------------------------------------ arithmetic
class _Exact:
    """Exact SymPy numbers; symbols are refused."""

    name = "exact"
    zero = sp.Integer(0)
    symbols = False  # whether SymPy symbols are numbers here

    def number(self, value, what):
        if type(value) is int and value.bit_length() <= _FAST_BITS:  # fast paths: weights
            return sp.Integer(value)                                # are mostly plain numbers
        if type(value) is float and math.isfinite(value):
            return sp.Rational(value)
        value = real_number(value, what, symbols=self.symbols)
        if isinstance(value, int):
            return sp.Integer(value)
        if isinstance(value, float) or value.is_Float:
            return sp.Rational(value)  # exactly the binary value
        return value

    def check(self, value, what):
        """*value*, which must be finite (float arithmetic: an overflow is an error)."""
        return value

    def total(self, values):
        return sp.Add(*values)

    def relu(self, z):
        return z if z > 0 else self.zero

    def maximum(self, values):
        return max(values)

    def is_zero(self, value):
        return value == 0

    def zero_denominator(self, D, qs):
        """The zero test of a denominator ``D = Σ qs`` (:func:`zero_denominator`)."""
        return self.is_zero(D)

    def sign(self, value):
        return int(bool(value > 0)) - int(bool(value < 0))

    def positive_part(self, value):
        return value if value > 0 else self.zero


class _Float(_Exact):
    name = "float"
    zero = 0.0

    def number(self, value, what):
        if type(value) is float and math.isfinite(value):
            return value
        if type(value) is int and value.bit_length() <= _FAST_BITS:
            return float(value)
        result = float(super().number(value, what))  # same checks, then a float
        if not math.isfinite(result):
            raise ValueError(f"{what} is too large for float arithmetic "
                             f"(|value| > {sys.float_info.max:.4g}); use arithmetic='exact'")
        return result

    def total(self, values):
        try:
            return math.fsum(values)
        except OverflowError:
            return math.inf  # check() names the neuron
        except ValueError:  # inf - inf
            return math.nan

    def check(self, value, what):
        if not math.isfinite(value):
            raise ValueError(f"{what} is not finite ({value}) in float arithmetic: the numbers "
                             f"overflow a float (|value| > {sys.float_info.max:.4g}); "
                             "use arithmetic='exact'")
        return value

    def zero_denominator(self, D, qs):
        # math.fsum rounds once: D is a single part, so the rule is D == 0
        return bool(zero_denominator(D, abs(D), len(qs)))


class _Symbolic(_Exact):
    name = "symbolic"
    symbols = True

    def relu(self, z):
        return sp.Max(0, z)

    def maximum(self, values):
        return sp.Max(*values)

    def is_zero(self, value):
        return value == 0 or value.is_zero is True

    def sign(self, value):
        value = to_sympy(value)
        return 1 if value.is_positive else -1 if value.is_negative else 0 if value.is_zero else None

    def positive_part(self, value):
        return sp.Max(value, 0)


ARITHMETIC = {"symbolic": _Symbolic(), "exact": _Exact(), "float": _Float()}


# --------------------------------------------------------------------- forward
def _inputs(network, inputs, ar, needed):
    """Input values checked against names and domains."""
    if inputs is None:
        if ar.name != "symbolic":
            raise ValueError(f"inputs are required for arithmetic={ar.name!r}")
        return {p: network.graph.nodes[p]["symbol"] for p in needed}
    if not hasattr(inputs, "items"):
        raise TypeError("inputs must be a mapping {input name: value}")
    for name in inputs:
        if name not in network.graph or not kind_named(network.graph.nodes[name]["kind"]).is_input:
            raise ValueError(f"unknown input {name!r}; the inputs are {network.inputs}")
    missing = [p for p in needed if p not in inputs]
    if missing:
        raise ValueError(f"missing value for input {missing[0]!r}")
    values = {p: ar.number(inputs[p], f"input {p!r}") for p in needed}
    for p, value in values.items():
        _check_domain(network, p, value)
    return values


def _check_domain(network, name, value):
    if isinstance(value, sp.Basic) and not value.is_number:
        return
    domain = network.graph.nodes[name]["domain"]
    bad = not to_sympy(value).is_finite
    if isinstance(domain, Positive):
        bad = bad or value < 0
    elif isinstance(domain, Box) and not domain.symbolic:
        bad = bad or value < domain.low or value > domain.high
    if bad:
        raise ValueError(f"input {name!r} = {value} lies outside its domain {domain!r}")


def ancestors_in_order(network, output):
    nodes = nx.ancestors(network.graph, output) | {output}
    return [n for n in nx.topological_sort(network.graph) if n in nodes]


def winner_index(values):
    """Index of the input a max-pooling neuron passes on (its kind's choice: the first largest)."""
    return kind_named("maxpool").choose(values)


def forward_values(network: object, inputs: Mapping[str, object] | None, arithmetic: str = "exact",
                   at: Mapping[str, object] | None = None, output: str | None = None,
                   region: Mapping[str, object] | None = None) -> dict:
    """Activation of every node (or of *output*'s ancestors) in one arithmetic.

    Parameters
    ----------
    network : Network
        The network to evaluate.
    inputs : dict or None
        ``{input name: value}``; ``None`` means the input symbols (symbolic only).
    arithmetic : {"exact", "float", "symbolic"}, optional
        The kind of numbers computed (see :data:`ARITHMETICS`).
    at : dict, optional
        Symbolic only: a numeric point fixing the activation region.
    output : str, optional
        Evaluate only this node's ancestors (and the node itself); default every node.
    region : dict, optional
        The exact activations at the point *at*, when already computed (then
        *at* is not evaluated again).

    Returns
    -------
    dict
        ``{node: activation}``, in topological order.

    Raises
    ------
    ValueError
        *at* with another arithmetic than ``"symbolic"``, or an input value
        or weight the arithmetic cannot take.

    Examples
    --------
    >>> from symdtd import Network
    >>> net = Network.from_dense([[[1], [-1]], [[2]]])
    >>> forward_values(net, {"x1": 1, "x2": "1/2"})["y1"]
    1
    """
    ar = ARITHMETIC[arithmetic]
    network._sync()  # notices direct edits of the graph (and checks them)
    G = network.graph
    order = ancestors_in_order(network, output) if output else list(nx.topological_sort(G))
    needed = [n for n in order if kind_named(G.nodes[n]["kind"]).is_input]
    if at is not None and region is None:
        if arithmetic != "symbolic":
            raise ValueError("at= is for arithmetic='symbolic'; pass the point as inputs")
        region = forward_values(network, at, "exact", output=output)
    values = _inputs(network, inputs, ar, needed)
    act = {}
    exact = ARITHMETIC["exact"]
    for n in order:
        data = G.nodes[n]
        kind = kind_named(data["kind"])
        if kind.is_input:
            act[n] = values[n]
            continue
        preds = G.pred[n]
        if kind.selects:  # at a point, the input it selects there
            act[n] = (act[list(preds)[kind.choose([region[p] for p in preds])]] if region is not None
                      else kind.select(ar, [act[p] for p in preds]))
            continue
        weights = bias = None
        if kind.weighted:
            weights = [ar.number(e["weight"], f"weight of edge {p!r} -> {n!r}") for p, e in preds.items()]
            bias = ar.number(data["bias"], f"bias of neuron {n!r}")
        z = ar.check(kind.preactivation(ar, [act[p] for p in preds], weights, bias), f"neuron {n!r}")
        if region is None:
            act[n] = kind.activation(ar, z)
        else:  # the activation region of the point: x = slope(z at the point) · z
            slope = kind.slope(kind.preactivation(exact, [region[p] for p in preds], weights, bias))
            act[n] = z if slope == 1 else slope * z
    return act
