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
from .counterexample import CLAIMS, failed_checks, find_counterexample
from .algebra import rewrite_gates, split_sum
from .derivation import Derivation, derive
from .domains import Box, Real
from .limits import check_fan_in
from .prover import merge_sums, prove_nonnegative

__all__ = ["verify", "Report", "Claim", "CONSERVATION_FAN_INS"]

CONSERVATION_FAN_INS = range(1, 7)
#: how a report states each bias assumption
BIAS_TEXT = {"nonpositive": "b_j ≤ 0", "positive": "b_j > 0", "nonnegative": "b_j ≥ 0",
             "real": "b_j any real"}
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
        For a refuted claim: symbol name → exact value, every symbol the
        claim depends on bound, every assumption met (checked exactly).
    reason : str or None
        Why an *unknown* claim could not be decided at all (for example a
        direction that is undefined for some inputs).
    """

    name: str
    verdict: str
    statement: str
    checks: list = field(default_factory=list)
    counterexample: dict | None = None
    reason: str | None = None

    def detail(self) -> str:
        """Sub-claims, the reason and the counterexample, in one line."""
        parts = [f"{label}: {verdict}" for label, verdict in self.checks]
        if self.reason:
            parts.append(f"reason: {self.reason}")
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
    domain = d.rule_def.domain
    # per-input bounds tie the rule to one fan-in, as a list direction does
    local = d.local and not (isinstance(domain, Box) and domain.per_input)
    fan_ins = sorted({*CONSERVATION_FAN_INS, d.n} - {None}) if local else [d.n]
    for n in fan_ins:
        other = d if n == d.n else derive(d.rule_def, n, bias=d.bias)
        checks.append((f"n={n}", "proved" if _conserves(other) else "unknown"))
    if local:
        general = d if d.n is None else derive(d.rule_def, None, bias=d.bias)
        checks.append(("arbitrary n", "proved" if _conserves(general) else "unknown"))
    return Claim("conservation", _combine([v for _, v in checks]),
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


class _Context:
    """What the sign claims of one derivation need, under its stated assumptions.

    A numeric box is an assumption about numbers: its finite bounds are
    substituted for the symbols ``l_i``, ``h_i`` in every expression the
    prover sees, and an open side (``±∞``) constrains nothing.
    """

    def __init__(self, d: Derivation):
        self.d = d
        s = self.s = d.space
        self.domain = d.rule_def.domain
        self.boxed = isinstance(self.domain, Box)
        self.fixed, self.open = _bound_values(d)
        numerators = [d.numerator] if s.general else d.numerator
        self.numerators = [self.sub(q) for q in numerators]
        self.v = [self.sub(v) for v in ([d.root["v"]] if s.general else d.root["v"])]
        self.Q = self.sub(d.denominator)
        self.Z = d.space.preactivation()
        if s.general:
            numer = self.numerators[0]
            self.D = s.total(lambda k: numer.xreplace({s.i: k}) - s.w[k] * s.x[k]) - s.b
        else:
            self.D = sp.Add(*[q - s.w[k] * s.x[k] for k, q in enumerate(self.numerators)]) - s.b
        self.undefined = _undefined_reason(d, self)

    def sub(self, expr):
        """*expr* with the numeric box bounds put in for ``l_i``, ``h_i``."""
        if not self.fixed:
            return expr
        if self.s.general:
            return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base in self.fixed,
                                lambda e: self.fixed[e.base])
        return expr.xreplace(self.fixed)

    def positions(self):
        """The input positions whose root coordinate is checked: every one."""
        return self.s.indices

    def weights(self):
        s = self.s
        return [s.w[s.i]] if s.general else list(s.w)

    def bounds_of(self, k):
        """``(l, h)`` of input *k* for the prover: symbols, numbers or None (open)."""
        s = self.s
        if self.domain.symbolic:
            return s.l[k], s.h[k]
        ends = []
        for base in (s.l, s.h):
            key = base if s.general else base[k]
            ends.append(None if key in self.open else self.fixed[key])
        return tuple(ends)

    def box(self, index=None):
        s = self.s
        if not self.boxed:
            return None
        positions = [index] if index is not None else (
            [s.i] if s.general else s.indices)
        return {s.x[k]: self.bounds_of(k) for k in positions}

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


def _bound_values(d: Derivation):
    """Numeric box bounds: ``({symbol or base: finite value}, {symbols with ±∞})``."""
    domain, s = d.rule_def.domain, d.space
    if not isinstance(domain, Box) or domain.symbolic:
        return {}, set()
    lows, highs = domain.exact_bounds(1 if s.general else s.n)
    fixed, open_ = {}, set()
    keys = [(s.l, s.h)] if s.general else list(zip(s.l, s.h))
    for (l_key, h_key), low, high in zip(keys, lows, highs):
        for key, value in ((l_key, low), (h_key, high)):
            if value.is_finite:
                fixed[key] = value
            else:
                open_.add(key)
    return fixed, open_


def _undefined_reason(d: Derivation, ctx: _Context):
    """Why the rule is not defined for every allowed input, or None."""
    s = d.space
    for q in ctx.numerators + [ctx.Q]:
        for key in ctx.open:
            if (q.has(key) if not s.general else
                    any(isinstance(e, sp.Indexed) and e.base == key for e in q.atoms(sp.Indexed))):
                return f"an open box bound ({key} = ±∞) enters the rule"
    for v in ([d.root["v"]] if s.general else d.root["v"]):
        if v.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
            return f"the direction {display.text(v)} is not finite"
        denominator = sp.denom(sp.together(v))
        if not denominator.is_number and denominator.is_zero is not False:
            return (f"the direction {display.text(v)} is undefined where "
                    f"{display.text(denominator)} = 0")
    return None


def _in_domain(ctx: _Context, t_bounded: bool, q_positive: bool, skip=()):
    """Sub-claims that the root point lies in the input domain, for every input.

    Labels in *skip* (already refuted by a witness) are not proved again.
    """
    s = ctx.s
    if isinstance(ctx.domain, Real):
        return [("x̃ ∈ ℝⁿ", "proved")]
    t = s.t
    verdicts = {}
    for position, k in enumerate(ctx.positions()):
        v = ctx.v[position]
        affine = s.x[k] - t * v                    # x̃_k on the search line
        scaled = s.x[k] * ctx.Q - ctx.Z * v        # Q·x̃_k, free of the division
        # each side as gap(c·x̃, c) ≥ 0 for a positive scale c (1 or Q)
        if not ctx.boxed:
            sides = [("x̃_i ≥ 0", lambda e, c: e)]
        else:
            low, high = ctx.bounds_of(k)
            sides = ([("x̃_i ≥ l_i", lambda e, c, low=low: e - low * c)]
                     if low is not None else []) + \
                    ([("x̃_i ≤ h_i", lambda e, c, high=high: high * c - e)]
                     if high is not None else [])
        for label, gap in sides:
            # x̃ is affine in t: with t ∈ [0, 1] both ends suffice; and since
            # Q > 0 once t ≥ 0 is proved, x̃ ≥ l ⇔ Q·(x̃ − l) ≥ 0
            verdict = "unknown"
            if label in skip:
                verdicts.setdefault(label, []).append("refuted")
                continue
            if t_bounded:
                verdict = _combine([ctx.nonnegative(gap(affine.xreplace({t: end}), 1))
                                    for end in (0, 1)])
            if verdict != "proved" and q_positive:
                verdict = ctx.nonnegative(sp.expand(gap(scaled, ctx.Q)))
            verdicts.setdefault(label, []).append(verdict)
    if not verdicts:
        return [("x̃ in the box (no finite bound)", "proved")]
    return [(label, _combine(found)) for label, found in verdicts.items()]


def _root_in_domain(ctx: _Context, witness) -> Claim:
    s = ctx.s
    bounded = not isinstance(ctx.domain, Real)
    statement = ("t ≥ 0 and x̃ ∈ ℝⁿ" if not bounded else
                 f"0 ≤ t ≤ 1 and x̃ ∈ {ctx.domain.name}")
    if ctx.undefined:
        return Claim("root in domain", "unknown", statement, reason=ctx.undefined)
    broken = witness.failed if witness else []

    def check(label, *forms):
        # a sub-claim the witness breaks is refuted: no proof is attempted
        return "refuted" if label in broken else ctx.nonnegative(*forms)

    x_j, Q, Z, D = s.x_out, ctx.Q, ctx.Z, ctx.D
    checks = [("t ≥ 0", check("t ≥ 0", x_j * Q, x_j * (x_j + D)))]
    if bounded:
        checks.append(("t ≤ 1", check("t ≤ 1", (Q - Z) * Q, D * (x_j + D), D)))
    q_positive = checks[0][1] == "proved"
    t_bounded = bounded and all(v == "proved" for _, v in checks)
    checks += [(label, "refuted" if label in broken else verdict)
               for label, verdict in _in_domain(ctx, t_bounded, q_positive, skip=broken)]
    return _claim_with_witness("root in domain", statement, checks, witness)


def _positivity(ctx: _Context, witness) -> Claim:
    statement = "[x_j]_i ≥ 0 for every input"
    if ctx.undefined:
        return Claim("positivity", "unknown", statement, reason=ctx.undefined)
    if witness:
        return _claim_with_witness("positivity", statement, [("[x_j]_i ≥ 0", "refuted")],
                                   witness)
    x_j = ctx.s.x_out
    # every q_i ≥ 0 already suffices: then Σ q ≥ 0, and Σ q ≠ 0 makes it > 0;
    # the multiplied-out forms are tried when single terms cannot be signed
    if all(ctx.nonnegative(q) == "proved" for q in ctx.numerators):
        verdict = "proved"
    else:
        verdict = _combine([ctx.nonnegative(q * ctx.Q * x_j, q * (x_j + ctx.D) * x_j)
                            for q in ctx.numerators])
    return Claim("positivity", verdict, statement, [("[x_j]_i ≥ 0", verdict)])


def _claim_with_witness(name, statement, checks, witness):
    verdict = _combine([v for _, v in checks])
    if witness and verdict != "refuted":   # the witness breaks the claim as a whole
        verdict = "refuted"
    if verdict == "proved" and witness:
        raise AssertionError(f"{name}: proved yet refuted by {witness.values}")  # prover bug
    return Claim(name, verdict, statement, checks,
                 witness.values if witness and verdict == "refuted" else None)


@dataclass
class _Witness:
    values: dict
    failed: list


def _search(d: Derivation, claim: str, seed: int):
    """A checked counterexample to *claim* (on a concrete fan-in), or None."""
    concrete = d if d.n is not None else _concrete(d)
    example = find_counterexample(concrete, claim, seed=seed)
    if example is None:
        return None
    return _Witness(example, failed_checks(concrete, example))


def _concrete(d: Derivation) -> Derivation:
    return derive(d.rule_def, 2, bias=d.bias)


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
    # exact witnesses first: they refute at once, and spare the prover the
    # case splits of sub-claims that cannot be proved
    found = {} if ctx.undefined else {name: _search(d, name, seed) for name in CLAIMS}
    claims = [_conservation(d), _hyperplane(d, ctx.undefined),
              _root_in_domain(ctx, found.get("root in domain")),
              _positivity(ctx, found.get("positivity"))]
    parts = [d.rule_def.domain.assumption_text(), BIAS_TEXT[d.bias],
             "active set z_j = x_j > 0"]
    if "gamma" in d.symbols:
        parts.append("γ ≥ 0")
    fan_in = "n" if d.n is None else str(d.n)
    title = f"Verification of the {d.rule_def.title} (fan-in {fan_in})"
    return Report(title, ", ".join(parts), claims)
