
import pytest

from symdtd import examples
from symdtd.cli.app import main
from symdtd.cli.commands import parse_inputs
from symdtd.network.netjson import save_network


def test_explain_json_file(tmp_path, capsys):
    path = tmp_path / "xor.json"
    save_network(examples.xor(), path)
    assert main(["explain", str(path), "--input", "x1=1", "x2=0"]) == 0
    out = capsys.readouterr().out
    # XOR at (1, 0): the output 1 goes entirely to x1 (hand calculation in test_examples)
    assert "x1     1      1" in out and "conservation: proved" in out


def test_explain_bad_inputs_exit_2(capsys):
    assert main(["explain", "xor", "--input", "x1=7", "x2=0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symdtd: error:") and "x1" in err
    assert main(["explain", "xor", "--input", "x1"]) == 2
    assert main(["explain", "missing.json"]) == 2


def test_render_and_plot_root(tmp_path, capsys):
    svg = tmp_path / "flow.svg"
    assert main(["render", "figure3", "-o", str(svg)]) == 0
    text = svg.read_text()
    for node in ("x1", "x2", "x3", "h1", "h2", "h3", "y"):
        assert f">{node}<" in text or f"{node}" in text
    png = tmp_path / "roots.png"
    assert main(["plot-root", "--neuron=1,-1:-0.25:1.5,0.5", "--box", "0", "2", "-o", str(png)]) == 0
    assert png.stat().st_size > 1000
    assert main(["plot-root", "--neuron=1,-1:-0.25", "-o", str(png)]) == 2


def test_parse_inputs():
    assert parse_inputs(["x1=3/4,x2=1", "x3=0.5"]) == {"x1": "3/4", "x2": "1", "x3": "0.5"}
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_inputs(["x1"])
