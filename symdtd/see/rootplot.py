"""The root-point search of a 2-input neuron, drawn (the seed paper's Figure 2).

:func:`plot_root_search` shows, for a neuron ``x_j = max(0, w·x + b)`` with
two inputs, its active set ``z > 0`` (shaded), the line ``z = 0``, the data
point and, for each rule, the search line ``x̃ = x − t·v`` and the root it
reaches. The roots come from the derivation's own formula
(``derive(rule, n=2).root``) evaluated at the neuron's numbers by
:func:`find_root` — nothing is recomputed separately. Re-exported by
:mod:`symdtd.see.plotting`.

Examples
--------
>>> fig = plot_root_search([((1, -1), -0.5, (1.5, 0.5))], rules=["w2", "z+"])
>>> sorted(line.get_gid() for line in fig.axes[0].lines if line.get_gid())
['data', 'root:w² rule', 'root:z⁺ rule', 'search:w² rule', 'search:z⁺ rule', 'z=0']
"""
from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..core.domains import Box, Positive
from ..core.numbers import RealLike
from ..derivation.taylor import derive
from .colors import rule_color
from .rootnotes import panel_notes
from .rootsearch import RootPoint, box_sides, find_root, neuron_items

__all__ = ["RootPoint", "find_root", "plot_root_search", "root_search_notes"]

_ACTIVE_COLOR = "#fdd49e"


def _rule_items(rules):
    """``[(label or None, rule), ...]`` from a list of rules or a dict label -> rule."""
    if isinstance(rules, Mapping):
        return list(rules.items())
    names = isinstance(rules, tuple) and all(isinstance(r, str) for r in rules)
    if isinstance(rules, str) or callable(rules) or (isinstance(rules, tuple) and not names):
        rules = [rules]   # one rule (a tuple of expressions is one direction)
    items = []
    for rule in rules:
        if isinstance(rule, tuple) and len(rule) == 2 and isinstance(rule[0], str):
            items.append(rule)
        else:
            items.append((None, rule))
    return items


def _clip_halfplane(polygon, w, b):
    """The part of a convex polygon where ``w·p + b >= 0`` (Sutherland–Hodgman)."""
    out = []
    for k, p in enumerate(polygon):
        q = polygon[(k + 1) % len(polygon)]
        zp, zq = np.dot(w, p) + b, np.dot(w, q) + b
        if zp >= 0:
            out.append(p)
        if (zp >= 0) != (zq >= 0):
            out.append(p + (q - p) * zp / (zp - zq))
    return out


def _limits(points):
    pts = np.array([p for p in points if np.all(np.isfinite(p))])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = max(float((hi - lo).max()), 1.0) * 1.3   # square view, 15 % margin each side
    centre = (lo + hi) / 2
    return [(c - span / 2, c + span / 2) for c in centre]


def _fmt(v):
    v = float(v)
    return f"{v:.3g}" if v != 0 else "0"


def plot_root_search(neurons: Sequence | Mapping, rules: Sequence | Mapping = ("w2", "z+", "zB"), *,
                     box: Sequence = (0, 1), gamma: RealLike | None = None,
                     ax: Axes | Sequence[Axes] | None = None, size: float = 4.0,
                     limits: Sequence[Sequence[float]] | None = None) -> Figure:
    """Draw the root-point search of 2-input neurons (the seed's Figure 2).

    Each panel shows the active set ``z > 0`` (shaded), the line ``z = 0``,
    the rules' input domains, the data point (black dot), and for every
    rule the search line from the data point to its root (circle; a cross
    when the root leaves the rule's domain).

    Parameters
    ----------
    neurons : tuple or list
        One neuron ``(w, b, x)`` or a list of them (side by side); a dict
        with keys ``w``, ``b``, ``x`` works too.
    rules : sequence or dict
        Rule names, Rules, direction functions, ``(label, rule)`` pairs, or a
        dict ``label -> rule``.
    box : pair, optional
        Box bounds ``(l, h)`` for box rules (zᴮ).
    gamma : number, optional
        γ for the γ rule.
    ax : Axes or sequence of Axes, optional
        Draw here (one per neuron) instead of a new figure.
    size : float
        Panel size in inches.
    limits : ((xmin, xmax), (ymin, ymax)), optional
        View limits (default: everything drawn, square).

    Returns
    -------
    matplotlib.figure.Figure
        Artists carry gids: ``"data"``, ``"z=0"``, ``"active"``,
        ``"search:<label>"`` and ``"root:<label>"``.

    Examples
    --------
    >>> fig = plot_root_search([((1, 1), -1, (1, 1)), ((1, -1), 0, (1, 0.5))],
    ...                        rules={"z+": "z+", "mine": lambda x, w: x * w**2})
    >>> len(fig.axes)
    2
    >>> root = next(l for l in fig.axes[0].lines if l.get_gid() == "root:mine")
    >>> float(root.get_xdata()[0] + root.get_ydata()[0] - 1)   # z(x̃) = w·x̃ + b
    0.0
    """
    from matplotlib.patches import Polygon, Rectangle

    items = neuron_items(neurons)
    rule_items = _rule_items(rules)
    if ax is None:
        # room below each panel for its legend
        fig = Figure(figsize=(size * len(items), size + 0.26 * (len(rule_items) + 5)),
                     layout="constrained")
        axes = list(np.atleast_1d(fig.subplots(1, len(items), squeeze=False)[0]))
    else:
        axes = list(np.atleast_1d(ax))
        if len(axes) != len(items):
            raise ValueError(f"ax: got {len(axes)} axes for {len(items)} neurons")
        fig = axes[0].figure

    # derive each rule once (a user direction is not cached by derive)
    rule_items = [(lab, derive(r, n=2)) for lab, r in rule_items]
    colors = _colors(rule_items)
    domains = {type(d.rule_def.domain) for _, d in rule_items}
    low, high = (np.array(v, dtype=float) for v in box_sides(box))
    box_label = (f"box [{_fmt(low[0])}, {_fmt(high[0])}]²" if low[0] == low[1] and high[0] == high[1]
                 else "box")
    for panel, (a, (w, b, x)) in enumerate(zip(axes, items)):
        roots = [find_root(r, w, b, x, box=box, gamma=gamma, label=lab) for lab, r in rule_items]
        wf, bf, xf = np.array(w, dtype=float), float(b), np.array(x, dtype=float)
        points = [xf, np.zeros(2)] + [r.point for r in roots]
        if Box in domains:
            points += [low, high]
        if np.any(wf):
            points.append(xf - (wf @ xf + bf) / (wf @ wf) * wf)   # nearest point of z = 0
        (x0, x1), (y0, y1) = limits or _limits(points)
        view = [np.array(p) for p in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]

        if Positive in domains:   # hatch what lies outside ℝ²₊ (two strips)
            for k, (xy, wd, ht) in enumerate((((x0, y0), -x0, y1 - y0), ((0, y0), x1, -y0))):
                if wd > 0 and ht > 0:
                    a.add_patch(Rectangle(xy, wd, ht, facecolor="none", edgecolor="0.75",
                                          hatch="///", lw=0, label=None if k else "outside ℝ²₊"))
        if Box in domains:
            a.add_patch(Rectangle(low, *(high - low), facecolor="none", edgecolor="0.3",
                                  ls=":", lw=1.2, label=box_label))
        active = _clip_halfplane(view, wf, bf)
        if len(active) >= 3:
            a.add_patch(Polygon(active, closed=True, facecolor=_ACTIVE_COLOR, alpha=0.6,
                                edgecolor="none", label="active set z > 0", gid="active"))
        if np.any(wf):
            p0 = -bf * wf / (wf @ wf)
            a.axline(p0, p0 + np.array([-wf[1], wf[0]]), color="k", lw=1.2, label="z = 0", gid="z=0")
        for k, r in enumerate(roots):
            color = colors[k]
            if not r.found:
                a.plot([], [], color=color, label=f"{r.label}: no root (Σ v·w = 0)")
                continue
            p = r.point
            a.plot([xf[0], p[0]], [xf[1], p[1]], color=color, ls="--", lw=1.5,
                   gid=f"search:{r.label}")
            where = f"({_fmt(p[0])}, {_fmt(p[1])})" + ("" if r.in_domain else ", outside domain")
            # rings shrink rule by rule, so roots that coincide stay visible
            a.plot([p[0]], [p[1]], ls="none", marker="o" if r.in_domain else "X",
                   ms=8 + 3 * (len(roots) - 1 - k),
                   mfc="white" if r.in_domain else color, mec=color, mew=2, zorder=5,
                   label=f"{r.label}: x̃ = {where}", gid=f"root:{r.label}")
        a.plot([xf[0]], [xf[1]], "ko", ms=7, zorder=6, label="data point x", gid="data")
        a.set_xlim(x0, x1)
        a.set_ylim(y0, y1)
        a.set_aspect("equal")
        a.set_xlabel("x₁")
        a.set_ylabel("x₂")
        inactive = "" if wf @ xf + bf > 0 else " (inactive at x)"
        a.set_title(f"w = ({_fmt(w[0])}, {_fmt(w[1])}), b = {_fmt(b)}{inactive}", fontsize="medium")
        a.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.14),
                 markerscale=0.7, frameon=False)   # below the panel: never hides the geometry
        notes = panel_notes(panel, w, b, x, rule_items, (low, high))
        if notes:   # said in words on the panel (symdtd plot-root prints them too)
            a.text(0.02, 0.98, "\n".join(textwrap.fill(n.split(": ", 1)[1], 48) for n in notes),
                   transform=a.transAxes, va="top", fontsize="x-small", color="#8b0000",
                   gid="notes", bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
    return fig


def _colors(derivations):
    """One colour per rule: fixed for a built-in rule (:func:`symdtd.see.colors.rule_color`)."""
    spare = iter(range(len(derivations)))
    return [rule_color(d.rule_def.name, next(spare)) if d.rule_def.name == "custom"
            else rule_color(d.rule_def.name) for _, d in derivations]


def root_search_notes(neurons: Sequence | Mapping, rules: Sequence | Mapping = ("w2", "z+", "zB"), *,
                      box: Sequence = (0, 1)) -> list[str]:
    """The notes :func:`plot_root_search` writes on its panels (:func:`~symdtd.see.rootnotes.panel_notes`).

    Parameters
    ----------
    neurons, rules, box
        As for :func:`plot_root_search`.

    Returns
    -------
    list of str
        ``"neuron k: …"`` sentences; empty when the figure needs no word.

    Examples
    --------
    >>> root_search_notes([((1, -1), -0.25, (1.5, 0.5))], rules=["z+"])
    []
    >>> len(root_search_notes([((1, -1), -0.25, (1.5, 0.5))], rules=["zB"], box=(0, 1)))
    1
    """
    rule_items = [(lab, derive(r, n=2)) for lab, r in _rule_items(rules)]
    bounds = box_sides(box)
    return [note for k, (w, b, x) in enumerate(neuron_items(neurons))
            for note in panel_notes(k, w, b, x, rule_items, bounds)]
