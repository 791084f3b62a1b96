"""What :func:`~symdtd.real.selection.select` measured: :class:`Selection`, its table and report.

The figures are :class:`~symdtd.real.dask_run.Tally` objects (exact sums
and counts of per-row AOPC); the table ranks the candidates on the
selection split, the report adds the winner's held-out figures and the
paired differences against the paper's default and gradient × input.

Examples
--------
>>> import numpy as np
>>> from symdtd.real.dask_run import Tally
>>> from symdtd.real.selection_space import Candidate
>>> from symdtd.network.composites import PaperDefault
>>> c = Candidate("default", PaperDefault())
>>> t = Tally([np.array([0.5, 0.7])])
>>> s = Selection([c], {("default", "blank"): t}, c, {("default", "blank"): t}, {},
...               np.array([0, 1]), np.array([2, 3]), ("blank",), "blank")
>>> s.ranking()[0].label, s.best_composite
('default', PaperDefault())
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .selection_space import Candidate

__all__ = ["Selection"]


@dataclass
class Selection:
    """What :func:`select` measured; ``str()`` prints the report.

    Its fields are the constructor's parameters.

    Parameters
    ----------
    candidates : list of Candidate
        Every candidate scored, in the order tried.
    scores : dict
        ``(label, baseline) -> Tally`` of per-row AOPC on the selection split.
    best : Candidate
        The winner by the selection metric on the selection split.
    held_out : dict
        ``(label, baseline) -> Tally`` on the held-out split, for the winner,
        the paper's default and gradient × input.
    comparisons : dict
        ``(other, baseline) -> Tally`` of the paired differences winner − other
        over the held-out rows.
    selection_rows, held_out_rows : numpy.ndarray of int
        The rows of each split (disjoint).
    baselines : tuple of str
    metric : str
        The baseline whose AOPC chose the winner.
    skipped : list of (str, str)
        Candidates left out and why.
    seconds : float
    """

    candidates: list
    scores: dict
    best: Candidate
    held_out: dict
    comparisons: dict
    selection_rows: np.ndarray
    held_out_rows: np.ndarray
    baselines: tuple
    metric: str
    skipped: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def best_composite(self):
        """The winner's composite (pass it to ``compile``, ``propagate``, ``render``)."""
        return self.best.composite

    def ranking(self, baseline=None):
        """Candidates by decreasing selection-split AOPC under *baseline* (default the metric's)."""
        baseline = baseline or self.metric
        return sorted(self.candidates, key=lambda c: -self.scores[c.label, baseline].mean)

    def table(self):
        """One row per candidate: AOPC mean and 95% CI on the selection split, each baseline."""
        width = max(len(c.label) for c in self.candidates) + 2
        lines = [f"Selection split: {len(self.selection_rows)} rows, {len(self.candidates)} candidates; "
                 f"AOPC mean [95% CI], chosen by {self.metric}",
                 "rank  " + "candidate".ljust(width) + "".join(f"{b:>26}" for b in self.baselines)]
        for k, c in enumerate(self.ranking(), 1):
            cells = "".join(_cell(self.scores[c.label, b]) for b in self.baselines)
            lines.append(f"{k:>4}  " + c.label.ljust(width) + cells)
        return "\n".join(lines)

    def report(self):
        """The table, the winner on both splits and the paired held-out comparisons, as text."""
        lines = [self.table(), ""]
        if self.skipped:
            lines += [f"skipped {len(self.skipped)} candidate(s) whose rules cannot apply, e.g. "
                      f"{self.skipped[0][0]}: {self.skipped[0][1]}", ""]
        lines.append(f"winner ({len(self.candidates)} candidates tried on {len(self.selection_rows)} "
                     f"selection rows): {self.best.label}")
        for b in self.baselines:
            sel, held = self.scores[self.best.label, b], self.held_out[self.best.label, b]
            lines.append(f"  AOPC ({b}): selection {sel.mean:.4f}, held-out {held.mean:.4f} "
                         f"[{held.ci()[0]:.4f}, {held.ci()[1]:.4f}] on {held.count} rows")
        others = [b for b in self.baselines if b != self.metric]
        for b in others:
            alt = self.ranking(b)[0]
            if alt != self.best:
                lines.append(f"  by the {b} baseline the winner would be {alt.label}: "
                             "the choice depends on the baseline")
        lines += ["", f"held-out split ({len(self.held_out_rows)} rows, never seen by the search):"]
        width = max(len(k[0]) for k in self.held_out) + 2
        for label in {k[0]: None for k in self.held_out}:  # in order, once each
            lines.append("  " + label.ljust(width)
                         + "".join(_cell(self.held_out[label, b]) for b in self.baselines))
        for (other, b), d in self.comparisons.items():
            lo, hi = d.ci()
            lines.append(f"  paired difference winner − {other} ({b}): {d.mean:+.4f} "
                         f"[{lo:+.4f}, {hi:+.4f}]")
        return "\n".join(lines)

    __str__ = report

    def as_dict(self):
        """A JSON-ready summary: the table, the winner (its composite's JSON) and the held-out figures."""
        def figures(tally):
            return {"mean": tally.mean, "ci": list(tally.ci()), "sum": tally.total, "count": tally.count}
        return {"metric": self.metric, "baselines": list(self.baselines),
                "selection_rows": self.selection_rows.tolist(),
                "held_out_rows": self.held_out_rows.tolist(),
                "candidates": [{"candidate": c.to_dict(),
                                **{b: figures(self.scores[c.label, b]) for b in self.baselines}}
                               for c in self.candidates],
                "best": self.best.to_dict(),
                "held_out": {f"{k[0]} | {k[1]}": figures(t) for k, t in self.held_out.items()},
                "comparisons": {f"winner - {k[0]} | {k[1]}": figures(t)
                                for k, t in self.comparisons.items()},
                "skipped": [list(s) for s in self.skipped], "seconds": self.seconds}


def _cell(tally):
    lo, hi = tally.ci()
    return f"{tally.mean:9.4f} [{lo:.4f}, {hi:.4f}]".rjust(26)

