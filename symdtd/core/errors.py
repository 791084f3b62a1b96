"""Which errors are the user's, and what to do with the others (bug reports).

The ``symdtd`` command prints an error caused by its input as one line and
exits with code 2. An error is the input's when :func:`is_input_error` says
so: an :class:`InputError`, any exception class defined by symdtd (such as
the missing-Graphviz error), a ``ValueError``/``TypeError`` raised by a
``raise`` statement in symdtd's own code (a deliberate validation), or an
``OSError`` about a path outside the package (the user's files). Anything
else — a ``KeyError``, a ``TypeError`` from an operation inside symdtd, an
error deep in a library — is a bug: :func:`write_bug_report` saves its
traceback to a file so it can be reported.

Examples
--------
>>> is_input_error(InputError("--input: x1 given twice"))
True
>>> try:
...     {}["kind"]
... except KeyError as err:
...     is_input_error(err)
False
>>> is_input_error(FileNotFoundError(2, "No such file or directory", "net.json"))
True
"""
from __future__ import annotations

import datetime
import dis
import os
import platform
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path

__all__ = ["InputError", "is_input_error", "one_line", "write_bug_report", "PACKAGE_DIR"]

#: the folder of the symdtd package; code there counts as "the package's own"
PACKAGE_DIR = Path(__file__).resolve().parent.parent   # symdtd/, not symdtd/core/


class InputError(ValueError):
    """A ``ValueError`` caused by the user's input (an argument, a file, a path).

    Caught as ``ValueError`` by library users; the command prints its message
    as one line and exits with code 2.
    """


def _inside(path, folders) -> bool:
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return any(resolved == f or f in resolved.parents for f in folders)


def _raised_deliberately(error, folders) -> bool:
    """The innermost frame is symdtd code and stopped at a ``raise`` statement."""
    tb = error.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    if not _inside(code.co_filename, folders):
        return False
    return any(ins.offset == tb.tb_lasti and ins.opname == "RAISE_VARARGS"
               for ins in dis.get_instructions(code))


def is_input_error(error: BaseException) -> bool:
    """Whether *error* is caused by the input (print it) rather than a bug (report it).

    Parameters
    ----------
    error : BaseException
        A caught exception, with its traceback.
    """
    folders = [PACKAGE_DIR]
    if isinstance(error, InputError):
        return True
    if type(error).__module__.split(".")[0] == "symdtd":
        return True
    if isinstance(error, OSError):
        # a missing or unwritable file of the package itself is a bug
        names = [n for n in (error.filename, error.filename2) if n is not None]
        return not any(_inside(os.fsdecode(n), folders) for n in names
                       if isinstance(n, (str, bytes, os.PathLike)))
    if isinstance(error, (ValueError, TypeError)):
        return _raised_deliberately(error, folders)
    return False


def one_line(error: BaseException) -> str:
    """The first line of the message of *error* (its type if it has none)."""
    text = str(error).strip()
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        text = f"{error.filename}: {error.strerror}"
    return text.splitlines()[0] if text else type(error).__name__


def write_bug_report(error: BaseException, argv: Sequence[str] | None = None) -> Path:
    """Save the traceback of *error* with versions and arguments; return the file.

    The file goes to the temporary folder (:func:`tempfile.gettempdir`),
    named ``symdtd-bug-<date>-<time>-<random>.txt``.

    Examples
    --------
    >>> try:
    ...     {}["kind"]
    ... except KeyError as err:
    ...     report = write_bug_report(err, ["explain", "net.json"])
    >>> text = report.read_text()
    >>> "KeyError: 'kind'" in text, "explain net.json" in text
    (True, True)
    >>> report.unlink()
    """
    from importlib import metadata
    try:
        version = metadata.version("symdtd")
    except metadata.PackageNotFoundError:   # run from a source tree
        version = "unknown"
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    handle, name = tempfile.mkstemp(prefix=f"symdtd-bug-{stamp}-", suffix=".txt")
    lines = [f"symdtd {version}, Python {platform.python_version()}, {platform.platform()}",
             "command: symdtd " + " ".join(argv if argv is not None else sys.argv[1:]),
             "", *traceback.format_exception(error)]
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write("\n".join(line.rstrip("\n") for line in lines) + "\n")
    return Path(name)
