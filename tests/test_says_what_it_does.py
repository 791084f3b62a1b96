"""Issue 13, "what misleads today": each command and figure says exactly what it does.

The expected values are hand calculations on the small examples (written out
in the comments), not the code's own output.
"""
import json
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest
import sympy as sp

from symdtd import Network, examples, propagate, verify
from symdtd.cli import commands as cli_commands
from symdtd.cli.app import build_parser, main
from symdtd.derivation.printing import latex_document
from symdtd.propagation.floats import InexactFloatWarning
from symdtd.see.colors import RULE_COLORS
from symdtd.see.flow import render
from symdtd.see.plotting import find_root, plot_root_search
from symdtd.see.rootplot import root_search_notes

R = sp.Rational
ROOT = Path(__file__).resolve().parents[1]


def _one_line_error(capsys, *pieces):
    err = capsys.readouterr().err
    assert err.startswith("symdtd: error: ") and err.count("\n") == 1, err
    for piece in pieces:
        assert piece in err, err
    return err


# ------------------------------------------------------------------ render
def test_a_zero_output_is_not_called_symbolic(tmp_path):
    # xor at (1, 1): h1 = 2, h2 = 1, y = h1 - 2·h2 = 0 — numbers, all relevance 0
    assert main(["render", "xor", "--input", "x1=1", "x2=1", "-o", str(tmp_path / "a.gv")]) == 0
    dot = (tmp_path / "a.gv").read_text()
    assert "relevance of y = 0" in dot
    assert "symbolic" not in dot and "every relevance is 0" in dot


def test_symbolic_legend_stays_for_symbols():
    e = propagate(examples.xor(), None, arithmetic="symbolic")
    assert "symbolic values (no point given)" in render(examples.xor(), e).source


def test_top_k_zero_is_refused(capsys):
    e = propagate(examples.xor(), {"x1": 1, "x2": 0}, arithmetic="exact")
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        render(examples.xor(), e, top_k=0)
    assert main(["render", "xor", "--top-k", "0", "-o", "x.gv"]) == 2
    assert "--top-k: expected a positive integer, got 0" in capsys.readouterr().err


def test_symbolic_render_shows_closed_forms(tmp_path):
    # xor at (1, 0): h1 = x1 + x2 active, h2 = x1 + x2 - 1 = 0 inactive, y = x1 + x2;
    # zᴮ at h1 on [0, 1]²: numerator x_i·w_i = x_i, so R_x1 = x1, R_x2 = x2 (1 and 0 exactly)
    paths = {a: tmp_path / f"{a}.gv" for a in ("symbolic", "exact")}
    for arithmetic, path in paths.items():
        assert main(["render", "xor", "--input", "x1=1", "x2=0", "--arithmetic", arithmetic,
                     "-o", str(path)]) == 0
    symbolic, exact = (paths[a].read_text() for a in ("symbolic", "exact"))
    assert symbolic != exact
    assert 'label="x1\\nx = x1\\nR = x1"' in symbolic and 'label="x1\\nx = 1\\nR = 1"' in exact
    assert "colours at x1 = 1, x2 = 0" in symbolic


def test_collapse_above_zero_in_command_words(capsys):
    assert main(["render", "figure3", "--collapse-above", "0", "-o", "x.gv"]) == 2
    err = capsys.readouterr().err
    assert "--collapse-above" in err and "collapse_above" not in err


# --------------------------------------------------------------- plot-root
def _root_colors(rules):
    fig = plot_root_search([((1, -1), -0.25, (1.5, 0.5))], rules=rules, box=(0, 2))
    return {line.get_gid(): line.get_color() for line in fig.axes[0].lines
            if (line.get_gid() or "").startswith("search:")}


def test_each_rule_keeps_its_colour_whatever_the_order():
    first = _root_colors(["w2", "z+", "zB"])
    second = _root_colors(["zB", "w2"])
    assert first["search:w² rule"] == second["search:w² rule"] == RULE_COLORS["w2"]
    assert first["search:zᴮ rule"] == second["search:zᴮ rule"] == RULE_COLORS["zB"]
    assert len(set(RULE_COLORS.values())) == len(RULE_COLORS)


def test_data_point_outside_the_box_and_inactive_neuron_are_named():
    # neuron 1: x = (1.5, 0.5) is outside [0, 1]²; neuron 2: z = 0.5 + 0.5 - 3 = -2 ≤ 0
    neurons = [((1, -1), -0.25, (1.5, 0.5)), ((1, 1), -3, (0.5, 0.5))]
    notes = root_search_notes(neurons, rules=["w2", "z+", "zB"], box=(0, 1))
    assert len(notes) == 2
    assert notes[0].startswith("neuron 1:") and "outside the zᴮ rule's box [0, 1] × [0, 1]" in notes[0]
    assert notes[1].startswith("neuron 2:") and "inactive" in notes[1] and "= -2 ≤ 0" in notes[1]
    fig = plot_root_search(neurons, rules=["w2", "z+", "zB"], box=(0, 1))
    written = [[t.get_text() for t in ax.texts if t.get_gid() == "notes"] for ax in fig.axes]
    assert all(len(w) == 1 for w in written)
    assert "inactive" in written[1][0]
    # the point inside the box and an active neuron (z = 0.9 - 0.5 - 0.25 > 0): nothing to say
    assert root_search_notes([((1, -1), -0.25, (0.9, 0.5))], box=(0, 1)) == []


def test_default_rules_are_three_rules():
    fig = plot_root_search([((1, -1), -0.25, (0.9, 0.5))])   # default ("w2", "z+", "zB")
    assert sorted(g for line in fig.axes[0].lines if (g := line.get_gid() or "").startswith("root:")) \
        == ["root:w² rule", "root:zᴮ rule", "root:z⁺ rule"]


def test_plot_root_prints_the_notes(tmp_path, capsys):
    assert main(["plot-root", "--neuron=1,1:-3:0.5,0.5", "-o", str(tmp_path / "r.png")]) == 0
    out = capsys.readouterr().out
    assert "note: neuron 1: inactive at the data point" in out


# ------------------------------------------------------------------ floats
def test_a_float_in_exact_mode_warns_and_a_string_is_exact():
    with pytest.warns(InexactFloatWarning, match=r"input 'x1' = 0\.1 is "
                      r"3602879701896397/36028797018963968, not 1/10"):
        e = propagate(examples.xor(), {"x1": 0.1, "x2": 0}, arithmetic="exact")
    assert e.activations["x1"] == R(3602879701896397, 2**55)   # 0.1's binary value
    with warnings.catch_warnings():
        warnings.simplefilter("error", InexactFloatWarning)
        assert propagate(examples.xor(), {"x1": "0.1", "x2": 0},
                         arithmetic="exact").activations["x1"] == R(1, 10)
        propagate(examples.xor(), {"x1": 0.5, "x2": 0.25}, arithmetic="exact")  # exact binaries
        propagate(examples.xor(), {"x1": 0.1, "x2": 0}, arithmetic="float")


def test_float_weights_warn_once_naming_the_first(tmp_path, capsys):
    net = Network.from_dense([[[0.1, 1], [1, 0.3]], [[1], [2]]], [[0, -1], [0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        propagate(net, {"x1": 1, "x2": 1}, arithmetic="exact")
    inexact = [w for w in caught if w.category is InexactFloatWarning]
    assert len(inexact) == 1 and "(and 1 more float(s))" in str(inexact[0].message)
    from symdtd.network.netjson import save_network
    save_network(net, tmp_path / "net.json")
    assert main(["explain", str(tmp_path / "net.json"), "--input", "x1=1", "x2=1"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("symdtd: warning: exact arithmetic reads floats as their binary values")
    assert err.count("\n") == 1


# -------------------------------------------------------------- cli inputs
def test_an_image_given_as_a_network(tmp_path, capsys):
    png = tmp_path / "digit.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    assert main(["explain", str(png), "--input", "x1=1"]) == 2
    err = _one_line_error(capsys, "not a network JSON file (a PNG image)")
    assert "utf-8" not in err.lower().replace("not utf-8 text", "")


def test_evaluate_patch_and_steps_beyond_the_digits(monkeypatch, capsys):
    def never(*args, **kwargs):
        raise AssertionError("the evaluation started")
    monkeypatch.setattr("symdtd.real.comparison.evaluate_models", never)
    assert main(["evaluate", "--patch", "9"]) == 2
    _one_line_error(capsys, "--patch 9", "8x8")
    # 8x8 pixels: 64 of them; 3x3 patches tile 8x8 as ceil(8/3)² = 9
    assert main(["evaluate", "--steps", "65"]) == 2
    _one_line_error(capsys, "--steps 65", "only 64 pixels")
    assert main(["evaluate", "--patch", "3", "--steps", "10"]) == 2
    _one_line_error(capsys, "--steps 10", "only 9 3x3 patches")
    assert main(["evaluate", "--n", "0"]) == 2


def test_evaluate_models_refuses_a_patch_larger_than_the_digits():
    from symdtd.real.comparison import evaluate_models
    with pytest.raises(ValueError, match="patch 9x9 is larger than the 8x8 digits"):
        evaluate_models(["mlp"], n=2, patch=9)


def test_every_output_option_states_its_default():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name, sub in commands.items():
        for action in sub._actions:
            if "-o" in action.option_strings:
                assert "default" in action.help, (name, action.help)


# ------------------------------------------------------------- standalone
def _check_document(doc):
    assert doc.startswith("\\documentclass{article}") and doc.rstrip().endswith("\\end{document}")
    assert doc.count("\\begin{document}") == 1
    packages = set(",".join(re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]*)\}", doc)).split(","))
    assert packages <= {"inputenc", "fontenc", "amsmath", "amssymb"}
    body = doc.split("\\begin{document}")[1]
    envs = re.findall(r"\\(begin|end)\{([^}]*)\}", body)
    stack = ["document"]
    for kind, env in envs:
        if kind == "begin":
            stack.append(env)
        else:
            assert stack.pop() == env
    assert stack == []
    unescaped = body.replace("\\{", "").replace("\\}", "")
    assert unescaped.count("{") == unescaped.count("}")
    declared = set(re.findall(r"\\DeclareUnicodeCharacter\{([0-9A-F]+)\}", doc))
    assert {f"{ord(c):04X}" for c in body if ord(c) > 0xFF} <= declared


@pytest.mark.parametrize("argv", [["derive", "zB", "--standalone"],
                                  ["verify", "z+", "--bias", "positive", "--standalone"],
                                  ["derive", "gamma", "-n", "2", "--latex", "--standalone"]])
def test_standalone_latex_is_a_whole_document(argv, tmp_path, capsys):
    path = tmp_path / "doc.tex"
    assert main([*argv, "-o", str(path)]) == 0
    doc = path.read_text()
    _check_document(doc)
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed: the structure was checked, not the compile")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", path.name],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "doc.pdf").exists()


def test_a_user_title_with_unusual_characters_still_compiles_structurally():
    _check_document(latex_document("\\textbf{rule ⊕ ∘}"))


def test_standalone_and_markdown_do_not_mix(capsys):
    assert main(["derive", "z+", "--standalone", "--markdown"]) == 2
    _one_line_error(capsys, "--standalone")


# --------------------------------------------------- networks and tutorials
def test_every_cut_carries_the_output_across_skip_connections(tutorial02_net):
    # at (3/4, 1/4, 1/2): h1 = 3/4 - 1/8 - 1/8 = 1/2, h2 = 3/8 + 1/4 - 1/8 = 1/2,
    # h3 = 1/2 + 1/2 + 1/4 - 1/4 = 1, y = 1 + 1/4 = 5/4
    report = verify(tutorial02_net, {"x1": "3/4", "x2": "1/4", "x3": "1/2"})
    assert [c for _, c in report.cut_totals] == [R(5, 4)] * 4
    assert [t for _, _, t in report.layer_totals] != [R(5, 4)] * 4   # the skips show here
    assert "across cut" in str(report)


def _notebook_text(name):
    cells = json.loads((ROOT / "tutorials" / name).read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_tutorial01_exercise_neuron_overshoots():
    text = _notebook_text("01_single_neuron.ipynb")
    exercise = text.split("## Exercises")[1].split("\n3. ")[1]
    w1, w2, b, x1, x2 = map(float, re.search(
        r"\(\((-?[\d.]+), (-?[\d.]+)\), (-?[\d.]+), \((-?[\d.]+), (-?[\d.]+)\)\)", exercise).groups())
    # z⁺ by hand: t = z / Σ x_i w_i⁺; the root leaves ℝ²₊ when t > 1
    t = (w1 * x1 + w2 * x2 + b) / sum(x * max(w, 0) for x, w in ((x1, w1), (x2, w2)))
    assert t > 1
    root = find_root("z+", (w1, w2), b, (x1, x2))
    assert not root.in_domain and float(root.t) == pytest.approx(t)


def test_tutorial02_explains_the_generation_totals():
    text = _notebook_text("02_networks.ipynb")
    assert "not** a failure of conservation" in text and "across a cut" in text


def test_the_shared_tutorial02_net_is_the_notebooks(tutorial02_net):
    # tests/conftest.py builds it again; the notebook's own cell must give the same network
    from symdtd import Box, Positive
    from symdtd.network.netjson import network_to_dict
    cells = json.loads((ROOT / "tutorials" / "02_networks.ipynb").read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    [build] = [s for s in sources if s.startswith("net = Network()")]
    scope = {"Network": Network, "Box": Box, "Positive": Positive}
    exec(build, scope)
    assert network_to_dict(scope["net"]) == network_to_dict(tutorial02_net)


def test_cli_module_keeps_json_loading_separate():
    # the binary-file message comes from the JSON loader, not from the explain command
    assert "not a network JSON file" not in Path(cli_commands.__file__).read_text()


# ------------------------------------------------------- refuted verdicts
@pytest.mark.parametrize("rule", ["w2", "z+", "zB", "z", "gamma"])
@pytest.mark.parametrize("bias", ["nonpositive", "real", "positive"])
def test_a_refuted_claim_names_the_sub_claim_its_witness_breaks(rule, bias):
    for claim in verify(rule, bias=bias).claims:
        if claim.verdict == "refuted" and claim.checks:
            assert "refuted" in [verdict for _, verdict in claim.checks], (rule, bias, claim.detail())


def test_the_gamma_witness_breaks_the_sub_claim_it_names():
    claim = verify("gamma", bias="positive").claim("root in domain")
    ce = {k: R(str(v)) for k, v in claim.counterexample.items()}
    broken = [label for label, verdict in claim.checks if verdict == "refuted"]
    # by hand: v_i = x_i·(1 + γ·1[w_i > 0]); t = z / Σ v·w; x̃ = x − t·v
    x, w = [ce["x_1"], ce["x_2"]], [ce["w_1"], ce["w_2"]]
    v = [xi * (1 + ce["gamma"] * (1 if wi > 0 else 0)) for xi, wi in zip(x, w)]
    t = (x[0] * w[0] + x[1] * w[1] + ce["b_j"]) / (v[0] * w[0] + v[1] * w[1])
    x_tilde = [xi - t * vi for xi, vi in zip(x, v)]
    assert broken == ["x̃_i ≥ 0"] and min(x_tilde) < 0
