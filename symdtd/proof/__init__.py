"""Stage 2, prove: conservation, root in the domain and positivity, for a neuron or a network.

Its public names load lazily (see :mod:`symdtd.core.lazy`).

Examples
--------
>>> from symdtd.proof import verify
"""
from symdtd.core.lazy import lazy_exports

_EXPORTS = {
    "verify": "neuron",
    "Report": "neuron",
    "Claim": "neuron",
    "verify_network": "network",
    "NetworkReport": "network_report",
    "find_counterexample": "counterexample",
    "prove_nonnegative": "prover",
    "root_failures": "roots",
    "in_domain": "roots",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
