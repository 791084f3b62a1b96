import subprocess
import sys

from symdtd.cli.app import main


def test_derive_prints_steps(capsys):
    assert main(["derive", "z+"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n(") == 5 and "x_i·w_i⁺ / Σ_{i'=1}^{n} x_{i'}·w_{i'}⁺ · x_j" in out


def test_verify_zb_all_proved(capsys):
    assert main(["verify", "zB"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.split()[:1] in (["conservation"], ["root"], ["positivity"])]
    assert len(rows) == 4 and all("proved" in row for row in rows)


def test_formats(capsys, tmp_path):
    assert main(["derive", "w2", "--latex"]) == 0
    assert "\\begin{align*}" in capsys.readouterr().out
    target = tmp_path / "d.md"
    assert main(["verify", "z", "--markdown", "-o", str(target)]) == 0
    assert "**refuted**" in target.read_text()


def test_errors_are_one_line_exit_2():
    result = subprocess.run([sys.executable, "-m", "symdtd.cli.app", "derive", "q+"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip() == ("symdtd: error: unknown rule 'q+'; known rules: gamma, mixed, "
                                     "w2, z, z+, zB (other spellings such as zb, zplus, w² are "
                                     "accepted)")
    assert "Traceback" not in result.stderr


def test_help_lists_commands():
    result = subprocess.run([sys.executable, "-m", "symdtd.cli.app", "--help"], capture_output=True, text=True)
    assert result.returncode == 0
    for command in ("derive", "verify", "demo"):
        assert command in result.stdout


def test_every_subcommand_help_has_an_example():
    from symdtd.cli.app import build_parser
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert set(subparsers.choices) == {"derive", "verify", "explain", "render", "plot-root",
                                       "evaluate", "demo", "compare", "select"}
    for name, sub in subparsers.choices.items():
        text = sub.format_help()
        assert f"example:\n  symdtd {name}" in text, name
        assert "-o OUTPUT, --output OUTPUT" in text, name


def test_explain_writes_file(tmp_path):
    target = tmp_path / "explain.txt"
    assert main(["explain", "xor", "--input", "x1=1", "x2=0", "-o", str(target)]) == 0
    assert "conservation: proved" in target.read_text()
