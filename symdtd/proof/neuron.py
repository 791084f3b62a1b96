"""Proofs of a derived rule: conservation, root on the hyperplane, root in the domain, positivity.

:func:`verify` gives each claim a verdict:

``proved``
    SymPy reduced the claim to 0 (identities) or to ``True`` (signs).
``refuted``
    a concrete counterexample was found — exact numbers satisfying the
    stated assumptions, on the active set, for which the claim is false.
``unknown``
    neither; the report says so rather than guessing.

The identities (conservation, root on the hyperplane) are proved here; the
sign claims (root in domain, positivity) in :mod:`symdtd.proof.sign_claims`, after
an exact witness search (:mod:`symdtd.proof.counterexample`) has had its say.

Examples
--------
>>> from symdtd import derive, verify
>>> report = verify(derive("z+"))
>>> [(c.name, c.verdict) for c in report.claims]
[('conservation', 'proved'), ('root on hyperplane', 'proved'), ('root in domain', 'proved'), ('positivity', 'proved')]
>>> verify("z+", bias="positive").claim("root in domain").verdict
'refuted'
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from ..core.algebra import rewrite_gates, split_sum
from ..core.domains import Box
from ..core.limits import check_fan_in
from ..core.rules import Rule
from ..derivation import printing as display
from ..derivation.taylor import Derivation, derive
from ..network.graph import Network
from .counterexample import CLAIMS, failed_checks, find_counterexample
from .network import NetworkReport
from .prover import merge_sums
from .sign_claims import Claim, SignContext, Witness, combine, positivity, root_in_domain

__all__ = ["verify", "Report", "Claim", "CONSERVATION_FAN_INS"]

CONSERVATION_FAN_INS = range(1, 7)


@dataclass
class Report:
    """The claims verified for one derivation; prints as a table.

    :func:`verify` builds it; each parameter is kept as the attribute of the
    same name. ``str(report)`` is a plain-text table, :meth:`to_latex` and
    :meth:`to_markdown` give the same table for a paper or a notebook.

    Parameters
    ----------
    title : str
        One line naming the rule and the fan-in.
    assumptions : str
        The assumptions the claims are proved under, as one line of text
        (input domain, bias sign, active set).
    claims : list of Claim
        The claims, in order: conservation, root on hyperplane, root in
        domain, positivity.

    Examples
    --------
    >>> from symdtd import verify
    >>> report = verify("w2")
    >>> report.all_proved, report.claim("conservation").verdict
    (True, 'proved')
    """

    title: str
    assumptions: str
    claims: list

    def claim(self, name) -> Claim:
        """The claim called *name*."""
        for claim in self.claims:
            if claim.name == name:
                return claim
        raise KeyError(f"no claim named {name!r}; claims: {[c.name for c in self.claims]}")

    @property
    def all_proved(self) -> bool:
        """True when every claim is proved."""
        return all(c.verdict == "proved" for c in self.claims)

    def __str__(self):
        width = max(len(c.name) for c in self.claims)
        lines = [self.title, f"assumptions: {self.assumptions}", ""]
        lines.append(f"{'claim':<{width}}  {'verdict':<8}  statement")
        lines.append(f"{'-' * width}  {'-' * 8}  {'-' * 9}")
        for c in self.claims:
            lines.append(f"{c.name:<{width}}  {c.verdict:<8}  {c.statement}")
            if c.checks or c.counterexample or c.reason:
                lines.append(f"{'':<{width}}  {'':<8}  └ {c.detail()}")
        return "\n".join(lines)

    def to_latex(self) -> str:
        """The report as a LaTeX ``tabular``."""
        esc = display.latex_escape
        rows = [f"{esc(c.name)} & \\textbf{{{c.verdict}}} & {esc(c.statement)} \\\\"
                for c in self.claims]
        return ("\\begin{tabular}{lll}\n"
                f"\\multicolumn{{3}}{{l}}{{{esc(self.title)}}} \\\\\n"
                f"\\multicolumn{{3}}{{l}}{{assumptions: {esc(self.assumptions)}}} \\\\\n"
                "\\hline\nclaim & verdict & statement \\\\\n\\hline\n"
                + "\n".join(rows) + "\n\\end{tabular}")

    def to_markdown(self) -> str:
        """The report as a Markdown table."""
        lines = [f"**{self.title}** — assumptions: {self.assumptions}", "",
                 "| claim | verdict | statement | details |", "|---|---|---|---|"]
        lines += [f"| {c.name} | **{c.verdict}** | {c.statement} | {c.detail()} |"
                  for c in self.claims]
        return "\n".join(lines)

    _repr_markdown_ = to_markdown


def _is_zero(expr) -> bool:
    """SymPy reduces *expr* to 0: rational normalisation first, then simplify."""
    if not expr.has(sp.Sum) and sp.cancel(sp.together(expr)) == 0:
        return True
    return sp.simplify(expr) == 0


# ---- conservation -------------------------------------------------------

def _conserves_general(d: Derivation) -> bool:
    s = d.space
    total = sp.Sum(d.rule, (s.i, 1, s.size))
    # pull the factor free of i out of the sum, then rename the dummy i -> i'
    outside, inside = total.function.as_independent(s.i, as_Add=False)
    collected = outside * sp.Sum(inside.xreplace({s.i: s.k}), (s.k, 1, s.size))
    return _is_zero(collected - s.x_out)


def _conserves(d: Derivation) -> bool:
    if d.space.general:
        return _conserves_general(d)
    return _is_zero(sp.Add(*d.rule) - d.space.x_out)


def _conservation(d: Derivation) -> Claim:
    checks = []
    domain = d.assumptions.domain
    # per-input bounds tie the rule to one fan-in, as a list direction does; a
    # derivation for one fan-in is checked at that fan-in only (as its title says)
    local = d.local and not (isinstance(domain, Box) and domain.per_input) and d.n is None
    fan_ins = list(CONSERVATION_FAN_INS) if local else [d.n]
    for n in fan_ins:
        other = d if n == d.n else derive(d.rule_def, n, bias=d.assumptions.bias)
        checks.append((f"n={n}", "proved" if _conserves(other) else "unknown"))
    if local:
        general = d if d.n is None else derive(d.rule_def, None, bias=d.assumptions.bias)
        checks.append(("arbitrary n", "proved" if _conserves(general) else "unknown"))
    return Claim("conservation", combine([v for _, v in checks]),
                 "Σ_i [x_j]_i = x_j (denominator ≠ 0)", checks)


# ---- the root -----------------------------------------------------------

def _hyperplane(d: Derivation, undefined=None) -> Claim:
    statement = "z_j(x̃) = 0 with x̃ = x − t·v"
    if undefined:
        return Claim("root on hyperplane", "unknown", statement, reason=undefined)
    s = d.space
    t = d.root["t"]
    if s.general:
        # z(x − t v) = z − t·Σ w v by linearity, and t = z / Σ q: the root is on
        # the hyperplane exactly when Σ w v − Σ q reduces to 0 (one merged sum)
        v, step = d.root["v"], s.t     # t kept as a symbol for the linearity identity
        point = s.preactivation(lambda k: s.x[k] - step * v.xreplace({s.i: k}))
        w_v = s.total(lambda k: s.w[k] * v.xreplace({s.i: k}))
        linear = sp.expand(split_sum(point) - split_sum(s.preactivation()) + step * split_sum(w_v))
        gap = merge_sums(split_sum(w_v) - split_sum(d.denominator))
        gap = gap.replace(lambda e: isinstance(e, sp.Sum),
                          lambda e: sp.Sum(sp.expand(rewrite_gates(sp.expand(e.function))),
                                           *e.limits))
        at_root = sp.expand(s.preactivation() - t * d.denominator)   # z − (z/Σq)·Σq
        proved = linear == 0 and (gap == 0 or _is_zero(gap)) and at_root == 0
    else:
        residual = rewrite_gates(sp.expand(s.preactivation(lambda k: d.root["x_tilde"][k])))
        proved = _is_zero(residual)
    verdict = "proved" if proved else "unknown"
    return Claim("root on hyperplane", verdict, statement)


def _search(d: Derivation, claim: str, seed: int):
    """A checked counterexample to *claim* (on a concrete fan-in), or None."""
    concrete = d if d.n is not None else _concrete(d)
    example = find_counterexample(concrete, claim, seed=seed)
    if example is None:
        return None
    return Witness(example, failed_checks(concrete, example))


def _concrete(d: Derivation) -> Derivation:
    return derive(d.rule_def, 2, bias=d.assumptions.bias)


def verify(subject: Derivation | str | Rule | Network, *args: object, bias: str | None = None,
           n: int | None = None, seed: int = 0, **kwargs: object) -> Report | NetworkReport:
    """Prove or refute the claims of a derivation (or of a network).

    Parameters
    ----------
    subject : Derivation, str or Network
        A derivation, or a rule name (derived with *n* and *bias*). A
        :class:`~symdtd.network.graph.Network` is verified by
        :func:`symdtd.proof.network.verify_network` with the remaining
        arguments (the inputs).
    *args
        Only for a network: passed on to
        :func:`~symdtd.proof.network.verify_network` (the inputs, the output
        neuron).
    bias : str, optional
        Override the bias assumption when *subject* is a rule name:
        ``"nonpositive"`` (default), ``"real"`` or ``"positive"``.
    n : int, optional
        Fan-in when *subject* is a rule name (default: arbitrary).
    seed : int
        Seed of the counterexample search.
    **kwargs
        Only for a network: keyword arguments passed on to
        :func:`~symdtd.proof.network.verify_network` (``arithmetic``,
        ``composite``…).

    Returns
    -------
    Report or NetworkReport
        For a derivation or a rule name, a :class:`Report`; repeated calls
        on the same derivation return the same (cached) report. For a
        network, the :class:`~symdtd.proof.network.NetworkReport` of
        :func:`~symdtd.proof.network.verify_network`.

    Raises
    ------
    symdtd.core.limits.LimitExceeded
        A fan-in over ``LIMITS.verify_fan_in`` (a ValueError; see :mod:`symdtd.core.limits`).
    TypeError
        A *subject* that is none of a derivation, a rule name or a network.

    Examples
    --------
    >>> from symdtd import examples
    >>> verify("z+", bias="positive").claim("root in domain").verdict
    'refuted'
    >>> verify(examples.xor(), {"x1": 1, "x2": 0}).status
    'proved'
    """
    if not isinstance(subject, (Derivation, str)):
        from ..network.graph import Network
        if isinstance(subject, Network):
            from .network import verify_network
            return verify_network(subject, *args, **kwargs)
        raise TypeError(f"verify expects a Derivation, a rule name or a Network, "
                        f"got {type(subject).__name__}")
    check_fan_in("verify_fan_in", subject.n if isinstance(subject, Derivation) else n, "verify")
    d = subject if isinstance(subject, Derivation) else derive(subject, n, bias=bias)
    return _verify_derivation(d, seed)


@functools.lru_cache(maxsize=128)
def _verify_derivation(d: Derivation, seed: int) -> Report:
    # derivations of named rules are cached, so a repeated verify is a lookup
    ctx = SignContext(d)
    # exact witnesses first: they refute at once, and spare the prover the
    # case splits of sub-claims that cannot be proved
    found = {} if ctx.undefined else {name: _search(d, name, seed) for name in CLAIMS}
    claims = [_conservation(d), _hyperplane(d, ctx.undefined),
              root_in_domain(ctx, found.get("root in domain")),
              positivity(ctx, found.get("positivity"))]
    # the assumptions as the derivation recorded them, not as its symbols carry them
    assumed = d.assumptions
    parts = [assumed.domain.assumption_text(), assumed.bias_text(), "active set z_j = x_j > 0"]
    if "gamma" in d.symbols:
        parts.append("γ ≥ 0")
    fan_in = "n" if d.n is None else str(d.n)
    title = f"Verification of the {d.rule_def.title} (fan-in {fan_in})"
    return Report(title, ", ".join(parts), claims)
