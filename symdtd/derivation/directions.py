"""A search direction as SymPy expressions: a user's entries checked, then put into Eq. 1.

A direction is the rule's own (a local function of one input's ``x``, ``w``,
``l``, ``h`` and ``gamma``) or a user's list of expressions, one per input,
for a concrete fan-in. Step (e) of a derivation
(:class:`~symdtd.derivation.steps.SpecialiseDirection`) reads it through
:func:`direction_exprs` and inserts it with :func:`substitute_direction`.
Text is refused, never parsed (:func:`direction_expr`).

Examples
--------
>>> direction_expr("w_1")
Traceback (most recent call last):
...
TypeError: a search direction must be SymPy expressions (or numbers), not text: 'w_1'; ...
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy as sp

from ..core.rules import Rule
from ..core.symbols import NeuronSymbols

__all__ = ["direction_expr", "direction_exprs", "substitute_direction"]


def direction_expr(value: object) -> sp.Expr:
    """A direction entry as a SymPy expression; text is refused, never parsed.

    >>> direction_expr(2)
    2
    """
    if isinstance(value, (str, bytes)):
        raise TypeError(f"a search direction must be SymPy expressions (or numbers), not text: "
                        f"{value!r}; build it from the symbols of neuron_symbols()")
    try:
        return sp.sympify(value, strict=True)
    except sp.SympifyError:
        raise TypeError(f"a search direction must be SymPy expressions (or numbers), got "
                        f"{type(value).__name__}") from None


def direction_exprs(rule: Rule, direction: Sequence | None, space: NeuronSymbols) -> dict:
    """The search direction ``v_i`` per input position, as SymPy expressions.

    Parameters
    ----------
    rule : Rule
        The rule whose own direction is used when *direction* is None.
    direction : sequence of sympy.Expr or None
        A user's direction, one entry per input (concrete fan-in only).
    space : NeuronSymbols
        The neuron's symbols; a user's entries must be written in them.

    Returns
    -------
    dict
        ``input position -> v_i``.

    Raises
    ------
    TypeError
        An entry that is text or not a SymPy expression.
    ValueError
        A list for an arbitrary fan-in, the wrong number of entries, or an
        entry in symbols that are not this neuron's.

    Examples
    --------
    >>> from symdtd import get_rule
    >>> from symdtd.core.symbols import NeuronSymbols
    >>> s = NeuronSymbols(2)
    >>> direction_exprs(get_rule("w2"), None, s)
    {0: w_1, 1: w_2}
    >>> direction_exprs(get_rule("w2"), [1], s)
    Traceback (most recent call last):
    ...
    ValueError: direction has 1 entries, expected one per input (n = 2)
    """
    if direction is None:
        return {k: direction_expr(rule.direction_at(**space.local(k))) for k in space.indices}
    if space.general:
        raise ValueError("a direction given as a list of expressions needs a concrete fan-in n")
    if len(direction) != space.n:
        raise ValueError(f"direction has {len(direction)} entries, expected one per input "
                         f"(n = {space.n})")
    known = {*space.x, *space.w, *space.l, *space.h, *space.unbounded, space.gamma}
    exprs = {}
    for k, v in zip(space.indices, direction):
        v = direction_expr(v)
        foreign = sorted(str(sym) for sym in v.free_symbols if sym not in known)
        if foreign:
            # same name, other assumptions: a different SymPy symbol
            raise ValueError(
                f"direction entry {k + 1} uses {', '.join(foreign)}, which are not the "
                f"symbols of this neuron; write it with neuron_symbols({space.n}, "
                f"domain=..., bias=...) for the same domain and bias as derive")
        exprs[k] = v
    return exprs


def substitute_direction(expr: sp.Expr, space: NeuronSymbols, v_of: Callable) -> sp.Expr:
    """Replace every ``v_k`` in *expr* by the direction of input *k*.

    Parameters
    ----------
    expr : sympy.Expr
        An expression in the generic direction symbols ``v`` of *space*.
    space : NeuronSymbols
        The neuron's symbols.
    v_of : callable
        ``v_of(k)`` gives the direction entry of input position *k*.

    Returns
    -------
    sympy.Expr
        *expr* with the direction put in.

    Examples
    --------
    >>> from symdtd.core.symbols import NeuronSymbols
    >>> s = NeuronSymbols(2)
    >>> substitute_direction(s.v[0] * s.w[0] + s.v[1] * s.w[1], s, lambda k: s.w[k])
    w_1**2 + w_2**2
    """
    if space.general:
        return expr.replace(
            lambda e: isinstance(e, sp.Indexed) and e.base == space.v,
            lambda e: v_of(e.indices[0]))
    return expr.xreplace({space.v[k]: v_of(k) for k in space.indices})
