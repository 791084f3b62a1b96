"""The per-input rule of a neuron whose inputs live in different domains.

A neuron fed by ReLU outputs (≥ 0) and by real-valued inputs (an ℝ input, a
linear neuron, a skip connection) fits none of w², z⁺ and zᴮ: w² on all of
them moves the ≥ 0 inputs along their weights, so a dead ReLU (activation
0) still receives relevance. The per-input rule ``"mixed"`` gives each input
the direction its own domain allows::

    v_i = w_i                                   (i real-valued)
    v_i = x_i − l_i·1[w_i > 0] − h_i·1[w_i < 0]  (i bounded; a ≥ 0 input is [0, x_i])

so a ≥ 0 input gets the z⁺ term ``x_i w_i⁺`` (zero when ``x_i = 0``), a box
input its zᴮ term and a real one its w² term. In a network it is the default
for such neurons; here it is derived and verified for one pattern of input
domains, like every rule.

Examples
--------
>>> from symdtd import Positive, Real, verify
>>> d = derive_per_input([Positive(), Real()])   # w − min(0, w) is w⁺
>>> d.rule[0]
x_1*x_j*(w_1 - Min(0, w_1))/(w_2**2 + x_1*(w_1 - Min(0, w_1)))
>>> [(c.name, c.verdict) for c in verify(d).claims]
[('conservation', 'proved'), ('root on hyperplane', 'proved'), ('root in domain', 'refuted'), ('positivity', 'proved')]
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import sympy as sp

from ..core.domains import Box, Domain, Positive
from ..core.rules import get_rule
from ..core.symbols import neuron_symbols
from .taylor import Derivation, derive

__all__ = ["derive_per_input"]


def derive_per_input(domains: Sequence[Domain], *, bias: str = "nonpositive") -> Derivation:
    """Derive the per-input rule for inputs in the given domains.

    Parameters
    ----------
    domains : sequence of Domain
        One per input: :class:`~symdtd.core.domains.Real`,
        :class:`~symdtd.core.domains.Positive` or a :class:`~symdtd.core.domains.Box`
        with numeric bounds.
    bias : str
        The bias assumption, as for :func:`symdtd.derive`.

    Returns
    -------
    Derivation
        A derivation of fan-in ``len(domains)`` whose input domain is the
        per-input box of the inputs' ranges (``[0, ∞)`` for ℝ₊, ``(−∞, ∞)``
        for ℝ), so :func:`~symdtd.proof.neuron.verify` proves or refutes it under exactly
        those assumptions.

    Raises
    ------
    TypeError
        A domain that is not a Domain.
    ValueError
        No domains, or a symbolic ``Box()`` (give its numbers).

    See Also
    --------
    symdtd.network.rule_choice.rule_for : where the rule is chosen in a network.
    """
    domains = list(domains)
    if not domains:
        raise ValueError("derive_per_input needs one domain per input, got none")
    lows, highs = [], []
    for k, domain in enumerate(domains, start=1):
        if not isinstance(domain, Domain):
            raise TypeError(f"domain of input {k} must be a Domain, got {type(domain).__name__}")
        if isinstance(domain, Box) and domain.symbolic:
            raise ValueError(f"domain of input {k}: give the Box its numeric bounds")
        if isinstance(domain, Box):
            low, high = domain.low, domain.high
        else:
            low, high = (0 if isinstance(domain, Positive) else -math.inf), math.inf
        lows.append(low)
        highs.append(high)
    n = len(domains)
    box = Box(lows, highs)
    s = neuron_symbols(n, domain=box, bias=bias)
    rule = get_rule("mixed")
    direction = []
    for k, domain in enumerate(domains):
        unbounded = math.isinf(lows[k]) and math.isinf(highs[k])
        # as in a network: a ≥ 0 input acts as the box [0, x], an open side as x
        l = s.x[k] if math.isinf(lows[k]) else (0 if isinstance(domain, Positive) else s.l[k])
        h = s.x[k] if math.isinf(highs[k]) or isinstance(domain, Positive) else s.h[k]
        direction.append(sp.sympify(rule.direction_at(x=s.x[k], w=s.w[k], l=l, h=h,
                                                       unbounded=int(unbounded)), strict=True))
    return derive(direction, n=n, domain=box, bias=bias)
