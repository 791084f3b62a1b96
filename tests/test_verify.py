"""Proofs and refutations of the rules' claims."""
from fractions import Fraction

import pytest

from symdtd import derive, verify

EXPECTED = {  # the maths page: positivity holds for w², z⁺, zᴮ; not for z (and not for γ)
    "w2": ("proved", "proved", "proved", "proved"),
    "z+": ("proved", "proved", "proved", "proved"),
    "zB": ("proved", "proved", "proved", "proved"),
    "z": ("proved", "proved", "proved", "refuted"),
    "gamma": ("proved", "proved", "proved", "refuted"),
}


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_builtin_verdicts(rule):
    report = verify(rule)
    assert tuple(c.verdict for c in report.claims) == EXPECTED[rule]
    conservation = report.claim("conservation")
    assert [label for label, _ in conservation.checks] == [f"n={n}" for n in range(1, 7)] + ["arbitrary n"]


@pytest.mark.parametrize("rule", ["z+", "zB"])
def test_concrete_fan_in_also_proves(rule):
    assert verify(rule, n=2).all_proved


def _t_and_root(rule, values):
    """Independent evaluation of t and the root from the formulas of docs/maths.md (plain fractions)."""
    x, w, b = values["x"], values["w"], values["b"]
    z = sum(xi * wi for xi, wi in zip(x, w)) + b
    if rule == "z+":
        v = [xi if wi > 0 else 0 for xi, wi in zip(x, w)]
    else:
        l, h = values["l"], values["h"]
        v = [xi - (li if wi > 0 else 0) - (hi if wi < 0 else 0) for xi, wi, li, hi in zip(x, w, l, h)]
    t = z / sum(vi * wi for vi, wi in zip(v, w))
    return z, t, [xi - t * vi for xi, vi in zip(x, v)]


@pytest.mark.parametrize("rule", ["z+", "zB"])
def test_positive_bias_counterexample_really_breaks_the_root(rule):
    claim = verify(rule, bias="positive").claim("root in domain")
    assert claim.verdict == "refuted"
    ce = {k: Fraction(str(v)) for k, v in claim.counterexample.items()}
    n = 2
    values = {"x": [ce[f"x_{k}"] for k in range(1, n + 1)],
              "w": [ce[f"w_{k}"] for k in range(1, n + 1)], "b": ce["b_j"]}
    if rule == "zB":
        values["l"] = [ce.get(f"l_{k}", Fraction(0)) for k in range(1, n + 1)]
        values["h"] = [ce.get(f"h_{k}", Fraction(0)) for k in range(1, n + 1)]
        assert all(l <= 0 <= h for l, h in zip(values["l"], values["h"]))
        assert all(l <= x <= h for l, x, h in zip(values["l"], values["x"], values["h"]))
    else:
        assert all(x >= 0 for x in values["x"])
    assert ce["b_j"] > 0
    z, t, root = _t_and_root(rule, values)
    assert z > 0
    lows = values.get("l", [0] * n)
    highs = values.get("h", [float("inf")] * n)
    assert t > 1 or t < 0 or any(r < lo or r > hi for r, lo, hi in zip(root, lows, highs))


def test_z_rule_positivity_counterexample_has_a_negative_term():
    claim = verify("z").claim("positivity")
    ce = {k: Fraction(str(v)) for k, v in claim.counterexample.items()}
    terms = [ce["x_1"] * ce["w_1"], ce["x_2"] * ce["w_2"]]
    z = sum(terms) + ce["b_j"]
    assert z > 0 and min(t / sum(terms) * z for t in terms) < 0


def test_unprovable_claim_is_unknown_not_proved():
    # direction x·w² on the positive orthant: the root can leave the domain
    # (x̃ = x − t x w² overshoots when t w² > 1); this must never be "proved"
    d = derive(lambda x, w: x * w ** 2, n=2, domain=__import__("symdtd").Positive())
    claim = verify(d).claim("root in domain")
    assert claim.verdict in ("unknown", "refuted")


def test_report_renders():
    report = verify("zB")
    text = str(report)
    assert "conservation" in text and "proved" in text
    assert report.to_latex().startswith("\\begin{tabular}")
    assert "| positivity | **proved** |" in report.to_markdown()


def test_repeated_verify_is_cached():
    assert verify("z+") is verify("z+")


def test_verify_rejects_other_objects():
    with pytest.raises(TypeError, match="verify expects"):
        verify(3.5)


def test_lambda_direction_is_local_and_list_direction_is_not():
    import symdtd
    from symdtd import neuron_symbols
    lam = verify(derive(lambda x: x, domain=symdtd.Positive())).claim("conservation")
    assert [label for label, _ in lam.checks] == [f"n={n}" for n in range(1, 7)] + ["arbitrary n"]
    # a derivation for one fan-in is checked at that fan-in only, as its report's title says
    lam2 = verify(derive(lambda x: x, n=2, domain=symdtd.Positive())).claim("conservation")
    assert [label for label, _ in lam2.checks] == ["n=2"]
    s = neuron_symbols(2, "z")
    listed = verify(derive([s.x[0], s.x[1]], n=2, domain=symdtd.Positive())).claim("conservation")
    assert [label for label, _ in listed.checks] == ["n=2"]
