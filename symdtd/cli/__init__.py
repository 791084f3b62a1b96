"""The ``symdtd`` command: argument parsing, the sub-commands and the demo.

Its public names load lazily (see :mod:`symdtd.core.lazy`).

Examples
--------
>>> from symdtd.cli import build_parser
"""
from symdtd.core.lazy import lazy_exports

_EXPORTS = {
    "main": "app",
    "build_parser": "app",
    "run_demo": "demo",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
