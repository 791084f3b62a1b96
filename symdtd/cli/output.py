"""Where a command's text goes: the terminal, or a file given with ``-o``.

Examples
--------
>>> from symdtd.cli.output import emit
>>> emit("proved", None)
proved
"""
from __future__ import annotations

import os

from ..core.files import atomic_write_text

__all__ = ["emit"]


def emit(text: str, output: str | os.PathLike | None) -> None:
    """Print *text*, or write it to *output* when a path is given."""
    if output:
        path = atomic_write_text(output, text + "\n")
        print(f"wrote {path}")
    else:
        print(text)
