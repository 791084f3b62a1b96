"""Pooling rules: how a max- or sum-pooling neuron passes its relevance on.

A pooling neuron has no weights and no bias, so it needs no root search;
its rule is a redistribution formula of its input values ``x_i``:

:class:`WinnerTakeAll` (max-pooling)
    the first of the largest inputs receives all of ``R_j``: share
    ``1[i = argmax x]``; the relevance follows the activation, which came
    from that input alone.
:class:`Proportional` (max- or sum-pooling)
    input ``i`` receives ``x_i / Σ_i' x_i' · R_j``: the z rule with unit
    weights (:attr:`Proportional.taylor_rule`), so a zero sum passes nothing.

Both are rule objects like :class:`~symdtd.core.rules.Rule`: a composite
(:mod:`symdtd.network.composites`) or a neuron's ``rule`` attribute picks
them, by object or by name (``"winner"``, ``"proportional"``). The exact,
float and symbolic backward pass (:func:`symdtd.propagate`), the compiled
kernels (:func:`symdtd.compile`) and the evaluation (:func:`symdtd.real.evaluate.dtd`)
all redistribute with the formula of the rule object they are given.

Examples
--------
>>> from symdtd.network.pooling import WINNER_TAKE_ALL, PROPORTIONAL, pooling_rule
>>> WINNER_TAKE_ALL.shares([1, 3, 3])       # ties: the first of the largest
[0, 1, 0]
>>> PROPORTIONAL.shares([1, 3, 4])
[1/8, 3/8, 1/2]
>>> pooling_rule("proportional") is PROPORTIONAL
True
"""
from __future__ import annotations

import sympy as sp

from ..core.numbers import to_sympy
from ..core.rules import get_rule
from ..propagation.arithmetic import winner_index
from .kind_base import POOLING_RULE_KINDS

__all__ = ["PoolingRule", "WinnerTakeAll", "Proportional", "WINNER_TAKE_ALL", "PROPORTIONAL",
           "POOLING_RULES", "pooling_rule"]


class PoolingRule:
    """A redistribution rule for pooling neurons (no weights, no bias).

    Attributes
    ----------
    name : str
        Its name in a neuron's ``rule`` attribute, in network files and in
        ``Explanation.rules``.
    title : str
    kinds : tuple of str
        The neuron kinds it can redistribute.
    parameters : dict
        Always empty: pooling rules take no parameters.
    """

    name = ""
    title = ""
    kinds: tuple = ()
    parameters: dict = {}

    def shares(self, values):
        """Each input's share of ``R_j`` for numeric input values (they sum to 1)."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"

    def __reduce__(self):  # one instance per class: pickling keeps identity
        return pooling_rule, (self.name,)


class WinnerTakeAll(PoolingRule):
    """Max-pooling: the first of the largest inputs takes all the relevance.

    >>> WinnerTakeAll().shares([2, 5, 1])
    [0, 1, 0]
    """

    name = "winner"
    title = "winner-take-all max-pooling"
    kinds = POOLING_RULE_KINDS["winner"]

    def winner(self, values):
        """The index of the first of the largest *values*."""
        return winner_index(values)

    def shares(self, values):
        """``1`` for the winner, ``0`` for the others."""
        win = self.winner(values)
        return [1 if k == win else 0 for k in range(len(values))]

    def symbolic_shares(self, values):
        """The shares as ``Piecewise`` expressions of symbolic *values* (first wins ties).

        >>> a, b = sp.symbols("a b", nonnegative=True)
        >>> WinnerTakeAll().symbolic_shares([a, b])[0]
        Piecewise((1, a >= b), (0, True))
        """
        shares = []
        for k, v in enumerate(values):
            cond = sp.And(*[v > u if m < k else v >= u for m, u in enumerate(values) if m != k])
            shares.append(sp.Piecewise((1, cond), (0, True)))
        return shares


class Proportional(PoolingRule):
    """Pooling in proportion to the inputs: ``x_i / Σ x_i'`` of the relevance.

    It is the z rule with unit weights (:attr:`taylor_rule`): propagate and
    the compiled kernels compute it as that rule, so zero denominators and
    the product form behave as for any z-rule neuron.

    >>> Proportional().shares([1, 0, 3])
    [1/4, 0, 3/4]
    """

    name = "proportional"
    title = "proportional pooling (z rule, unit weights)"
    kinds = POOLING_RULE_KINDS["proportional"]

    @property
    def taylor_rule(self):
        """The :class:`~symdtd.core.rules.Rule` whose numerator ``q_i = x_i · 1`` this is."""
        return get_rule("z")

    def shares(self, values):
        """``x_i / Σ x_i'`` exactly (all 0 when the sum is 0)."""
        values = [to_sympy(v) for v in values]
        total = sp.Add(*values)
        return [sp.Integer(0) if total == 0 else v / total for v in values]


WINNER_TAKE_ALL = WinnerTakeAll()
PROPORTIONAL = Proportional()
#: ``name -> instance`` of the pooling rules
POOLING_RULES = {rule.name: rule for rule in (WINNER_TAKE_ALL, PROPORTIONAL)}


def pooling_rule(rule):
    """The pooling rule named *rule* (an instance is returned as it is).

    Raises
    ------
    ValueError
        An unknown name.

    Examples
    --------
    >>> pooling_rule("winner")
    WinnerTakeAll()
    """
    if isinstance(rule, PoolingRule):
        return rule
    try:
        return POOLING_RULES[rule]
    except (KeyError, TypeError):
        raise ValueError(f"unknown pooling rule {rule!r}; known: "
                         f"{', '.join(POOLING_RULES)}") from None
