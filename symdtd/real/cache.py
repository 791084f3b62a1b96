"""One object built per network and kept while the network is unchanged.

The compiled networks and gradient plans of :mod:`symdtd.real.evaluate` and
:mod:`symdtd.real.gradients` are costly to build and reused across calls:
:func:`per_network` keeps one per network and key, and rebuilds it when the
network has changed since.

Examples
--------
>>> from symdtd import Network
>>> net = Network.from_dense([[[1.0]], [[1.0]]])
>>> first = per_network(net, "demo", object)
>>> per_network(net, "demo", object) is first
True
>>> net.add_input("x9")                      # any change rebuilds
>>> per_network(net, "demo", object) is first
False
"""
from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable

__all__ = ["per_network"]

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def per_network(network: object, key: Hashable, build: Callable[[], object]) -> object:
    """The object ``build()`` made for *network* and *key*, rebuilt when the network changes.

    Changes through :class:`~symdtd.network.graph.Network` methods and direct
    edits of ``network.graph`` alike are seen (the network's version is read
    before each look-up). The cache holds the network weakly: it does not
    keep a network alive.

    Parameters
    ----------
    network : Network or object
        The network the object belongs to; any object that can be weakly
        referenced (one without a version is never rebuilt).
    key : hashable
        Which object for this network, e.g. ``("compiled", composite)``.
    build : callable
        Called without arguments to make the object when there is none yet
        or the network has changed.

    Returns
    -------
    object
        The kept object, or the new one ``build()`` returned.
    """
    entry = _CACHE.setdefault(network, {})
    sync = getattr(network, "_sync", None)
    version = sync() if sync is not None else None
    if key not in entry or entry[key][0] != version:
        entry[key] = (version, build())
    return entry[key][1]
