"""The result of a relevance propagation: :class:`Explanation`.

:func:`symdtd.propagate` returns one: the output explained, the relevance of
every node and the message of every edge, the rules used, and where relevance
was lost or absorbed; :attr:`Explanation.factors` gives the product form
``[x_f]_node = x_node · c`` where it holds.

Examples
--------
>>> from symdtd import Network, propagate
>>> net = Network.from_dense([[[1, 1], [1, 1]], [[1], [-2]]], [[0, -1], [0]])
>>> print(propagate(net, {"x1": 1, "x2": "1/2"}, arithmetic="exact").table())
input  value  relevance
x1     1      1/3
x2     1/2    1/6
total         1/2
x_f (y1)      1/2
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from .arithmetic import ARITHMETIC

__all__ = ["Explanation"]


@dataclass
class Explanation:
    """The result of :func:`~symdtd.propagation.backward.propagate`.

    :func:`~symdtd.propagation.backward.propagate` builds it; each
    parameter is also the attribute of the same name.

    Parameters
    ----------
    output : number or sympy.Expr
        ``x_f``, the explained output's activation.
    output_node : str
        The name of the explained output neuron.
    arithmetic : str
        ``"symbolic"``, ``"exact"`` or ``"float"``: the kind of every number here.
    relevance : dict
        ``node -> [x_f]_node`` for the output's ancestors (and the output).
    messages : dict
        ``(i, j) -> [[x_f]_j]_i`` for every edge among them.
    activations : dict
        ``node -> x_node``.
    rules : dict
        ``neuron -> rule name`` used (``"winner"`` for winner-take-all,
        ``"proportional"`` for proportional pooling).
    zero_denominators : list
        Neurons whose denominator ``Σ q`` was zero (they send nothing).
    lost : dict
        ``neuron -> relevance`` it held but could not pass on (zero denominator).
    absorbed : dict
        ``neuron -> relevance`` absorbed by a positive bias (``absorb_bias=True``).
    positive_bias : list
        Neurons with a positive bias: their root point leaves the domain.
    note : str or None
        Set when the output is negative (a linear output); propagate then
        also warns (:class:`~symdtd.propagation.arithmetic.NegativeOutputWarning`).
    at : dict or None
        The point fixing the activation region (symbolic arithmetic).
    inputs : list
        The network's inputs, in order (the keys of :attr:`input_relevance`).

    Examples
    --------
    >>> from symdtd import examples, propagate
    >>> e = propagate(examples.xor(), {"x1": 1, "x2": 0}, arithmetic="exact")
    >>> e.output_node, e.total == e.output
    ('y', True)
    """

    output: object
    output_node: str
    arithmetic: str
    relevance: dict
    messages: dict
    activations: dict
    rules: dict
    zero_denominators: list = field(default_factory=list)
    lost: dict = field(default_factory=dict)
    absorbed: dict = field(default_factory=dict)
    positive_bias: list = field(default_factory=list)
    note: str | None = None
    at: dict | None = None
    inputs: list = field(default_factory=list, repr=False)
    # the product-form factors, set by propagate once built (see :attr:`factors`)
    _factors: dict = field(default_factory=dict, init=False, repr=False)
    _factors_simplified: bool = field(default=False, init=False, repr=False)

    @property
    def input_relevance(self):
        """``{input: [x_f]_input}`` in the network's input order."""
        return {p: self.relevance[p] for p in self.inputs}

    @property
    def total(self):
        """``Σ_p [x_f]_p`` over the inputs."""
        ar = ARITHMETIC[self.arithmetic]
        return ar.check(ar.total(list(self.input_relevance.values())), "the total relevance")

    @property
    def factors(self):
        """``node -> c`` with ``[x_f]_node = x_node · c``, only where that product form holds.

        It holds for a node when every message it received carries its
        activation as a factor (``q_ij = x_i · g_ij``): successors using z⁺,
        z, γ, sum-pooling, proportional max-pooling or zᴮ on a ≥ 0
        predecessor (box ``[0, x_i]``), or winner-take-all max-pooling of a
        node that has the product form. Then ``c_i = Σ_j g_ij [x_f]_j /
        Σ_i' q_i'j`` (defined even at ``x_i = 0``) and ``c_f = 1``. Nodes fed
        back through zᴮ on a box or w² (e.g. pixels) have no entry: there
        ``[x_f]_i`` need not vanish with ``x_i``. See :mod:`symdtd.propagation.product_form`.
        """
        if self.arithmetic == "symbolic" and not self._factors_simplified:
            self._factors = {n: sp.cancel(c) for n, c in self._factors.items()}
            self._factors_simplified = True
        return self._factors

    def table(self):
        """Per-input relevance as a small text table."""
        rows = [("input", "value", "relevance")]
        rows += [(p, str(self.activations[p]), str(r)) for p, r in self.input_relevance.items()]
        rows += [("total", "", str(self.total)), (f"x_f ({self.output_node})", "", str(self.output))]
        widths = [max(len(r[k]) for r in rows) for k in range(3)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        if self.note:
            lines.append(f"note: {self.note}")
        return "\n".join(lines)

    __str__ = table
