"""The Sphinx documentation builds without a single warning.

Notebooks are not executed here (the tutorials test already runs them);
``make docs`` builds the site with the tutorials' outputs.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).parent.parent / "docs"


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="Sphinx not installed (pip install symdtd[docs])")
    pytest.importorskip("myst_nb", reason="myst-nb not installed (pip install symdtd[docs])")
    env = {**os.environ, "SYMDTD_DOCS_EXECUTE": "off"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    api = (tmp_path / "html" / "api" / "compiler.html").read_text()
    assert 'id="symdtd.compiler.compiled.CompiledNetwork"' in api   # documented where it is defined


def test_every_public_name_is_documented():
    import symdtd
    missing = [name for name in symdtd.__all__
               if not (getattr(symdtd, name).__doc__ or "").strip()]
    assert not missing, f"public names without a docstring: {missing}"
