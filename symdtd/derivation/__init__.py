"""Stage 1, derive: a rule's Taylor expansion, root search and shares, step by step.

Its public names load lazily (see :mod:`symdtd.core.lazy`).

Examples
--------
>>> from symdtd.derivation import derive
"""
from symdtd.core.lazy import lazy_exports

_EXPORTS = {
    "derive": "taylor",
    "Derivation": "taylor",
    "Step": "steps",
    "Assumptions": "assumptions",
    "neuron_symbols": "taylor",
    "derive_per_input": "per_input",
    "PointDerivation": "at_point",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
