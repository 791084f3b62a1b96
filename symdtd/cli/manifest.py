"""A record of the files a command wrote into a folder, so it never overwrites yours.

``symdtd demo -o DIR`` writes about twenty files with fixed names. Before
replacing any of them it reads ``DIR/.symdtd-manifest.json`` — file name →
SHA-256 of what it wrote last time — and refuses to replace a file that is
not listed there, or whose content changed since (a hand-edited report), unless
told to (``--force``). After writing, it records the new hashes.

Examples
--------
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> manifest = Manifest(folder)
>>> _ = (folder / "report.md").write_text("written by me\\n")
>>> manifest.check(["report.md"])
Traceback (most recent call last):
...
symdtd.core.errors.InputError: ...report.md (not written by symdtd); ...
>>> manifest.record(["report.md"])   # now it counts as symdtd's
>>> Manifest(folder).check(["report.md"])
>>> _ = (folder / "report.md").write_text("edited by hand\\n")
>>> Manifest(folder).conflicts(["report.md", "other.md"])
['report.md (changed since symdtd wrote it)']
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from ..core.errors import InputError
from ..core.files import atomic_write_text

__all__ = ["Manifest", "MANIFEST_NAME", "sha256"]

#: the manifest's file name inside the output folder
MANIFEST_NAME = ".symdtd-manifest.json"
_FORMAT = "symdtd-manifest"


def sha256(path: str | os.PathLike) -> str | None:
    """The SHA-256 hex digest of the file at *path*, or None if it is not a file."""
    path = Path(path)
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Manifest:
    """The files symdtd wrote into *folder*, as recorded in :data:`MANIFEST_NAME`.

    Parameters
    ----------
    folder : str or Path
        The output folder (it need not exist yet).

    Attributes
    ----------
    entries : dict
        File name → SHA-256 of the content symdtd wrote.
    unreadable : str or None
        Why an existing manifest could not be read (then it counts as empty,
        so every existing file is protected).
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.path = self.folder / MANIFEST_NAME
        self.entries, self.unreadable = {}, None
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                files = data["files"] if data.get("format") == _FORMAT else None
                if not (isinstance(files, dict)
                        and all(isinstance(v, str) for v in files.values())):
                    raise ValueError("not a symdtd manifest")
                self.entries = dict(files)
            except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) \
                    as err:
                self.unreadable = f"{self.path} is unreadable ({err})"

    def conflicts(self, names: Iterable[str]) -> list[str]:
        """The files among *names* that exist and must not be replaced, with why."""
        found = []
        for name in names:
            path = self.folder / name
            if not (path.exists() or path.is_symlink()):
                continue
            recorded = self.entries.get(name)
            if recorded is None:
                found.append(f"{name} (not written by symdtd)")
            elif sha256(path) != recorded:
                found.append(f"{name} (changed since symdtd wrote it)")
        return found

    def check(self, names: Iterable[str], *, force: bool = False) -> None:
        """Raise :class:`~symdtd.core.errors.InputError` naming the :meth:`conflicts`.

        With ``force=True`` nothing is checked.
        """
        found = [] if force else self.conflicts(names)
        if found:
            note = f" ({self.unreadable})" if self.unreadable else ""
            raise InputError(
                f"{self.folder} already holds files symdtd would replace: "
                f"{', '.join(found)}; move them away, choose another folder, or use "
                f"--force (force=True) to replace them{note}")

    def record(self, names: Iterable[str]) -> None:
        """Store the current hashes of *names* (a missing file is dropped) and save."""
        if not names and not self.path.exists():   # nothing written: leave no trace
            return
        for name in names:
            digest = sha256(self.folder / name)
            if digest is None:
                self.entries.pop(name, None)
            else:
                self.entries[name] = digest
        text = json.dumps({"format": _FORMAT, "version": 1,
                           "files": dict(sorted(self.entries.items()))}, indent=1)
        atomic_write_text(self.path, text + "\n")
