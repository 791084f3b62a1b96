"""Sphinx configuration for symdtd's documentation.

The derivations shown in the maths chapter are produced by symdtd itself at
build time (see ``_write_generated``), and so are its figures and the user
guide's (``_write_figures``) and the API pages, from the
packages' export tables (see ``_write_api_pages``): neither can drift from the
code.
"""
import os
import re
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
# numpydoc validation of the public names (the export tables' functions and
# classes, see _public_names): a docstring with a summary line, a Returns (or
# Yields) section, and a Parameters section matching the signature. `sphinx -W`
# turns a failed check into an error.
numpydoc_validation_checks = {
    "GL08",   # no docstring
    "SS01", "SS02", "SS03", "SS04",   # summary: present, capitalised, one line ending in a period
    "PR01", "PR02", "PR03",   # parameters: all documented, none unknown, in the signature's order
    "PR10",   # "x: int" where "x : int" is meant
    "RT01", "YD01",   # a Returns / Yields section
    "GL02", "GL03",   # no stray blank lines
}
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


def _write_figures():
    """Draw the figures of the maths chapter and the user guide with symdtd itself.

    They go to ``_generated/figures`` (ignored by git, like the derivations);
    ``docs/images`` holds only the committed pictures of the README, which
    GitHub shows without a build (``symdtd demo`` writes the same files).
    """
    from symdtd import compare, examples, propagate, render
    from symdtd.real import load_digits_data
    from symdtd.see.flow import write
    from symdtd.see.plotting import plot_root_search, save_figure

    folder = HERE / "_generated" / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    figure = plot_root_search([((1, -1), -0.25, (1.5, 0.5)), ((-0.5, 1), -0.25, (0.5, 1.0))],
                              rules=["w2", "z+", "zB"], box=(0, 2))
    save_figure(figure, folder / "root-search.png")
    net = examples.figure3()
    explanation = propagate(net, examples.example_inputs("figure3")[0], arithmetic="exact")
    write(render(net, explanation), folder / "flow-figure3.svg")
    X, _ = load_digits_data()
    result = compare("mlp", X[:4], aopc_inputs=X[:100], steps=16)
    save_figure(result.figure, folder / "compare-mlp.png")
    _write_picture_figures(folder)


def _write_picture_figures(folder):
    """The two figures of guide/pictures.md: the networks and seeds are the page's own, in its order."""
    import numpy as np

    from symdtd import Box
    from symdtd.compiler import compile_layers
    from symdtd.network import LayerNetwork
    from symdtd.network.join_layers import Add, Flatten
    from symdtd.network.layers import Conv2d, Dense
    from symdtd.network.pool_layers import AdaptiveAvgPool2d, MaxPool2d
    from symdtd.real.photos import sample_image
    from symdtd.see import render_layers
    from symdtd.see.flow import write
    from symdtd.see.pictures import picture_figure
    from symdtd.see.plotting import save_figure

    rng = np.random.default_rng(0)
    net = LayerNetwork()
    net.add_input("x", (1, 6, 6), Box(0, 1))
    net.add_layer("conv", Conv2d(rng.normal(size=(2, 1, 3, 3)), [-0.1, -0.2], padding=1))
    net.add_layer("skip", Conv2d(rng.normal(size=(2, 1, 1, 1)), [-0.1, -0.1]), "x")
    net.add_layer("res", Add(), ["conv", "skip"])
    net.add_layer("pool", MaxPool2d(2))
    net.add_layer("flat", Flatten())
    net.add_layer("y", Dense(np.abs(rng.normal(size=(3, 18))), activation="linear"))
    X = rng.uniform(size=(1, 1, 6, 6))
    e = compile_layers(net).explain(X, target=0, return_layers=True)
    write(render_layers(net, e), folder / "layer-flow-residual.svg")

    photo = sample_image("china.jpg", 224)   # scikit-learn ships it: in the docs extra
    cnn = LayerNetwork()
    cnn.add_input("x", (3, 224, 224), Box(0, 1))
    cnn.add_layer("conv1", Conv2d(rng.normal(0, 0.3, size=(8, 3, 5, 5)), np.full(8, -0.1), stride=2,
                                  padding=2))
    cnn.add_layer("pool1", MaxPool2d(2))
    cnn.add_layer("conv2", Conv2d(rng.normal(0, 0.2, size=(16, 8, 3, 3)), np.full(16, -0.1), padding=1))
    cnn.add_layer("pool2", MaxPool2d(2))
    cnn.add_layer("gap", AdaptiveAvgPool2d((4, 4)))
    cnn.add_layer("flat", Flatten())
    cnn.add_layer("y", Dense(rng.normal(size=(10, 256)), activation="linear"))
    compiled = compile_layers(cnn)
    top = int(compiled.forward(photo[None]).argmax())
    pe = compiled.explain(photo[None], top)
    figure = picture_figure(photo, pe.relevance[0], title=f"china.jpg, class {top}")
    save_figure(figure, folder / "pictures-china.png")


def _copy_tutorials():
    """Sphinx reads only its source folder: copy the notebooks in."""
    import shutil

    target = HERE / "_tutorials"
    target.mkdir(exist_ok=True)
    for notebook in sorted((HERE.parent / "tutorials").glob("*.ipynb")):
        shutil.copyfile(notebook, target / notebook.name)


# the pipeline's stages, in order: one API page each (docs/api/<stage>.rst)
STAGES = ("core", "derivation", "proof", "network", "propagation", "compiler", "see", "real", "cli")


def _heading(text, underline, overline=False):
    rule = underline * len(text)
    return [rule, text, rule, ""] if overline else [text, rule, ""]


def _summary(obj):
    """The first paragraph of an object's docstring, on one line ("" for data)."""
    import inspect

    if not (inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj)):
        return ""
    doc = inspect.getdoc(obj) or ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def _names_table(package, exports, modules=frozenset()):
    """A table of the public names: each links to its documentation, with its summary line."""
    from importlib import import_module

    lines = [".. list-table::", "   :widths: 30 70", ""]
    for name, module_name in exports.items():
        where = f"{package}.{module_name}"
        if name in modules:
            obj, link = import_module(where), f":py:mod:`{name} <{where}>`"
        else:   # linked where it is defined, which may be below the module exporting it
            obj = getattr(import_module(where), name)
            defined = f"{getattr(obj, '__module__', where)}.{getattr(obj, '__qualname__', name)}"
            link = f":py:obj:`{name} <{defined}>`"
        summary = _summary(obj)
        if not summary:   # a constant: autodoc documents no value, so show it here
            link, summary = f"``{name}``", f"``{obj!r}``, in :py:mod:`{where}`"
        lines += [f"   * - {link}", f"     - {summary}"]
    return lines + [""]


def _imported_names(module):
    """Names in a module's ``__all__`` that another module defines (documented there)."""
    return sorted(name for name in getattr(module, "__all__", ())
                  if getattr(getattr(module, name), "__module__", module.__name__) != module.__name__)


def _stage_page(stage):
    """A stage's page: its public names first, then each of its modules in full."""
    import pkgutil
    from importlib import import_module

    package = import_module(f"symdtd.{stage}")
    lines = _heading(f"``{package.__name__}``", "=", overline=True)
    lines += [f".. automodule:: {package.__name__}", ""]
    lines += _heading("Public names", "-")
    lines += _names_table(package.__name__, package._EXPORTS)
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        if info.name.startswith("_"):
            continue
        module = import_module(f"{package.__name__}.{info.name}")
        lines += _heading(f"``{module.__name__}``", "-")
        lines += [f".. automodule:: {module.__name__}", "   :members:"]
        excluded = _imported_names(module)
        if excluded:
            lines += [f"   :exclude-members: {', '.join(excluded)}"]
        lines += [""]
    return "\n".join(lines)


def _namespace_page():
    """The ``symdtd`` namespace: every name it re-exports, linked to its stage page."""
    import symdtd

    modules = frozenset(name for name, where in symdtd._EXPORTS.items()
                        if where.rsplit(".", 1)[-1] == name)
    lines = _heading("The ``symdtd`` namespace", "=", overline=True)
    lines += [".. automodule:: symdtd", ""]
    lines += _heading("Public names", "-")
    return "\n".join(lines + _names_table("symdtd", symdtd._EXPORTS, modules))


def _write_api_pages():
    """Write docs/api/: the namespace page and one page per stage, from the export tables.

    Generated at build time rather than checked in, so a name added to an
    export table or a new module shows up without a step to remember.
    """
    target = HERE / "api"
    target.mkdir(exist_ok=True)
    pages = {"symdtd": _namespace_page()} | {stage: _stage_page(stage) for stage in STAGES}
    for name, text in pages.items():
        path = target / f"{name}.rst"
        if not path.exists() or path.read_text(encoding="utf-8") != text:   # keep Sphinx's cache
            path.write_text(text, encoding="utf-8")


def _public_names():
    """The full dotted names of the public functions and classes, where they are defined."""
    import inspect
    from importlib import import_module

    names = set()
    for package in ["symdtd"] + [f"symdtd.{stage}" for stage in STAGES]:
        package = import_module(package)
        for name in package.__all__:
            obj = getattr(package, name)
            if inspect.isclass(obj) or inspect.isroutine(obj):
                names.add(f"{obj.__module__}.{obj.__qualname__}")
    return names


# numpydoc validates every public name (the export tables) and skips every
# other object
numpydoc_validation_exclude = {
    r"^(?!(?:" + "|".join(re.escape(name) for name in sorted(_public_names())) + r")$)",
}

_write_generated()
_write_figures()
_write_api_pages()
_copy_tutorials()
