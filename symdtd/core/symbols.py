"""The symbols of one neuron: inputs, weights, bias, box bounds, root and direction.

:class:`NeuronSymbols` gives concrete symbols ``x_1 … x_n`` for a fixed fan-in
and indexed ones ``x[i]`` with sums over ``i'`` for an arbitrary fan-in, each
carrying the SymPy assumptions of its role (inputs by domain, ``b_j`` by the
bias assumption, ``l ≤ 0 ≤ h`` for a symbolic box only, ``γ ≥ 0``), which the proofs rely on.

Examples
--------
>>> s = NeuronSymbols(2)
>>> s.preactivation()
b_j + w_1*x_1 + w_2*x_2
>>> NeuronSymbols(None).preactivation()
b_j + Sum(w[i']*x[i'], (i', 1, n))
"""
from __future__ import annotations

import sympy as sp

from .domains import Box, Domain, Positive
from .rules import Rule, get_rule

__all__ = ["NeuronSymbols", "neuron_symbols"]

_BIAS_ASSUMPTIONS = {"nonpositive": {"nonpositive": True}, "real": {"real": True},
                     "positive": {"positive": True}, "nonnegative": {"nonnegative": True}}


class NeuronSymbols:
    """The symbols of one neuron of fan-in *n* (``n=None``: arbitrary fan-in).

    For a concrete *n* the per-input symbols are lists ``x_1 … x_n``; for an
    arbitrary fan-in they are :class:`sympy.IndexedBase` objects indexed by
    the integer symbol ``i`` and summed with the dummy ``i'``.

    Parameters
    ----------
    n : int, optional
        The fan-in; ``None`` (the default) for an arbitrary fan-in.
    domain : Domain
        The input domain, which gives the assumptions on ``x`` (default :class:`Positive`).
    bias : {"nonpositive", "real", "positive", "nonnegative"}
        The assumption on the bias ``b_j`` (default ``"nonpositive"``).

    Raises
    ------
    TypeError
        If *n* is not an integer or None.
    ValueError
        If *n* < 1, the bias assumption is unknown, or a per-input :class:`Box`
        does not have *n* bounds.

    Examples
    --------
    >>> NeuronSymbols(2).x
    [x_1, x_2]
    """

    def __init__(self, n=None, domain: Domain = Positive(), bias="nonpositive"):  # noqa: B008 (immutable)
        if n is not None:
            if isinstance(n, bool) or not isinstance(n, int):
                raise TypeError(f"fan-in n must be a positive integer or None, got {n!r}")
            if n < 1:
                raise ValueError(f"fan-in n must be a positive integer, got {n}")
        if bias not in _BIAS_ASSUMPTIONS:
            raise ValueError(f"bias assumption must be one of {sorted(_BIAS_ASSUMPTIONS)}, "
                             f"got {bias!r}")
        if isinstance(domain, Box) and not domain.symbolic and domain.per_input:
            if n is None:
                raise ValueError("a Box with per-input bounds needs a concrete fan-in n")
            domain.exact_bounds(n)   # ValueError when the number of bounds is not n
        self.n = n
        self.domain = domain
        x_kw = dict(domain.x_assumptions)
        # l ≤ 0 ≤ h is the convention of the symbolic box only; the bounds of a
        # numeric box are substituted by the proofs, so they assume nothing here
        symbolic_box = isinstance(domain, Box) and domain.symbolic
        l_kw = {"nonpositive": True} if symbolic_box else {"real": True}
        h_kw = {"nonnegative": True} if symbolic_box else {"real": True}
        self.b = sp.Symbol("b_j", **_BIAS_ASSUMPTIONS[bias])
        self.x_out = sp.Symbol("x_j", positive=True)   # the activation, on the active set
        self.z = sp.Symbol("z_j", real=True)
        self.t = sp.Symbol("t", real=True)
        self.gamma = sp.Symbol("gamma", nonnegative=True)
        self.relevance = sp.Function("R")               # R(i) prints as [x_j]_i
        if n is None:
            self.i = sp.Symbol("i", integer=True, positive=True)
            self.k = sp.Symbol("i'", integer=True, positive=True)
            self.size = sp.Symbol("n", integer=True, positive=True)
            self.x = sp.IndexedBase("x", **x_kw)
            self.w = sp.IndexedBase("w", real=True)
            self.v = sp.IndexedBase("v", real=True)
            self.x_root = sp.IndexedBase("x̃", real=True)
            self.l = sp.IndexedBase("l", **l_kw)
            self.h = sp.IndexedBase("h", **h_kw)
            self.unbounded = sp.IndexedBase("u", integer=True, nonnegative=True)
        else:
            def row(name, **kw):
                return [sp.Symbol(f"{name}_{k}", **kw) for k in range(1, n + 1)]
            self.x = row("x", **x_kw)
            self.w = row("w", real=True)
            self.v = row("v", real=True)
            self.x_root = row("x̃", real=True)
            self.l = row("l", **l_kw)
            self.h = row("h", **h_kw)
            # 1 for an input that takes any real value, 0 for a bounded one
            self.unbounded = row("u", integer=True, nonnegative=True)

    @property
    def general(self) -> bool:
        """True for an arbitrary fan-in (indexed symbols and sums)."""
        return self.n is None

    @property
    def indices(self):
        """The input positions: ``[i]`` for arbitrary fan-in, ``[0, …, n-1]`` else."""
        return [self.i] if self.general else list(range(self.n))

    def at(self, base, index):
        """The symbol of *base* (``self.x``, ``self.w``, …) for input *index*."""
        return base[index]

    def total(self, term):
        """``Σ_i term(i)``: a :class:`sympy.Sum` or, for concrete n, an ``Add``."""
        if self.general:
            return sp.Sum(term(self.k), (self.k, 1, self.size))
        return sp.Add(*[term(k) for k in range(self.n)])

    def local(self, index) -> dict:
        """The local quantities of input *index*, as a direction function takes them."""
        return {"x": self.x[index], "w": self.w[index], "l": self.l[index],
                "h": self.h[index], "gamma": self.gamma, "unbounded": self.unbounded[index]}

    def preactivation(self, point=None):
        """``z_j`` at *point* (a function index → value; default the data point)."""
        point = point or (lambda k: self.x[k])
        return self.total(lambda k: self.w[k] * point(k)) + self.b


def neuron_symbols(n: int | None = None, rule: str | Rule = "w2", *, domain: Domain | None = None,
                   bias: str | None = None) -> NeuronSymbols:
    """The symbols :func:`derive` uses for *rule* and fan-in *n*.

    Use them to write your own search direction as a list of expressions.
    SymPy symbols are equal only when their assumptions are, so pass the
    same *domain* (and *bias*) you will pass to :func:`derive`.

    Parameters
    ----------
    n : int, optional
        The fan-in; ``None`` (the default) for an arbitrary fan-in.
    rule : str or Rule
        The rule whose domain and bias assumption are the defaults (default ``"w2"``).
    domain : Domain, optional
        The input domain (default: the rule's).
    bias : {"nonpositive", "real", "positive", "nonnegative"}
        The assumption on the bias ``b_j`` (default: the rule's).

    Returns
    -------
    NeuronSymbols
        The symbols, with the assumptions :func:`derive` gives them.

    Examples
    --------
    >>> s = neuron_symbols(2, "z+")
    >>> s.x, s.w, s.b
    ([x_1, x_2], [w_1, w_2], b_j)
    >>> from symdtd import Box
    >>> neuron_symbols(2, domain=Box(1, 2)).l[0].is_nonpositive is None
    True
    """
    rule = get_rule(rule)
    return NeuronSymbols(n, domain or rule.domain, bias or rule.bias)
