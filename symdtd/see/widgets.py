"""Sliders for notebooks: the root search of one neuron and the flow of a small network.

:func:`root_search_widget` redraws the seed's Figure 2 picture
(:func:`~symdtd.see.rootplot.plot_root_search`) and prints the shares of the
chosen rule (:meth:`Derivation.at <symdtd.derivation.taylor.Derivation.at>`)
as sliders for ``x``, ``w``, ``b``, the rule and ``γ`` move;
:func:`flow_widget` redraws a network's relevance flow
(:func:`~symdtd.see.flow.render`) as sliders move its inputs. They need the
optional ``ipywidgets`` package (``pip install -e ".[widgets]"``).

What a slider change does is a plain function, :func:`root_search_view` or
:func:`flow_view`, so it runs (and is tested) without a browser.

Examples
--------
>>> view = root_search_view(w=(1, -1), b=-0.25, x=(1.5, 0.5), rule="z+")
>>> view.walk.shares
[3/4, 0]
>>> print(view.text.splitlines()[-1])
Σ_i [x_j]_i = 3/4 = x_j = R_j
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matplotlib.figure import Figure

from ..core.domains import Box, Positive
from ..core.numbers import RealLike, parse_number
from ..derivation.taylor import derive
from ..network.graph import Network
from ..propagation.backward import propagate
from ..propagation.explanation import Explanation
from .flow import render
from .flowgraph import FlowGraph
from .rootplot import plot_root_search

__all__ = ["RootSearchView", "root_search_view", "root_search_widget", "flow_view", "flow_widget",
           "WIDGET_RULES"]

#: the rules a root-search widget offers
WIDGET_RULES = ("w2", "z+", "zB", "z", "gamma")
_HINT = 'the sliders need ipywidgets: pip install -e ".[widgets]" (from the clone)'


def _exact(value, what):
    """A slider's float as the short decimal it shows (0.1 stays 1/10, not a binary fraction)."""
    return parse_number(f"{float(value):.6g}", what)


@dataclass
class RootSearchView:
    """What the root-search widget shows for one position of its sliders.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The Figure 2-style root search of the chosen rule.
    walk : PointDerivation
        The derivation at the point: ``z_j``, ``t``, ``x̃``, the shares.
    text : str
        The shares as printed under the figure.
    """

    figure: Figure
    walk: object
    text: str


def root_search_view(w: Sequence[RealLike] = (1, -1), b: RealLike = -0.25,
                     x: Sequence[RealLike] = (1.5, 0.5), rule: str = "z+", gamma: RealLike = 0.25,
                     box: Sequence[RealLike] = (0, 2)) -> RootSearchView:
    """The figure and the shares for one position of the root-search sliders.

    Parameters
    ----------
    w : pair of numbers
        The weights.
    b : number
        The bias.
    x : pair of numbers
        The data point.
    rule : str
        A rule name (:data:`WIDGET_RULES`).
    gamma : number
        γ of the γ rule.
    box : pair of numbers
        ``(l, h)``, the box of the zᴮ rule.

    Returns
    -------
    RootSearchView
        The figure, the derivation at the point and its text.

    Raises
    ------
    ValueError
        A point outside the rule's domain (the text then says so instead),
        or a bad number.

    Examples
    --------
    >>> view = root_search_view(w=(1, 1), b=-3, x=(1, 1), rule="w2")
    >>> view.walk.active, "inactive" in view.text
    (False, True)
    """
    w = [_exact(v, "w") for v in w]
    x = [_exact(v, "x") for v in x]
    b, gamma = _exact(b, "b"), _exact(gamma, "gamma")
    low, high = (_exact(v, "box") for v in box)
    try:
        walk = derive(rule).at(w=w, b=b, x=x, l=low, h=high, gamma=gamma)
        text = _shares_text(walk)
    except ValueError as err:   # e.g. x outside the rule's domain: say it, draw anyway
        walk, text = None, f"{rule}: {err}"
    figure = plot_root_search([(tuple(w), b, tuple(x))], rules=[rule], box=(low, high),
                              gamma=gamma, size=3.5)
    return RootSearchView(figure, walk, text)


def _shares_text(walk) -> str:
    lines = [f"z_j = {walk.z}" + ("" if walk.active else " ≤ 0: inactive, no relevance")]
    if walk.t is not None:
        lines.append(f"t = {walk.t}, x̃ = ({', '.join(map(str, walk.x_tilde))})")
    if walk.shares is None:
        lines.append("Σ v w = 0: the search line never meets z_j = 0, no shares")
    else:
        lines += [f"[x_j]_{k} = {share}" for k, share in enumerate(walk.shares, start=1)]
        lines.append(f"Σ_i [x_j]_i = {walk.total} = x_j = R_j")
    return "\n".join(lines)


def _widgets():
    try:
        import ipywidgets
    except ImportError as err:
        raise ImportError(_HINT) from err
    return ipywidgets


def _show_in(output, *items):
    from IPython.display import display
    with output:
        output.clear_output(wait=True)
        for item in items:
            display(item)


def root_search_widget(w: Sequence[float] = (1, -1), b: float = -0.25, x: Sequence[float] = (1.5, 0.5),
                       rule: str = "z+", gamma: float = 0.25) -> object:
    """Sliders for ``x``, ``w``, ``b``, the rule and ``γ`` that redraw the root search.

    Each change calls :func:`root_search_view` and shows its figure and
    shares; the latest view is kept as the widget's ``view`` attribute.

    Parameters
    ----------
    w : pair of numbers
        The starting weights.
    b : number
        The starting bias.
    x : pair of numbers
        The starting data point.
    rule : str
        The starting rule (:data:`WIDGET_RULES`).
    gamma : number
        The starting γ.

    Returns
    -------
    ipywidgets.VBox
        The sliders and the output area.

    Raises
    ------
    ImportError
        If ipywidgets is not installed (the message says how to install it).

    Examples
    --------
    >>> box = root_search_widget()            # doctest: +SKIP
    >>> box.sliders["x1"].value = 0.5          # doctest: +SKIP
    >>> box.view.walk.shares                   # doctest: +SKIP
    """
    ipw = _widgets()
    step = dict(step=0.05, continuous_update=False, readout_format=".2f")
    sliders = {"x1": ipw.FloatSlider(value=x[0], min=0, max=2, description="x₁", **step),
               "x2": ipw.FloatSlider(value=x[1], min=0, max=2, description="x₂", **step),
               "w1": ipw.FloatSlider(value=w[0], min=-2, max=2, description="w₁", **step),
               "w2": ipw.FloatSlider(value=w[1], min=-2, max=2, description="w₂", **step),
               "b": ipw.FloatSlider(value=b, min=-2, max=0.5, description="b", **step),
               "gamma": ipw.FloatSlider(value=gamma, min=0, max=2, description="γ", **step),
               "rule": ipw.Dropdown(options=list(WIDGET_RULES), value=rule, description="rule")}
    output = ipw.Output()
    box = ipw.VBox([ipw.HBox([sliders["x1"], sliders["x2"]]), ipw.HBox([sliders["w1"], sliders["w2"]]),
                    ipw.HBox([sliders["b"], sliders["gamma"]]), sliders["rule"], output])
    box.sliders = sliders

    def update(_change=None):
        s = {k: v.value for k, v in sliders.items()}
        box.view = root_search_view(w=(s["w1"], s["w2"]), b=s["b"], x=(s["x1"], s["x2"]),
                                    rule=s["rule"], gamma=s["gamma"])
        _show_in(output, box.view.figure, _Text(box.view.text))

    for slider in sliders.values():
        slider.observe(update, names="value")
    update()
    return box


class _Text:
    """Plain text shown as it is (no quotes) in an output area."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def flow_view(network: Network, inputs: Mapping[str, RealLike], output: str | None = None,
              **options: object) -> tuple[FlowGraph, Explanation]:
    """The flow graph of *network* at *inputs* (what :func:`flow_widget` redraws).

    Parameters
    ----------
    network : Network
        A small network (exact arithmetic is used).
    inputs : dict
        Input name -> value; floats are read as the short decimal they show.
    output : str, optional
        The output neuron to explain.
    **options
        Passed to :func:`~symdtd.see.flow.render` (``show_weights=True``…).

    Returns
    -------
    graph : FlowGraph
        The graphviz drawing (its ``source`` is the DOT text).
    explanation : Explanation
        The exact propagation drawn.

    Examples
    --------
    >>> from symdtd import examples
    >>> graph, e = flow_view(examples.xor(), {"x1": 1.0, "x2": 0.0})
    >>> e.output, "rule: zB" in graph.source
    (1, True)
    """
    point = {name: _exact(value, f"input {name!r}") for name, value in inputs.items()}
    explanation = propagate(network, point, output, arithmetic="exact")
    return render(network, explanation, **options), explanation


def _input_range(network, name):
    domain = network.graph.nodes[name].get("domain")
    if isinstance(domain, Box) and not domain.symbolic:
        index = network.inputs.index(name)
        low, high = domain.bounds(len(network.inputs))
        return low[index], high[index]
    if isinstance(domain, Positive):
        return 0.0, 2.0
    return -2.0, 2.0


def flow_widget(network: Network, inputs: Mapping[str, float] | None = None, output: str | None = None,
                **options: object) -> object:
    """One slider per input of a small network; each change redraws its relevance flow.

    Each change calls :func:`flow_view` and shows the graph; the latest
    graph and explanation are kept as the widget's ``graph`` and
    ``explanation`` attributes.

    Parameters
    ----------
    network : Network
        A small network, e.g. ``examples.xor()`` (two layers).
    inputs : dict, optional
        Starting input values (default: the middle of each input's range).
    output : str, optional
        The output neuron to explain.
    **options
        Passed to :func:`~symdtd.see.flow.render`.

    Returns
    -------
    ipywidgets.VBox
        The sliders and the output area.

    Raises
    ------
    ImportError
        If ipywidgets is not installed (the message says how to install it).

    Examples
    --------
    >>> from symdtd import examples
    >>> box = flow_widget(examples.xor())       # doctest: +SKIP
    >>> box.sliders["x1"].value = 1.0           # doctest: +SKIP
    """
    ipw = _widgets()
    inputs = dict(inputs or {})
    sliders = {}
    for name in network.inputs:
        low, high = _input_range(network, name)
        start = inputs.get(name, (low + high) / 2)
        sliders[name] = ipw.FloatSlider(value=start, min=low, max=high, step=0.05, description=name,
                                        continuous_update=False, readout_format=".2f")
    area = ipw.Output()
    box = ipw.VBox([ipw.HBox(list(sliders.values())), area])
    box.sliders = sliders

    def update(_change=None):
        box.graph, box.explanation = flow_view(network, {k: s.value for k, s in sliders.items()},
                                               output, **options)
        _show_in(area, box.graph)

    for slider in sliders.values():
        slider.observe(update, names="value")
    update()
    return box
