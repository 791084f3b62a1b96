"""Taking layers out of a layer network: one layer nobody reads, or every layer the output does not need.

:meth:`LayerNetwork.remove <symdtd.network.layer_graph.LayerNetwork.remove>`
and :meth:`~symdtd.network.layer_graph.LayerNetwork.prune` call these;
:func:`remove_layer` refuses a layer that another layer reads and moves the
network's output when it removes it, :func:`prune_layers` removes the
layers of unused branches (the ``torch.fx`` importer,
:mod:`symdtd.real.fx_import`, prunes through it). Each function's docstring
has a runnable example.
"""
from __future__ import annotations

import networkx as nx

from .layer_inputs import InputLayer

__all__ = ["remove_layer", "prune_layers"]


def remove_layer(net, name):
    """Remove layer *name* of *net*, which no other layer may read.

    When *name* was the network's ``output``, the last remaining layer that is
    not an input becomes the output (None if there is none). The layer
    :meth:`~symdtd.network.layer_graph.LayerNetwork.add_layer` reads by
    default is the network's own business: call
    :meth:`LayerNetwork.remove <symdtd.network.layer_graph.LayerNetwork.remove>`,
    which updates it, rather than this function.

    Parameters
    ----------
    net : LayerNetwork
    name : str

    Returns
    -------
    Layer
        The removed layer.

    Raises
    ------
    ValueError
        *name* is not a layer of the network, or other layers read it
        (named in the message).

    Examples
    --------
    >>> from symdtd.network.layer_graph import LayerNetwork
    >>> from symdtd.network.layers import Dense
    >>> net = LayerNetwork()
    >>> _ = net.add_input("x", (2,))
    >>> _ = net.add_layer("h", Dense([[1.0, 1.0]]))
    >>> _ = net.add_layer("y", Dense([[2.0]], activation="linear"))
    >>> remove_layer(net, "h")
    Traceback (most recent call last):
    ...
    ValueError: layer 'h' is read by ['y']; remove those first
    >>> remove_layer(net, "y")
    Dense('y', shape=(1,))
    >>> net.output, net.order()
    ('h', ['x', 'h'])
    """
    layer = net.layer(name)
    readers = list(net.graph.succ[name])
    if readers:
        raise ValueError(f"layer {name!r} is read by {readers}; remove those first")
    net.graph.remove_node(name)
    if net.output == name:
        layers = [n for n in net.graph if not isinstance(net.layer(n), InputLayer)]
        net.output = layers[-1] if layers else None
    return layer


def prune_layers(net, output=None):
    """Remove every layer of *net* that *output* does not depend on (unused branches and inputs).

    Each layer goes through *net*'s own ``remove``, readers before their sources.

    Parameters
    ----------
    net : LayerNetwork
    output : str, optional
        The layer to keep with its ancestors (default: the network's
        ``output``); it becomes the output.

    Returns
    -------
    list of str
        The removed layers, readers before their sources.

    Raises
    ------
    ValueError
        *output* is not a layer of the network.

    Examples
    --------
    >>> from symdtd.network.layer_graph import LayerNetwork
    >>> from symdtd.network.layers import Dense
    >>> net = LayerNetwork()
    >>> _ = net.add_input("x", (2,))
    >>> _ = net.add_layer("h", Dense([[1.0, 1.0]]))
    >>> _ = net.add_layer("side", Dense([[1.0], [2.0]]))
    >>> _ = net.add_layer("side2", Dense([[1.0, 1.0]]))
    >>> prune_layers(net, "h"), net.output, net.order()
    (['side2', 'side'], 'h', ['x', 'h'])
    """
    output = net.output if output is None else output
    net.layer(output)
    keep = nx.ancestors(net.graph, output) | {output}
    removed = [n for n in reversed(list(nx.topological_sort(net.graph))) if n not in keep]
    for n in removed:  # readers first: a reader of a removed layer is never kept
        net.remove(n)
    net.output = output
    return removed
