"""The command's failures: one line and exit 2 for the input, a report for bugs,
130 for Ctrl-C, quiet for a closed pipe, outputs checked first (issue 14, items 8-9)."""
import os
import re
import signal
import subprocess
import sys

import pytest

from symdtd.cli import app as cli
from symdtd.cli import commands as cli_commands
from symdtd.cli.app import main
from symdtd.core.errors import is_input_error
from symdtd.real import comparison


def _one_line_error(capsys, *pieces):
    err = capsys.readouterr().err
    assert err.startswith("symdtd: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for piece in pieces:
        assert piece in err, err
    return err


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "file.json"
    path.write_text("{}")
    return path


def test_output_is_a_folder(tmp_path, capsys):
    assert main(["derive", "z+", "-o", str(tmp_path)]) == 2
    _one_line_error(capsys, f"cannot write '{tmp_path}': it is a folder")


def test_output_inside_a_file(a_file, capsys):
    assert main(["explain", "figure3", "-o", f"{a_file}/x"]) == 2
    _one_line_error(capsys, f"{a_file} is a file, not a folder")
    assert a_file.read_text() == "{}"


def test_demo_into_a_file(a_file, capsys):
    assert main(["demo", "-o", str(a_file)]) == 2
    _one_line_error(capsys, f"cannot write '{a_file}': it is a file, not a folder")


@pytest.mark.skipif(not os.path.isdir("/sys/kernel"), reason="needs Linux /sys")
def test_output_where_no_file_can_be_created(capsys):
    assert main(["derive", "z+", "-o", "/sys/foo/x.md"]) == 2
    _one_line_error(capsys, "cannot write '/sys/foo/x.md': cannot create files in /sys")


def test_deeply_nested_json(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["explain", str(path)]) == 2
    _one_line_error(capsys, f"{path}: JSON nested too deeply")


# every subcommand with -o: a bad target is refused before the work
_WORK = {"derive": (cli, "_cmd_derive"), "verify": (cli, "_cmd_verify"),
         "demo": (cli, "_cmd_demo"), "explain": (cli_commands, "_explain"),
         "render": (cli_commands, "_render"), "plot-root": (cli_commands, "_plot_root"),
         "evaluate": (cli_commands, "_evaluate")}
_ARGS = {"derive": ["z+"], "verify": ["z+"], "demo": [], "explain": ["xor"],
         "render": ["xor"], "plot-root": ["--neuron=1,1:0:1,1"], "evaluate": ["--n", "3"]}


@pytest.mark.parametrize("command", sorted(_WORK))
def test_every_output_is_checked_before_the_work(command, a_file, monkeypatch, capsys):
    module, name = _WORK[command]
    monkeypatch.setattr(module, name, lambda args: pytest.fail(f"{command} ran its work"))
    assert main([command, *_ARGS[command], "-o", f"{a_file}/sub/out.png"]) == 2
    _one_line_error(capsys, f"{a_file} is a file, not a folder")


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_evaluate_to_proc_fails_before_evaluating(monkeypatch, capsys):
    monkeypatch.setattr(comparison, "evaluate_models",
                        lambda *a, **k: pytest.fail("evaluated before checking -o"))
    assert main(["evaluate", "--models", "mlp", "--n", "3", "-q", "-o", "/proc/nope"]) == 2
    _one_line_error(capsys, "cannot write '/proc/nope'")


def test_a_deliberate_validation_error_is_one_line(capsys):
    assert main(["explain", "xor", "--input", "x1"]) == 2
    _one_line_error(capsys, "--input expects NAME=VALUE pairs")


def test_a_missing_dot_is_the_users_to_fix(monkeypatch, tmp_path, capsys):
    from symdtd.see import flowgraph

    def no_dot(*args, **kwargs):
        raise flowgraph.GraphvizNotFoundError("writing an image needs the Graphviz program `dot`")
    monkeypatch.setattr(flowgraph.FlowGraph, "pipe", no_dot)
    assert main(["render", "xor", "-o", str(tmp_path / "f.svg")]) == 2
    _one_line_error(capsys, "needs the Graphviz program `dot`")


def _bug_report(capsys):
    err = capsys.readouterr().err
    assert "Traceback" not in err and "a bug in symdtd" in err
    report = re.search(r"traceback is saved in (\S+);", err)
    assert report, err
    text = open(report.group(1), encoding="utf-8").read()
    os.unlink(report.group(1))
    return err, text


@pytest.mark.parametrize("failure, shown", [
    (lambda: {}["kind"], "KeyError: 'kind'"),
    (lambda: None + 1, "TypeError: unsupported operand"),
    (lambda: int("x"), "ValueError: invalid literal for int()"),
])
def test_anything_else_is_a_bug_with_a_saved_traceback(failure, shown, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_cmd_derive", lambda args: failure())
    assert main(["derive", "z+"]) == 1
    err, text = _bug_report(capsys)
    assert shown in err and err.count("\n") == 2
    assert "Traceback (most recent call last)" in text and shown in text
    assert "command: symdtd derive z+" in text and "symdtd " in text.splitlines()[0]


@pytest.mark.parametrize("code, deliberate", [
    ("raise TypeError('weight of edge x1 -> y: expected a number')", True),
    ("raise ValueError('neurons[0].kind: expected relu')", True),
    ("None + 1", False),                      # an operation failed: a bug
    ("int('x')", False),                      # a library call failed: a bug
])
def test_only_a_raise_statement_in_symdtd_is_the_users_error(code, deliberate):
    """A ValueError/TypeError counts as input error only when symdtd raised it itself."""
    inside = compile(code, os.path.join(os.path.dirname(cli.__file__), "checks.py"), "exec")
    outside = compile(code, os.path.join(os.path.dirname(pytest.__file__), "checks.py"), "exec")
    for compiled, expected in ((inside, deliberate), (outside, False)):
        with pytest.raises((TypeError, ValueError)) as caught:
            exec(compiled, {})
        assert is_input_error(caught.value) is expected


def test_oserror_on_a_package_file_is_a_bug():
    inside = FileNotFoundError(2, "No such file or directory",
                               os.path.join(os.path.dirname(cli.__file__), "data", "x.npz"))
    outside = FileNotFoundError(2, "No such file or directory", "/home/me/net.json")
    assert not is_input_error(inside) and is_input_error(outside)


def test_interrupt_inside_the_work(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "_cmd_verify", interrupted)
    assert main(["verify", "z+"]) == 130
    assert capsys.readouterr().err == "symdtd: interrupted\n"


def test_a_closed_pipe_in_process(monkeypatch, capsys):
    def closed(args):
        raise BrokenPipeError(32, "Broken pipe")
    monkeypatch.setattr(cli_commands, "_explain", closed)
    assert main(["explain", "xor"]) == 1
    assert capsys.readouterr().err == ""


def _command(*args):
    return [sys.executable, "-m", "symdtd.cli.app", *args]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes and signals")
def test_a_closed_pipe_exits_quietly():
    """``symdtd explain … | head``: the reader is gone before the first write."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(_command("explain", "figure3"), stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert result.returncode == 1 and result.stderr == ""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_prints_one_line_and_exits_130(tmp_path):
    # a job started with & by a non-interactive shell ignores SIGINT, and Python keeps an
    # ignored SIGINT ignored: restore the default so the test does not depend on how it was run
    process = subprocess.Popen(_command("demo", "-o", str(tmp_path)), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert process.stdout.readline().startswith("[1/")   # the work has started
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert err == "symdtd: interrupted\n"
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]   # no half-written file


@pytest.mark.parametrize("command, module, name, suffix, message", [
    (["render", "xor"], cli_commands, "load_network_argument", "xyz",
     "'xyz' is not an image format of Graphviz; use .svg, .png, .pdf or .gv"),
    (["plot-root", "--neuron=1,1:0:1,1"], cli_commands, "_parse_neuron", "xyz",
     "matplotlib cannot write 'xyz' files; use one of"),
])
def test_an_unknown_image_suffix_stops_before_the_work(command, module, name, suffix, message,
                                                       tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(module, name, lambda *args: pytest.fail("the work started"))
    target = tmp_path / f"out.{suffix}"
    assert main([*command, "-o", str(target)]) == 2
    _one_line_error(capsys, f"path '{target}': {message}")
    assert list(tmp_path.iterdir()) == []
