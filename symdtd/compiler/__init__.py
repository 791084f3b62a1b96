"""Stage 5, compile: the derived rules lambdified to NumPy kernels for batched propagation.

Its public names load lazily (see :mod:`symdtd.core.lazy`).

Examples
--------
>>> from symdtd.compiler import compile
"""
from symdtd.core.lazy import lazy_exports

_EXPORTS = {
    "compile": "compiled",
    "CompiledNetwork": "compiled",
    "BatchExplanation": "batch",
    "ConservationReport": "batch",
    "rule_kernel": "rule_kernels",
    "compile_layers": "layer_pass",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
