"""Whether a rule fits a neuron: the rule names, the kinds and the input domains.

A neuron can take a rule when the rule is made for its kind (a pooling rule,
:mod:`symdtd.network.pooling`, for the pooling kinds it names) and its
inputs lie in the domain the rule's proofs assume (ℝⁿ for w², ℝⁿ₊ for z⁺,
z and γ, a box for zᴮ; a ≥ 0 input counts as the box ``[0, x_i]``).
Composites (:mod:`symdtd.network.composites`) refuse a choice that does not
fit; :func:`symdtd.verify_network` reports a neuron's own rule that does not.

Examples
--------
>>> from symdtd import Box, Network
>>> net = Network.from_dense([[[1], [-1]], [[1]]], input_domain=Box(-1, 1))
>>> rule_misfit(net, "h1_1", resolve_rule("winner"))
"neuron 'h1_1' is a relu neuron; pooling rule 'winner' is for maxpool neurons"
>>> rule_misfit(net, "y1", resolve_rule("z+")) is None
True
"""
from __future__ import annotations

import math

from ..core.domains import Box, Positive, Real
from ..core.rules import Rule, get_rule, rule_names
from .neurons import input_class
from .pooling import POOLING_RULES, PoolingRule

__all__ = ["resolve_rule", "rule_misfit", "rule_domain_mismatch"]


def resolve_rule(rule, where="rule"):
    """A :class:`~symdtd.core.rules.Rule` or pooling rule from a name or an instance.

    Raises
    ------
    TypeError
        Neither a name nor a rule object.
    ValueError
        An unknown name (*where* names the neuron or argument at fault).

    Examples
    --------
    >>> resolve_rule("winner"), resolve_rule("z+")
    (WinnerTakeAll(), Rule('z+', domain=Positive()))
    >>> resolve_rule("z++", "neuron 'h1'")
    Traceback (most recent call last):
    ...
    ValueError: neuron 'h1': unknown rule 'z++'; known rules: gamma, mixed, w2, z, z+, zB, winner, proportional
    """
    if isinstance(rule, (Rule, PoolingRule)):
        return rule
    if not isinstance(rule, str):
        raise TypeError(f"{where}: a rule must be a name, a Rule or a pooling rule, "
                        f"got {type(rule).__name__}")
    if rule in POOLING_RULES:
        return POOLING_RULES[rule]
    try:
        return get_rule(rule)
    except ValueError:
        raise ValueError(f"{where}: unknown rule {rule!r}; known rules: "
                         f"{', '.join(rule_names() + list(POOLING_RULES))}") from None


def rule_misfit(network, node, rule):
    """Why *rule* cannot be *node*'s rule, or None when it can.

    A pooling rule fits only the pooling kinds it names; a deep Taylor rule
    fits a neuron whose inputs lie in the rule's domain
    (:func:`~symdtd.network.neurons.rule_domain_mismatch`).

    >>> from symdtd import Box, Network
    >>> net = Network.from_dense([[[1], [-1]], [[1]]], input_domain=Box(-1, 1))
    >>> rule_misfit(net, "h1_1", resolve_rule("winner"))
    "neuron 'h1_1' is a relu neuron; pooling rule 'winner' is for maxpool neurons"
    >>> rule_misfit(net, "h1_1", resolve_rule("z+"))
    "neuron 'h1_1': rule 'z+' assumes inputs in ℝⁿ₊, but input 'x1' lies in Box(low=-1, high=1)"
    >>> rule_misfit(net, "y1", resolve_rule("z+")) is None
    True
    """
    kind = network.graph.nodes[node]["kind"]
    if isinstance(rule, PoolingRule):
        if kind not in rule.kinds:
            return (f"neuron {node!r} is a {kind} neuron; pooling rule {rule.name!r} is for "
                    f"{' and '.join(rule.kinds)} neurons")
        return None
    why = rule_domain_mismatch(network, node, rule)
    return None if why is None else f"neuron {node!r}: {why}"


def rule_domain_mismatch(network, node, rule):
    """Why *rule* does not fit *node*'s inputs, or None when it does.

    A rule is proved for the input domain it assumes (ℝⁿ for w², ℝⁿ₊ for
    z⁺, z and γ, a box for zᴮ). Applied to inputs outside that domain its
    proofs say nothing: z⁺ on inputs that can be negative can give negative
    relevance, for instance. A ≥ 0 input counts as the box ``[0, x_i]``.
    Pooling rules need no domain (their inputs are never moved).

    Parameters
    ----------
    network : Network
    node : str
    rule : Rule, PoolingRule or str
        A rule object or a registered name, e.g. ``network.rule_for(node)``.

    Examples
    --------
    >>> from symdtd import Network, Box
    >>> net = Network()
    >>> net.add_input("x1", Box(-1, 1))
    >>> net.add_neuron("h", {"x1": 1}, bias=0, rule="z+")
    >>> rule_domain_mismatch(net, "h", net.rule_for("h"))
    "rule 'z+' assumes inputs in ℝⁿ₊, but input 'x1' lies in Box(low=-1, high=1)"
    """
    if isinstance(rule, str):
        rule = get_rule(rule)
    if isinstance(rule, PoolingRule) or isinstance(rule.domain, Real):
        return None
    for source in network.graph.pred[node]:
        reach = _value_range(network, source)
        if not _within(reach, rule.domain):
            where = {"positive": "ℝ₊", "real": "ℝ"}.get(network.input_class(source))
            if where is None:
                where = repr(network.graph.nodes[source]["domain"])
            return (f"rule {rule.name!r} assumes inputs in {rule.domain.name}, "
                    f"but input {source!r} lies in {where}")
    return None


def _value_range(network, node):
    """``(low, high)`` the values of *node* can take (``±inf`` when open)."""
    kind = input_class(network, node)
    if kind == "positive":
        return 0.0, math.inf
    if kind == "real":
        return -math.inf, math.inf
    domain = network.graph.nodes[node]["domain"]
    if domain.symbolic:
        return None                # the symbolic box: l ≤ 0 ≤ h, nothing more known
    low, high = domain.bounds(1)
    return low[0], high[0]


def _within(reach, domain):
    if isinstance(domain, Positive):
        return reach is not None and reach[0] >= 0
    if isinstance(domain, Box):
        if domain.symbolic:        # zᴮ: any input bounded on the side it moves to
            return reach is None or math.isfinite(reach[0]) or math.isfinite(reach[1])
        if domain.per_input:
            return False           # bounds per input cannot be matched to one neuron's inputs
        low, high = domain.bounds(1)
        return reach is not None and low[0] <= reach[0] and reach[1] <= high[0]
    return True
