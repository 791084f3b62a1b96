"""Rule names (issue 13): other spellings of the built-in names, and user rules named
``"module:name"`` that a network JSON file saves and loads back to the same object."""
import json
import os
import subprocess
import sys
import textwrap

import pytest
import sympy as sp

from symdtd import derive, examples
from symdtd.cli.app import main
from symdtd.core.rules import get_rule, rule_reference
from symdtd.network.netjson import load_network, network_from_dict, network_to_dict, save_network


@pytest.mark.parametrize("spelling, name", [
    ("zb", "zB"), ("ZB", "zB"), ("zᴮ", "zB"), ("zplus", "z+"), ("Z+", "z+"), ("z⁺", "z+"),
    ("w²", "w2"), ("wsquare", "w2"), ("W2", "w2"), ("γ", "gamma"), ("Gamma", "gamma")])
def test_other_spellings_name_the_same_rule(spelling, name):
    assert get_rule(spelling) is get_rule(name)


def test_unknown_spelling_is_still_refused():
    with pytest.raises(ValueError, match="unknown rule 'zq'.*known rules"):
        get_rule("zq")


@pytest.mark.parametrize("argv", [["derive", "zb"], ["derive", "zplus", "-n", "2"],
                                  ["verify", "wsquare", "-n", "1"]])
def test_the_command_line_reads_the_spellings(argv, capsys):
    assert main(argv) == 0
    title = capsys.readouterr().out.splitlines()[0]
    official = {"zb": "zᴮ rule", "zplus": "z⁺ rule", "wsquare": "w² rule"}[argv[1]]
    assert official in title


def test_a_network_accepts_a_spelling():
    net = examples.xor()
    net.set_rule("h1", "zplus")
    assert net.rule_for("h1") is get_rule("z+")


@pytest.fixture
def rule_module(tmp_path, monkeypatch):
    """An importable module defining a Rule (the x·w² direction) and a non-Rule."""
    (tmp_path / "my_dtd_rules.py").write_text(textwrap.dedent("""
        from symdtd import Positive, Rule
        CUBE = Rule("cube", "x·w² rule", Positive(), lambda x, w: x * w**2)
        NOT_A_RULE = 3
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_dtd_rules
    yield my_dtd_rules
    sys.modules.pop("my_dtd_rules", None)


def test_module_name_round_trip_gives_the_same_rule(rule_module, tmp_path):
    net = examples.xor()
    net.set_rule("y", rule_module.CUBE)
    path = tmp_path / "net.json"
    save_network(net, path)
    assert json.loads(path.read_text())["neurons"][-1]["rule"] == "my_dtd_rules:CUBE"
    loaded = load_network(path)
    assert loaded.rule_for("y") is rule_module.CUBE
    assert rule_reference(rule_module.CUBE) == "my_dtd_rules:CUBE"
    save_network(loaded, tmp_path / "again.json")   # saved again: the same text
    assert (tmp_path / "again.json").read_text() == path.read_text()


def test_module_name_rule_loads_in_a_fresh_process(rule_module, tmp_path):
    """A new interpreter imports the module from the name in the file; its derived
    share is x_i·w_i³ / Σ x·w³ (the direction v = x·w² put into Eq. 1 by hand)."""
    net = examples.xor()
    net.set_rule("y", rule_module.CUBE)
    save_network(net, tmp_path / "net.json")
    code = ("from symdtd.network.netjson import load_network\n"
            "from symdtd import derive\n"
            f"net = load_network({str(tmp_path / 'net.json')!r})\n"
            "print(net.rule_for('y').name, derive(net.rule_for('y'), n=2).rule[0])\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=True).stdout
    name, formula = out.split(" ", 1)
    assert name == "cube"
    x1, x2, w1, w2, xj = sp.symbols("x_1 x_2 w_1 w_2 x_j")
    by_hand = x1 * w1**3 / (x1 * w1**3 + x2 * w2**3) * xj
    assert sp.simplify(sp.sympify(formula) - by_hand) == 0


@pytest.mark.parametrize("reference, message", [
    ("my_dtd_rules:NOT_A_RULE", "names a int, not a symdtd Rule"),
    ("my_dtd_rules:MISSING", "has no 'MISSING'"),
    ("no_such_module_xyz:R", "cannot import module 'no_such_module_xyz'")])
def test_module_name_that_is_not_a_rule_is_refused(rule_module, reference, message):
    data = network_to_dict(examples.xor())
    data["neurons"][-1]["rule"] = reference
    with pytest.raises(ValueError, match=r"neurons\[2\].*" + message):
        network_from_dict(data)


def test_a_rule_without_a_module_name_is_refused_when_saved():
    from symdtd import Positive, Rule
    local = Rule("local", "local rule", Positive(), lambda x: x)   # made inside a function
    net = examples.xor()
    net.set_rule("y", local)
    with pytest.raises(ValueError, match="neuron 'y'.*define it at module level"):
        network_to_dict(net)


def test_derivation_by_reference_is_the_rules(rule_module):
    assert derive("my_dtd_rules:CUBE", n=2).rule == derive(rule_module.CUBE, n=2).rule
