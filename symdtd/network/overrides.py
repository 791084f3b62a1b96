"""Composites that put rules on chosen neurons: everywhere a rule fits, by name, kind or layer.

:class:`Everywhere` puts one rule at every neuron it fits (the default
elsewhere); :class:`ByName`, :class:`ByKind` and :class:`ByLayer` are
explicit overrides, where a rule that does not fit its neuron is an error.
The other built-ins and the base class are in :mod:`symdtd.network.composites`.

Examples
--------
>>> from symdtd import examples
>>> from symdtd.network.rule_choice import rule_for
>>> net = examples.xor()
>>> [rule_for(net, n, ByName({"h1": "w2"})).name for n in ("h1", "h2", "y")]
['w2', 'zB', 'z+']
>>> ByKind({"relu": "z"}).to_dict()
{'composite': 'by_kind', 'rules': [['relu', 'z']]}
"""
from __future__ import annotations

import weakref

from .composite_json import rule_from_json, rule_to_json
from .composites import Composite
from .kind_registry import KINDS, kind_named
from .pooling import PoolingRule
from .rule_fit import resolve_rule, rule_misfit

__all__ = ["Everywhere", "ByName", "ByKind", "ByLayer"]


class Everywhere(Composite):
    """*rule* at every neuron it fits, the default elsewhere.

    Whether a rule fits is :func:`~symdtd.network.rule_fit.rule_misfit`'s answer
    (the neuron's kind and the domain of its inputs).

    Parameters
    ----------
    rule : str or Rule
        The rule to use wherever it fits.

    Examples
    --------
    >>> from symdtd import Box, Network
    >>> from symdtd.network.rule_choice import rule_for
    >>> net = Network.from_dense([[[1], [-1]], [[1]]], input_domain=Box(-1, 1))
    >>> [rule_for(net, n, Everywhere("z+")).name for n in ("h1_1", "y1")]
    ['zB', 'z+']
    """

    by_class = False  # whether a rule fits may depend on the box bounds

    def __init__(self, rule):
        self.everywhere = resolve_rule(rule, "Everywhere")

    def rule(self, network, node):
        kind = kind_named(network.graph.nodes[node]["kind"])
        if isinstance(self.everywhere, PoolingRule) != kind.pooling:
            return None
        return None if rule_misfit(network, node, self.everywhere) else self.everywhere

    def to_dict(self):
        return {"composite": "everywhere", "rule": rule_to_json(self.everywhere)}

    @classmethod
    def read(cls, data):
        return cls(rule_from_json(data.get("rule"), "Everywhere"))

    def __repr__(self):
        return f"Everywhere({self.everywhere!r})"


class _Mapping(Composite):
    """Explicit ``key -> rule`` overrides; a rule that does not fit its neuron is an error."""

    label = ""
    json_name = ""  # the "composite" value of the JSON form

    def __init__(self, mapping):
        if not isinstance(mapping, dict):
            raise TypeError(f"{type(self).__name__}: expected a dict {{{self.label}: rule}}, "
                            f"got {type(mapping).__name__}")
        self.mapping = {k: resolve_rule(r, f"{type(self).__name__}: {self.label} {k!r}")
                        for k, r in mapping.items()}
        self._checked = weakref.WeakSet()

    def key(self, network, node):
        raise NotImplementedError

    def check(self, network):
        """Raise ValueError for a key that names nothing in *network*."""

    def rule(self, network, node):
        if network not in self._checked:  # once per network: keys that name nothing are typos
            self.check(network)
            self._checked.add(network)
        rule = self.mapping.get(self.key(network, node))
        if rule is not None and (why := rule_misfit(network, node, rule)):
            raise ValueError(f"{type(self).__name__}: {why}")
        return rule

    def to_dict(self):
        return {"composite": self.json_name,
                "rules": [[k, rule_to_json(r)] for k, r in self.mapping.items()]}

    @classmethod
    def read(cls, data):
        return cls({k: rule_from_json(r, f"{cls.__name__}: {cls.label} {k!r}")
                    for k, r in data.get("rules", [])})

    def __repr__(self):
        return f"{type(self).__name__}({ {k: r.name for k, r in self.mapping.items()} })"


class ByName(_Mapping):
    """Rules for named neurons, e.g. ``ByName({"h1": "w2", "y": "gamma"})``.

    Parameters
    ----------
    mapping : dict
        Neuron name -> rule (name or object); a rule that does not fit its
        neuron, or a name that is not a neuron, is an error.
    """

    json_name = "by_name"
    label = "neuron"
    by_class = False

    def key(self, network, node):
        return node

    def check(self, network):
        for name in self.mapping:
            if name not in network.graph:
                raise ValueError(f"ByName: {name!r} is not in the network")
            if kind_named(network.graph.nodes[name]["kind"]).is_input:
                raise ValueError(f"ByName: {name!r} is an input; inputs have no rule")


class ByKind(_Mapping):
    """Rules by neuron kind, e.g. ``ByKind({"maxpool": "proportional"})``.

    Parameters
    ----------
    mapping : dict
        Kind name (``"relu"``, ``"maxpool"``, …) -> rule (name or object).
    """

    json_name = "by_kind"
    label = "kind"
    by_class = True

    def __init__(self, mapping):
        super().__init__(mapping)
        for kind in self.mapping:
            # the built-in kinds by name: the user names them; an input has no rule
            if kind not in KINDS or kind_named(kind).is_input:
                raise ValueError(f"ByKind: {kind!r} is not a neuron kind; kinds: "
                                 f"{', '.join(k for k in KINDS if not kind_named(k).is_input)}")

    def key(self, network, node):
        return network.graph.nodes[node]["kind"]


class ByLayer(_Mapping):
    """Rules by layer, e.g. ``ByLayer({1: "w2"})``.

    Parameters
    ----------
    mapping : dict
        Generation number of :meth:`Network.layers
        <symdtd.network.graph.Network.layers>` -> rule (name or object).
    """

    json_name = "by_layer"
    label = "layer"
    by_class = False

    def __init__(self, mapping):
        super().__init__(mapping)
        for layer in self.mapping:
            if isinstance(layer, bool) or not isinstance(layer, int) or layer < 1:
                raise ValueError(f"ByLayer: layer {layer!r} must be an integer ≥ 1 "
                                 "(layer 0 is the inputs)")
        self._layers = weakref.WeakKeyDictionary()

    def check(self, network):
        count = len(network.layers())
        for layer in self.mapping:
            if layer >= count:
                raise ValueError(f"ByLayer: layer {layer} does not exist; the network has "
                                 f"{count} (0 is the inputs)")

    def key(self, network, node):
        # layers depend on the structure only: the network's own changes and the
        # graph's count of structural edits mark it (a full _sync per neuron is quadratic)
        version = (network._version, network.graph._edits)
        cached = self._layers.get(network)
        if cached is None or cached[0] != version:
            cached = (version, {n: k for k, layer in enumerate(network.layers()) for n in layer})
            self._layers[network] = cached
        return cached[1][node]
