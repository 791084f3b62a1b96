import sympy as sp

from symdtd.proof.prover import merge_sums, prove_nonnegative


def test_case_split_proves_what_sympy_alone_cannot():
    x = sp.Symbol("x", nonnegative=True)
    w = sp.Symbol("w", real=True)
    expr = x * sp.Max(w, 0) - x * w     # = -x·min(w, 0) ≥ 0
    assert expr.is_nonnegative is None
    assert prove_nonnegative(expr, [w]) is True


def test_false_claim_is_not_proved():
    x = sp.Symbol("x", nonnegative=True)
    w = sp.Symbol("w", real=True)
    assert prove_nonnegative(x * w, [w]) is not True


def test_box_parametrisation():
    x, w = sp.Symbol("x", real=True), sp.Symbol("w", real=True)
    l, h = sp.Symbol("l", nonpositive=True), sp.Symbol("h", nonnegative=True)
    q = x * w - l * sp.Max(w, 0) - h * sp.Min(w, 0)   # zᴮ numerator, ≥ 0 in the box
    assert prove_nonnegative(q, [w], {x: (l, h)}) is True
    assert prove_nonnegative(q, [w]) is not True    # without the box it fails


def test_merge_sums_is_linear():
    i, k, n = sp.symbols("i k n", integer=True, positive=True)
    a = sp.IndexedBase("a")
    expr = 2 * sp.Sum(a[i], (i, 1, n)) - sp.Sum(a[k] ** 2, (k, 1, n))
    merged = merge_sums(expr)
    assert len(merged.atoms(sp.Sum)) == 1
    assert sp.simplify((merged - expr).subs(n, 3).doit()) == 0


def test_gates_on_box_inputs_are_split_with_their_bounds():
    x, w = sp.Symbol("x", real=True), sp.Symbol("w", real=True)
    l, h = sp.Symbol("l", nonpositive=True), sp.Symbol("h", nonnegative=True)
    # x − min(x, 0) = max(x, 0) ≥ 0 for any x; h − min(x, 0) ≥ 0 needs h ≥ 0
    assert prove_nonnegative(x - sp.Min(x, 0), [w], {x: (l, h)}) is True
    assert prove_nonnegative(h - sp.Min(x, 0), [w], {x: (l, h)}) is True
    # x − l·1[x > 0] can be negative only if x < 0 — but then the gate is 0 and x ≥ l
    assert prove_nonnegative(x - l * sp.Heaviside(x, 0) - l, [w], {x: (l, h)}) is True
    # and a false claim stays unproved: min(x, 0) ≥ 0 fails for x < 0
    assert prove_nonnegative(sp.Min(x, 0), [w], {x: (l, h)}) is not True
