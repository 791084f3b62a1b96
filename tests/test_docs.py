"""The Sphinx documentation builds without a single warning.

Notebooks are not executed here (the tutorials test already runs them);
``make docs`` builds the site with the tutorials' outputs.
"""
import inspect
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).parent.parent / "docs"
STAGES = ("core", "derivation", "proof", "network", "propagation", "compiler", "see", "real", "cli")


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="Sphinx not installed (pip install symdtd[docs])")
    pytest.importorskip("myst_nb", reason="myst-nb not installed (pip install symdtd[docs])")
    env = {**os.environ, "SYMDTD_DOCS_EXECUTE": "off"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    html = tmp_path / "html" / "api"
    api = (html / "compiler.html").read_text()
    assert 'id="symdtd.compiler.compiled.CompiledNetwork"' in api   # documented where it is defined
    assert_public_names_listed(html)


def documented_targets(html):
    """The anchors of every documented object and module in the API pages."""
    return {target for page in html.glob("*.html")
            for target in re.findall(r'id="((?:module-)?symdtd[\w.]*)"', page.read_text())}


def assert_public_names_listed(html):
    """Every public name is in its package's table, linked to the one place documenting it."""
    import importlib

    import symdtd

    targets = documented_targets(html)
    pages = {"symdtd": symdtd.__all__} | {
        stage: importlib.import_module(f"symdtd.{stage}").__all__
        for stage in STAGES}
    assert set(symdtd.__all__) >= {"derive", "verify", "Network", "propagate", "compile", "render"}
    for page, names in pages.items():
        table = (html / f"{page}.html").read_text().split('id="public-names"')[1].split("</table>")[0]
        for name in names:
            value = getattr(importlib.import_module(page if page == "symdtd" else f"symdtd.{page}"), name)
            if inspect.ismodule(value):
                target = f"module-{value.__name__}"
            elif hasattr(value, "__module__") and hasattr(value, "__qualname__"):
                target = f"{value.__module__}.{value.__qualname__}"
            else:   # a constant: named in the table with its value, not linked
                assert f"<code class=\"docutils literal notranslate\"><span class=\"pre\">{name}</span>" in table
                continue
            assert f'#{target}"' in table, f"{page}: {name} is not linked from the public names table"
            assert target in targets, f"{page}: {name} links to {target}, which no API page documents"


def test_every_public_name_is_documented():
    import importlib

    packages = ["symdtd"] + [f"symdtd.{stage}" for stage in STAGES]
    missing = [f"{package}.{name}" for package in packages
               for name in importlib.import_module(package).__all__
               if not (getattr(importlib.import_module(package), name).__doc__ or "").strip()]
    assert not missing, f"public names without a docstring: {missing}"


def test_public_docstrings_pass_the_numpydoc_checks():
    """The checks docs/conf.py turns on hold for the names it validates (checked here without Sphinx)."""
    pytest.importorskip("numpydoc", reason="numpydoc not installed (pip install symdtd[docs])")
    from numpydoc.validate import validate

    conf = runpy.run_path(str(DOCS / "conf.py"))
    excluded = re.compile("|".join(conf["numpydoc_validation_exclude"]))
    checked = sorted(name for name in conf["_public_names"]() if not excluded.search(name))
    # public names are validated, their methods and the internal helpers are not
    assert {"symdtd.see.flow.render", "symdtd.core.rules.get_rule", "symdtd.cli.app.main",
            "symdtd.real.models.load_model", "symdtd.compiler.batch.BatchExplanation"} <= set(checked)
    assert excluded.search("symdtd.see.flowgraph.FlowGraph.copy")
    assert excluded.search("symdtd.see.plotting.figure_format")
    assert {"GL08", "SS01", "PR01", "PR02", "RT01"} <= conf["numpydoc_validation_checks"]
    failures = {name: [f"{code}: {message}" for code, message in validate(name)["errors"]
                       if code in conf["numpydoc_validation_checks"]] for name in checked}
    assert not {name: errors for name, errors in failures.items() if errors}
