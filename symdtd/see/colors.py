"""The colour scales of symdtd: the diverging scale of graphs and grids, and the hot scale of photographs.

The relevance-flow graphs (:mod:`symdtd.see.flow`, :mod:`symdtd.see.layer_flow`)
and the heatmaps (:mod:`symdtd.see.plotting`) use the same three anchor
colours, negative blue, white at 0, positive red, so a value looks the same in
all of them. Graphviz needs hex strings; matplotlib gets a colormap built from
the same anchors.

Heatmaps over photographs (:mod:`symdtd.see.pictures`) use :func:`hot_cmap`
instead, the look of the seed paper's Figure 1 and of the deep Taylor
heatmaps of ImageNet models: black where there is no relevance, so that the
relevant pixels glow; positive relevance in matplotlib's ``afmhot`` (dark red,
orange, yellow, white at the maximum), negative relevance in the same ramp
with red and blue swapped (dark blue, light blue, white at the minimum).

Examples
--------
>>> from symdtd.see.colors import diverging_hex, NEGATIVE, POSITIVE
>>> diverging_hex(1, 1) == POSITIVE, diverging_hex(-2, 1) == NEGATIVE
(True, True)
>>> diverging_hex(0, 1)
'#ffffff'
>>> diverging_hex(0.5, 1)
'#d88c95'
"""
from __future__ import annotations

import math

__all__ = ["NEGATIVE", "ZERO", "POSITIVE", "NEUTRAL", "RULE_COLORS", "diverging_hex", "sign_hex",
           "text_color", "diverging_cmap", "hot_cmap", "rule_color"]

#: colour of the most negative value (and of negative edges)
NEGATIVE = "#2166ac"
#: colour of 0
ZERO = "#ffffff"
#: colour of the most positive value (and of positive edges)
POSITIVE = "#b2182b"
#: colour of values that have no numeric value (symbolic) or are exactly 0 on edges
NEUTRAL = "#9e9e9e"
#: one fixed colour per built-in rule, the same in every figure (the root search, curves)
RULE_COLORS = {"w2": "#1f77b4", "z+": "#2ca02c", "zB": "#9467bd", "z": "#ff7f0e",
               "gamma": "#8c564b", "mixed": "#e377c2"}
#: colours of other rules (user directions), in turn
_OTHER_RULES = ("#17becf", "#bcbd22", "#d62728", "#7f7f7f")


def _rgb(hex_color):
    return tuple(int(hex_color[k:k + 2], 16) for k in (1, 3, 5))


def diverging_hex(value, vmax):
    """The fill colour of *value* on the scale ``[-vmax, vmax]`` (clipped).

    Parameters
    ----------
    value : float
    vmax : float
        The magnitude shown at full colour; ``vmax <= 0`` gives white.

    Returns
    -------
    str
        ``"#rrggbb"``, linear in *value* between white and the end colour.
    """
    if vmax <= 0 or not math.isfinite(value) or value == 0:
        return ZERO
    t = max(-1.0, min(1.0, value / vmax))
    end = _rgb(POSITIVE if t > 0 else NEGATIVE)
    t = abs(t)
    # interpolate in sRGB: white (255) towards the end colour
    rgb = [round(255 + (c - 255) * t) for c in end]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def sign_hex(value):
    """Edge colour by sign: POSITIVE, NEGATIVE, or NEUTRAL for 0 / no number.

    >>> sign_hex(-0.1) == NEGATIVE, sign_hex(None) == NEUTRAL
    (True, True)
    """
    if value is None or value == 0 or not math.isfinite(value):
        return NEUTRAL
    return POSITIVE if value > 0 else NEGATIVE


def text_color(value, vmax):
    """Black or white, whichever reads better on :func:`diverging_hex` of *value*."""
    return "#ffffff" if vmax > 0 and math.isfinite(value) and abs(value) / vmax > 0.6 else "#000000"


def diverging_cmap():
    """A matplotlib colormap with the same anchors (blue, white, red).

    Imported lazily: rendering graphs does not need matplotlib.

    >>> cmap = diverging_cmap()
    >>> cmap.name, [float(c) for c in cmap(0.5)[:3]]
    ('symdtd', [1.0, 1.0, 1.0])
    """
    from matplotlib.colors import LinearSegmentedColormap

    # an odd number of entries puts pure white exactly at the centre
    return LinearSegmentedColormap.from_list("symdtd", [NEGATIVE, ZERO, POSITIVE], N=257)


def hot_cmap():
    """The colormap of photograph heatmaps: black at 0, ``afmhot`` above, its blue mirror below.

    Meant for values normalised symmetrically to ``[-1, 1]`` and mapped to
    ``[0, 1]`` (``-max |R|`` at 0, zero at 0.5, ``max |R|`` at 1).

    >>> cmap = hot_cmap()
    >>> [round(float(c), 3) for c in cmap(0.5)[:3]], [float(c) for c in cmap(1.0)[:3]]
    ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    >>> r, g, b, _ = cmap(0.75)       # half the maximum: a hot red-orange
    >>> bool(r > g > b)
    True
    >>> r, g, b, _ = cmap(0.25)       # half the minimum: the same, red and blue swapped
    >>> bool(b > g > r)
    True
    """
    import matplotlib
    import numpy as np
    from matplotlib.colors import ListedColormap

    hot = matplotlib.colormaps["afmhot"](np.linspace(0, 1, 128))
    cold = hot[::-1][:, [2, 1, 0, 3]]   # negative side: afmhot read from white to black, R and B swapped
    return ListedColormap(np.concatenate([cold, [[0.0, 0.0, 0.0, 1.0]], hot[1:]]), name="symdtd-hot")


def rule_color(name: str, index: int = 0) -> str:
    """The colour of a rule in figures: fixed for a built-in rule, else the *index*-th spare.

    Parameters
    ----------
    name : str
        The rule's name (``"w2"``, ``"z+"``, ``"zB"``, …; other spellings
        such as ``"zb"`` are read by :func:`symdtd.core.rules.get_rule`).
    index : int
        For a rule without a fixed colour (a user direction): which spare
        colour to take (they repeat after four).

    Returns
    -------
    str
        ``"#rrggbb"``.

    Examples
    --------
    >>> rule_color("w2") == RULE_COLORS["w2"] == rule_color("wsquare")
    True
    >>> rule_color("custom", 0) != rule_color("custom", 1)
    True
    """
    from ..core.rules import get_rule

    try:
        name = get_rule(name).name
    except (TypeError, ValueError):
        pass
    return RULE_COLORS.get(name) or _OTHER_RULES[index % len(_OTHER_RULES)]
