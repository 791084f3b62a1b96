"""A small prover for the sign claims of a derivation: ``expr ≥ 0``.

SymPy's assumption system decides the sign of many expressions on its own
(``x ≥ 0, b ≤ 0 ⇒ −x·min(w, 0) − b ≥ 0``). What it cannot do alone, this
module helps with, without ever deciding anything itself:

* **case split** on the sign of each weight — and of each box input that
  appears inside a gate — so ``Max(0, w)``, ``Min(0, w)`` and
  ``Heaviside(w, 0)`` become plain symbols;
* **box parametrisation**: ``x = l + a`` or ``x = h − c`` with gaps
  ``a, c ≥ 0``, which encodes ``l ≤ x ≤ h`` in symbol assumptions; bounds
  are the symbols of the symbolic box or the numbers the user gave, and
  every substitution covers the box or more (never less), so a proof in
  the substituted form holds on the box;
* **sums** of arbitrary length: a sum whose term is provably ``≥ 0`` (or
  ``≤ 0``) is replaced by a fresh nonnegative (nonpositive) symbol.

A claim counts as proved only when SymPy answers ``is_nonnegative == True``
in every case; otherwise the prover says ``None`` (unknown).

Examples
--------
>>> import sympy as sp
>>> x = sp.Symbol("x", nonnegative=True); w = sp.Symbol("w", real=True)
>>> (x * w - x * sp.Min(0, w)).is_nonnegative is None   # SymPy alone cannot tell
True
>>> prove_nonnegative(x * w - x * sp.Min(0, w), weights=[w])
True
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence

import sympy as sp

__all__ = ["prove_nonnegative", "merge_sums"]


def _allowed_signs(symbol):
    """The signs a symbol can take under its assumptions (+1, -1, 0)."""
    if symbol.is_positive:
        return (1,)
    if symbol.is_negative:
        return (-1,)
    if symbol.is_nonnegative:
        return (1, 0)
    if symbol.is_nonpositive:
        return (-1, 0)
    return (1, -1, 0)


def _gated_inputs(expr, weights, box):
    """Inputs of a box that appear as the argument of a gate (max, min, 1[·])."""
    gated = set()
    for gate in expr.atoms(sp.Max, sp.Min, sp.Heaviside):
        args = [gate.args[0]] if isinstance(gate, sp.Heaviside) else \
            [a for a in gate.args if a != 0]
        gated.update(a for a in args if a in (box or {}) and a not in weights)
    return sorted(gated, key=sp.default_sort_key)


def _symbolic_bounds(low, high):
    """True for the symbolic box ``l ≤ 0 ≤ h`` (bounds are symbols, not numbers)."""
    return isinstance(low, (sp.Symbol, sp.Indexed)) and isinstance(high, (sp.Symbol, sp.Indexed))


def _input_sign_cases(inputs, box):
    """Split box inputs by sign, each case covering its part of ``l ≤ x ≤ h``.

    With symbolic bounds ``l ≤ 0 ≤ h`` the cases are exact: ``x > 0`` leaves
    ``l`` free and sets ``h = x + c``; ``x < 0`` sets ``l = x − a`` and leaves
    ``h`` free; ``x = 0`` needs nothing. With numeric bounds (``None`` for an
    open side) only the signs the box allows are tried, and each case may
    drop a bound: a case that covers more than the box is still sound.
    """
    options = []
    for x in inputs:
        low, high = box[x]
        choices = []
        for sign in _allowed_signs(x):
            if _symbolic_bounds(low, high):
                choices.append(_symbolic_sign_case(x, sign, low, high))
            elif _sign_allowed(sign, low, high):
                choices.append({x: _numeric_sign_case(sign, low, high)})
        options.append(choices)
    for combination in itertools.product(*options):
        merged = {}
        for part in combination:
            merged.update(part)
        yield merged


def _symbolic_sign_case(x, sign, low, high):
    if sign > 0:
        p = sp.Dummy("xp", positive=True)
        return {x: p, high: p + sp.Dummy("c", nonnegative=True)}
    if sign < 0:
        m = sp.Dummy("xm", positive=True)
        return {x: -m, low: -m - sp.Dummy("a", nonnegative=True)}
    return {x: sp.S.Zero}


def _sign_allowed(sign, low, high):
    """Whether some x in ``[low, high]`` (``None``: open) has this sign."""
    if sign > 0:
        return high is None or high > 0
    if sign < 0:
        return low is None or low < 0
    return (low is None or low <= 0) and (high is None or high >= 0)


def _numeric_sign_case(sign, low, high):
    """x of the given sign, keeping the bound on that side when it is tighter."""
    if sign > 0:
        if low is not None and low > 0:
            return low + sp.Dummy("a", nonnegative=True)
        return sp.Dummy("xp", positive=True)
    if sign < 0:
        if high is not None and high < 0:
            return high - sp.Dummy("c", nonnegative=True)
        return -sp.Dummy("xm", positive=True)
    return sp.S.Zero


def _sign_cases(weights):
    """Substitutions that put each weight on one side of 0."""
    cases = []
    for signs in itertools.product(*[_allowed_signs(w) for w in weights]):
        mapping, side = {}, {}
        for w, sign in zip(weights, signs):
            # strict signs plus the zero case, so that 1[w > 0] is decided
            if sign > 0:
                mapping[w] = sp.Dummy(f"{w}_pos", positive=True)
            elif sign < 0:
                mapping[w] = -sp.Dummy(f"{w}_neg", positive=True)
            else:
                mapping[w] = sp.S.Zero
            side[w] = sign
        cases.append((mapping, side))
    return cases


def _box_parametrisations(box, side):
    """Candidate substitutions encoding ``l ≤ x ≤ h`` for each input.

    *box* maps an input symbol ``x`` to its bounds ``(l, h)``: symbols (the
    symbolic box, ``l ≤ 0 ≤ h``), numbers, or ``None`` for an open side.
    Every candidate covers the whole box or more (``x = l + a`` drops
    ``x ≤ h``), so a proof in any candidate holds on the box.
    """
    if not box:
        return [{}]
    adapted, flipped, both = {}, {}, {}
    symbolic = False
    for x, (low, high) in box.items():
        gap_low = sp.Dummy("a", nonnegative=True)
        gap_high = sp.Dummy("c", nonnegative=True)
        from_low = low + gap_low if low is not None else None
        from_high = high - gap_high if high is not None else None
        # the bound the root search moves towards is the one the claim needs
        preferred, other = ((from_low, from_high) if side.get(x, 1) >= 0
                            else (from_high, from_low))
        if preferred is None and other is None:
            continue            # x is unbounded: it stays a free real symbol
        adapted[x] = both[x] = preferred if preferred is not None else other
        flipped[x] = other if other is not None else preferred
        if _symbolic_bounds(low, high):
            symbolic = True
            both[x] = low + gap_low
            both[high] = low + gap_low + gap_high   # exact: l ≤ x ≤ h
    # numeric bounds cannot be tied to x by a substitution: try the other side
    return [{}, adapted, both] if symbolic else [{}, adapted, flipped]


_REWRITES = (lambda e: e, sp.expand, sp.factor, sp.simplify)


def _decided(variants):
    """SymPy's verdict on the first variant/rewrite it can decide (cheap ones first)."""
    for rewrite in _REWRITES:
        for expr in variants:
            if rewrite is not _REWRITES[0] and expr.has(sp.Sum) and rewrite is not sp.expand:
                continue   # factor/simplify raise StopIteration on some sums
            verdict = rewrite(expr).is_nonnegative
            if verdict is not None:
                return verdict
    return None


def merge_sums(expr):
    """Combine ``a·Σ f + c·Σ g`` over the same range into ``Σ (a f + c g)``.

    Factors outside a sum must not depend on its index; the sums' dummies
    are renamed to a common one. This is plain linearity of the sum.
    """
    expr = sp.expand(expr)
    groups, rest = {}, []
    for term in sp.Add.make_args(expr):
        sums = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum)]
        if len(sums) != 1 or len(sums[0].limits) != 1:
            rest.append(term)
            continue
        total = sums[0]
        index, low, high = total.limits[0]
        coefficient = term / total
        if coefficient.has(index):
            rest.append(term)
            continue
        key = (low, high)
        common = groups.setdefault(key, (index, []))[0]
        groups[key][1].append(coefficient * total.function.xreplace({index: common}))
    merged = [sp.Sum(sp.Add(*terms), (index, *key)) for key, (index, terms) in groups.items()]
    return sp.Add(*rest, *merged)


def _abstract_sums(expr, sum_weights, box_of_sum):
    """Replace provably signed sums by fresh signed symbols."""
    for total in sorted(expr.atoms(sp.Sum), key=sp.default_sort_key):
        term = total.function
        weights = sum_weights(total)
        box = box_of_sum(total)
        if prove_nonnegative(term, weights, box) is True:
            expr = expr.xreplace({total: sp.Dummy("S", nonnegative=True)})
        elif prove_nonnegative(-term, weights, box) is True:
            expr = expr.xreplace({total: -sp.Dummy("S", nonnegative=True)})
    return expr


def prove_nonnegative(expr: sp.Expr, weights: Sequence[sp.Expr] = (), box: object = None, *,
                      sum_weights: object = None, box_of_sum: object = None) -> bool | None:
    """Try to prove ``expr ≥ 0`` for all values allowed by the symbols' assumptions.

    Parameters
    ----------
    expr : sympy.Expr
        The expression.
    weights : sequence of sympy.Expr
        Weight symbols (or indexed weights) to case-split on by sign.
    box : dict, optional
        ``{x: (l, h)}`` for inputs constrained to a box: symbol bounds (the
        symbolic box, whose symbols carry ``l ≤ 0 ≤ h``), numbers, or
        ``None`` for an open side.
    sum_weights, box_of_sum : callable, optional
        For sums of arbitrary length: given a ``Sum``, the weights and box
        of its term (indexed by the sum's dummy).

    Returns
    -------
    True or None
        True when SymPy proved it in every case, None when it could not
        decide (the claim may still hold; look for a counterexample).
        False when SymPy decided that it fails in some case.
    """
    expr = sp.sympify(expr, strict=True)
    if expr.has(sp.Sum) and sum_weights is not None:
        expr = _abstract_sums(merge_sums(expr), sum_weights, box_of_sum or (lambda s: None))
    present = [w for w in weights if expr.has(w)]
    gated = _gated_inputs(expr, present, box)
    if gated:
        # gates on the inputs themselves: split those inputs by sign as well
        # (the box bounds come with each case), then prove every case
        verdicts = [prove_nonnegative(expr.xreplace(case), weights,
                                      {x: b for x, b in box.items() if x not in gated})
                    for case in _input_sign_cases(gated, box)]
        if all(v is True for v in verdicts):
            return True
        return False if False in verdicts else None
    failed = False
    for mapping, side in _sign_cases(present):
        case = expr.xreplace(mapping)
        case = case.replace(lambda e: isinstance(e, sp.Heaviside),
                            lambda e: sp.Heaviside(e.args[0], 0))
        sides = {}
        if box:
            # which way each input's weight points decides the useful bound
            for x in box:
                w = next((w for w in present if _same_input(w, x)), None)
                sides[x] = side.get(w, 1) if w is not None else 1
        verdict = _decided([case.xreplace(param)
                            for param in _box_parametrisations(box or {}, sides)])
        if verdict is True:
            continue
        if verdict is False and not box:
            failed = True
            continue
        return None
    return False if failed else True


def _same_input(weight, x):
    """Whether a weight and an input symbol belong to the same input position."""
    if isinstance(weight, sp.Indexed) and isinstance(x, sp.Indexed):
        return weight.indices == x.indices
    return str(weight).split("_")[-1] == str(x).split("_")[-1]
