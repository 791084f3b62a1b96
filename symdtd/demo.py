"""``symdtd demo``: derive and verify the built-in rules, print them, write files.

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     summary = run_demo(folder, quiet=True)
>>> summary["verdicts"]["z+"]
'all proved'
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["run_demo"]

_RULES = ("w2", "z+", "zB", "z", "gamma")


def _progress(step, total, message, quiet):
    if not quiet:
        print(f"[{step}/{total}] {message}", flush=True)


def run_demo(output="demo-output", *, quiet=False) -> dict:
    """Derive and verify every built-in rule, writing Markdown and LaTeX files.

    Parameters
    ----------
    output : str or Path
        Folder for the files (created if needed).
    quiet : bool
        Print nothing (for tests).

    Returns
    -------
    dict
        ``{"files": [...], "verdicts": {rule: text}}``.
    """
    from .derivation import derive
    from .verify import verify

    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    files, verdicts = [], {}
    total = len(_RULES)
    for step, name in enumerate(_RULES, start=1):
        _progress(step, total, f"deriving and verifying the {name} rule", quiet)
        derivation = derive(name)
        report = verify(derivation)
        stem = name.replace("+", "plus")
        for suffix, text in ((".md", derivation.to_markdown() + "\n\n" + report.to_markdown()),
                             (".tex", derivation.to_latex() + "\n\n" + report.to_latex())):
            path = folder / f"derivation-{stem}{suffix}"
            path.write_text(text + "\n", encoding="utf-8")
            files.append(path)
        if not quiet:
            print(derivation.steps[-1].text().splitlines()[-1].strip())
            print(report)
            print()
        failing = [c.name + " " + c.verdict for c in report.claims if c.verdict != "proved"]
        verdicts[name] = "all proved" if not failing else ", ".join(failing)
    if not quiet:
        print(f"wrote {len(files)} files to {folder}/")
        for name, verdict in verdicts.items():
            print(f"  {name:6s} {verdict}")
    return {"files": files, "verdicts": verdicts}
