"""What a derivation assumes: the input domain, the bias sign, the rule and its parameters.

:func:`~symdtd.derivation.taylor.derive` records its assumptions in
``Derivation.assumptions``; the proofs (:func:`symdtd.proof.neuron.verify`,
:mod:`symdtd.proof.sign_claims`, :mod:`symdtd.proof.counterexample`) read
them from there rather than from the SymPy assumptions of the symbols.

Examples
--------
>>> from symdtd import derive
>>> a = derive("z+", bias="positive").assumptions
>>> a.rule, a.domain, a.bias
('z+', Positive(), 'positive')
>>> a.bias_text(), a.bias_allows(0)
('b_j > 0', False)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..core.domains import Domain, Real
from ..core.symbols import NeuronSymbols

__all__ = ["Assumptions", "BIASES"]

#: each bias assumption: how a report states it, and the test a number must pass
BIASES = {
    "nonpositive": ("b_j ≤ 0", lambda b: b <= 0),
    "positive": ("b_j > 0", lambda b: b > 0),
    "nonnegative": ("b_j ≥ 0", lambda b: b >= 0),
    "real": ("b_j any real", lambda b: True),
}


@dataclass(frozen=True)
class Assumptions:
    """The assumptions one derivation is made under.

    Each parameter is kept as the attribute of the same name; the object is
    frozen (immutable).

    Parameters
    ----------
    domain : Domain
        Where the neuron's inputs lie (ℝⁿ, ℝⁿ₊ or a box).
    bias : str
        The sign assumed for ``b_j``: ``"nonpositive"``, ``"positive"``,
        ``"nonnegative"`` or ``"real"`` (see :data:`BIASES`).
    rule : str
        The name of the derived rule (``"custom"`` for a user direction).
    parameters : dict
        The rule's default parameter values (``{"gamma": 0.25}``).

    Raises
    ------
    ValueError
        An unknown bias assumption.

    Examples
    --------
    >>> from symdtd.core.domains import Positive
    >>> a = Assumptions(Positive(), "positive", "z+")
    >>> a.bias_text(), a.bias_allows(-1.0)
    ('b_j > 0', False)
    """

    domain: Domain
    bias: str
    rule: str
    parameters: dict = field(default_factory=dict, hash=False)

    def __post_init__(self):
        if self.bias not in BIASES:
            raise ValueError(f"bias assumption must be one of {sorted(BIASES)}, got {self.bias!r}")

    def bias_text(self) -> str:
        """The bias assumption as a report states it, e.g. ``"b_j ≤ 0"``."""
        return BIASES[self.bias][0]

    def bias_symbol(self):
        """The symbol ``b_j`` carrying this bias assumption (for SymPy's sign reasoning).

        >>> Assumptions(Domain(), "positive", "z+").bias_symbol().is_positive
        True
        """
        return NeuronSymbols(1, Real(), self.bias).b   # the one home of b_j's assumptions

    def bias_allows(self, value) -> bool:
        """True when the number *value* meets the bias assumption.

        >>> Assumptions(Domain(), "nonpositive", "z").bias_allows(0)
        True
        """
        return bool(BIASES[self.bias][1](value))
