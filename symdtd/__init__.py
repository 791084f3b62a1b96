"""symdtd: deep Taylor decomposition of ReLU networks, derived with SymPy.

The public names are imported lazily, so ``import symdtd`` stays fast and a
module's heavy dependencies load only when one of its names is used.

Examples
--------
>>> import symdtd
>>> d = symdtd.derive("z+", n=2)
>>> d.rule[0]
x_1*x_j*Max(0, w_1)/(x_1*Max(0, w_1) + x_2*Max(0, w_2))
"""
from importlib import import_module

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Real": "domains", "Positive": "domains", "Box": "domains", "Domain": "domains",
    "Rule": "rules", "get_rule": "rules", "register_rule": "rules", "rule_names": "rules",
    "derive": "derivation", "Derivation": "derivation", "Step": "derivation",
    "neuron_symbols": "derivation",
    "verify": "verify", "Report": "verify", "Claim": "verify",
    "verify_network": "network_verify", "NetworkReport": "network_verify",
    "save_network": "netjson", "load_network": "netjson",
    "Network": "network",
    "propagate": "propagate", "Explanation": "propagate",
    "NegativeOutputWarning": "arithmetic",
    "examples": "examples",
    "compile": "compile", "CompiledNetwork": "compile", "BatchExplanation": "compile",
    "ConservationReport": "compile", "rule_kernel": "compile",
    "render": "render", "render_to_files": "render",
    "heatmap": "plotting", "heatmap_grid": "plotting", "plot_root_search": "plotting",
    "plot_pixel_flipping": "plotting", "find_root": "plotting", "save_figure": "plotting",
    "pixel_flipping": "evaluate", "sensitivity": "evaluate",
    "gradient_x_input": "evaluate", "random_attribution": "evaluate",
    "from_sklearn": "interop", "from_torch": "interop", "positive_biases": "interop",
    "ConvNetBuilder": "conv",
    "load_model": "models", "load_digits_data": "models", "model_info": "models",
    "evaluate_models": "models", "write_evaluation_figures": "models",
    "dtd": "evaluate", "gradient": "evaluate",
}

_MODULE_EXPORTS = {"examples"}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'symdtd' has no attribute {name!r}")
    module = import_module(f".{module_name}", __name__)
    value = module if name in _MODULE_EXPORTS else getattr(module, name)
    globals()[name] = value   # importing symdtd.verify set the name to the module
    return value


# Functions named like the module that defines them must be bound eagerly:
# once a sibling imports ``symdtd.verify``, the package attribute would be the
# module, and ``__getattr__`` is never consulted again.
from .verify import verify  # noqa: E402,F401
from .propagate import propagate  # noqa: E402,F401
from .render import render  # noqa: E402,F401
from .compile import compile  # noqa: E402,F401


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
