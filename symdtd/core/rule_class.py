"""The :class:`Rule` object: a name, the domain it is meant for and its search direction.

The registry of rules, their other spellings and ``module:name`` references
are :mod:`symdtd.core.rules`' (which re-exports everything here).

Examples
--------
>>> from symdtd.core.domains import Positive
>>> square = Rule("square", "x² rule", Positive(), lambda x: x * x)
>>> square.arguments, square.direction_at(x=3)
(('x',), 9)
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from numbers import Number

import sympy as sp

from .domains import Domain
from .numbers import RealLike

__all__ = ["Rule", "indicator", "check_parameters", "PARAMETERS", "LOCAL_ARGUMENTS"]

#: names a local direction function may take, in this order
LOCAL_ARGUMENTS = ("x", "w", "l", "h", "gamma", "unbounded")


def indicator(condition_argument: sp.Expr) -> sp.Expr:
    """The indicator ``1[a > 0]`` as ``Heaviside(a, 0)`` (0 at ``a = 0``).

    >>> w = sp.Symbol("w", real=True)
    >>> indicator(w).subs(w, 0), indicator(w).subs(w, 3)
    (0, 1)
    """
    return sp.Heaviside(condition_argument, 0)


@dataclass(frozen=True, eq=False)
class Rule:
    """A deep Taylor rule, defined by its root-search direction.

    Parameters
    ----------
    name : str
        Short name used in the registry and on the command line.
    title : str
        Human name, e.g. ``"z+ rule"``.
    domain : Domain
        The input domain the rule is designed for.
    direction : callable
        ``direction(x=..., w=..., l=..., h=..., gamma=...)`` returning the
        search direction ``v_i`` of one input; it may take any subset of
        those keyword names (see :data:`LOCAL_ARGUMENTS`).
    description : str
        One sentence on why this direction is chosen.
    bias : str
        The bias assumption under which the rule is meant to be applied:
        ``"nonpositive"`` (the usual case) or ``"real"``.
    parameters : dict
        Numeric values of rule parameters (``{"gamma": 0.25}``). Every path
        (propagate, compile, the root checks) reads them from the instance;
        :meth:`with_parameters` makes an instance with other values.
    origin : Rule or None
        The registered rule this one was made from by :meth:`with_parameters`
        (None for a rule made directly): it shares the origin's derivation.
    """

    name: str
    title: str
    domain: Domain
    direction: Callable
    description: str = ""
    bias: str = "nonpositive"
    parameters: dict = field(default_factory=dict)
    origin: Rule | None = field(default=None, repr=False)

    def __post_init__(self):
        check_parameters(self.parameters, f"rule {self.name!r}")

    @property
    def template(self) -> Rule:
        """The rule whose derivation this one uses: :attr:`origin`, or itself.

        Parameter values do not change the derivation (``γ`` stays a symbol
        there), so rules differing only in them share one derivation.
        """
        return self.origin or self

    def with_parameters(self, **values: RealLike) -> Rule:
        """This rule with other parameter values, e.g. ``rule.with_parameters(gamma=0.5)``.

        The same values give the same instance (so compiled blocks and
        caches group them); the derivation is the original rule's.

        Parameters
        ----------
        **values : number
            Parameter name -> value, e.g. ``gamma=0.5``.

        Returns
        -------
        Rule
            The rule with those parameter values.

        Raises
        ------
        ValueError
            A parameter the rule does not take (its direction has no such
            argument), or a value out of range (:func:`check_parameters`).

        Examples
        --------
        >>> from symdtd.core.rules import get_rule
        >>> g = get_rule("gamma").with_parameters(gamma=0.5)
        >>> g.parameters, g.name, g is get_rule("gamma").with_parameters(gamma=0.5)
        ({'gamma': 0.5}, 'gamma', True)
        >>> get_rule("z+").with_parameters(gamma=1)
        Traceback (most recent call last):
        ...
        ValueError: rule 'z+' takes no parameter 'gamma' (its parameters: none)
        """
        for name in values:
            if name not in self.arguments:
                taken = [a for a in self.arguments if a in PARAMETERS]
                raise ValueError(f"rule {self.name!r} takes no parameter {name!r} "
                                 f"(its parameters: {', '.join(taken) or 'none'})")
        merged = check_parameters({**self.parameters, **values}, f"rule {self.name!r}")
        if merged == self.parameters:
            return self
        template = self.template
        key = (id(template), tuple(sorted((k, repr(v)) for k, v in merged.items())))
        if key not in _VARIANTS:
            _VARIANTS[key] = replace(template, parameters=merged, origin=template)
        return _VARIANTS[key]

    @property
    def arguments(self) -> tuple:
        """The local quantities the direction depends on, e.g. ``('x', 'w')``."""
        names = inspect.signature(self.direction).parameters
        unknown = [n for n in names if n not in LOCAL_ARGUMENTS]
        if unknown:
            raise ValueError(
                f"rule {self.name!r}: direction takes unknown argument(s) {unknown}; "
                f"allowed names are {list(LOCAL_ARGUMENTS)}")
        return tuple(n for n in LOCAL_ARGUMENTS if n in names)

    def direction_at(self, **quantities: sp.Expr) -> sp.Expr:
        """Evaluate the direction, passing only the quantities it takes."""
        return self.direction(**{k: quantities[k] for k in self.arguments})

    def __repr__(self):
        extra = "".join(f", {k}={v}" for k, v in self.parameters.items()) if self.origin else ""
        return f"Rule({self.name!r}, domain={self.domain!r}{extra})"


#: the rule parameters symdtd knows, and what each may be
PARAMETERS = {"gamma": "a finite number ≥ 0 (γ < 0 would shrink the positive "
                       "contributions and the rule could lose positivity)"}


def check_parameters(parameters: Mapping[str, Number | sp.Expr] | None, where: str = "parameters") -> dict:
    """Check rule parameters: known names, finite numbers in range.

    Parameters
    ----------
    parameters : dict or None
        ``{"gamma": value}``; None means none.
    where : str
        Names the caller in error messages.

    Returns
    -------
    dict
        The parameters (a new dict; empty for None).

    Raises
    ------
    TypeError
        Not a dict, or a value that is not a real number.
    ValueError
        An unknown name, or a value out of range (NaN, ∞, γ < 0).

    Examples
    --------
    >>> check_parameters({"gamma": 0.5})
    {'gamma': 0.5}
    >>> check_parameters({"gamma": -1}, "compile(parameters=...)")
    Traceback (most recent call last):
    ...
    ValueError: compile(parameters=...): gamma must be a finite number ≥ 0 (γ < 0 would shrink the positive
    contributions and the rule could lose positivity), got -1
    """
    if parameters is None:
        return {}
    if not isinstance(parameters, dict):
        raise TypeError(f"{where}: parameters must be a dict like {{'gamma': 0.25}}, "
                        f"got {type(parameters).__name__}")
    for name, value in parameters.items():
        if name not in PARAMETERS:
            raise ValueError(f"{where}: unknown rule parameter {name!r}; "
                             f"known: {', '.join(PARAMETERS)}")
        if isinstance(value, bool) or not isinstance(value, (Number, sp.Basic)) \
                or isinstance(value, complex):
            raise TypeError(f"{where}: {name} must be a real number, got {type(value).__name__}")
        if isinstance(value, sp.Basic) and not (value.is_number and value.is_real):
            raise TypeError(f"{where}: {name} must be a real number, got {value}")
        number = float(value)
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"{where}: {name} must be {PARAMETERS[name]}, got {value}")
    return dict(parameters)


#: rules made by :meth:`Rule.with_parameters`, one per (template, values)
_VARIANTS: dict = {}
