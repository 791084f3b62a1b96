"""The checks of a layer network's build step: names, neuron names, and what a layer's sources must be.

:meth:`LayerNetwork.add_input <symdtd.network.layer_graph.LayerNetwork.add_input>`
and :meth:`~symdtd.network.layer_graph.LayerNetwork.add_layer` call them before
the graph changes; each raises a ValueError naming the layer.

Examples
--------
>>> from symdtd.network.layer_graph import LayerNetwork
>>> from symdtd.network.pool_layers import MaxPool2d
>>> net = LayerNetwork()
>>> _ = net.add_input("x", (1, 4, 4))
>>> check_new_name(net, "x")
Traceback (most recent call last):
...
ValueError: a layer named 'x' is already in the network
>>> net.add_layer("pool", MaxPool2d(2))
MaxPool2d('pool', shape=(1, 2, 2))
"""
from __future__ import annotations

from itertools import permutations

import numpy as np

from ..core.domains import Box
from .layer_inputs import InputLayer
from .norm_layers import LocalResponseNorm
from .pool_layers import AdaptiveAvgPool2d, WindowPool

__all__ = ["check_new_name", "check_neuron_names", "check_sources", "nonnegative"]


def check_new_name(net, name, is_input=False):
    """Refuse *name* for a new layer of *net*: not a non-empty string (an input's without ``_``), or taken."""
    if not isinstance(name, str) or not name or (is_input and "_" in name):
        raise ValueError(f"{'input' if is_input else 'layer'} names must be non-empty strings"
                         f"{' without _ (its neurons are named x1, x2, …)' if is_input else ''}, "
                         f"got {name!r}")
    if name in net.graph:
        raise ValueError(f"a layer named {name!r} is already in the network")


def check_neuron_names(net, layer):
    """Refuse a layer whose neuron names could equal another layer's: ``a_1`` of
    shape ``(n,)`` beside ``a`` of shape ``(C, H, W)`` would both have ``a_1_2_3``."""
    if layer.neuron_kind == "view":
        return
    mine = (layer.name, len(layer.shape))
    for other, data in net.graph.nodes(data="layer"):
        if data.neuron_kind in ("input", "view"):
            continue
        for (short, short_dims), (long, long_dims) in permutations((mine, (other, len(data.shape)))):
            rest = long[len(short) + 1:].split("_")
            if long.startswith(short + "_") and all(r.isdigit() for r in rest) and \
                    len(rest) + long_dims == short_dims:
                raise ValueError(f"layer {layer.name!r}: its neuron names could equal those of "
                                 f"layer {other!r} (neurons are named layer_c_u_v); rename one")


def nonnegative(net, name):
    """Whether every value of layer *name* is ≥ 0 (a box input with bounds ≥ 0 counts)."""
    layer = net.layer(name)
    if isinstance(layer, InputLayer) and isinstance(layer.domain, Box) and not layer.domain.symbolic:
        return bool(np.min(layer.bounds()[0]) >= 0)
    return net.input_class(name) == "positive"


def check_sources(net, name, layer, sources):
    """Refuse sources layer *name* cannot read: pooling or LocalResponseNorm on values
    that may be negative, a concatenation of sources with different value classes."""
    classes = {net.input_class(s) for s in sources}
    if isinstance(layer, (WindowPool, AdaptiveAvgPool2d)) and not all(nonnegative(net, s) for s in sources):
        raise ValueError(f"layer {name!r}: pooling needs inputs ≥ 0; add a ReLU before it")
    if isinstance(layer, LocalResponseNorm) and classes != {"positive"}:
        raise ValueError(f"layer {name!r}: LocalResponseNorm needs inputs ≥ 0 from a ReLU or "
                         f"pooling layer (its source is {sorted(classes)[0]}-valued); "
                         "relevance passes it unchanged, which keeps the next rule's domain "
                         "only for ≥ 0 values")
    if layer.neuron_kind == "view" and len(classes) > 1:
        raise ValueError(f"layer {name!r}: sources of different value classes {sorted(classes)} "
                         "cannot be concatenated")
