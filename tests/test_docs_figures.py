"""Figures: the docs pages use figures symdtd draws at build time; docs/images holds the README's.

``docs/conf.py`` draws the maths chapter's and the user guide's figures into
``docs/_generated/figures`` (ignored by git). ``docs/images`` keeps only the
committed pictures the README shows on GitHub without a build; each is a file
``symdtd demo`` writes.
"""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"


def test_docs_pages_show_generated_figures_only():
    pages = [DOCS / "maths.md", *sorted((DOCS / "guide").glob("*.md"))]
    shown = {page.name: re.findall(r"```\{figure\} (\S+)", page.read_text(encoding="utf-8"))
             for page in pages}
    assert shown["maths.md"] == ["_generated/figures/root-search.png",
                                 "_generated/figures/flow-figure3.svg",
                                 "_generated/figures/compare-mlp.png"]
    assert shown["render.md"] and shown["render.md"][0].startswith("../_generated/figures/")
    for page in pages:
        assert "images/" not in page.read_text(encoding="utf-8"), f"{page.name} shows a committed image"
    conf = (DOCS / "conf.py").read_text(encoding="utf-8")
    for figure in {Path(f).name for names in shown.values() for f in names}:
        assert f'folder / "{figure}"' in conf, f"{figure} is not drawn by docs/conf.py"


def test_generated_figures_are_not_committed():
    ignored = subprocess.run(["git", "check-ignore", "-q", "docs/_generated/figures/x.png"], cwd=ROOT)
    assert ignored.returncode == 0
    tracked = subprocess.run(["git", "ls-files", "docs/_generated"], cwd=ROOT, capture_output=True, text=True)
    assert tracked.stdout == ""


def test_committed_images_are_the_readmes_and_written_by_the_demo():
    from symdtd.cli.demo import demo_file_names
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    images = sorted(p.name for p in (DOCS / "images").iterdir())
    assert images and set(images) <= set(demo_file_names())
    for name in images:
        assert f"](docs/images/{name})" in readme, f"docs/images/{name} is not shown by the README"
