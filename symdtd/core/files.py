"""Writing files so that nothing is lost: atomic writes and output checks.

Every file symdtd writes (networks, figures, renders, reports, command
outputs) is first written to a temporary file in the same folder and then
renamed over the target with :func:`os.replace`. A write that fails half-way
(a full disk, a file size limit, Ctrl-C) leaves the old file as it was and no
temporary file behind. :func:`check_output` tells whether a path can be
written at all, so a command can refuse a bad ``-o`` before doing its work.

Examples
--------
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> atomic_write_text(folder / "notes.txt", "first\\n").read_text()
'first\\n'
>>> with atomic_path(folder / "notes.txt") as tmp:   # for writers that take a path
...     _ = tmp.write_text("second\\n")
>>> (folder / "notes.txt").read_text(), sorted(p.name for p in folder.iterdir())
('second\\n', ['notes.txt'])
>>> check_output(folder / "notes.txt" / "x")
Traceback (most recent call last):
...
symdtd.core.errors.InputError: cannot write ...: .../notes.txt is a file, not a folder
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError

__all__ = ["atomic_path", "atomic_write_text", "atomic_write_bytes", "check_output"]


def _target(path) -> Path:
    """The file to replace: a symbolic link is followed, so the link survives."""
    path = Path(path)
    return path.resolve() if path.is_symlink() else path


def _temp_file(target: Path) -> Path:
    """Create an empty, unique temporary file next to *target*.

    ``os.open`` with mode 0o666 lets the umask decide the permissions, as for
    a file opened normally (``mkstemp`` would make it private to the owner).
    The target's suffix is kept last, since some writers (matplotlib) choose
    the format from it.
    """
    for _ in range(100):
        name = f".{target.name}.{secrets.token_hex(4)}.tmp{target.suffix}"
        temp = target.with_name(name)
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return temp
    raise FileExistsError(f"no free temporary name next to {str(target)!r}")


@contextmanager
def atomic_path(path: str | os.PathLike, *, mkdir: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to *path*; on success rename it to *path*.

    For libraries that write by path (``Figure.savefig``, ``Digraph.render``).
    If the block raises (including ``KeyboardInterrupt``), the temporary file
    is removed and *path* is left as it was.

    Parameters
    ----------
    path : str or Path
        The file to write. A symbolic link is followed.
    mkdir : bool
        Create missing parent folders first.

    Yields
    ------
    Path
        An empty file in the same folder, with the same suffix as *path*.
    """
    target = _target(path)
    if mkdir:
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        temp = _temp_file(target)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from err
    try:
        yield temp
        with open(temp, "rb+") as handle:   # on disk before the rename
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException as err:
        temp.unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno is not None \
                and err.filename in (None, str(temp)):
            # name the file the caller asked for, not the temporary one
            raise OSError(err.errno, err.strerror or str(err), str(path)) from err
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, mkdir: bool = True) -> Path:
    """Write *data* to *path* atomically (see :func:`atomic_path`); return the Path.

    >>> import tempfile
    >>> atomic_write_bytes(Path(tempfile.mkdtemp()) / "a" / "b.bin", b"\\x00\\x01").read_bytes()
    b'\\x00\\x01'
    """
    with atomic_path(path, mkdir=mkdir) as temp:
        with open(temp, "wb") as handle:
            handle.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8",
                      mkdir: bool = True) -> Path:
    """Write *text* to *path* atomically (see :func:`atomic_path`); return the Path.

    Newlines are written as given (no platform translation).
    """
    return atomic_write_bytes(path, text.encode(encoding), mkdir=mkdir)


def _probe(folder: Path) -> None:
    """Raise OSError unless a file can be created in the existing *folder*.

    A real try: permission bits alone do not tell (root, /proc, read-only
    mounts).
    """
    temp = _temp_file(folder / "probe")
    temp.unlink()


def check_output(path: str | os.PathLike, *, folder: bool = False) -> Path:
    """Check that *path* can be written, before any work is done; return it.

    A file path must not be a folder; a folder path must not be a file; the
    nearest existing ancestor must be a folder (not a file) in which a file
    can be created. Nothing is created, except a probe file that is removed
    at once.

    Parameters
    ----------
    path : str or Path
        The output file (or folder, with ``folder=True``).
    folder : bool
        *path* is a folder the output files go into.

    Raises
    ------
    symdtd.core.errors.InputError
        A ``ValueError`` naming the path and what is wrong with it.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.mkdtemp()
    >>> check_output(Path(tmp) / "new" / "folder" / "out.md").name
    'out.md'
    >>> check_output(tmp)
    Traceback (most recent call last):
    ...
    symdtd.core.errors.InputError: cannot write ...: it is a folder; give a file name
    """
    path = Path(path)

    def fail(reason):
        raise InputError(f"cannot write {str(path)!r}: {reason}")

    if path.exists() or path.is_symlink():
        if folder and not path.is_dir():
            fail("it is a file, not a folder")
        if not folder and path.is_dir():
            fail("it is a folder; give a file name")
    ancestor = path if folder and path.is_dir() else path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        fail(f"{ancestor} is a file, not a folder")
    try:
        _probe(ancestor)
    except OSError as err:
        fail(f"cannot create files in {ancestor} ({err.strerror or err})")
    return path
