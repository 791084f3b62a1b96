"""The registry of neuron kinds: a node's ``"kind"`` string to its kind object.

The built-in kinds of :mod:`symdtd.network.kinds` are registered under
:data:`KINDS`; :func:`register` adds one (a :class:`~symdtd.network.kinds.NeuronKind`
subclass instance), :func:`kind_named` is what every pass asks, and
:func:`positive_bias` is the one test of a positive bias.

Examples
--------
>>> kind_named("linear").nonnegative, kind_named("sumpool").pooling
(False, True)
>>> positive_bias("relu", 0.5)
True
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .kind_base import NeuronKind
from .kinds import Input, Linear, LinearSum, MaxPool, ReLU, ReLUSum, SumPool

__all__ = ["KINDS", "register", "unregister", "kind_named", "registered", "positive_bias"]

_REGISTRY = {}


def register(kind):
    """Register the kind object *kind* under ``kind.name``; returns it.

    After this, nodes may carry ``kind.name`` (``net.add_neuron(...,
    kind=kind.name)`` for a weighted kind) and every pass knows it.

    Parameters
    ----------
    kind : NeuronKind

    Returns
    -------
    NeuronKind

    Raises
    ------
    TypeError
        *kind* is not a :class:`NeuronKind` instance.
    ValueError
        Its name is not a non-empty string or is taken.
    """
    if not isinstance(kind, NeuronKind):
        raise TypeError(f"register takes a NeuronKind instance, got {type(kind).__name__}")
    if not isinstance(kind.name, str) or not kind.name:
        raise ValueError(f"kind {kind!r}: its name must be a non-empty string")
    if kind.name in _REGISTRY:
        raise ValueError(f"a kind named {kind.name!r} is already registered")
    _REGISTRY[kind.name] = kind
    return kind


def unregister(name):
    """Forget the kind registered as *name* (ValueError for the built-in kinds).

    Networks still holding nodes of that kind fail their checks when next used.

    Examples
    --------
    >>> unregister("relu")
    Traceback (most recent call last):
    ...
    ValueError: kind 'relu' is built in
    """
    if name in KINDS:
        raise ValueError(f"kind {name!r} is built in")
    _REGISTRY.pop(name, None)


def registered():
    """The names of all registered kinds, built-in first.

    >>> registered()[:3]
    ('input', 'relu', 'linear')
    """
    return tuple(_REGISTRY)


def kind_named(name):
    """The kind object registered as *name* (a node's ``"kind"`` attribute).

    Raises
    ------
    ValueError
        No kind has that name.

    Examples
    --------
    >>> kind_named("maxpool").selects
    True
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"kind must be one of {registered()}, got {name!r}") from None


def positive_bias(kind, bias):
    """Does a neuron of *kind* have a bias ``> 0`` (its root point leaves the domain)?

    The one test of propagate, compile and :func:`symdtd.real.interop.positive_biases`.
    *kind* is a kind name and *bias* a number or SymPy value (True only when
    its sign is known to be positive); or both are NumPy arrays, one entry
    per neuron, and the answer is a boolean array.

    Examples
    --------
    >>> positive_bias("relu", 0.5), positive_bias("sumpool", 0), positive_bias("linear", -1)
    (True, False, False)
    >>> positive_bias(np.array(["relu", "linear"]), np.array([1.0, 2.0])).tolist()
    [True, True]
    """
    if isinstance(kind, np.ndarray):
        weighted = [k for k in np.unique(kind) if kind_named(str(k)).weighted]
        return np.isin(kind, weighted) & (np.asarray(bias, dtype=float) > 0)
    if not kind_named(kind).weighted:
        return False
    if isinstance(bias, sp.Basic):
        return bias.is_positive is True
    return bias > 0


for _kind in (Input(), ReLU(), Linear(), SumPool(), MaxPool(), ReLUSum(), LinearSum()):
    register(_kind)
del _kind

#: the names of the built-in kinds (:func:`registered` lists added ones too)
KINDS = registered()
