"""Rule composites: which rule each neuron of a network redistributes with.

A composite maps neurons to rules — deep Taylor rules
(:class:`~symdtd.core.rules.Rule`) or pooling rules
(:mod:`symdtd.network.pooling`) — by kind, input domain, layer or name.
Every entry point takes one: :func:`symdtd.propagate`, :func:`symdtd.compile`,
:func:`symdtd.verify_network`, :func:`symdtd.proof.network.explain_command` and
the evaluation (:func:`symdtd.real.evaluate.dtd`) all accept ``composite=``.
Built-ins:

:class:`PaperDefault`
    the paper's choice (see docs/maths.md, "Networks"): at a neuron fed by
    box inputs zᴮ, by real-valued inputs w², by both the per-input rule
    ``"mixed"``, by ≥ 0 inputs only (ReLU, pooling, ℝ₊) z⁺; sum-pooling and
    residual additions (unit-weight sums, the ``relu_sum``/``linear_sum``
    kinds of an ``Add`` layer) the z rule (proportional, what the gradient
    through a sum computes); max-pooling winner-take-all, or proportional with
    ``PaperDefault(maxpool="proportional")`` (default: the network's ``maxpool``).
:class:`Above` / :class:`GammaAbove`
    the default, with another rule (γ with a given γ) wherever the default
    says z⁺: the ReLU and linear neurons above the input layer.
:class:`~symdtd.network.overrides.Everywhere`
    one rule at every neuron it fits (kind and input domain); the default
    elsewhere.
``ByName``, ``ByLayer``, ``ByKind`` (:mod:`symdtd.network.overrides`)
    explicit overrides; a rule that does not fit the neuron is an error.
:class:`WithParameters`
    another composite with rule parameters set on every rule that takes them.

Composites compose with ``|``: ``ByName({"h1": "z"}) | GammaAbove(0.5)`` asks
the left one first. Whatever no composite decides falls back to
:class:`PaperDefault`. A neuron's own ``rule`` attribute (:meth:`Network.set_rule
<symdtd.network.graph.Network.set_rule>`) overrides every composite.
``maxpool="winner"|"proportional"`` on the entry points is a shortcut for
``ByKind({"maxpool": ...})`` on top of the composite. The order in which a
neuron's rule is found is :func:`symdtd.network.rule_choice.rule_for`'s.

Examples
--------
>>> from symdtd import examples, propagate
>>> from symdtd.network.composites import GammaAbove
>>> from symdtd.network.overrides import ByName
>>> from symdtd.network.rule_choice import rule_for
>>> net = examples.xor()
>>> [rule_for(net, n).name for n in ("h1", "h2", "y")]
['zB', 'zB', 'z+']
>>> composite = ByName({"h1": "w2"}) | GammaAbove(gamma=1)
>>> [rule_for(net, n, composite) for n in ("h1", "h2", "y")]
[Rule('w2', domain=Real()), Rule('zB', domain=Box()), Rule('gamma', domain=Positive(), gamma=1)]
>>> propagate(net, {"x1": 1, "x2": 0}, arithmetic="exact", composite=composite).rules
{'y': 'gamma', 'h2': 'zB', 'h1': 'w2'}
"""
from __future__ import annotations

from importlib import import_module

from ..core.numbers import real_number
from ..core.rules import Rule, check_parameters, get_rule
from .composite_json import number_to_json, rule_from_json, rule_to_json
from .kind_registry import kind_named
from .neurons import input_class
from .pooling import PoolingRule, pooling_rule
from .rule_fit import resolve_rule

__all__ = ["Composite", "PaperDefault", "Above", "GammaAbove", "WithParameters", "Chain",
           "composite_or_default", "BUILT_INS", "number_to_json", "rule_to_json", "rule_from_json",
           "base_from_dict"]

#: the built-in composites: the ``"composite"`` value of their JSON form -> their
#: name in :mod:`symdtd.network` (Everywhere, ByName, ByKind and ByLayer are
#: defined in :mod:`symdtd.network.overrides`)
BUILT_INS = {"default": "PaperDefault", "above": "Above", "gamma_above": "GammaAbove",
             "everywhere": "Everywhere", "by_name": "ByName", "by_kind": "ByKind",
             "by_layer": "ByLayer", "with_parameters": "WithParameters", "chain": "Chain"}


def composite_or_default(composite):
    """*composite*, or :class:`PaperDefault` for None; TypeError for anything else."""
    if composite is None:
        return DEFAULT
    if not isinstance(composite, Composite):
        raise TypeError(f"composite must be a Composite (symdtd.network.composites), got "
                        f"{type(composite).__name__}; for a max-pooling mode pass maxpool=")
    return composite


# ------------------------------------------------------------------ composites
class Composite:
    """Maps the neurons of a network to rules; subclasses define :meth:`rule`.

    Attributes
    ----------
    by_class : bool
        True when the choice depends only on the neuron's kind and its
        inputs' classes (:func:`~symdtd.network.neurons.input_class`), so
        :func:`symdtd.compile` may ask once per such combination (False,
        the safe default: asked for every neuron).

    Examples
    --------
    A composite of one's own: z at the neurons whose name starts with ``"h"``.

    >>> from symdtd import examples
    >>> from symdtd.network.rule_choice import rule_for
    >>> class HiddenZ(Composite):
    ...     def rule(self, network, node):
    ...         return "z" if node.startswith("h") else None
    >>> [rule_for(examples.xor(), n, HiddenZ()).name for n in ("h1", "y")]
    ['z', 'z+']
    """

    by_class = False

    def rule(self, network, node):
        """The rule for *node* (a neuron without its own rule), or None to leave it to the next."""
        raise NotImplementedError

    def adjust(self, rule):
        """The rule actually used once *rule* is chosen (e.g. with parameters set)."""
        return rule

    def __or__(self, other):
        if not isinstance(other, Composite):
            return NotImplemented
        return Chain(self, other)

    def to_dict(self):
        """A JSON-ready description; :meth:`from_dict` reads it back."""
        raise NotImplementedError

    @staticmethod
    def from_dict(data):
        """The composite a :meth:`to_dict` describes.

        >>> Composite.from_dict(GammaAbove("1/2").to_dict())
        GammaAbove(gamma=1/2)
        """
        if not isinstance(data, dict) or data.get("composite") not in BUILT_INS:
            raise ValueError(f"a composite is a dict with 'composite' one of "
                             f"{', '.join(BUILT_INS)}, got {data!r}")
        # through the package's lazy exports: the built-ins defined in other
        # modules (which import this one) load on first use
        return getattr(import_module(__package__), BUILT_INS[data["composite"]]).read(data)

    def __eq__(self, other):
        if type(self) is not type(other):
            return False
        try:
            return self.to_dict() == other.to_dict()
        except NotImplementedError:  # a composite without a JSON form: itself only
            return self is other

    def __hash__(self):
        try:
            return hash(repr(self.to_dict()))
        except NotImplementedError:
            return id(self)


class PaperDefault(Composite):
    """The paper's default choice, from the values a neuron's inputs can take.

    Parameters
    ----------
    maxpool : {"winner", "proportional"}, optional
        The max-pooling rule; default: the network's ``maxpool`` setting.
    """

    by_class = True

    def __init__(self, maxpool=None):
        self.maxpool = None if maxpool is None else pooling_rule(maxpool).name

    def rule(self, network, node):
        kind = kind_named(network.graph.nodes[node]["kind"])
        if kind.selects:  # max-pooling: winner-take-all or proportional, as configured
            return pooling_rule(self.maxpool or network.maxpool)
        if kind.pooling or kind.sums:  # sum-pooling, residual sums: z on unit weights (proportional)
            return get_rule("z")
        classes = {input_class(network, p) for p in network.graph.pred[node]}
        if classes == {"real"}:
            return get_rule("w2")
        if "real" in classes:
            # bounded and real inputs together: each moves as its own domain allows,
            # so a bounded input at its bound (a dead ReLU) receives nothing
            return get_rule("mixed")
        return get_rule("zB" if "box" in classes else "z+")

    def to_dict(self):
        return {"composite": "default", "maxpool": self.maxpool}

    @classmethod
    def read(cls, data):
        return cls(data.get("maxpool"))

    def __repr__(self):
        return "PaperDefault()" if self.maxpool is None else f"PaperDefault(maxpool={self.maxpool!r})"


DEFAULT = PaperDefault()


class Above(Composite):
    """*rule* wherever the base composite picks z⁺: the layers above the input layer.

    Elsewhere *base*'s choice if *base* is given, else none (in a chain
    ``Above(r) | other``, *other* decides there).

    Parameters
    ----------
    rule : str or Rule
        The rule for the ReLU and linear neurons where *base* picks z⁺.
    base : Composite, optional
        Decides where z⁺ would be picked and, if given, everywhere else
        (default :class:`PaperDefault`, deciding only the z⁺ places).

    Examples
    --------
    >>> from symdtd import examples
    >>> from symdtd.network.rule_choice import rule_for
    >>> [rule_for(examples.xor(), n, Above("z")).name for n in ("h1", "y")]
    ['zB', 'z']
    """

    def __init__(self, rule, base=None):
        self.above = resolve_rule(rule, type(self).__name__)
        if isinstance(self.above, PoolingRule):
            raise ValueError(f"{type(self).__name__}: {self.above.name!r} is a pooling rule; "
                             "it replaces z⁺ at ReLU and linear neurons")
        self.base = composite_or_default(base)
        self.by_class = self.base.by_class

    def rule(self, network, node):
        chosen = self.base.rule(network, node) or DEFAULT.rule(network, node)
        if chosen is get_rule("z+") and kind_named(network.graph.nodes[node]["kind"]).weighted:
            return self.above
        return None if self.base is DEFAULT else chosen

    def adjust(self, rule):
        return self.base.adjust(rule)

    def _base_dict(self):
        return {} if self.base is DEFAULT else {"base": self.base.to_dict()}

    def to_dict(self):
        return {"composite": "above", "rule": rule_to_json(self.above), **self._base_dict()}

    @classmethod
    def read(cls, data):
        return cls(rule_from_json(data.get("rule"), "Above"), base_from_dict(data))

    def __repr__(self):
        base = "" if self.base is DEFAULT else f", {self.base!r}"
        return f"Above({self.above!r}{base})"


class GammaAbove(Above):
    """The γ rule with the given γ wherever the base composite picks z⁺.

    Parameters
    ----------
    gamma : number or str, optional
        γ ≥ 0 (default ``"1/4"``), stored on the rule instance.
    base : Composite, optional
        As for :class:`Above`.

    Examples
    --------
    >>> GammaAbove(0.5).above.parameters
    {'gamma': 0.5}
    """

    def __init__(self, gamma="1/4", base=None):
        super().__init__(get_rule("gamma").with_parameters(
            gamma=real_number(gamma, "GammaAbove: gamma")), base)
        self.gamma = self.above.parameters["gamma"]

    def to_dict(self):
        return {"composite": "gamma_above", "gamma": number_to_json(self.gamma),
                **self._base_dict()}

    @classmethod
    def read(cls, data):
        return cls(data.get("gamma", "1/4"), base_from_dict(data))

    def __repr__(self):
        base = "" if self.base is DEFAULT else f", {self.base!r}"
        return f"GammaAbove(gamma={self.gamma}{base})"


def base_from_dict(data):
    """The ``"base"`` composite of a JSON description, or None when it has none."""
    return Composite.from_dict(data["base"]) if "base" in data else None


class WithParameters(Composite):
    """Another composite with rule parameters set on every rule that takes them.

    The neurons' own rules are included: ``WithParameters({"gamma": 0.5},
    Above("gamma"))``. Without *base* it chooses nothing itself (in a chain,
    the others choose) and sets the parameters on whatever is chosen.

    Parameters
    ----------
    parameters : dict
        Parameter name -> value, e.g. ``{"gamma": 0.5}``.
    base : Composite, optional
        The composite whose choices get the parameters.
    where : str, optional
        How errors name the parameters (``compile(parameters=...)`` passes its own).
    """

    def __init__(self, parameters, base=None, *, where="WithParameters"):
        self.parameters = check_parameters(parameters, where)
        self.base = composite_or_default(base)
        self.by_class = self.base.by_class

    def rule(self, network, node):
        return None if self.base is DEFAULT else self.base.rule(network, node)

    def adjust(self, rule):
        rule = self.base.adjust(rule)
        if not isinstance(rule, Rule):
            return rule
        values = {k: v for k, v in self.parameters.items() if k in rule.arguments}
        return rule.with_parameters(**values) if values else rule

    def to_dict(self):
        return {"composite": "with_parameters", "base": self.base.to_dict(),
                "parameters": {k: number_to_json(v) for k, v in self.parameters.items()}}

    @classmethod
    def read(cls, data):
        params = {k: real_number(v, f"WithParameters: {k}")
                  for k, v in data.get("parameters", {}).items()}
        return cls(params, Composite.from_dict(data.get("base", {"composite": "default"})))

    def __repr__(self):
        return f"WithParameters({self.parameters}, {self.base!r})"


class Chain(Composite):
    """Composites asked in order: the first that decides wins (``a | b`` builds one).

    Parameters
    ----------
    *composites : Composite
        The composites, first asked first.
    """

    def __init__(self, *composites):
        parts = []
        for c in composites:
            parts += c.composites if isinstance(c, Chain) else [composite_or_default(c)]
        self.composites = parts
        self.by_class = all(c.by_class for c in parts)

    def rule(self, network, node):
        for c in self.composites:
            rule = c.rule(network, node)
            if rule is not None:
                return rule
        return None

    def adjust(self, rule):
        for c in self.composites:
            rule = c.adjust(rule)
        return rule

    def to_dict(self):
        return {"composite": "chain", "composites": [c.to_dict() for c in self.composites]}

    @classmethod
    def read(cls, data):
        return cls(*[Composite.from_dict(d) for d in data.get("composites", [])])

    def __repr__(self):
        return " | ".join(map(repr, self.composites))
