"""The rule of each layer of a layer network, chosen by the same composites as for neurons.

A composite (:mod:`symdtd.network.composites`) decides a neuron's rule from
its kind, its name, its generation and the values its inputs take.
:func:`skeleton` builds the neuron-level
:class:`~symdtd.network.graph.Network` with **one neuron per layer**: named
as the layer, of the layer's neuron kind, reading the layers its neurons read
(views such as flatten and concatenation resolved to their sources), with the
layer's own ``rule`` as the neuron's rule. :func:`layer_rule` asks
:func:`symdtd.network.rule_choice.rule_for` on it, so the order "a layer's own
rule, else the composite's, else :class:`~symdtd.network.composites.PaperDefault`"
and every composite's logic live in one place for both granularities:

* ``ByName`` names layers, ``ByKind`` neuron kinds (``relu``, ``linear``,
  ``sumpool``, ``maxpool``; average pooling is ``relu`` as in its neuron view),
  ``ByLayer`` generations of the layer DAG (views do not count: the generation
  of a layer's neurons in :meth:`LayerNetwork.neurons
  <symdtd.network.layer_graph.LayerNetwork.neurons>`);
* an input with per-entry :class:`~symdtd.core.domains.Box` bounds stands in
  the skeleton as the box spanning them (``Box(min low, max high)``): a rule
  fits a layer when it fits every neuron of it.

Examples
--------
>>> import numpy as np
>>> from symdtd.core.domains import Box
>>> from symdtd.network.composites import GammaAbove
>>> from symdtd.network.layer_graph import LayerNetwork
>>> from symdtd.network.layers import Dense
>>> net = LayerNetwork()
>>> _ = net.add_input("x", (2,), Box(0, 1))
>>> _ = net.add_layer("h", Dense(np.ones((3, 2))))
>>> _ = net.add_layer("y", Dense(np.ones((1, 3)), activation="linear"))
>>> sorted(skeleton(net).graph.edges)
[('h', 'y'), ('x', 'h')]
>>> layer_rule(net, "h").name, layer_rule(net, "y", GammaAbove(0.5))
('zB', Rule('gamma', domain=Positive(), gamma=0.5))
"""
from __future__ import annotations

import weakref

import numpy as np

from ..core.domains import Box
from .graph import Network
from .rule_choice import rule_for

__all__ = ["skeleton", "layer_rule", "structure_key"]

_CACHE = weakref.WeakKeyDictionary()  # layer network -> (key, skeleton)


def structure_key(net):
    """What is built from a layer network depends on: its layers, their sources and rules, the max-pool mode.

    Equal keys mean the same layer objects wired the same way with the same
    rules (in-place edits of a layer's arrays are not seen). The skeleton below
    and the compiled networks kept by :func:`symdtd.real.cache.per_network` are
    rebuilt when it changes.

    Examples
    --------
    >>> from symdtd.core.domains import Box
    >>> from symdtd.network.layer_graph import LayerNetwork
    >>> from symdtd.network.layers import Dense
    >>> net = LayerNetwork()
    >>> _ = net.add_input("x", (2,), Box(0, 1))
    >>> _ = net.add_layer("y", Dense([[1.0, 1.0]]))
    >>> before = structure_key(net)
    >>> net.layer("y").rule = "z+"
    >>> structure_key(net) == before
    False
    """
    return (net.maxpool, tuple((name, id(data["layer"]), _rule_key(data["layer"].rule),
                                tuple(net.graph.pred[name]))
                               for name, data in net.graph.nodes(data=True)))


def _rule_key(rule):
    return rule if rule is None or isinstance(rule, str) else id(rule)


def skeleton(net):
    """The one-neuron-per-layer :class:`~symdtd.network.graph.Network` composites decide on.

    Parameters
    ----------
    net : LayerNetwork

    Returns
    -------
    Network
        Rebuilt when a layer is added or a layer's ``rule`` changes.

    Raises
    ------
    ValueError
        A layer's own ``rule`` that its kind cannot take (named in the message).
    """
    key = structure_key(net)
    cached = _CACHE.get(net)
    if cached is not None and cached[0] == key:
        return cached[1]
    network, behind = Network(maxpool=net.maxpool), {}
    for name in net.order():
        layer = net.layer(name)
        if layer.neuron_kind == "input":
            network.add_input(name, _spanning(layer))
            behind[name] = [name]
            continue
        sources = list(dict.fromkeys(s for src in layer.sources for s in behind[src]))
        if layer.neuron_kind == "view":
            behind[name] = sources
            continue
        behind[name] = [name]
        try:
            if layer.neuron_kind == "sumpool":
                network.add_sum_pool(name, sources, rule=layer.rule)
            elif layer.neuron_kind == "maxpool":
                network.add_max_pool(name, sources, rule=layer.rule)
            else:
                network.add_neuron(name, dict.fromkeys(sources, 1), kind=layer.neuron_kind,
                                   rule=layer.rule)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"layer {name!r} ({type(layer).__name__}): its rule "
                             f"{layer.rule!r} does not fit: {exc}") from None
    _CACHE[net] = (key, network)
    return network


def _spanning(layer):
    """The input's domain, a per-entry box replaced by the box spanning its entries."""
    domain = layer.domain
    if isinstance(domain, Box) and not domain.symbolic and domain.per_input:
        low, high = layer.bounds()
        return Box(float(np.min(low)), float(np.max(high)))
    return domain


def layer_rule(net, name, composite=None, *, maxpool=None):
    """The rule of layer *name*'s neurons: :func:`~symdtd.network.rule_choice.rule_for` on :func:`skeleton`.

    Parameters
    ----------
    net : LayerNetwork
    name : str
        A layer with neurons of its own (not an input or a view).
    composite : Composite, optional
        Default :class:`~symdtd.network.composites.PaperDefault`.
    maxpool : {"winner", "proportional"}, optional
        Shortcut for a composite with that max-pooling rule.

    Returns
    -------
    Rule or PoolingRule

    Raises
    ------
    ValueError
        *name* is an input or a view, or the rule chosen does not fit the
        layer (the message names the layer).
    """
    layer = net.layer(name)
    if layer.neuron_kind in ("input", "view"):
        what = "an input" if layer.neuron_kind == "input" else "a view"
        raise ValueError(f"layer {name!r} is {what}; it has no rule")
    network = skeleton(net)
    try:
        return rule_for(network, name, composite, maxpool=maxpool)
    except ValueError as exc:
        raise ValueError(f"layer {name!r} ({type(layer).__name__}): {exc}") from None
