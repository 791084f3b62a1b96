"""No user value is ever run as code: every parse-or-eval call in the package is accounted for.

SymPy's ``sympify`` (and ``S``, ``parse_expr``, ``Rational`` of a non-number,
``nsimplify``) turns *text* into Python code and runs it; ``eval``/``exec``
do so directly. The package source is scanned for every such call: a
``sympify`` must pass ``strict=True`` (which refuses text), and any other
call must be listed below with the reason it only ever sees numbers, SymPy
objects or text the package wrote itself. A new call fails this test until
it is made safe or listed with its reason.
"""
import ast
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "symdtd"

#: calls that can run text as code (the callee's last name)
RISKY = {"sympify", "S", "parse_expr", "eval", "exec", "Rational", "nsimplify", "simplify",
         "lambdify", "__import__"}

#: (file, enclosing function, callee) -> (count, reason)
ALLOWED = {
    ("propagation/arithmetic.py", "_Exact.number", "Rational"):
        (2, "a float (type checked) or a SymPy Float: converted exactly, never text"),
    ("core/numbers.py", "_decimal", "Rational"):
        (1, "two Python ints made by the parser"),
    ("core/numbers.py", "real_number", "Rational"):
        (2, "numerator and denominator of a Fraction or numbers.Rational, as ints"),
    ("proof/counterexample.py", "_draw", "Rational"):
        (3, "package-made bounds (bias ranges, exact box bounds) and ints from random.randint"),
    ("proof/counterexample.py", "_bias_value", "Rational"):
        (1, "1 / an int denominator"),
    ("proof/counterexample.py", "witness_problems", "nsimplify"):
        (1, "a float (type checked)"),
    ("core/domains.py", "exact_number", "Rational"):
        (2, "Box bounds: numbers checked by _check_bound (a float converted exactly)"),
    ("compiler/rule_kernels.py", "lambdify", "lambdify"):
        (2, "SymPy expressions the package derived; SymPy prints them to code itself (NumPy, torch)"),
    ("compiler/rule_kernels.py", "RuleKernel.f_functions", "lambdify"):
        (1, "compile.lambdify (listed above) of the derived rule's f factors, for torch"),
    ("compiler/rule_kernels.py", "RuleKernel.__init__", "lambdify"):
        (3, "compile.lambdify (listed above) of the derived rule's SymPy expressions"),
    ("derivation/steps.py", "_is_zero", "simplify"):
        (1, "a SymPy expression built by the derivation"),
    ("proof/neuron.py", "_is_zero", "simplify"):
        (1, "a SymPy expression built by the verifier"),
    ("proof/network.py", "_simplify", "simplify"):
        (1, "a SymPy expression (sympify(..., strict=True) just before)"),
    ("real/torch_modules.py", "require_extra", "__import__"):
        (1, "the package's own constant module names ('torch', 'sklearn.neural_network')"),
}


def _calls(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node, scope):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, scope + [child.name])
                continue
            if isinstance(child, ast.Call):
                func = child.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if name in RISKY:
                    found.append((".".join(scope) or "<module>", name, child))
            visit(child, scope)

    visit(tree, [])
    return found


def _literal(node):
    return isinstance(node, ast.Constant) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant))


def _strict(call):
    return any(k.arg == "strict" and isinstance(k.value, ast.Constant) and k.value.value is True
               for k in call.keywords)


def test_every_call_that_could_run_text_is_safe_or_listed():
    counts, problems = Counter(), []
    for path in sorted(PACKAGE.rglob("*.py")):
        for scope, name, call in _calls(path):
            if name == "sympify" and _strict(call):
                continue  # strict=True refuses text
            if all(_literal(a) for a in call.args) and not call.keywords:
                continue  # sp.Rational(1, 4), sp.Float(0.5): constants
            key = (path.relative_to(PACKAGE).as_posix(), scope, name)
            counts[key] += 1
            if key not in ALLOWED:
                where = path.relative_to(PACKAGE).as_posix()
                problems.append(f"{where}:{call.lineno}: {name}(...) in {scope}: make it "
                                "safe (strict=True, symdtd.numbers) or list it with a reason")
    assert not problems, "\n".join(problems)
    for key, (count, reason) in ALLOWED.items():
        assert counts[key] == count, f"{key}: {counts[key]} calls, {count} listed ({reason})"


def test_the_scan_finds_unsafe_calls(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import sympy as sp\n\ndef f(v):\n    return sp.sympify(v) + eval(v)\n\n"
                   "def g(v):\n    return sp.sympify(v, strict=True) + sp.Rational(1, 2)\n")
    names = [(scope, name) for scope, name, call in _calls(bad)
             if not (name == "sympify" and _strict(call))
             and not all(_literal(a) for a in call.args)]
    assert names == [("f", "sympify"), ("f", "eval")]


HOSTILE = "__import__('os').system('echo PWNED >&2') or 1"


def test_hostile_strings_never_run(capfd):
    import symdtd
    from symdtd import examples
    from symdtd.see import rootplot

    net = examples.figure3()
    attempts = [
        lambda: symdtd.propagate(net, {"x1": np.array(HOSTILE), "x2": 1, "x3": 1}, arithmetic="exact"),
        lambda: symdtd.propagate(net, {"x1": HOSTILE, "x2": 1, "x3": 1}, arithmetic="float"),
        lambda: symdtd.propagate(net, None, at={"x1": HOSTILE, "x2": 1, "x3": 1}),
        lambda: rootplot.find_root("z+", (1, HOSTILE), 0, (1, 1)),
        lambda: rootplot.find_root("z+", (1, 1), HOSTILE, (1, 1)),
        lambda: rootplot.find_root("z+", (1, 1), 0, (HOSTILE, 1)),
        lambda: rootplot.find_root("zB", (1, 1), 0, (1, 1), box=(HOSTILE, 1)),
        lambda: rootplot.find_root("gamma", (1, 1), 0, (1, 1), gamma=HOSTILE),
        lambda: symdtd.derive([HOSTILE, 1], n=2),
        lambda: symdtd.derive(lambda x: HOSTILE, n=2),
        lambda: symdtd.Network.from_dense([[[HOSTILE]]]),
        lambda: net.forward(np.array([[HOSTILE, 1, 1]], dtype=object)),
    ]
    for attempt in attempts:
        with pytest.raises((ValueError, TypeError)):
            attempt()
    edited = examples.xor()
    edited.graph.edges["h1", "y"]["weight"] = HOSTILE  # a direct edit
    for use in (lambda: edited.graph.nodes["y"]["expr"], lambda: edited.forward([1, 1]),
                lambda: symdtd.propagate(edited, {"x1": 1, "x2": 1}, arithmetic="exact")):
        with pytest.raises((ValueError, TypeError)):
            use()
    assert "PWNED" not in capfd.readouterr().err
