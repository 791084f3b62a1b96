"""Small built-in networks with exact (Rational) weights, for docs, tests and demos.

========== ======================================================================
name       network
========== ======================================================================
figure3    3 inputs in ℝ₊, 3 ReLU neurons, 1 linear output (the seed's Figure 3)
xor        2 pixel inputs in [0, 1], 2 ReLU neurons, 1 linear output: XOR
skip_dag   3 inputs (two pixels, one in ℝ₊), 3 ReLU neurons, skip connections
========== ======================================================================

Examples
--------
>>> from symdtd import examples, propagate
>>> examples.names()
['figure3', 'skip_dag', 'xor']
>>> net = examples.get("xor")
>>> point = examples.example_inputs("xor")[0]
>>> point
{'x1': 1, 'x2': 0}
>>> propagate(net, point, arithmetic="exact").input_relevance
{'x1': 1, 'x2': 0}
"""
from __future__ import annotations

import sympy as sp

from ..core.domains import Box, Positive
from .graph import Network

__all__ = ["figure3", "xor", "skip_dag", "names", "get", "example_inputs"]

R = sp.Rational


def figure3():
    """Three inputs in ℝ₊, a hidden ReLU layer and one linear output.

    ``h1 = max(0, x1 + x2/2 − x3 − 1/4)``, ``h2 = max(0, −x1/2 + x2 + x3)``,
    ``h3 = max(0, x1 − x2 + x3/2 − 1/2)`` and ``y = h1 + 2 h2 − h3/2``.
    Every neuron uses the z⁺ rule, so the relevance has the product
    structure ``[y]_i = x_i c_i`` of the seed's §3.

    >>> net = figure3()
    >>> net.graph.nodes["y"]["expr"]
    h1 + 2*h2 - h3/2
    >>> sorted({net.rule_for(n).name for n in ("h1", "h2", "h3", "y")})
    ['z+']
    """
    net = Network()
    for name in ("x1", "x2", "x3"):
        net.add_input(name, Positive())
    net.add_neuron("h1", {"x1": 1, "x2": R(1, 2), "x3": -1}, bias=R(-1, 4))
    net.add_neuron("h2", {"x1": R(-1, 2), "x2": 1, "x3": 1}, bias=0)
    net.add_neuron("h3", {"x1": 1, "x2": -1, "x3": R(1, 2)}, bias=R(-1, 2))
    net.add_neuron("y", {"h1": 1, "h2": 2, "h3": R(-1, 2)}, kind="linear")
    return net


def xor():
    """The classic XOR net on pixels ``x1, x2 ∈ [0, 1]``.

    ``h1 = max(0, x1 + x2)``, ``h2 = max(0, x1 + x2 − 1)``, ``y = h1 − 2 h2``:
    ``y`` is 0 at (0, 0) and (1, 1) and 1 at (1, 0) and (0, 1). The hidden
    neurons use the zᴮ rule (box inputs), the output z⁺.

    >>> net = xor()
    >>> net.forward([[0, 0], [0, 1], [1, 0], [1, 1]]).ravel().tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    net = Network()
    net.add_input("x1", Box(0, 1))
    net.add_input("x2", Box(0, 1))
    net.add_neuron("h1", {"x1": 1, "x2": 1}, bias=0)
    net.add_neuron("h2", {"x1": 1, "x2": 1}, bias=-1)
    net.add_neuron("y", {"h1": 1, "h2": -2}, kind="linear")
    return net


def skip_dag():
    """A DAG with skip connections and inputs of two domains.

    Pixels ``x1, x2 ∈ [0, 1]`` and ``x3 ∈ ℝ₊``;
    ``h1 = max(0, x1 − x2/2 + x3/2)``, ``h2 = max(0, x2 + x3 − 1/2)``,
    ``h3 = max(0, h1 + h2 − 1/4)`` and ``y = h3 + h1/2 + x1/4``: ``h1`` feeds
    two later layers and ``x1`` reaches the output directly.

    >>> net = skip_dag()
    >>> net.layers()
    [['x1', 'x2', 'x3'], ['h1', 'h2'], ['h3'], ['y']]
    >>> net.rule_for("y").name  # a box input among its inputs
    'zB'
    """
    net = Network()
    net.add_input("x1", Box(0, 1))
    net.add_input("x2", Box(0, 1))
    net.add_input("x3", Positive())
    net.add_neuron("h1", {"x1": 1, "x2": R(-1, 2), "x3": R(1, 2)}, bias=0)
    net.add_neuron("h2", {"x2": 1, "x3": 1}, bias=R(-1, 2))
    net.add_neuron("h3", {"h1": 1, "h2": 1}, bias=R(-1, 4))
    net.add_neuron("y", {"h3": 1, "h1": R(1, 2), "x1": R(1, 4)}, kind="linear")
    return net


_BUILDERS = {"figure3": figure3, "xor": xor, "skip_dag": skip_dag}

_INPUTS = {
    "figure3": [{"x1": 1, "x2": R(1, 2), "x3": R(1, 2)}, {"x1": 2, "x2": 1, "x3": 0}],
    "xor": [{"x1": 1, "x2": 0}, {"x1": 0, "x2": 1}, {"x1": R(3, 4), "x2": R(1, 2)},
            {"x1": 1, "x2": 1}],
    "skip_dag": [{"x1": R(1, 2), "x2": R(1, 4), "x3": 1}, {"x1": 1, "x2": 0, "x3": 0}],
}


def names():
    """Names of the built-in networks."""
    return sorted(_BUILDERS)


def get(name):
    """Build the example network called *name*.

    >>> get("figure4")
    Traceback (most recent call last):
    ...
    ValueError: unknown example 'figure4'; known: figure3, skip_dag, xor
    """
    if name not in _BUILDERS:
        raise ValueError(f"unknown example {name!r}; known: {', '.join(names())}")
    return _BUILDERS[name]()


def example_inputs(name):
    """Suggested inputs for the example *name*: a list of ``{input: Rational}``.

    >>> example_inputs("figure3")[0]
    {'x1': 1, 'x2': 1/2, 'x3': 1/2}
    """
    get(name)  # same error for an unknown name
    return [{k: sp.Integer(v) if isinstance(v, int) else v for k, v in point.items()}
            for point in _INPUTS[name]]
