"""The README's ``$ symdtd …`` examples print, byte for byte, what the README shows."""
import re
import shlex
from pathlib import Path

import pytest

from symdtd.cli.app import main

README = Path(__file__).parent.parent / "README.md"


def console_examples():
    """``(command, expected output)`` of each console block that runs one symdtd command and shows its output."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        first, _, output = block.partition("\n")
        if first.startswith("$ symdtd ") and output.strip() and "\n$ " not in "\n" + output:
            examples.append((first[2:], output.rstrip("\n")))
    return examples


def test_the_readme_shows_derive_at():
    assert any("--at" in command for command, _ in console_examples())


@pytest.mark.parametrize("command, expected", console_examples(), ids=lambda v: v[:40])
def test_console_example_reproduces(command, expected, capsys):
    assert main(shlex.split(command)[1:]) == 0
    assert capsys.readouterr().out.rstrip("\n") == expected
