"""``symdtd demo`` (what ``make demo`` runs): derive, verify, propagate and draw.

It writes into one folder: the derivations and verification reports of the
built-in rules (Markdown and LaTeX), the relevance flow of the built-in
networks (SVG and PNG), a root-search figure for two neurons, and — with the
shipped digit models — heatmaps, the pixel-flipping plot and the AOPC table.
It prints one progress line per step and a summary at the end.

Nothing of yours is overwritten: the folder's manifest
(:class:`symdtd.cli.manifest.Manifest`) lists what the demo wrote last time, and a
file the demo would replace that is not listed there, or was changed since,
stops the demo before it starts, unless ``force=True`` (``--force``).

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:
...     summary = run_demo(folder, quiet=True, digits=False)
>>> summary["verdicts"]["z+"], summary["networks"]["figure3"]
('all proved', 'proved')
"""
from __future__ import annotations

import os
from pathlib import Path

from ..core.files import atomic_write_text, check_output
from .manifest import Manifest, sha256

__all__ = ["run_demo", "demo_file_names", "ROOT_SEARCH_NEURONS"]

_RULES = ("w2", "z+", "zB", "z", "gamma")
_NETWORKS = ("figure3", "skip_dag")
#: the two neurons of the root-search figure: (weights, bias, data point)
ROOT_SEARCH_NEURONS = [((1, -1), -0.25, (1.5, 0.5)), ((-0.5, 1), -0.25, (0.5, 1.0))]


class _Progress:
    def __init__(self, total, quiet):
        self.step, self.total, self.quiet = 0, total, quiet

    def __call__(self, message):
        self.step += 1
        if not self.quiet:
            print(f"[{self.step}/{self.total}] {message}", flush=True)


def _rules_part(folder, progress, files, verdicts, quiet):
    from ..derivation.taylor import derive
    from ..proof.neuron import verify
    for name in _RULES:
        progress(f"deriving and verifying the {name} rule")
        derivation = derive(name)
        report = verify(derivation)
        stem = name.replace("+", "plus")
        for suffix, text in ((".md", derivation.to_markdown() + "\n\n" + report.to_markdown()),
                             (".tex", derivation.to_latex() + "\n\n" + report.to_latex())):
            files.append(atomic_write_text(folder / f"derivation-{stem}{suffix}", text + "\n"))
        if not quiet:
            print("      " + derivation.steps[-1].text().splitlines()[-1].strip())
        failing = [c.name + " " + c.verdict for c in report.claims if c.verdict != "proved"]
        verdicts[name] = "all proved" if not failing else ", ".join(failing)


def _networks_part(folder, progress, files, network_verdicts):
    from ..network import examples
    from ..proof.network import verify_network
    from ..see.flow import render_to_files
    for name in _NETWORKS:
        progress(f"propagating and drawing the {name} network")
        network = examples.get(name)
        report = verify_network(network, examples.example_inputs(name)[0])
        network_verdicts[name] = report.status
        files += render_to_files(network, report.explanation, folder / f"flow-{name}")


def _root_part(folder, progress, files):
    from ..see.plotting import plot_root_search, save_figure
    progress("drawing the root search of two neurons")
    figure = plot_root_search(ROOT_SEARCH_NEURONS, rules=["w2", "z+", "zB"], box=(0, 2))
    files.append(save_figure(figure, folder / "root-search.png"))


def _digits_part(folder, progress, files, quiet):
    """Heatmaps, pixel-flipping and AOPC on the shipped digit models (issue 6)."""
    from ..real.comparison import demo_digits
    progress("explaining the shipped digit models and evaluating by pixel-flipping")
    written, table = demo_digits(folder)
    files += written
    if not quiet:
        print(table)
    return table


def demo_file_names(digits: bool = True) -> list[str]:
    """The names of the files :func:`run_demo` writes, known before it starts.

    >>> demo_file_names(digits=False)[:2], len(demo_file_names())
    (['derivation-w2.md', 'derivation-w2.tex'], 18)
    """
    from ..real.models import MODEL_NAMES
    names = [f"derivation-{rule.replace('+', 'plus')}{suffix}"
             for rule in _RULES for suffix in (".md", ".tex")]
    names += [f"flow-{net}.{fmt}" for net in _NETWORKS for fmt in ("svg", "png")]
    names.append("root-search.png")
    if digits:
        names += [f"digits_heatmaps_{model}.png" for model in MODEL_NAMES]
        names.append("digits_pixel_flipping.png")
    return names


def run_demo(output: str | os.PathLike = "demo-output", *, quiet: bool = False, digits: bool = True,
             force: bool = False) -> dict:
    """Run the whole demo, writing files into *output*.

    Parameters
    ----------
    output : str or Path
        Folder for the files (created if needed).
    quiet : bool
        Print nothing (for tests).
    digits : bool
        Include the digit models (heatmaps, pixel-flipping, AOPC table).
    force : bool
        Replace files the demo did not write last time, or that were
        changed since (by default the demo refuses, naming them).

    Returns
    -------
    dict
        ``files`` (paths written), ``verdicts`` (rule → verdict text),
        ``networks`` (example network → conservation status) and ``aopc``
        (the AOPC table text, or None).

    Raises
    ------
    symdtd.core.errors.InputError
        If *output* cannot be a folder, or (without *force*) it holds files
        the demo would replace that it did not write; checked before any work.
    """
    folder = check_output(output, folder=True)
    manifest = Manifest(folder)
    names = demo_file_names(digits)
    manifest.check(names, force=force)
    before = {name: sha256(folder / name) for name in names}
    folder.mkdir(parents=True, exist_ok=True)
    progress = _Progress(len(_RULES) + len(_NETWORKS) + 1 + int(digits), quiet)
    files, verdicts, networks = [], {}, {}
    try:
        _rules_part(folder, progress, files, verdicts, quiet)
        _networks_part(folder, progress, files, networks)
        _root_part(folder, progress, files)
        table = _digits_part(folder, progress, files, quiet) if digits else None
    finally:   # also after a failure or Ctrl-C: record what was written
        written = {Path(p).name for p in files}
        manifest.record([name for name in names
                         if name in written or sha256(folder / name) != before[name]])
    if not quiet:
        print(f"\nwrote {len(files)} files to {folder}/ "
              f"(with their SHA-256 in {manifest.path.name}):")
        for path in files:
            print(f"  {path}")
        print("rule verdicts:")
        for name, verdict in verdicts.items():
            print(f"  {name:6s} {verdict}")
        print("network conservation (Σ_p [x_f]_p = x_f):")
        for name, status in networks.items():
            print(f"  {name:9s} {status}")
    return {"files": files, "verdicts": verdicts, "networks": networks, "aopc": table}
