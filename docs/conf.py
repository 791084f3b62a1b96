"""Sphinx configuration for symdtd's documentation.

The derivations shown in the maths chapter are produced by symdtd itself at
build time (see ``_write_generated``), so the docs cannot drift from the code.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

project = "symdtd"
author = "the symdtd developers"
copyright = "2026, the symdtd developers"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",
]
autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False}
numpydoc_show_class_members = False
numpydoc_validation_checks = set()
myst_enable_extensions = ["dollarmath", "amsmath"]
nb_render_markdown_format = "myst"   # so $$…$$ in Markdown outputs is math
# notebooks: executed by `make docs`; the test suite already executes them
# through nbclient and builds the docs with SYMDTD_DOCS_EXECUTE=off
nb_execution_mode = os.environ.get("SYMDTD_DOCS_EXECUTE", "cache")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute", "images", "_generated"]
html_theme = "furo"
html_title = "symdtd"
suppress_warnings = ["mystnb.unknown_mime_type"]


def _write_generated():
    """Render the built-in derivations and reports with symdtd itself."""
    from symdtd import derive, verify

    target = HERE / "_generated"
    target.mkdir(exist_ok=True)
    for name in ("w2", "z+", "zB", "z", "gamma"):
        stem = name.replace("+", "plus")
        derivation = derive(name)
        report = verify(derivation)
        text = derivation.to_markdown() + "\n\n" + report.to_markdown()
        (target / f"derivation-{stem}.md").write_text(text + "\n", encoding="utf-8")


def _copy_tutorials():
    """Sphinx reads only its source folder: copy the notebooks in."""
    import shutil

    target = HERE / "_tutorials"
    target.mkdir(exist_ok=True)
    for notebook in sorted((HERE.parent / "tutorials").glob("*.ipynb")):
        shutil.copyfile(notebook, target / notebook.name)


_write_generated()
_copy_tutorials()
