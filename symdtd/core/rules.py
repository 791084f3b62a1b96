"""The rule registry: each rule is a name, an input domain and a search direction.

A deep Taylor rule is fully determined by the direction ``v_i`` along which
the root point is searched, ``x̃ = x − t·v``. The registry stores that
direction as a *local* function of one input's quantities — its value
``x``, its weight ``w``, the box bounds ``l``, ``h`` and the rule parameter
``gamma`` — and nothing else: the formula for the relevance is not stored
here but derived by :func:`symdtd.derive`.

Examples
--------
>>> from symdtd.core.rules import get_rule, rule_names
>>> rule_names()
['gamma', 'mixed', 'w2', 'z', 'z+', 'zB']
>>> get_rule("z+").direction(x=2, w=-1)
0
>>> rule = get_rule("zB")
>>> rule.domain
Box()
"""
from __future__ import annotations

import sympy as sp

from .domains import Box, Positive, Real
from .rule_class import PARAMETERS, Rule, check_parameters, indicator

__all__ = ["Rule", "get_rule", "register_rule", "rule_names", "indicator", "check_parameters",
           "PARAMETERS", "ALIASES", "rule_reference"]

_REGISTRY: dict[str, Rule] = {}
#: other spellings of the built-in rules' names, matched without regard to case
#: (``"ZB"``, ``"zplus"``, ``"w²"``): :func:`get_rule` and every command-line
#: option that reads a rule name accept them; a registered name always wins
ALIASES: dict[str, str] = {
    "zb": "zB", "zᴮ": "zB", "z^b": "zB", "zbox": "zB", "z_b": "zB",
    "zplus": "z+", "z⁺": "z+", "z^+": "z+", "z_plus": "z+",
    "w²": "w2", "w^2": "w2", "wsquare": "w2", "wsquared": "w2", "w_square": "w2",
    "γ": "gamma",
}


def register_rule(rule: Rule, *, replace: bool = False) -> Rule:
    """Add *rule* to the registry so it can be named in ``derive`` and networks.

    Parameters
    ----------
    rule : Rule
        The rule; it is registered under ``rule.name``.
    replace : bool
        Overwrite a rule registered under the same name (default False).

    Returns
    -------
    Rule
        *rule* itself.

    Raises
    ------
    TypeError
        If *rule* is not a :class:`Rule`.
    ValueError
        If the name is taken (pass ``replace=True`` to overwrite) or the
        direction takes arguments other than
        :data:`~symdtd.core.rule_class.LOCAL_ARGUMENTS`.

    Examples
    --------
    >>> register_rule(get_rule("z+"))
    Traceback (most recent call last):
    ...
    ValueError: a rule named 'z+' is already registered
    """
    if not isinstance(rule, Rule):
        raise TypeError(f"register_rule expects a Rule, got {type(rule).__name__}")
    _ = rule.arguments  # reading it validates the direction's signature
    if rule.name in _REGISTRY and not replace:
        raise ValueError(f"a rule named {rule.name!r} is already registered")
    _REGISTRY[rule.name] = rule
    return rule


def rule_names() -> list[str]:
    """Sorted names of the registered rules.

    Returns
    -------
    list of str
        The names, sorted.

    Examples
    --------
    >>> {"w2", "z+", "zB"} <= set(rule_names())
    True
    """
    return sorted(_REGISTRY)


def get_rule(rule: str | Rule) -> Rule:
    """Look up a rule by name (a :class:`Rule` is returned as it is).

    Parameters
    ----------
    rule : str or Rule
        A registered rule's name, one of its other spellings (:data:`ALIASES`:
        ``zb``, ``zplus``, ``w²``, ``wsquare`` …, in any case), a reference
        ``"package.module:name"`` to a Rule defined at module level (the
        module is imported, which runs its code: name only modules you
        trust), or a rule.

    Returns
    -------
    Rule
        The registered rule of that name, or *rule* itself.

    Raises
    ------
    TypeError
        If *rule* is neither a string nor a :class:`Rule`.
    ValueError
        For an unknown name (the message lists the known ones), a module that
        cannot be imported, or a reference to something that is not a Rule.

    Examples
    --------
    >>> get_rule("z+").name
    'z+'
    >>> get_rule("zb").name, get_rule("zplus").name, get_rule("W²").name   # see ALIASES
    ('zB', 'z+', 'w2')
    """
    if isinstance(rule, Rule):
        return rule
    if not isinstance(rule, str):
        raise TypeError(f"rule must be a name or a Rule, got {type(rule).__name__}")
    if ":" in rule and rule not in _REGISTRY:
        return _imported_rule(rule)
    if rule in _REGISTRY:
        return _REGISTRY[rule]
    key = rule.strip().casefold()
    name = ALIASES.get(key) or next((n for n in _REGISTRY if n.casefold() == key), None)
    if name in _REGISTRY:
        return _REGISTRY[name]
    raise ValueError(f"unknown rule {rule!r}; known rules: {', '.join(rule_names())} "
                     "(other spellings such as zb, zplus, w² are accepted)")


def _imported_rule(reference):
    """The Rule object named by ``"module:attribute"`` (the module is imported)."""
    import importlib

    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"rule reference {reference!r}: expected 'module:name'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"rule reference {reference!r}: cannot import module "
                         f"{module_name!r} ({err})") from None
    value = module
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise ValueError(f"rule reference {reference!r}: module {module_name!r} has no "
                             f"{attribute!r}")
        value = getattr(value, part)
    if not isinstance(value, Rule):
        raise ValueError(f"rule reference {reference!r} names a {type(value).__name__}, "
                         "not a symdtd Rule")
    return value


def rule_reference(rule: Rule) -> str | None:
    """The text that names *rule* in a file: its name or ``"module:name"``.

    A rule registered under its name is named by it when the registry holds
    it from symdtd itself; a rule defined at module level (an attribute of
    the module that defines its direction function) is named
    ``"module:attribute"``, which :func:`get_rule` imports back, in any
    process, to the same object.

    Parameters
    ----------
    rule : Rule
        The rule to name.

    Returns
    -------
    str or None
        The name or reference; None when neither exists (a rule made in
        ``__main__`` or inside a function and not registered).

    Examples
    --------
    >>> rule_reference(get_rule("zB"))
    'zB'
    >>> import sys, types
    >>> module = sys.modules["my_rules"] = types.ModuleType("my_rules")
    >>> exec("from symdtd import Positive, Rule; "
    ...      "SQUARE = Rule('square', 'x² rule', Positive(), lambda x: x * x)", vars(module))
    >>> rule_reference(module.SQUARE)
    'my_rules:SQUARE'
    >>> get_rule("my_rules:SQUARE") is module.SQUARE
    True
    >>> del sys.modules["my_rules"]
    """
    import sys

    registered = _REGISTRY.get(rule.name) is rule
    if registered and rule.direction.__module__ == __name__:
        return rule.name   # a built-in rule
    module_name = getattr(rule.direction, "__module__", None)
    module = sys.modules.get(module_name)
    if module is not None and module_name != "__main__":
        for attribute, value in vars(module).items():
            if value is rule:
                return f"{module_name}:{attribute}"
    return rule.name if registered else None


def _w2(w):
    return w


def _z_plus(x, w):
    return x * indicator(w)


def _z_box(x, w, l, h):
    return x - l * indicator(w) - h * indicator(-w)


def _z(x):
    return x


def _gamma(x, w, gamma):
    return x * (1 + gamma * indicator(w))


def _per_input(x, w, l, h, unbounded):
    # unbounded is 1 for an input that can take any real value, 0 for one
    # bounded on some side (a ReLU output acts as the box [0, x])
    return unbounded * w + (1 - unbounded) * _z_box(x, w, l, h)


for _rule in (
    Rule("w2", "w² rule", Real(), _w2,
         "search along the gradient: the nearest root in an unconstrained space"),
    Rule("z+", "z⁺ rule", Positive(), _z_plus,
         "shrink the positively weighted inputs towards 0: the root stays in ℝⁿ₊"),
    Rule("zB", "zᴮ rule", Box(), _z_box,
         "move each input towards the box corner that lowers the neuron most"),
    Rule("z", "z rule (DTD form of LRP-0)", Positive(), _z,
         "shrink all inputs towards the origin; unlike published LRP-0 the bias "
         "stays out of the denominator, so the rule conserves"),
    Rule("gamma", "γ rule (DTD form of LRP-γ)", Positive(), _gamma,
         "like the z rule, with positive contributions boosted by a factor 1+γ; "
         "the bias stays out of the denominator, unlike published LRP-γ",
         parameters={"gamma": sp.Rational(1, 4)}),
    Rule("mixed", "per-input rule (zᴮ/z⁺ on bounded inputs, w² on real ones)", Real(),
         _per_input,
         "each input moves as its own domain allows: towards its box corner if it is "
         "bounded (a ≥ 0 input towards 0), along the weight if it is real-valued"),
):
    register_rule(_rule)
