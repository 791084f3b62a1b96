"""Stage 6, see: relevance flow with graphviz; root searches, heatmaps and curves with matplotlib.

Its public names load lazily (see :mod:`symdtd.core.lazy`).

Examples
--------
>>> from symdtd.see import render
"""
from symdtd.core.lazy import lazy_exports

_EXPORTS = {
    "render": "flow",
    "render_to_files": "flow",
    "FlowGraph": "flowgraph",
    "render_layers": "layer_flow",
    "heatmap": "plotting",
    "heatmap_grid": "plotting",
    "heatmap_image": "pictures",
    "save_heatmap_image": "pictures",
    "picture_figure": "pictures",
    "plot_root_search": "plotting",
    "plot_pixel_flipping": "plotting",
    "find_root": "plotting",
    "root_search_notes": "rootplot",
    "save_figure": "plotting",
    "root_search_widget": "widgets",
    "root_search_view": "widgets",
    "flow_widget": "widgets",
    "flow_view": "widgets",
    "RootSearchView": "widgets",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
