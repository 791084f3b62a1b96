"""The progress bar: drawn on a terminal only, quiet in pipes, logs and tests."""
from symdtd.cli.app import main
from symdtd.core import progress


class FakeTerminal:
    def __init__(self, tty):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_progress_bar_only_on_a_terminal(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    terminal, pipe = FakeTerminal(True), FakeTerminal(False)
    assert list(progress.iterate(range(3), "work", stream=terminal)) == [0, 1, 2]
    assert list(progress.iterate(range(3), "work", stream=pipe)) == [0, 1, 2]
    assert "] 3/3 work" in terminal.text and terminal.text.endswith("\r")
    assert pipe.text == ""
    monkeypatch.setattr(progress, "ENABLED", False)
    assert list(progress.chunks(5, 2, "explain", stream=terminal))[-1] == slice(4, 5)
    assert terminal.text.count("3/3") == 1  # nothing new was drawn


def test_evaluate_is_quiet_when_stderr_is_not_a_terminal(capsys):
    assert main(["evaluate", "--models", "mlp", "--n", "3", "--steps", "2",
                 "--baseline", "zero"]) == 0
    out, err = capsys.readouterr()
    assert "AOPC" in out or "aopc" in out.lower()
    assert err == ""
