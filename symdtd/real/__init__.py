"""Stage 7, real: trained models in (scikit-learn, PyTorch), the shipped digits models, evaluation.

Its public names load lazily (see :mod:`symdtd.core.lazy`).

Examples
--------
>>> from symdtd.real import load_model
"""
from symdtd.core.lazy import lazy_exports

_EXPORTS = {
    "from_sklearn": "interop",
    "from_torch": "interop",
    "layers_from_torch": "fx_import",
    "positive_biases": "interop",
    "load_model": "models",
    "load_image": "photos",
    "sample_image": "photos",
    "load_digits_data": "models",
    "model_info": "models",
    "evaluate_models": "comparison",
    "write_evaluation_figures": "comparison",
    "pixel_flipping": "evaluate",
    "sensitivity": "gradients",
    "gradient_x_input": "gradients",
    "random_attribution": "evaluate",
    "dtd": "evaluate",
    "gradient": "gradients",
    "compare": "side_by_side",
    "Comparison": "side_by_side",
    "default_composites": "side_by_side",
    "select": "selection",
    "Selection": "selection_report",
    "SearchSpace": "selection_space",
    "Candidate": "selection_space",
    "local_cluster": "dask_cluster",
    "explain_dataset": "dataset",
    "DatasetExplanation": "dataset",
    "vgg16": "architectures",
    "resnet50": "architectures",
    "googlenet": "architectures",
    "dtd_reference": "torch_reference",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
