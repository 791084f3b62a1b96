"""Where each neuron's root point lies, for a network at a numeric point.

:func:`root_checks` evaluates every active neuron's search direction at the
point and checks the root ``x̃ = x − t·v`` against the domain of each of its
inputs; :func:`~symdtd.proof.network.verify_network` reports the neurons it
finds (a root outside the domain: the decomposition there is not a Taylor
decomposition at a root in the domain, even when relevance is conserved).

Examples
--------
>>> from symdtd import examples
>>> root_checks(examples.figure3(), examples.example_inputs("figure3")[0])
{}
"""
from __future__ import annotations

import sympy as sp

from ..core.domains import Positive, Real
from ..network.kind_registry import kind_named
from ..network.neurons import is_unbounded
from ..network.pooling import PoolingRule
from ..network.rule_choice import as_composite, rule_for
from ..propagation.backward import ARITHMETIC, box_bounds, forward_values, rule_parameter
from .roots import in_domain

__all__ = ["root_checks"]


def root_checks(network, point, output=None, composite=None, *, maxpool=None):
    """Neurons whose root point ``x̃ = x − t·v`` lies outside their input domain.

    For every active neuron the search direction ``v`` of its rule is
    evaluated at the numeric *point*, ``t = z_j / Σ_i v_i w_ij`` and ``x̃``
    checked against each input's domain (ℝ₊ for ReLU and pooling outputs,
    the box of a box input). Pooling neurons (their rules search no root)
    and neurons with ``Σ v w = 0`` are skipped. *composite* (or the
    *maxpool* shortcut) chooses the rules, as for
    :func:`~symdtd.proof.network.verify_network`.

    Parameters
    ----------
    network : Network
        The network to check.
    point : dict
        ``{input name: number}``: the numeric point (exact numbers or
        fraction strings such as ``"3/4"``).
    output : str, optional
        The output neuron whose ancestors are checked; may be left out
        when the network has a single output.
    composite : Composite, optional
        Which rule each neuron uses (:mod:`symdtd.network.composites`).
    maxpool : {"winner", "proportional"}, optional
        Shortcut for a composite with that max-pooling rule.

    Returns
    -------
    dict
        ``neuron -> t`` (exact), in topological order.

    Examples
    --------
    >>> from symdtd import Network
    >>> net = Network()
    >>> net.add_input("a"); net.add_input("b")
    >>> net.add_neuron("h", {"a": 1, "b": -1}, bias=1)  # b > 0: t > 1 is possible
    >>> root_checks(net, {"a": 1, "b": 0})
    {'h': 2}
    """
    output = network._output_name(output)
    composite = as_composite(composite, maxpool)
    ar = ARITHMETIC["exact"]
    act = forward_values(network, point, "exact", output=output)
    G = network.graph
    outside = {}
    for j in act:
        data = G.nodes[j]
        if kind_named(data["kind"]).is_input:
            continue
        rule = rule_for(network, j, composite)
        if isinstance(rule, PoolingRule):
            continue
        gamma = rule_parameter(rule, "gamma", ar) if "gamma" in rule.arguments else None
        xs, ws, vs = [], [], []
        for i, edge in G.pred[j].items():
            w = ar.number(edge["weight"], f"weight of edge {i!r} -> {j!r}")
            l, h = box_bounds(network, i, act[i], ar)
            xs.append(act[i])
            ws.append(w)
            vs.append(sp.sympify(rule.direction_at(x=act[i], w=w, l=l, h=h, gamma=gamma,
                                                   unbounded=int(is_unbounded(network, i))),
                                  strict=True))
        z = ar.total([x * w for x, w in zip(xs, ws)]) + ar.number(data["bias"], "bias")
        s = ar.total([v * w for v, w in zip(vs, ws)])
        if s == 0 or kind_named(data["kind"]).slope(z) == 0:  # a dead neuron has no root
            continue
        t = z / s
        for i, x, v in zip(G.pred[j], xs, vs):
            if not _in_domain(network, i, x - t * v):
                outside[j] = t
                break
    return outside


def _in_domain(network, node, value):
    kind = network.input_class(node)
    domain = {"positive": Positive(), "real": Real()}.get(kind) or network.graph.nodes[node]["domain"]
    return in_domain([value], domain)
