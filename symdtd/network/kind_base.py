"""The base class of the neuron kinds: what a kind stores, computes and accepts.

:class:`NeuronKind` describes a weighted, real-valued, non-pooling neuron; the
built-in kinds (:mod:`symdtd.network.kinds`) and added ones override what
differs. :data:`POOLING_RULE_KINDS` says which kinds each pooling rule can
redistribute.

Examples
--------
>>> NeuronKind().weighted, NeuronKind().pooling, MAXPOOL_MODES
(True, False, ('winner', 'proportional'))
"""
from __future__ import annotations

import sympy as sp

from ..core.rules import Rule, get_rule

__all__ = ["NeuronKind", "MAXPOOL_MODES", "POOLING_RULE_KINDS"]

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
    #: a unit-weight sum that joins branches (a residual addition): its weights
    #: are all 1 and its bias 0, and the paper's default redistributes it with
    #: the z rule (proportionally), as the gradient through an addition does
    sums = False
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
        >>> from symdtd.network.kinds import MaxPool, ReLU
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
        >>> from symdtd.network.kinds import MaxPool, ReLU
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
        >>> from symdtd.network.kinds import MaxPool, ReLU
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
        >>> import numpy as np
        >>> from symdtd.network.kinds import MaxPool, ReLU
        >>> ReLU().activate_batch(np.array([-1.0, 2.0])).tolist()
        [0.0, 2.0]
        """
        raise NotImplementedError(f"kind {self.name!r} has no vectorised activation")

    def slope_batch(self, Z):
        """``∂x/∂z`` of a NumPy array of pre-activations (same shape; bool or numbers).

        Examples
        --------
        >>> import numpy as np
        >>> from symdtd.network.kinds import MaxPool, ReLU
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
        >>> from symdtd.network.kinds import MaxPool, ReLU
        >>> a, b = sp.symbols("a b", nonnegative=True)
        >>> ReLU().expression([a, b], [2, -1], sp.Rational(1, 2))
        Max(0, 2*a - b + 1/2)
        >>> MaxPool().expression([a, b], None, None)
        Max(a, b)
        """
        if self.selects:
            return self.select(_SYMBOLIC, symbols)
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
