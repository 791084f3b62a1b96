"""Network-level conservation proofs and the lists of failing assumptions."""
import pytest
import sympy as sp

from symdtd import examples
from symdtd.network.graph import Network
from symdtd.network.netjson import save_network
from symdtd.proof.network import explain_command, root_checks, verify_network

R = sp.Rational


@pytest.mark.parametrize("name", examples.names())
def test_examples_are_proved_three_ways(name):
    net = examples.get(name)
    point = examples.example_inputs(name)[0]
    exact = verify_network(net, point)
    assert exact.status == "proved" and exact.residual == 0 and bool(exact)
    assert abs(exact.float_residual) < 1e-12
    symbolic = verify_network(net)
    assert symbolic.status == "proved" and symbolic.explanation.arithmetic == "symbolic"
    assert symbolic.float_residual is None and symbolic.roots_outside is None
    region = verify_network(net, at=point)
    assert region.status == "proved" and region.float_residual is not None


def test_layer_totals():
    # figure3: a layered net with z+ everywhere and nothing lost: every generation holds x_f
    report = verify_network(examples.figure3(), examples.example_inputs("figure3")[0])
    assert [(k, nodes) for k, nodes, _ in report.layer_totals] == \
        [(0, ["x1", "x2", "x3"]), (1, ["h1", "h2", "h3"]), (2, ["y"])]
    assert {total for _, _, total in report.layer_totals} == {R(11, 8)}
    # skip_dag: relevance skips generations, so generation totals differ from x_f
    report = verify_network(examples.skip_dag(), examples.example_inputs("skip_dag")[0])
    totals = [total for _, _, total in report.layer_totals]
    assert totals[0] == totals[-1] and len(set(totals)) > 1


def lossy():
    net = Network()
    net.add_input("a")
    net.add_input("b")
    net.add_neuron("h", {"a": 1, "b": -1})
    net.add_neuron("y", {"h": 1}, bias=-1, kind="linear")
    return net


def test_zero_denominator_refutes_and_accounts():
    report = verify_network(lossy(), {"a": 0, "b": 0})
    assert report.status == "refuted" and report.residual == 1 and report.accounted
    assert report.lost == {"y": -1} and report.zero_denominators == ["h", "y"]
    assert report.float_residual == 1.0
    text = str(report)
    assert "refuted" in text and "Relevance lost at a zero denominator: y (-1)" in text
    assert "Note: the output 'y' is negative" in text


def test_positive_bias_root_outside_and_absorption():
    net = Network()
    net.add_input("a")
    net.add_input("b")
    net.add_neuron("h", {"a": 1, "b": -1}, bias=1)
    report = verify_network(net, {"a": 1, "b": 0})
    # z = 2, z+ direction v = (a, 0): t = 2 / 1 = 2 > 1, root a = 1 - 2 = -1 < 0
    assert report.status == "proved" and report.positive_bias == ["h"]
    assert report.roots_outside == {"h": 2}
    absorbed = verify_network(net, {"a": 1, "b": 0}, absorb_bias=True)
    assert absorbed.status == "refuted" and absorbed.accounted and absorbed.absorbed == {"h": 1}
    assert root_checks(net, {"a": 1, "b": 1}) == {}  # t = 1: the root is exactly on the border


def test_negative_bias_keeps_roots_inside():
    net = examples.figure3()
    for point in examples.example_inputs("figure3"):
        assert root_checks(net, point) == {}


def test_symbolic_refutation_at_a_point():
    report = verify_network(lossy(), at={"a": 0, "b": 0})
    assert report.status == "refuted" and report.lost


def test_report_text_and_latex():
    report = verify_network(examples.xor(), examples.example_inputs("xor")[2])
    text = str(report)
    assert "proved: Σ_p [x_f]_p − x_f = 0 (exact arithmetic)" in text
    assert "Relevance by topological generation" in text
    assert "  0    3/4    3/4         x1 x2" in text
    latex = report.to_latex()
    assert latex.startswith(r"\begin{tabular}") and r"\frac{3}{4}" in latex
    assert "wherever no denominator" in verify_network(examples.xor()).verdict()


def test_explain_command(tmp_path):
    path = tmp_path / "xor.json"
    save_network(examples.xor(), path)
    text = explain_command(path, {"x1": "3/4", "x2": "1/2"})
    assert "x1     3/4    9/20" in text and "x2     1/2    3/10" in text
    assert "conservation: proved" in text
    assert "0.45" in explain_command(path, {"x1": "3/4", "x2": "1/2"}, arithmetic="float")
    symbolic = explain_command(path, {"x1": "3/4", "x2": "1/2"}, arithmetic="symbolic")
    # region of (3/4, 1/2): both hidden neurons active, y = 2 - x1 - x2, h1 splits by x_i
    assert "x1     3/4    -x1*(x1 + x2 - 2)/(x1 + x2)" in symbolic
    assert "output y = -x1 - x2 + 2 = 3/4 at the point" in symbolic
    with pytest.raises(ValueError, match="outside its domain"):
        explain_command(path, {"x1": "2", "x2": "0"})
