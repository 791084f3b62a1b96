"""Stage 3, network: the DAG of neurons, its builders (dense, convolutional) and its JSON form.

Its public names load lazily (see :mod:`symdtd.core.lazy`).

Examples
--------
>>> from symdtd.network import Network
"""
from symdtd.core.lazy import lazy_exports

_EXPORTS = {
    "Network": "graph",
    "KINDS": "kind_registry",
    "ConvNetBuilder": "conv",
    "save_network": "netjson",
    "load_network": "netjson",
    "Composite": "composites",
    "PaperDefault": "composites",
    "Above": "composites",
    "GammaAbove": "composites",
    "Everywhere": "overrides",
    "ByName": "overrides",
    "ByLayer": "overrides",
    "ByKind": "overrides",
    "WithParameters": "composites",
    "Chain": "composites",
    "PoolingRule": "pooling",
    "WinnerTakeAll": "pooling",
    "Proportional": "pooling",
    "LayerNetwork": "layer_graph",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
