"""An independent audit of the verdicts of ``verify``.

Nothing here asks the prover or the derivation: each claim is recomputed
with ``fractions.Fraction`` straight from the deep Taylor formulas of one
neuron — ``z = Σ x w + b``, a root on the line ``x̃ = x − t·v`` with
``t = z / Σ v w``, and the relevance ``[x_j]_i = v_i w_i / Σ v w · x_j`` —
where ``v_i`` is the search direction exactly as the user wrote it. Points
are drawn by hypothesis from the assumptions the report states. The audit
asserts that

* no claim reported *proved* fails at any drawn point, and
* every *refuted* claim's witness meets every stated assumption (strict ones
  strictly), binds every symbol, and breaks the claim.

The default profile covers every built-in rule, every kind of domain, every
bias assumption and the user directions at small cost; the ``slow`` profile
sweeps the whole product (run by ``.ci/run``).
"""
from __future__ import annotations

import inspect
import itertools
import math
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symdtd import Box, Positive, Real, derive, neuron_symbols, verify
from symdtd.core.rules import get_rule

INF = math.inf


def gate(a):
    return sp.Heaviside(a, 0)


# ---------------------------------------------------------------- directions
BUILTIN = ("w2", "z+", "zB", "z", "gamma")

LAMBDAS = {
    "x": lambda x: x,
    "x·w²": lambda x, w: x * w ** 2,
    "x/w": lambda x, w: x / w,
    "w³": lambda w: w ** 3,
    "x−l": lambda x, l: x - l,
    "h−x": lambda x, h: h - x,
    "−x": lambda x: -x,
    "x+w": lambda x, w: x + w,
    "x²·1[w>0]": lambda x, w: x ** 2 * gate(w),
    "x(1+γ)1[w>0]": lambda x, w, gamma: x * (1 + gamma) * gate(w),
    "2x·1[w>0]+1[w<0]": lambda x, w: 2 * x * gate(w) + gate(-w),
    "(x−l)1[w>0]": lambda x, w, l: (x - l) * gate(w),
}


def list_directions(domain):
    """List directions for fan-in 2 and 3, in the symbols of *domain*."""
    s2, s3 = neuron_symbols(2, domain=domain), neuron_symbols(3, domain=domain)
    x, w = s2.x, s2.w
    return {
        "[x1·1[w1>0], 2·x2·1[w2>0]]": [x[0] * gate(w[0]), 2 * x[1] * gate(w[1])],
        "[2·x1·1[w1>0], x2·1[w2>0]]": [2 * x[0] * gate(w[0]), x[1] * gate(w[1])],
        "[w1, x2]": [w[0], x[1]],
        "[x1, x2·1[w2>0]]": [x[0], x[1] * gate(w[1])],
        "[x1·1[w1>0], x2, w3]": [s3.x[0] * gate(s3.w[0]), s3.x[1], s3.w[2]],
    }


DOMAINS = {
    "Real": Real(),
    "Positive": Positive(),
    "Box()": Box(),
    "Box(-1,2)": Box(-1, 2),
    "Box(1,2)": Box(1, 2),
    "Box(-2,-1)": Box(-2, -1),
    "Box(-1,inf)": Box(-1, INF),
}
PER_INPUT = {1: Box([-1], [Fraction(1, 2)]), 2: Box([-1, Fraction(1, 2)], [1, 2]),
             3: Box([-1, Fraction(1, 2), -2], [1, 2, Fraction(-1, 2)])}
BIASES = ("nonpositive", "positive", "real")


# ------------------------------------------------- the formulas, with Fraction
def to_fraction(value):
    value = sp.nsimplify(value) if isinstance(value, float) else sp.sympify(value)
    if not value.is_Rational:
        raise ZeroDivisionError(f"not a finite rational: {value}")   # undefined direction
    return Fraction(int(value.p), int(value.q))


def direction_values(direction, point, n):
    """``v_i`` of every input, from the direction exactly as written."""
    if callable(direction):
        names = inspect.signature(direction).parameters
        out = []
        for k in range(n):
            local = {"x": point["x"][k], "w": point["w"][k], "l": point["l"][k],
                     "h": point["h"][k], "gamma": point["gamma"]}
            args = {name: sp.Rational(local[name].numerator, local[name].denominator)
                    for name in names}
            out.append(to_fraction(direction(**args)))
        return out
    symbols = direction_symbols(direction, n)
    values = {}
    for role, base in (("x", symbols.x), ("w", symbols.w), ("l", symbols.l), ("h", symbols.h)):
        for k in range(n):
            values[base[k]] = sp.Rational(point[role][k].numerator, point[role][k].denominator)
    values[symbols.gamma] = sp.Rational(point["gamma"].numerator, point["gamma"].denominator)
    return [to_fraction(sp.sympify(v).xreplace(values)) for v in direction]


def direction_symbols(direction, n):
    # a list direction is written in the symbols of one domain: find which
    for domain in (Positive(), Real(), Box()):
        symbols = neuron_symbols(n, domain=domain)
        known = {*symbols.x, *symbols.w, *symbols.l, *symbols.h, symbols.gamma}
        if all(sp.sympify(v).free_symbols <= known for v in direction):
            return symbols
    raise AssertionError("list direction in unknown symbols")


def in_domain(domain, point, k, value):
    if isinstance(domain, Real):
        return True
    if isinstance(domain, Positive):
        return value >= 0
    return point["l"][k] <= value <= point["h"][k]


def evaluate(direction, domain, point):
    """The claims at *point*: None off the active set or where undefined."""
    n = len(point["x"])
    x, w, b = point["x"], point["w"], point["b"]
    z = sum(xi * wi for xi, wi in zip(x, w)) + b
    if z <= 0:
        return None
    try:
        v = direction_values(direction, point, n)
    except (ZeroDivisionError, TypeError):
        return None
    total = sum(vi * wi for vi, wi in zip(v, w))
    if total == 0:
        return None                       # a zero denominator passes nothing on
    t = z / total
    root = [xi - t * vi for xi, vi in zip(x, v)]
    relevance = [vi * wi / total * z for vi, wi in zip(v, w)]
    bounded = not isinstance(domain, Real)
    return {
        "conservation": sum(relevance) == z,
        "root on hyperplane": sum(wi * ri for wi, ri in zip(w, root)) + b == 0,
        "root in domain": t >= 0 and (not bounded or t <= 1)
                          and all(in_domain(domain, point, k, r) for k, r in enumerate(root)),
        "positivity": all(r >= 0 for r in relevance),
    }


# -------------------------------------------- points under the stated assumptions
DENOMINATORS = st.sampled_from((1, 2, 3, 4, 6, 8, 12))


def fraction(draw, low, high):
    """Draw an exact rational ``k / d`` in ``[low, high]`` with a small denominator d."""
    low, high = Fraction(low), Fraction(high)
    d = draw(DENOMINATORS)
    first, last = math.ceil(low * d), math.floor(high * d)
    if first > last:     # no multiple of 1/d in a narrow interval: take an end
        return low
    return Fraction(draw(st.integers(first, last)), d)


def numeric_bounds(domain, n):
    low, high = domain.bounds(n)
    return [Fraction(v) if math.isfinite(v) else None for v in low], \
           [Fraction(v) if math.isfinite(v) else None for v in high]


BIAS_RANGES = {"nonpositive": (-3, 0), "positive": (Fraction(1, 12), 3), "real": (-3, 3)}


@st.composite
def points(draw, domain, bias, n):
    w = [fraction(draw, -3, 3) for _ in range(n)]
    if isinstance(domain, Box) and domain.symbolic:
        l = [fraction(draw, -3, 0) for _ in range(n)]
        h = [fraction(draw, 0, 3) for _ in range(n)]
    elif isinstance(domain, Box):
        l, h = numeric_bounds(domain, n)
    elif isinstance(domain, Positive):
        l, h = [Fraction(0)] * n, [None] * n
    else:
        l, h = [None] * n, [None] * n
    x = []
    for k in range(n):
        low = l[k] if l[k] is not None else (h[k] - 4 if h[k] is not None else Fraction(-4))
        high = h[k] if h[k] is not None else low + 4
        x.append(fraction(draw, low, high))
    b = fraction(draw, *BIAS_RANGES[bias])
    gamma = fraction(draw, 0, 2)
    # an open bound is not a number: give the direction a stand-in it never needs
    l = [v if v is not None else Fraction(-10 ** 6) for v in l]
    h = [v if v is not None else Fraction(10 ** 6) for v in h]
    return {"x": x, "w": w, "l": l, "h": h, "b": b, "gamma": gamma}


# ------------------------------------------------------------------ the audit
def uses_open_bound(direction, domain):
    names = inspect.signature(direction).parameters if callable(direction) else ()
    if not isinstance(domain, Box) or domain.symbolic:
        return False
    low, high = domain.bounds(1)
    return ("l" in names and not all(map(math.isfinite, low))) or \
           ("h" in names and not all(map(math.isfinite, high)))


def check_witness(direction, domain, bias, claim):
    """The witness of a refuted claim is valid, checked from the formulas."""
    values = {k: to_fraction(v) for k, v in claim.counterexample.items()}
    n = max(int(k.split("_")[1]) for k in values if k.startswith("x_") and k != "x_j")
    required = {f"{role}_{k}" for role in ("x", "w") for k in range(1, n + 1)} | {"b_j", "x_j"}
    names = inspect.signature(direction).parameters if callable(direction) else {}
    if isinstance(domain, Box):
        low, high = (numeric_bounds(domain, n) if not domain.symbolic else (None, None))
        for k in range(1, n + 1):
            for role, bound in (("l", low and low[k - 1]), ("h", high and high[k - 1])):
                if domain.symbolic or bound is not None:
                    required.add(f"{role}_{k}")
                    if bound is not None:
                        assert values[f"{role}_{k}"] == bound, (claim, role, k)
    if "gamma" in names:
        required.add("gamma")
    missing = required - set(values)
    assert not missing, f"witness leaves out {sorted(missing)}: {claim}"
    point = {"x": [values[f"x_{k}"] for k in range(1, n + 1)],
             "w": [values[f"w_{k}"] for k in range(1, n + 1)],
             "l": [values.get(f"l_{k}", Fraction(-10 ** 6)) for k in range(1, n + 1)],
             "h": [values.get(f"h_{k}", Fraction(10 ** 6)) for k in range(1, n + 1)],
             "b": values["b_j"], "gamma": values.get("gamma", Fraction(0))}
    b = point["b"]
    assert {"nonpositive": b <= 0, "positive": b > 0, "real": True}[bias], claim
    assert point["gamma"] >= 0
    if isinstance(domain, Box) and domain.symbolic:
        assert all(lo <= 0 <= hi for lo, hi in zip(point["l"], point["h"])), claim
    for k, xk in enumerate(point["x"]):
        assert in_domain(domain, point, k, xk), f"x_{k + 1} outside the domain: {claim}"
    z = sum(xi * wi for xi, wi in zip(point["x"], point["w"])) + b
    assert z > 0 and values["x_j"] == z, f"witness off the active set: {claim}"
    result = evaluate(direction, domain, point)
    assert result is not None, f"witness where the rule is undefined: {claim}"
    assert result[claim.name] is False, f"witness does not break {claim.name}: {claim}"


_REPORTS = {}


def report_for(direction, domain, n, bias):
    key = (id(direction), repr(domain), n, bias)
    if key not in _REPORTS:
        _REPORTS[key] = verify(derive(direction, n=n, domain=domain, bias=bias))
    return _REPORTS[key]


def audit_point(direction, domain, n, bias, point):
    """No claim reported proved fails at *point*."""
    report = report_for(direction, domain, n, bias)
    proved = [c.name for c in report.claims if c.verdict == "proved"]
    result = evaluate(direction, domain, point)
    if result is None:
        return
    for name in proved:
        assert result[name], (f"{name} reported proved but fails at {point} "
                              f"({direction}, {domain}, bias {bias}, n={n})")


def audit_points(direction, domain, n, bias, data):
    """Audit the points of one hypothesis example."""
    batch = st.lists(points(domain, bias, n), min_size=POINTS_PER_EXAMPLE,
                     max_size=POINTS_PER_EXAMPLE)
    for point in data.draw(batch):
        audit_point(direction, domain, n, bias, point)


def audit_witnesses(direction, domain, n, bias):
    report = report_for(direction, domain, n, bias)
    for claim in report.claims:
        if claim.verdict == "refuted":
            check_witness(direction, domain, bias, claim)
        elif claim.verdict == "unknown" and claim.reason:
            assert claim.checks == [] and claim.counterexample is None


def builtin_cases(ns, domains, biases):
    for name, (label, domain), bias, n in itertools.product(BUILTIN, domains, biases, ns):
        yield pytest.param(get_rule(name).direction, domain, n, bias,
                           id=f"{name}-{label}-{bias}-n{n}")


def per_input_cases(ns, biases):
    for name, bias, n in itertools.product(BUILTIN, biases, ns):
        yield pytest.param(get_rule(name).direction, PER_INPUT[n], n, bias,
                           id=f"{name}-per-input-{bias}-n{n}")


def user_cases(ns, domains, biases, names=None):
    for (name, fn), (label, domain), bias, n in itertools.product(
            LAMBDAS.items(), domains, biases, ns):
        if names is None or name in names:
            yield pytest.param(fn, domain, n, bias, id=f"{name}-{label}-{bias}-n{n}")


def list_cases(domains, biases, names=None):
    for (label, domain), bias in itertools.product(domains, biases):
        for name, direction in list_directions(domain).items():
            if names is None or name in names:
                yield pytest.param(direction, domain, len(direction), bias,
                                   id=f"{name}-{label}-{bias}")


def pick(*labels):
    return [(k, DOMAINS[k]) for k in labels]


# ten points per hypothesis example, 100 examples: 1,000 points per case
POINTS_PER_EXAMPLE = 10
AUDIT_SETTINGS = settings(max_examples=100, deadline=None, database=None, derandomize=True,
                          suppress_health_check=list(HealthCheck))

# the default profile (about a minute): each built-in rule on its own domain,
# the boxes and list directions that used to be proved wrongly, a strict bias
DEFAULT = [
    pytest.param(get_rule("w2").direction, Real(), 2, "nonpositive", id="w2-Real"),
    pytest.param(get_rule("z+").direction, Positive(), 2, "nonpositive", id="z+-Positive"),
    pytest.param(get_rule("zB").direction, Box(), 2, "nonpositive", id="zB-Box()"),
    pytest.param(get_rule("z").direction, Positive(), 2, "positive", id="z-Positive-b>0"),
    pytest.param(get_rule("gamma").direction, Positive(), 1, "nonpositive", id="gamma-Positive"),
    pytest.param(get_rule("zB").direction, Box(1, 2), 2, "nonpositive", id="zB-Box(1,2)"),
    pytest.param(get_rule("zB").direction, Box(-2, -1), 2, "nonpositive", id="zB-Box(-2,-1)"),
    pytest.param(get_rule("z+").direction, Box(-1, 2), 2, "nonpositive", id="z+-Box(-1,2)"),
    pytest.param(get_rule("z+").direction, PER_INPUT[2], 2, "nonpositive", id="z+-per-input"),
    *user_cases([2], pick("Box(1,2)"), ["nonpositive"], names={"x"}),
    *list_cases(pick("Positive"), ["nonpositive"],
                names={"[x1·1[w1>0], 2·x2·1[w2>0]]", "[2·x1·1[w1>0], x2·1[w2>0]]"}),
]

# the sweep (slow; CI runs it, about 20 minutes): every built-in direction
# on every domain at fan-in 1 and 2 with b ≤ 0 and b > 0, at fan-in 3 on its
# own kind of domain, per-input boxes at fan-in 1–3, the 12 lambda and the 5
# list directions on ℝⁿ, ℝⁿ₊ and a box
SWEEP = [
    *builtin_cases([1, 2], DOMAINS.items(), ["nonpositive", "positive"]),
    *builtin_cases([3], pick("Real", "Positive", "Box()"), ["nonpositive"]),
    *per_input_cases([1, 2, 3], ["nonpositive"]),
    *user_cases([2], pick("Real", "Positive", "Box(1,2)"), ["nonpositive"]),
    *list_cases(pick("Real", "Positive", "Box(-1,2)"), ["nonpositive"]),
]


@pytest.mark.parametrize("direction, domain, n, bias", DEFAULT)
def test_refuted_witnesses_are_valid(direction, domain, n, bias):
    audit_witnesses(direction, domain, n, bias)


@pytest.mark.parametrize("direction, domain, n, bias", DEFAULT)
@AUDIT_SETTINGS
@given(data=st.data())
def test_proved_claims_hold(direction, domain, n, bias, data):
    audit_points(direction, domain, n, bias, data)


@pytest.mark.slow
@pytest.mark.parametrize("direction, domain, n, bias", SWEEP)
def test_refuted_witnesses_are_valid_sweep(direction, domain, n, bias):
    audit_witnesses(direction, domain, n, bias)


@pytest.mark.slow
@pytest.mark.parametrize("direction, domain, n, bias", SWEEP)
@AUDIT_SETTINGS
@given(data=st.data())
def test_proved_claims_hold_sweep(direction, domain, n, bias, data):
    audit_points(direction, domain, n, bias, data)


# ------------------------------------------------- the repros, one by one
def test_numeric_box_is_its_own_assumption():
    report = verify(derive(lambda x: x, n=2, domain=Box(1, 2)))
    claim = report.claim("root in domain")
    assert claim.verdict == "refuted"
    assert "l_i ≤ 0 ≤ h_i" not in report.assumptions and "1 ≤ x_i ≤ 2" in report.assumptions
    # the point by hand: w = (1, 1), b = −1, x = (3/2, 3/2) gives t = 2/3, x̃ = 1/2
    point = {"x": [Fraction(3, 2)] * 2, "w": [Fraction(1)] * 2, "l": [Fraction(1)] * 2,
             "h": [Fraction(2)] * 2, "b": Fraction(-1), "gamma": Fraction(0)}
    assert evaluate(lambda x: x, Box(1, 2), point)["root in domain"] is False


@pytest.mark.parametrize("domain", [Box(1, 2), Box(-2, -1)])
def test_zb_direction_on_boxes_without_zero(domain):
    report = verify(derive(get_rule("zB").direction, n=2, domain=domain))
    assert report.claim("root in domain").verdict == "refuted"


def test_list_direction_checks_every_input():
    s = neuron_symbols(2, domain=Positive())
    for direction in ([s.x[0] * gate(s.w[0]), 2 * s.x[1] * gate(s.w[1])],
                      [2 * s.x[0] * gate(s.w[0]), s.x[1] * gate(s.w[1])]):
        claim = verify(derive(direction, n=2, domain=Positive())).claim("root in domain")
        assert claim.verdict == "refuted", direction
    # by hand: w = (1, 1), x = (1, 1), b = 0: t = 2/3, x̃ = (1/3, −1/3)
    point = {"x": [Fraction(1)] * 2, "w": [Fraction(1)] * 2, "l": [Fraction(0)] * 2,
             "h": [Fraction(9)] * 2, "b": Fraction(0), "gamma": Fraction(0)}
    assert evaluate([s.x[0] * gate(s.w[0]), 2 * s.x[1] * gate(s.w[1])], Positive(),
                    point)["root in domain"] is False


def test_witness_meets_a_strict_bias_assumption():
    claim = verify("z", bias="positive", seed=1).claim("positivity")
    assert claim.verdict == "refuted" and claim.counterexample["b_j"] > 0
    check_witness(get_rule("z").direction, Positive(), "positive", claim)


def test_zb_witness_at_fan_in_one_binds_the_bounds():
    for seed in range(3):
        claim = verify("zB", n=1, bias="positive", seed=seed).claim("root in domain")
        if claim.verdict == "refuted":
            assert {"l_1", "h_1"} <= set(claim.counterexample)
            check_witness(get_rule("zB").direction, Box(), "positive", claim)


def test_undefined_direction_is_unknown_with_reason():
    report = verify(derive(lambda x, w: x / w, n=2))
    for name in ("root on hyperplane", "root in domain", "positivity"):
        claim = report.claim(name)
        assert claim.verdict == "unknown" and "w_1 = 0" in claim.reason, claim
    assert "reason: " in str(report)
