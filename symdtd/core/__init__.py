"""The foundation every stage shares: input domains, rule objects, symbols, numbers, limits, errors and files.

Its public names load lazily (see :mod:`symdtd.core.lazy`).

Examples
--------
>>> from symdtd.core import Box
"""
from .lazy import lazy_exports

_EXPORTS = {
    "Domain": "domains",
    "Real": "domains",
    "Positive": "domains",
    "Box": "domains",
    "Rule": "rule_class",
    "get_rule": "rules",
    "register_rule": "rules",
    "rule_names": "rules",
    "ALIASES": "rules",
    "NeuronSymbols": "symbols",
    "parse_number": "numbers",
    "LimitExceeded": "limits",
    "raised": "limits",
    "InputError": "errors",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
