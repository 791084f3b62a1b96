"""symdtd: deep Taylor decomposition of ReLU networks, derived with SymPy.

The package reads as the pipeline, one subpackage per stage (see
``docs/architecture.md``): :mod:`symdtd.core` (domains, rules, numbers),
:mod:`symdtd.derivation` (derive), :mod:`symdtd.proof` (verify),
:mod:`symdtd.network` (the DAG), :mod:`symdtd.propagation` (the backward
pass), :mod:`symdtd.compiler` (NumPy kernels), :mod:`symdtd.see` (figures),
:mod:`symdtd.real` (trained models, evaluation) and :mod:`symdtd.cli`.

The public names below are imported lazily, so ``import symdtd`` stays fast
and SymPy, networkx or matplotlib load only when a name that needs them is
used. No public function shares its name with a module.

Examples
--------
>>> import symdtd
>>> d = symdtd.derive("z+", n=2)
>>> d.rule[0]
x_1*x_j*Max(0, w_1)/(x_1*Max(0, w_1) + x_2*Max(0, w_2))
"""
from .core.lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module (below symdtd) that defines it
_EXPORTS = {
    "Real": "core.domains", "Positive": "core.domains", "Box": "core.domains",
    "Domain": "core.domains",
    "Rule": "core.rule_class", "get_rule": "core.rules", "register_rule": "core.rules",
    "rule_names": "core.rules",
    "derive": "derivation.taylor", "Derivation": "derivation.taylor", "Step": "derivation.taylor",
    "neuron_symbols": "derivation.taylor",
    "verify": "proof.neuron", "Report": "proof.neuron", "Claim": "proof.neuron",
    "verify_network": "proof.network", "NetworkReport": "proof.network_report",
    "save_network": "network.netjson", "load_network": "network.netjson",
    "Network": "network.graph", "ConvNetBuilder": "network.conv",
    "examples": "network.examples",
    "Composite": "network.composites", "PaperDefault": "network.composites",
    "Above": "network.composites", "GammaAbove": "network.composites",
    "Everywhere": "network.overrides", "ByName": "network.overrides",
    "ByLayer": "network.overrides", "ByKind": "network.overrides",
    "WithParameters": "network.composites", "Chain": "network.composites",
    "PoolingRule": "network.pooling", "WinnerTakeAll": "network.pooling",
    "Proportional": "network.pooling",
    "propagate": "propagation.backward", "Explanation": "propagation.explanation",
    "NegativeOutputWarning": "propagation.arithmetic",
    "InexactFloatWarning": "propagation.floats",
    "compile": "compiler.compiled", "CompiledNetwork": "compiler.compiled",
    "BatchExplanation": "compiler.compiled", "ConservationReport": "compiler.compiled",
    "rule_kernel": "compiler.rule_kernels",
    "render": "see.flow", "render_to_files": "see.flow",
    "heatmap": "see.plotting", "heatmap_grid": "see.plotting",
    "plot_root_search": "see.plotting", "plot_pixel_flipping": "see.plotting",
    "find_root": "see.plotting", "save_figure": "see.plotting",
    "pixel_flipping": "real.evaluate", "sensitivity": "real.evaluate",
    "gradient_x_input": "real.evaluate", "random_attribution": "real.evaluate",
    "dtd": "real.evaluate", "gradient": "real.evaluate",
    "from_sklearn": "real.interop", "from_torch": "real.interop",
    "layers_from_torch": "real.fx_import",
    "positive_biases": "real.interop",
    "load_model": "real.models", "load_digits_data": "real.models", "model_info": "real.models",
    "evaluate_models": "real.comparison", "write_evaluation_figures": "real.comparison",
    "compare": "real.side_by_side",
    "select": "real.selection", "SearchSpace": "real.selection_space",
    "explain_dataset": "real.dataset",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, modules=frozenset({"examples"}))
