"""Rules in the JSON form of composites: a name, or a name with its parameters.

:meth:`Composite.to_dict <symdtd.network.composites.Composite.to_dict>` and
the ``read`` class methods of the built-in composites
(:mod:`symdtd.network.composites`, :mod:`symdtd.network.overrides`) write and
read their rules through these, so every composite stores a rule the same way.

Examples
--------
>>> from symdtd.core.rules import get_rule
>>> rule_from_json(rule_to_json(get_rule("gamma").with_parameters(gamma=0.5)), "example")
Rule('gamma', domain=Positive(), gamma=0.5)
"""
from __future__ import annotations

from ..core.numbers import real_number
from ..core.rules import Rule
from .rule_fit import resolve_rule

__all__ = ["number_to_json", "rule_to_json", "rule_from_json"]


def number_to_json(value):
    """A rule parameter for JSON: Python numbers as they are, exact SymPy numbers as strings (``"1/4"``).

    >>> import sympy as sp
    >>> number_to_json(0.5), number_to_json(sp.Rational(1, 4))
    (0.5, '1/4')
    """
    return value if isinstance(value, (int, float)) else str(value)


def rule_to_json(rule):
    """A rule for JSON: its name, or ``{"rule": name, "parameters": {...}}`` when parameters are set.

    >>> from symdtd.core.rules import get_rule
    >>> rule_to_json(get_rule("z+")), rule_to_json(get_rule("gamma").with_parameters(gamma=0.5))
    ('z+', {'rule': 'gamma', 'parameters': {'gamma': 0.5}})
    """
    if isinstance(rule, Rule) and rule.origin is not None:
        return {"rule": rule.name,
                "parameters": {k: number_to_json(v) for k, v in rule.parameters.items()}}
    return rule.name


def rule_from_json(value, where):
    """The rule :func:`rule_to_json` describes; *where* names it in errors.

    >>> rule_from_json({"rule": "gamma", "parameters": {"gamma": "1/2"}}, "example").parameters
    {'gamma': 1/2}
    """
    if isinstance(value, dict):
        rule = resolve_rule(value.get("rule"), where)
        params = {k: real_number(v, f"{where}: {k}") for k, v in value.get("parameters", {}).items()}
        return rule.with_parameters(**params)
    return resolve_rule(value, where)
