"""Proofs of a derived rule: conservation, root on the hyperplane, root in the domain, positivity.

:func:`verify` gives each claim a verdict:

``proved``
    SymPy reduced the claim to 0 (identities) or to ``True`` (signs).
``refuted``
    a concrete counterexample was found — exact numbers satisfying the
    stated assumptions, on the active set, for which the claim is false.
``unknown``
    neither; the report says so rather than guessing.

Sign claims are checked in a multiplied-out form that avoids dividing by the
denominator ``Q = Σ_i q_i`` (which is assumed non-zero, as a zero
denominator means the neuron passes nothing on): ``t ≥ 0 ⇔ z·Q ≥ 0``,
``t ≤ 1 ⇔ (Q − z)·Q ≥ 0``, ``[x_j]_i ≥ 0 ⇔ q_i·Q·x_j ≥ 0``. On the active set
``z_j = x_j > 0`` and ``Q = x_j + D`` with ``D = Q − z_j``; both forms are tried.

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
from dataclasses import dataclass, field

import sympy as sp

from . import display
from .counterexample import find_counterexample
from .algebra import rewrite_gates, split_sum
from .derivation import Derivation, derive
from .domains import Box, Real
from .limits import check_fan_in
from .prover import merge_sums, prove_nonnegative

__all__ = ["verify", "Report", "Claim", "CONSERVATION_FAN_INS"]

CONSERVATION_FAN_INS = range(1, 7)
_VERDICTS = ("proved", "refuted", "unknown")


@dataclass
class Claim:
    """One verified claim.

    Attributes
    ----------
    name : str
        ``"conservation"``, ``"root on hyperplane"``, ``"root in domain"``
        or ``"positivity"``.
    verdict : str
        ``"proved"``, ``"refuted"`` or ``"unknown"``.
    statement : str
        What was claimed, in words and symbols.
    checks : list of (str, str)
        The sub-claims and their verdicts.
    counterexample : dict or None
        For a refuted claim: symbol name → exact value.
    """

    name: str
    verdict: str
    statement: str
    checks: list = field(default_factory=list)
    counterexample: dict | None = None

    def detail(self) -> str:
        """Sub-claims and the counterexample, in one line."""
        parts = [f"{label}: {verdict}" for label, verdict in self.checks]
        if self.counterexample:
            values = ", ".join(f"{k}={v}" for k, v in self.counterexample.items())
            parts.append(f"counterexample: {values}")
        return "; ".join(parts)


@dataclass
class Report:
    """The claims verified for one derivation; prints as a table."""

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
            if c.checks or c.counterexample:
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


def _combine(verdicts):
    if "refuted" in verdicts:
        return "refuted"
    if all(v == "proved" for v in verdicts):
        return "proved"
    return "unknown"


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
    local = d.local
    fan_ins = sorted({*CONSERVATION_FAN_INS, d.n} - {None}) if local else [d.n]
    for n in fan_ins:
        other = d if n == d.n else derive(d.rule_def, n, bias=_bias_of(d))
        checks.append((f"n={n}", "proved" if _conserves(other) else "unknown"))
    if local:
        general = d if d.n is None else derive(d.rule_def, None, bias=_bias_of(d))
        checks.append(("arbitrary n", "proved" if _conserves(general) else "unknown"))
    return Claim("conservation", _combine([v for _, v in checks]),
                 "Σ_i [x_j]_i = x_j (denominator ≠ 0)", checks)


def _bias_of(d: Derivation) -> str:
    b = d.space.b
    for name in ("nonpositive", "positive", "nonnegative"):
        if getattr(b, f"is_{name}") and b.assumptions0.get(name):
            return name
    return "real"


# ---- the root -----------------------------------------------------------

def _hyperplane(d: Derivation) -> Claim:
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
    return Claim("root on hyperplane", verdict, "z_j(x̃) = 0 with x̃ = x − t·v")


class _Context:
    """What the sign claims of one derivation need."""

    def __init__(self, d: Derivation):
        self.d = d
        s = self.s = d.space
        self.Q = d.denominator
        self.Z = d.space.preactivation()
        if s.general:
            numer = d.numerator
            self.D = s.total(lambda k: numer.xreplace({s.i: k}) - s.w[k] * s.x[k]) - s.b
        else:
            self.D = sp.Add(*[q - s.w[k] * s.x[k] for k, q in enumerate(d.numerator)]) - s.b
        self.boxed = isinstance(d.rule_def.domain, Box)

    def weights(self):
        s = self.s
        return [s.w[s.i]] if s.general else list(s.w)

    def box(self, index=None):
        s = self.s
        if not self.boxed:
            return None
        positions = [index] if index is not None else (
            [s.i] if s.general else s.indices)
        return {s.x[k]: (s.l[k], s.h[k]) for k in positions}

    def nonnegative(self, *forms):
        s = self.s
        kwargs = {}
        if s.general:
            # a sum's term may also carry the outer input's gate 1[w_i > 0]
            kwargs = {"sum_weights": lambda total: [s.w[total.limits[0][0]], s.w[s.i]],
                      "box_of_sum": lambda total: self.box(total.limits[0][0])}
        for form in forms:
            verdict = prove_nonnegative(form, self.weights(), self.box(), **kwargs)
            if verdict:
                return "proved"
        return "unknown"


def _in_domain(ctx: _Context, t_bounded: bool, q_positive: bool):
    """Sub-claims that the root point lies in the input domain."""
    s, d = ctx.s, ctx.d
    domain = d.rule_def.domain
    if isinstance(domain, Real):
        return [("x̃ ∈ ℝⁿ", "proved")]
    pos = s.indices[0]
    # x̃ is affine in t; with t ∈ [0, 1] it suffices to check both ends
    t = s.t
    affine = s.x[pos] - t * (d.root["v"] if s.general else d.root["v"][0])
    checks = []
    bounds = [("x̃_i ≥ 0", lambda e: e)] if not ctx.boxed else [
        ("x̃_i ≥ l_i", lambda e: e - s.l[pos]), ("x̃_i ≤ h_i", lambda e: s.h[pos] - e)]
    # Q > 0 once t ≥ 0 is proved (x_j > 0, Q ≠ 0), so x̃ ≥ l ⇔ Q·(x̃ − l) ≥ 0
    scaled = s.x[pos] * ctx.Q - ctx.Z * (d.root["v"] if s.general else d.root["v"][0])
    for label, gap in bounds:
        verdict = "unknown"
        if t_bounded:
            ends = [ctx.nonnegative(gap(affine.xreplace({t: end}))) for end in (0, 1)]
            verdict = _combine(ends)
        if verdict != "proved" and q_positive:
            verdict = ctx.nonnegative(sp.expand(gap(scaled / ctx.Q) * ctx.Q))
        checks.append((label, verdict))
    return checks


def _root_in_domain(ctx: _Context) -> Claim:
    s = ctx.s
    x_j, Q, Z, D = s.x_out, ctx.Q, ctx.Z, ctx.D
    checks = [("t ≥ 0", ctx.nonnegative(x_j * Q, x_j * (x_j + D)))]
    bounded = not isinstance(ctx.d.rule_def.domain, Real)
    if bounded:
        checks.append(("t ≤ 1", ctx.nonnegative((Q - Z) * Q, D * (x_j + D), D)))
    q_positive = checks[0][1] == "proved"
    t_bounded = bounded and all(v == "proved" for _, v in checks)
    checks += _in_domain(ctx, t_bounded, q_positive)
    statement = ("t ≥ 0 and x̃ ∈ ℝⁿ" if not bounded else
                 f"0 ≤ t ≤ 1 and x̃ ∈ {ctx.d.rule_def.domain.name}")
    return Claim("root in domain", _combine([v for _, v in checks]), statement, checks)


def _positivity(ctx: _Context) -> Claim:
    s = ctx.s
    x_j = s.x_out
    numerators = [ctx.d.numerator] if s.general else ctx.d.numerator
    # every q_i ≥ 0 already suffices: then Σ q ≥ 0, and Σ q ≠ 0 makes it > 0;
    # the multiplied-out forms are tried when single terms cannot be signed
    if all(ctx.nonnegative(q) == "proved" for q in numerators):
        verdict = "proved"
    else:
        verdict = _combine([ctx.nonnegative(q * ctx.Q * x_j, q * (x_j + ctx.D) * x_j)
                            for q in numerators])
    return Claim("positivity", verdict, "[x_j]_i ≥ 0 for every input",
                 [("[x_j]_i ≥ 0", verdict)])


def _refute(claim: Claim, d: Derivation, seed: int) -> Claim:
    """Look for exact numbers breaking a claim that was not proved."""
    if claim.verdict == "proved" or claim.name not in ("root in domain", "positivity"):
        return claim
    concrete = d if d.n is not None else _concrete(d)
    example = find_counterexample(concrete, claim.name, seed=seed)
    if example is not None:
        claim.verdict, claim.counterexample = "refuted", example
    return claim


def _concrete(d: Derivation) -> Derivation:
    return derive(d.rule_def, 2, bias=_bias_of(d))


def verify(subject, *args, bias=None, n=None, seed=0, **kwargs):
    """Prove or refute the claims of a derivation (or of a network).

    Parameters
    ----------
    subject : Derivation, str or Network
        A derivation, or a rule name (derived with *n* and *bias*). A
        :class:`~symdtd.network.Network` is verified by
        :func:`symdtd.network_verify.verify_network` with the remaining
        arguments (the inputs).
    bias : str, optional
        Override the bias assumption when *subject* is a rule name:
        ``"nonpositive"`` (default), ``"real"`` or ``"positive"``.
    n : int, optional
        Fan-in when *subject* is a rule name (default: arbitrary).
    seed : int
        Seed of the counterexample search.

    Returns
    -------
    Report
        Repeated calls on the same derivation return the same (cached) report.

    Raises
    ------
    symdtd.limits.LimitExceeded
        A fan-in over ``LIMITS.verify_fan_in`` (a ValueError; see :mod:`symdtd.limits`).
    """
    if not isinstance(subject, (Derivation, str)):
        from .network import Network
        if isinstance(subject, Network):
            from .network_verify import verify_network
            return verify_network(subject, *args, **kwargs)
        raise TypeError(f"verify expects a Derivation, a rule name or a Network, "
                        f"got {type(subject).__name__}")
    check_fan_in("verify_fan_in", subject.n if isinstance(subject, Derivation) else n, "verify")
    d = subject if isinstance(subject, Derivation) else derive(subject, n, bias=bias)
    return _verify_derivation(d, seed)


@functools.lru_cache(maxsize=128)
def _verify_derivation(d: Derivation, seed: int) -> Report:
    # derivations of named rules are cached, so a repeated verify is a lookup
    ctx = _Context(d)
    claims = [_conservation(d), _hyperplane(d), _root_in_domain(ctx), _positivity(ctx)]
    claims = [_refute(c, d, seed) for c in claims]
    bias_text = {"nonpositive": "b_j ≤ 0", "positive": "b_j > 0",
                 "nonnegative": "b_j ≥ 0", "real": "b_j any real"}[_bias_of(d)]
    domain = d.rule_def.domain
    parts = [f"x ∈ {domain.name}" + (" (l_i ≤ 0 ≤ h_i)" if isinstance(domain, Box) else ""),
             bias_text, "active set z_j = x_j > 0"]
    if "gamma" in d.symbols:
        parts.append("γ ≥ 0")
    fan_in = "n" if d.n is None else str(d.n)
    title = f"Verification of the {d.rule_def.title} (fan-in {fan_in})"
    return Report(title, ", ".join(parts), claims)
