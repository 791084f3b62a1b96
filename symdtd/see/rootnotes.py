"""What a root-search figure should say in words: an inactive neuron, a data point outside a domain.

:func:`~symdtd.see.rootplot.plot_root_search` draws every neuron it is
given, whatever its numbers. Two cases make the picture mislead without a
word, and :func:`panel_notes` names them; the figure writes them on the panel
and ``symdtd plot-root`` prints them:

* the neuron is **inactive** at the data point (``z = w·x + b ≤ 0``): it
  passes no relevance on, so the roots drawn only show the formula;
* the **data point lies outside a rule's domain** (outside the zᴮ box, or
  outside ℝ²₊ for z⁺): the rule's search starts where the rule is not meant
  to be used, so its root need not lie in the domain either.

Examples
--------
>>> from symdtd import derive
>>> notes = panel_notes(0, (1, 1), -3, (0.5, 0.5), [("zB", derive("zB", n=2))], ((0, 0), (1, 1)))
>>> for note in notes:
...     print(note)
neuron 1: inactive at the data point (z = w·x + b = -2 ≤ 0): it passes no relevance on; the roots show the formulas only
"""
from __future__ import annotations

from collections.abc import Sequence

from ..core.domains import Box, Positive
from ..proof.roots import in_domain

__all__ = ["panel_notes"]


def _fmt(v) -> str:
    v = float(v)
    return f"{v:.3g}" if v != 0 else "0"


def panel_notes(k: int, w: Sequence, b: object, x: Sequence, derivations: Sequence,
                box: Sequence) -> list[str]:
    """The notes of panel *k*: inactive neuron, data point outside a rule's domain.

    Parameters
    ----------
    k : int
        The panel's index (the notes say ``neuron k + 1``).
    w, x : pair of numbers
        The neuron's weights and its data point.
    b : number
        The bias.
    derivations : sequence of (label, Derivation)
        The rules drawn (fan-in 2), with their labels (None: the rule's title).
    box : ((l1, l2), (h1, h2))
        The box of box rules (zᴮ).

    Returns
    -------
    list of str
        One sentence per case; empty when the picture needs no word.

    Examples
    --------
    >>> from symdtd import derive
    >>> print(*panel_notes(1, (1, -1), -0.25, (1.5, 0.5), [(None, derive("zB", n=2))],
    ...                    ((0, 0), (1, 1))))   # doctest: +NORMALIZE_WHITESPACE
    neuron 2: the data point (1.5, 0.5) lies outside the zᴮ rule's box [0, 1] × [0, 1]:
    its search starts outside its domain
    """
    notes, where = [], f"neuron {k + 1}"
    z = sum(float(wi) * float(xi) for wi, xi in zip(w, x)) + float(b)
    if z <= 0:
        notes.append(f"{where}: inactive at the data point (z = w·x + b = {_fmt(z)} ≤ 0): it "
                     "passes no relevance on; the roots show the formulas only")
    point = [float(v) for v in x]
    low, high = ([float(v) for v in side] for side in box)
    seen = set()
    for label, d in derivations:
        domain = d.assumptions.domain
        name = label or d.rule_def.title
        if isinstance(domain, Box):
            if in_domain(point, domain, bounds=(low, high)):
                continue
            region = (f"box [{_fmt(low[0])}, {_fmt(high[0])}] × [{_fmt(low[1])}, "
                      f"{_fmt(high[1])}]")
        elif isinstance(domain, Positive):
            if in_domain(point, domain):
                continue
            region = "domain ℝ²₊"
        else:
            continue
        text = (f"{where}: the data point ({_fmt(point[0])}, {_fmt(point[1])}) lies outside the "
                f"{name}'s {region}: its search starts outside its domain")
        if text not in seen:
            seen.add(text)
            notes.append(text)
    return notes
