"""Which rule a neuron of a network uses: its own, else its composite's.

:func:`rule_for` is the one place the order is decided, for every entry
point (:func:`symdtd.propagate`, :func:`symdtd.compile`,
:func:`symdtd.verify_network`, the evaluation):

1. the neuron's own ``rule`` attribute (:meth:`Network.set_rule
   <symdtd.network.graph.Network.set_rule>`), taken as given —
   :func:`symdtd.verify_network` reports it when it does not fit;
2. the composite's choice (:mod:`symdtd.network.composites`), refused with
   a ValueError naming the neuron when the neuron cannot take it;
3. :class:`~symdtd.network.composites.PaperDefault` where the composite
   leaves the neuron open.

The composite may then adjust the rule (set parameters:
:class:`~symdtd.network.composites.WithParameters`). :func:`as_composite`
turns an entry point's ``composite=`` and ``maxpool=`` arguments into one
composite.

Examples
--------
>>> from symdtd import examples
>>> from symdtd.network.overrides import ByName
>>> net = examples.xor()
>>> rule_for(net, "h1"), rule_for(net, "h1", ByName({"h1": "w2"}))
(Rule('zB', domain=Box()), Rule('w2', domain=Real()))
"""
from __future__ import annotations

from ..core.rules import Rule
from .composites import DEFAULT, composite_or_default
from .kind_registry import kind_named
from .overrides import ByKind
from .pooling import PoolingRule
from .rule_fit import resolve_rule, rule_misfit

__all__ = ["rule_for", "as_composite"]


def rule_for(network, node, composite=None, *, maxpool=None):
    """The rule *node* redistributes with: its own ``rule`` attribute, else the composite's.

    Parameters
    ----------
    network : Network
    node : str
    composite : Composite, optional
        Default: :class:`~symdtd.network.composites.PaperDefault` (the paper's choice).
    maxpool : {"winner", "proportional"}, optional
        Shortcut for a composite with that max-pooling rule (:func:`as_composite`).

    Returns
    -------
    Rule or PoolingRule
        Always a rule object (:data:`~symdtd.network.pooling.WINNER_TAKE_ALL`
        for a winner-take-all max-pooling neuron).

    Raises
    ------
    ValueError
        *node* is not a neuron of the network, or the composite picks a rule
        the neuron cannot take (the message names the neuron).
    """
    if node not in network.graph:
        raise ValueError(f"{node!r} is not in the network")
    data = network.graph.nodes[node]
    if kind_named(data["kind"]).is_input:
        raise ValueError(f"{node!r} is an input; inputs have no rule")
    composite = as_composite(composite, maxpool)
    if data["rule"] is not None:  # the neuron's own choice: taken as given (verify reports misfits)
        return composite.adjust(resolve_rule(data["rule"], f"neuron {node!r}"))
    rule = composite.rule(network, node)
    if rule is None:
        rule = DEFAULT.rule(network, node)
    elif not isinstance(rule, (Rule, PoolingRule)):
        rule = resolve_rule(rule, f"{type(composite).__name__}: neuron {node!r}")
    if isinstance(rule, PoolingRule) and data["kind"] not in rule.kinds:
        raise ValueError(f"{type(composite).__name__}: {rule_misfit(network, node, rule)}")
    return composite.adjust(rule)


def as_composite(composite=None, maxpool=None):
    """The composite an entry point uses: *composite* (or
    :class:`~symdtd.network.composites.PaperDefault`), with the ``maxpool=``
    shortcut applied on top.

    >>> as_composite(None, "proportional")
    ByKind({'maxpool': 'proportional'}) | PaperDefault()
    """
    composite = composite_or_default(composite)
    if maxpool is None:
        return composite
    if maxpool not in ("winner", "proportional"):
        raise ValueError(f"maxpool must be 'winner' or 'proportional', got {maxpool!r}")
    return ByKind({"maxpool": maxpool}) | composite  # the shortcut names the max-pooling kind itself
