"""Neuron kinds as classes: each kind owns its expression, forward value and local derivative.

A node's ``"kind"`` attribute stays a string (the JSON format and
``net.add_neuron(..., kind="relu")`` use it);
:func:`~symdtd.network.kind_registry.kind_named` maps it to the kind object
registered under that name (:mod:`symdtd.network.kind_registry`), and every pass asks that object
instead of comparing strings, the way micrograd's ``Value`` keeps an
operation's forward and backward side by side:

==================  ===================  =========  =======  =======  =======
kind                activation ``x``     weighted   ``≥ 0``  pooling  selects
==================  ===================  =========  =======  =======  =======
:class:`Input`      the input value      –          domain   –        –
:class:`ReLU`       ``max(0, z)``        yes        yes      –        –
:class:`Linear`     ``z``                yes        –        –        –
:class:`SumPool`    ``Σ_i x_i``          –          yes      yes      –
:class:`MaxPool`    ``max_i x_i``        –          yes      yes      yes
:class:`ReLUSum`    ``max(0, Σ_i x_i)``  weights 1  yes      –        –
:class:`LinearSum`  ``Σ_i x_i``          weights 1  –        –        –
==================  ===================  =========  =======  =======  =======

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
from .kind_base import MAXPOOL_MODES, POOLING_RULE_KINDS, NeuronKind

__all__ = ["NeuronKind", "Input", "ReLU", "Linear", "SumPool", "MaxPool", "ReLUSum", "LinearSum",
           "MAXPOOL_MODES", "POOLING_RULE_KINDS"]


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


class ReLUSum(ReLU):
    """``x = max(0, Σ_i x_i)``: a residual addition followed by a ReLU.

    Weighted as a ReLU neuron, but every weight is 1 and the bias 0
    (:attr:`~symdtd.network.kind_base.NeuronKind.sums`): the neurons of an
    :class:`~symdtd.network.join_layers.Add` layer. The paper's default gives
    it the z rule.
    """

    name, sums = "relu_sum", True


class LinearSum(Linear):
    """``x = Σ_i x_i``: a residual addition without a ReLU (unit weights, bias 0; may be < 0)."""

    name, sums = "linear_sum", True


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

    def choose(self, values):
        """Index of the input passed on: the first of the largest numeric *values*."""
        best = max(values)
        return next(k for k, v in enumerate(values) if v == best)

    def choose_batch(self, V):
        """:meth:`choose` along the last axis of a NumPy array (first index on ties)."""
        return V.argmax(axis=-1)
