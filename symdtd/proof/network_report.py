"""What :func:`~symdtd.proof.network.verify_network` reports: :class:`NetworkReport`.

Its verdict in one line, the full text (the relevance total of every
topological generation and the neurons where the deep Taylor assumptions
fail) and a LaTeX table.

Examples
--------
>>> from symdtd import examples, verify_network
>>> report = verify_network(examples.xor(), {"x1": 1, "x2": 0})
>>> type(report).__name__, bool(report)
('NetworkReport', True)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

__all__ = ["NetworkReport"]


@dataclass
class NetworkReport:
    """What :func:`~symdtd.proof.network.verify_network` found. ``bool(report)`` is True when proved.

    :func:`~symdtd.proof.network.verify_network` builds it; each parameter is kept as the attribute
    of the same name. ``str(report)`` gives the full text report,
    :meth:`verdict` one line and :meth:`to_latex` a table of the relevance
    per generation.

    Parameters
    ----------
    status : {"proved", "refuted", "unknown"}
        Whether ``Σ_p [x_f]_p = x_f`` was proved, refuted or neither.
    residual : number or sympy.Expr
        ``Σ_p [x_f]_p − x_f`` after simplification.
    float_residual : float or None
        The same in float arithmetic (None without a numeric point).
    accounted : bool
        The residual equals minus what biases absorbed and zero-denominator
        neurons lost, so every bit of relevance is accounted for.
    layer_totals : list of (int, list, value)
        Generation index, its nodes and the relevance they hold. With skip
        connections these totals differ from generation to generation: an
        edge that jumps over a generation carries relevance past it.
    positive_bias : list of str
        The neurons with a positive bias (their root may leave the domain).
    zero_denominators : list of str
        The neurons whose denominator ``Σ q`` was 0 (their messages are set to 0).
    roots_outside : dict or None
        ``neuron -> t`` for neurons whose root ``x − t·v`` leaves the domain
        (None when there was no numeric point to check).
    absorbed : dict
        ``neuron -> relevance`` absorbed by the neuron's bias, from the explanation.
    lost : dict
        ``neuron -> relevance`` lost at a zero denominator, from the explanation.
    explanation : Explanation
        The propagation the report is about
        (:class:`~symdtd.propagation.backward.Explanation`).
    rule_mismatches : dict, optional
        ``neuron -> why`` for neurons whose rule assumes an input domain
        that does not contain their inputs' values (its proofs do not apply).
    cut_totals : list of (int, value), optional
        Per generation ``k``, the relevance crossing the cut above it: the
        messages on the edges from generations ``≤ k`` to generations
        ``> k`` (for the output's generation, its relevance). Every cut of
        the DAG carries all of ``x_f`` (less what biases absorb and zero
        denominators lose above it), skip connections or not.

    Examples
    --------
    >>> from symdtd import examples, verify_network
    >>> report = verify_network(examples.figure3(), examples.example_inputs("figure3")[0])
    >>> bool(report), report.positive_bias, report.roots_outside
    (True, [], {})
    """

    status: str
    residual: object
    float_residual: float | None
    accounted: bool
    layer_totals: list
    positive_bias: list
    zero_denominators: list
    roots_outside: dict | None
    absorbed: dict
    lost: dict
    explanation: object = field(repr=False)
    rule_mismatches: dict = field(default_factory=dict)
    cut_totals: list = field(default_factory=list)

    def __bool__(self):
        return self.status == "proved"

    def problems(self):
        """What breaks the deep Taylor assumptions, as short phrases (may be empty).

        Conservation can hold while the roots behind it leave their domains;
        these are the neurons where the decomposition is not a Taylor
        decomposition at a root in the domain.
        """
        found = []
        for items, one, many in (
                (self.roots_outside or {}, "root outside the domain", "roots outside the domain"),
                (self.positive_bias, "neuron with a positive bias", "neurons with a positive bias"),
                (self.rule_mismatches, "rule outside its proved domain",
                 "rules outside their proved domain"),
                (self.zero_denominators, "zero denominator", "zero denominators")):
            if items:
                names = list(items)
                shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
                found.append(f"{len(names)} {one if len(names) == 1 else many} ({shown})")
        return found

    def verdict(self):
        """One line: the status, the residual and every problem found.

        >>> from symdtd import Network, verify_network
        >>> net = Network()
        >>> net.add_input("a"); net.add_input("b")
        >>> net.add_neuron("h", {"a": 1, "b": -1}, bias=1)
        >>> verify_network(net, {"a": 1, "b": 0}).verdict()
        'proved: Σ_p [x_f]_p − x_f = 0 (exact arithmetic); but 1 root outside the domain (h), 1 neuron with a
        positive bias (h)'
        """
        how = f"({self.explanation.arithmetic} arithmetic)"
        if self.status == "proved":
            text = f"proved: Σ_p [x_f]_p − x_f = 0 {how}"
            if self.explanation.arithmetic == "symbolic" and self.explanation.at is None:
                text += ", wherever no denominator Σ q vanishes"
        else:
            text = f"{self.status}: Σ_p [x_f]_p − x_f = {_short(self.residual)} {how}"
            if self.accounted and self.status == "refuted":
                text += "; the difference is what biases absorbed or zero denominators lost"
        problems = self.problems()
        if problems:
            text += "; but " + ", ".join(problems)
        return text

    def __str__(self):
        e = self.explanation
        lines = [f"Conservation of relevance for output {e.output_node!r}",
                 f"  x_f = {_short(e.output)}",
                 f"  Σ_p [x_f]_p = {_short(e.total)}",
                 f"  {self.verdict()}"]
        if self.float_residual is not None:
            lines.append(f"  float residual: {self.float_residual:.3g}")
        lines.append("Relevance by topological generation:")
        cuts = dict(self.cut_totals)
        rows = [("gen", "total", "across cut", "nodes")] + [
            (str(k), _short(total, 50), _short(cuts[k], 50) if k in cuts else "", " ".join(nodes))
            for k, nodes, total in self.layer_totals]
        width = [max(len(r[c]) for r in rows) for c in range(3)]
        lines += [f"  {a:<{width[0]}}  {b:<{width[1]}}  {c:<{width[2]}}  {d}" for a, b, c, d in rows]
        lines.append("  (across cut: the messages from generations ≤ gen to those above; every "
                     "cut carries x_f less what biases absorb and zero denominators lose, while "
                     "skip connections make the generation totals differ)")
        roots = ("not checked (no numeric point)" if self.roots_outside is None
                 else _listing({n: f"t = {t}" for n, t in self.roots_outside.items()}))
        mismatches = "; ".join(f"{k}: {v}" for k, v in self.rule_mismatches.items())
        lines += [f"Rule outside its proved domain: {mismatches or 'none'}",
                  f"Positive bias (root may leave the domain): {_listing(self.positive_bias)}",
                  f"Root outside the domain: {roots}",
                  f"Zero denominator (messages set to 0): {_listing(self.zero_denominators)}",
                  f"Relevance absorbed by a bias: {_listing(self.absorbed)}",
                  f"Relevance lost at a zero denominator: {_listing(self.lost)}"]
        if e.note:
            lines.append(f"Note: {e.note}")
        return "\n".join(lines)

    def to_latex(self):
        """The generation totals and the verdict as a LaTeX ``tabular``."""
        rows = [rf"{k} & {', '.join(_tex_name(n) for n in nodes)} & ${sp.latex(total)}$ \\"
                for k, nodes, total in self.layer_totals]
        e = self.explanation
        return "\n".join([r"\begin{tabular}{rll}", r"gen & nodes & relevance \\ \hline", *rows,
                          r"\hline", rf"\multicolumn{{3}}{{l}}{{$\sum_p [x_f]_p - x_f = "
                          rf"{sp.latex(self.residual)}$ ({self.status}, {e.arithmetic})}} \\",
                          r"\end{tabular}"])


def _short(value, width=70):
    text = str(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def _listing(items):
    if not items:
        return "none"
    if isinstance(items, dict):
        return ", ".join(f"{k} ({_short(v, 30)})" for k, v in items.items())
    return ", ".join(items)


def _tex_name(name):
    return r"\texttt{" + name.replace("_", r"\_") + "}"
