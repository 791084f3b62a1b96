"""The sign claims of a derivation, under the assumptions it states.

*Root in domain* (``0 ≤ t ≤ 1`` — only ``t ≥ 0`` on ℝⁿ — and every
coordinate of the root ``x̃`` in the input domain) and *positivity* (every
share ``≥ 0``) are sign claims, proved by :func:`symdtd.proof.prover.prove_nonnegative`
in a multiplied-out form that avoids dividing by the denominator
``Q = Σ_i q_i``: ``t ≥ 0 ⇔ z·Q ≥ 0``, ``t ≤ 1 ⇔ (Q − z)·Q ≥ 0``,
``[x_j]_i ≥ 0 ⇔ q_i·Q·x_j ≥ 0``. A numeric box is an assumption about numbers:
its finite bounds are put in for ``l_i``, ``h_i`` and an open side constrains
nothing. On the active set ``z_j = x_j > 0`` and ``Q = x_j + D`` with
``D = Q − z_j``; both forms are tried. A checked witness (:class:`Witness`)
refutes a claim at once and marks the sub-claims it breaks, which are then
not proved again. The domain and the bias sign are read from the
derivation's record, ``Derivation.assumptions``.

Examples
--------
>>> from symdtd import derive
>>> claim = root_in_domain(SignContext(derive("z+", n=2)), None)
>>> claim.verdict, claim.checks[:2]
('proved', [('t ≥ 0', 'proved'), ('t ≤ 1', 'proved')])
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from ..core.domains import Box, Real
from ..derivation import printing as display
from ..derivation.taylor import Derivation
from .prover import prove_nonnegative

__all__ = ["Claim", "Witness", "SignContext", "combine", "root_in_domain", "positivity"]


@dataclass
class Claim:
    """One verified claim of a :class:`~symdtd.proof.neuron.Report`.

    :func:`~symdtd.proof.neuron.verify` builds the claims; each parameter is
    kept as the attribute of the same name.

    Parameters
    ----------
    name : str
        ``"conservation"``, ``"root on hyperplane"``, ``"root in domain"``
        or ``"positivity"``.
    verdict : str
        ``"proved"``, ``"refuted"`` or ``"unknown"``.
    statement : str
        What was claimed, in words and symbols.
    checks : list of (str, str), optional
        The sub-claims and their verdicts.
    counterexample : dict or None, optional
        For a refuted claim: symbol name → exact value, every symbol the
        claim depends on bound, every assumption met (checked exactly).
    reason : str or None, optional
        Why an *unknown* claim could not be decided at all (for example a
        direction that is undefined for some inputs).

    Examples
    --------
    >>> from symdtd import verify
    >>> claim = verify("z+", bias="positive").claim("root in domain")
    >>> claim.verdict, sorted(claim.counterexample) != []
    ('refuted', True)
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


def combine(verdicts):
    if "refuted" in verdicts:
        return "refuted"
    if all(v == "proved" for v in verdicts):
        return "proved"
    return "unknown"


class SignContext:
    """What the sign claims of one derivation need, under its stated assumptions.

    A numeric box is an assumption about numbers: its finite bounds are
    substituted for the symbols ``l_i``, ``h_i`` in every expression the
    prover sees, and an open side (``±∞``) constrains nothing.
    """

    def __init__(self, d: Derivation):
        self.d = d
        s = self.s = d.space
        self.domain = d.assumptions.domain
        self.boxed = isinstance(self.domain, Box)
        self.fixed, self.open = _bound_values(d)
        # b_j with the sign the derivation records (the prover reads signs off symbols)
        self.b = d.assumptions.bias_symbol()
        numerators = [d.numerator] if s.general else d.numerator
        self.numerators = [self.sub(q) for q in numerators]
        self.v = [self.sub(v) for v in ([d.root["v"]] if s.general else d.root["v"])]
        self.Q = self.sub(d.denominator)
        self.Z = self.sub(d.space.preactivation())
        if s.general:
            numer = self.numerators[0]
            self.D = s.total(lambda k: numer.xreplace({s.i: k}) - s.w[k] * s.x[k]) - self.b
        else:
            self.D = sp.Add(*[q - s.w[k] * s.x[k] for k, q in enumerate(self.numerators)]) - self.b
        self.undefined = _undefined_reason(d, self)

    def sub(self, expr):
        """*expr* with the numeric box bounds put in for ``l_i``, ``h_i`` and ``b_j`` as recorded."""
        expr = expr.xreplace({self.s.b: self.b})
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
    domain, s = d.assumptions.domain, d.space
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


def _undefined_reason(d: Derivation, ctx: SignContext):
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


def _in_domain(ctx: SignContext, t_bounded: bool, q_positive: bool, skip=()):
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
                verdict = combine([ctx.nonnegative(gap(affine.xreplace({t: end}), 1))
                                    for end in (0, 1)])
            if verdict != "proved" and q_positive:
                verdict = ctx.nonnegative(sp.expand(gap(scaled, ctx.Q)))
            verdicts.setdefault(label, []).append(verdict)
    if not verdicts:
        return [("x̃ in the box (no finite bound)", "proved")]
    return [(label, combine(found)) for label, found in verdicts.items()]


def root_in_domain(ctx: SignContext, witness) -> Claim:
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


def positivity(ctx: SignContext, witness) -> Claim:
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
        verdict = combine([ctx.nonnegative(q * ctx.Q * x_j, q * (x_j + ctx.D) * x_j)
                            for q in ctx.numerators])
    return Claim("positivity", verdict, statement, [("[x_j]_i ≥ 0", verdict)])


def _claim_with_witness(name, statement, checks, witness):
    verdict = combine([v for _, v in checks])
    if witness and verdict != "refuted":   # the witness breaks the claim as a whole
        verdict = "refuted"
    if verdict == "proved" and witness:
        raise AssertionError(f"{name}: proved yet refuted by {witness.values}")  # prover bug
    return Claim(name, verdict, statement, checks,
                 witness.values if witness and verdict == "refuted" else None)


@dataclass
class Witness:
    """A checked counterexample (symbol name → exact value) and the sub-claims it breaks."""

    values: dict
    failed: list
