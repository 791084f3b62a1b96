"""Neuron kinds as classes: each kind owns its expression, forward value and local derivative.

A node's ``"kind"`` attribute stays a string (the JSON format and
``net.add_neuron(..., kind="relu")`` use it);
:func:`~symdtd.network.kind_registry.kind_named` maps it to the kind object
registered under that name (:mod:`symdtd.network.kind_registry`), and every pass asks that object
instead of comparing strings, the way micrograd's ``Value`` keeps an
operation's forward and backward side by side:

================  ================  ========  =======  =======  =======
kind              activation ``x``  weighted  ``≥ 0``  pooling  selects
================  ================  ========  =======  =======  =======
:class:`Input`    the input value   –         domain   –        –
:class:`ReLU`     ``max(0, z)``     yes       yes      –        –
:class:`Linear`   ``z``             yes       –        –        –
:class:`SumPool`  ``Σ_i x_i``       –         yes      yes      –
:class:`MaxPool`  ``max_i x_i``     –         yes      yes      yes
================  ================  ========  =======  =======  =======

``z = Σ_i x_i w_i + b`` is the pre-activation (``Σ_i x_i`` for unweighted
kinds: unit weights, bias 0). A kind gives, side by side:

* what it stores: :attr:`~NeuronKind.weighted` (weights and a bias, else unit
  weights and bias 0) and the rules it accepts (:meth:`~NeuronKind.check_rule`);
* its SymPy symbol (:meth:`~NeuronKind.symbol`: nonnegative when
  :attr:`~NeuronKind.nonnegative`, which is also what its successors' inputs
  look like: ℝ₊ for ReLU and pooling, ℝ for linear neurons);
* its forward value in any arithmetic of :mod:`symdtd.propagation.arithmetic`
  (:meth:`~NeuronKind.preactivation` and :meth:`~NeuronKind.activation`,
  which take the arithmetic object: the symbolic one builds the expression,
  the exact and float ones compute numbers) and vectorised over a NumPy batch
  (:meth:`~NeuronKind.activate_batch`);
* its local derivative ``∂x/∂z`` (:meth:`~NeuronKind.slope`,
  :meth:`~NeuronKind.slope_batch`), used by the gradient and to fix the
  activation region at a point: every weighted kind is piecewise linear and
  positively homogeneous, ``x = slope(z) · z``;
* for pooling kinds, that a pooling rule redistributes their relevance
  (:attr:`~NeuronKind.pooling`); a selecting kind (:attr:`~NeuronKind.selects`,
  max-pooling) passes one input on, chosen by :meth:`~NeuronKind.choose`.

Adding a kind means one subclass and one
:func:`~symdtd.network.kind_registry.register` call; every pass
(the exact, float and symbolic forward, the expression, the float64
forward, the compiled network, the gradient) then knows it.

Examples
--------
>>> import sympy as sp
>>> from symdtd.propagation.arithmetic import ARITHMETIC
>>> from symdtd.network.kind_registry import kind_named, register, unregister
>>> relu = kind_named("relu")
>>> relu.nonnegative, relu.weighted, relu.pooling
(True, True, False)
>>> x = relu.symbol("x")
>>> relu.activation(ARITHMETIC["symbolic"], 2 * x - 1)
Max(0, 2*x - 1)
>>> relu.activation(ARITHMETIC["exact"], sp.Rational(-1, 2)), relu.slope(3)
(0, 1)

A new kind, registered in one place, is a neuron kind like the others:

>>> class Absolute(NeuronKind):
...     '''``x = |z|``: nonnegative, weighted.'''
...     name, nonnegative = "abs", True
...     def activation(self, ar, z):
...         return ar.maximum([z, -z])
...     def slope(self, z):
...         return 1 if z > 0 else -1 if z < 0 else 0
...     def activate_batch(self, Z):
...         return np.abs(Z, out=Z)
...     def slope_batch(self, Z):
...         return np.sign(Z)
>>> _ = register(Absolute())
>>> from symdtd import Network
>>> net = Network()
>>> net.add_input("x", Box(-1, 1))
>>> net.add_neuron("a", {"x": 2}, bias=-1, kind="abs")
>>> net.expr("a"), net.forward([[0.25]]).tolist()
(Max(1 - 2*x, 2*x - 1), [[0.5]])
>>> unregister("abs")
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from ..core.domains import Box, Positive
from ..core.rules import Rule, get_rule

__all__ = ["NeuronKind", "Input", "ReLU", "Linear", "SumPool", "MaxPool", "MAXPOOL_MODES",
           "POOLING_RULE_KINDS"]

#: the pooling rules by name, and the kinds each can redistribute (the rules
#: themselves, with their shares, are in :mod:`symdtd.network.pooling`)
POOLING_RULE_KINDS = {"winner": ("maxpool",), "proportional": ("maxpool", "sumpool")}
#: how a max-pooling neuron may redistribute (its ``rule`` attribute may name one)
MAXPOOL_MODES = tuple(name for name, kinds in POOLING_RULE_KINDS.items() if "maxpool" in kinds)


class NeuronKind:
    """One kind of neuron; subclasses override what differs.

    The defaults describe a weighted, real-valued, non-pooling neuron.
    Subclasses of weighted kinds must give :meth:`activation`, :meth:`slope`
    and their vectorised forms :meth:`activate_batch`, :meth:`slope_batch`.
    """

    #: the string stored in the node's ``"kind"`` attribute (and in JSON)
    name = None
    #: True for input nodes (no predecessors, a domain instead of weights)
    is_input = False
    #: edges carry weights and the neuron a bias (else unit weights and bias 0)
    weighted = True
    #: the activation is ≥ 0 for every input: its symbol is nonnegative and
    #: its successors see inputs in ℝ₊
    nonnegative = False
    #: a pooling rule redistributes its relevance (z on unit weights, or the winner)
    pooling = False
    #: its value is one of its inputs, chosen by :meth:`choose`
    selects = False
    #: ``x = z``: the vectorised passes skip the activation
    identity = False
    #: its node shape in flow drawings (a Graphviz shape)
    shape = "ellipse"
    #: it can be switched off: an output of 0 means inactive (a dead ReLU passes
    #: no relevance back), which flow drawings count and may hide
    gates = False

    def __repr__(self):
        return f"{type(self).__name__}()"

    # ----------------------------------------------------------- storage
    def symbol(self, name):
        """The SymPy symbol of neuron *name*: nonnegative if :attr:`nonnegative`, else real."""
        return sp.Symbol(name, nonnegative=True) if self.nonnegative else sp.Symbol(name, real=True)

    def check_rule(self, name, rule):
        """Check a rule override of neuron *name*: ``None``, a Rule, a pooling rule or a name.

        A pooling rule (by name or object, :mod:`symdtd.network.pooling`) is
        accepted only by the kinds it is made for (:data:`POOLING_RULE_KINDS`).

        Raises
        ------
        TypeError
            *rule* is neither a name, a Rule nor a pooling rule.
        ValueError
            No rule has that name, or a pooling rule is not made for this kind.
        """
        if rule is None or isinstance(rule, Rule):
            return
        pooling = rule if isinstance(rule, str) else getattr(rule, "name", None)
        if pooling in POOLING_RULE_KINDS and (isinstance(rule, str) or hasattr(rule, "shares")):
            kinds = POOLING_RULE_KINDS[pooling]
            if self.name not in kinds:
                raise ValueError(f"neuron {name!r} is a {self.name} neuron; pooling rule {pooling!r} "
                                 f"is for {' and '.join(kinds)} neurons")
            return
        if not isinstance(rule, str):
            raise TypeError(f"neuron {name!r}: rule must be a name, a Rule or a pooling rule, "
                            f"got {type(rule).__name__}")
        try:
            get_rule(rule)
        except ValueError as err:
            raise ValueError(f"neuron {name!r}: {err}") from None

    # ----------------------------------------------------------- forward
    def preactivation(self, ar, values, weights, bias):
        """``z = Σ_i x_i w_i + b`` in the arithmetic *ar* (``Σ_i x_i`` if not weighted).

        Parameters
        ----------
        ar : arithmetic
            A backend of :mod:`symdtd.propagation.arithmetic` (its ``total``).
        values, weights : list
            The predecessors' activations and the edge weights, numbers of
            *ar* already (*weights* unused when not :attr:`weighted`).
        bias : number
            The bias, a number of *ar* (unused when not :attr:`weighted`).

        Returns
        -------
        number or sympy.Expr

        Examples
        --------
        >>> from symdtd.propagation.arithmetic import ARITHMETIC
        >>> ReLU().preactivation(ARITHMETIC["float"], [1.0, 2.0], [0.5, -1.0], 0.25)
        -1.25
        """
        if not self.weighted:
            return ar.total(values)
        return ar.total([x * w for x, w in zip(values, weights)] + [bias])

    def activation(self, ar, z):
        """The activation of pre-activation *z* in arithmetic *ar* (symbolic: an expression).

        Parameters
        ----------
        ar : arithmetic
            A backend of :mod:`symdtd.propagation.arithmetic`; a kind builds its
            activation from the backend's operations (``relu``, ``maximum``,
            ``total``), so one method serves the exact, float and symbolic passes.
        z : number or sympy.Expr

        Returns
        -------
        number or sympy.Expr

        Examples
        --------
        >>> from symdtd.propagation.arithmetic import ARITHMETIC
        >>> ReLU().activation(ARITHMETIC["float"], -0.5)
        0.0
        """
        raise NotImplementedError(f"kind {self.name!r} has no activation")

    def slope(self, z):
        """``∂x/∂z`` at a numeric pre-activation *z* (the active piece's slope).

        Every weighted kind is piecewise linear with ``x = slope(z) · z``: the
        gradient uses the slope, the symbolic pass at a point the linear piece.

        Parameters
        ----------
        z : number

        Returns
        -------
        number

        Examples
        --------
        >>> ReLU().slope(-1), ReLU().slope(2)
        (0, 1)
        """
        raise NotImplementedError(f"kind {self.name!r} has no slope")

    def activate_batch(self, Z):
        """The activation of a NumPy array of pre-activations (may reuse *Z*).

        Parameters
        ----------
        Z : numpy.ndarray
            Pre-activations, any shape; the result may be *Z* itself, overwritten.

        Returns
        -------
        numpy.ndarray

        Examples
        --------
        >>> ReLU().activate_batch(np.array([-1.0, 2.0])).tolist()
        [0.0, 2.0]
        """
        raise NotImplementedError(f"kind {self.name!r} has no vectorised activation")

    def slope_batch(self, Z):
        """``∂x/∂z`` of a NumPy array of pre-activations (same shape; bool or numbers).

        Examples
        --------
        >>> ReLU().slope_batch(np.array([-1.0, 0.0, 2.0])).tolist()
        [False, False, True]
        """
        raise NotImplementedError(f"kind {self.name!r} has no vectorised slope")

    def expression(self, symbols, weights, bias):
        """The activation as a SymPy expression of the predecessors' *symbols*.

        Parameters
        ----------
        symbols : list of sympy.Symbol
        weights : list or None
            SymPy numbers or symbols, one per symbol (``None`` when not :attr:`weighted`).
        bias : sympy.Expr or None

        Returns
        -------
        sympy.Expr

        Examples
        --------
        >>> a, b = sp.symbols("a b", nonnegative=True)
        >>> ReLU().expression([a, b], [2, -1], sp.Rational(1, 2))
        Max(0, 2*a - b + 1/2)
        >>> MaxPool().expression([a, b], None, None)
        Max(a, b)
        """
        if self.weighted:
            z = sp.Add(*[w * s for w, s in zip(weights, symbols)], bias)
        else:
            z = sp.Add(*symbols)
        return self.activation(_SYMBOLIC, z)


class _SymbolicOps:
    """The few SymPy operations :meth:`NeuronKind.expression` hands to :meth:`activation`
    (the symbolic arithmetic's, without importing the propagation stage)."""

    name = "symbolic"
    zero = sp.Integer(0)

    @staticmethod
    def total(values):
        return sp.Add(*values)

    @staticmethod
    def relu(z):
        return sp.Max(0, z)

    @staticmethod
    def maximum(values):
        return sp.Max(*values)


_SYMBOLIC = _SymbolicOps()


class Input(NeuronKind):
    """An input variable: its value is given, its domain says which values it takes."""

    name, is_input, weighted, shape = "input", True, False, "box"

    def symbol(self, name, domain=None):
        """The symbol of input *name*: nonnegative when *domain* is ≥ 0, else real."""
        nonnegative = isinstance(domain, Positive) or (
            isinstance(domain, Box) and not domain.symbolic and domain.low >= 0)
        return sp.Symbol(name, nonnegative=True) if nonnegative else sp.Symbol(name, real=True)

    def check_rule(self, name, rule):
        """Inputs have no rule: anything but ``None`` is a ValueError."""
        if rule is not None:
            raise ValueError(f"{name!r} is an input; inputs have no rule")


class ReLU(NeuronKind):
    """``x = max(0, z)``: nonnegative; dead (slope 0) where ``z ≤ 0``."""

    name, nonnegative, gates = "relu", True, True

    def activation(self, ar, z):
        return ar.relu(z)

    def slope(self, z):
        return 1 if z > 0 else 0

    def activate_batch(self, Z):
        return np.maximum(Z, 0.0, out=Z)

    def slope_batch(self, Z):
        return Z > 0


class Linear(NeuronKind):
    """``x = z``: an output that may be negative (a logit)."""

    name, identity = "linear", True

    def activation(self, ar, z):
        return z

    def slope(self, z):
        return 1

    def activate_batch(self, Z):
        return Z

    def slope_batch(self, Z):
        return np.ones(np.shape(Z), dtype=bool)


class SumPool(Linear):
    """``x = Σ_i x_i`` (unit weights, bias 0): redistributed by a pooling rule."""

    name, weighted, nonnegative, pooling, shape = "sumpool", False, True, True, "hexagon"


class MaxPool(NeuronKind):
    """``x = max_i x_i``: passes on its largest input (the first one on ties)."""

    name, weighted, nonnegative, pooling, selects, shape = (
        "maxpool", False, True, True, True, "invhouse")
    #: a value no input loses to (pads the compiled pooling table)
    neutral = -np.inf

    def activation(self, ar, z):
        raise TypeError("a max-pooling neuron has no pre-activation: use select()")

    def select(self, ar, values):
        """The value in arithmetic *ar*: the largest of *values* (symbolic: ``Max``)."""
        return ar.maximum(values)

    def expression(self, symbols, weights, bias):
        return self.select(_SYMBOLIC, symbols)

    def choose(self, values):
        """Index of the input passed on: the first of the largest numeric *values*."""
        best = max(values)
        return next(k for k, v in enumerate(values) if v == best)

    def choose_batch(self, V):
        """:meth:`choose` along the last axis of a NumPy array (first index on ties)."""
        return V.argmax(axis=-1)
