"""Stage 4, propagate: the one backward pass over the DAG, in symbolic, exact or float arithmetic.

Its public names load lazily (see :mod:`symdtd.core.lazy`).

Examples
--------
>>> from symdtd.propagation import propagate
"""
from symdtd.core.lazy import lazy_exports

_EXPORTS = {
    "propagate": "backward",
    "Explanation": "explanation",
    "NegativeOutputWarning": "arithmetic",
    "InexactFloatWarning": "floats",
    "ARITHMETICS": "arithmetic",
    "forward_values": "arithmetic",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
