"""Atomic writes and output checks (issue 14, items 6 and 8)."""
import errno
import json
import os
import subprocess
import sys
import textwrap

import pytest
from matplotlib.figure import Figure

from symdtd import examples
from symdtd.cli.app import main
from symdtd.core.errors import InputError
from symdtd.core.files import atomic_path, atomic_write_bytes, atomic_write_text, check_output
from symdtd.network.netjson import load_network, save_network
from symdtd.see.flow import render, write
from symdtd.see.plotting import save_figure

OLD = "old content\n"


def _disk_full(*args):
    raise OSError(errno.ENOSPC, "No space left on device")


def _only(folder):
    return sorted(p.name for p in folder.iterdir())


def _writers():
    """Each way symdtd writes a file, as a function of the target path."""
    fig3 = examples.figure3()
    return {
        "save_network": lambda p: save_network(fig3, p),
        "render.write gv": lambda p: write(render(fig3), p.with_suffix(".gv")),
        "render.write svg": lambda p: write(render(fig3), p.with_suffix(".svg")),
        "save_figure": lambda p: save_figure(Figure(), p.with_suffix(".png")),
        "cli -o": None,   # run through main() below, for its exit code
        "atomic_write_bytes": lambda p: atomic_write_bytes(p, b"new"),
    }


@pytest.mark.parametrize("writer", sorted(_writers()))
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(writer, tmp_path,
                                                                   monkeypatch, capsys):
    write_to = _writers()[writer]
    names = {"render.write gv": "out.gv", "render.write svg": "out.svg",
             "save_figure": "out.png"}
    target = tmp_path / names.get(writer, "out.json")
    target.write_text(OLD)
    monkeypatch.setattr("symdtd.core.files.os.fsync", _disk_full)   # the disk fills at the end
    if writer == "cli -o":
        assert main(["derive", "z+", "-o", str(target)]) == 2
        assert capsys.readouterr().err == f"symdtd: error: {target}: No space left on device\n"
    else:
        with pytest.raises(OSError, match="No space left") as caught:
            write_to(target)
        assert caught.value.filename == str(target)   # not the temporary file's name
    assert target.read_text() == OLD
    assert _only(tmp_path) == [target.name]


def test_writes_replace_the_file_and_keep_its_suffix_format(tmp_path):
    path = atomic_write_text(tmp_path / "a" / "b.txt", "é\n")
    assert path.read_bytes() == "é\n".encode()
    png = save_figure(Figure(figsize=(1, 1)), tmp_path / "f.png", dpi=10)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = save_figure(Figure(figsize=(1, 1)), tmp_path / "f.svg")
    assert b"<svg" in svg.read_bytes()[:500]
    assert _only(tmp_path) == ["a", "f.png", "f.svg"]


def test_an_interrupted_block_removes_the_temporary(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text(OLD)
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as temp:
            temp.write_text("half")
            raise KeyboardInterrupt
    assert target.read_text() == OLD and _only(tmp_path) == ["t.txt"]


def test_a_symbolic_link_is_written_through(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text(OLD)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    atomic_write_text(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"


def test_new_files_get_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        path = atomic_write_text(tmp_path / "p.txt", "x")
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_save_network_under_a_file_size_limit_keeps_the_old_file(tmp_path):
    """The issue's repro: ``ulimit -f 8`` left 8 KB of invalid JSON."""
    target = tmp_path / "net.json"
    save_network(examples.xor(), target)
    old = target.read_text()
    script = textwrap.dedent(f"""
        import resource
        from symdtd.network.graph import Network
        from symdtd.network.netjson import save_network
        big = Network.from_dense([[[i - j for j in range(40)] for i in range(40)],
                                  [[1] for _ in range(40)]])
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
        try:
            save_network(big, {str(target)!r})
        except OSError as err:
            print("refused", err.errno)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip() == f"refused {errno.EFBIG}", result.stderr
    assert target.read_text() == old
    assert json.loads(old)["format"] == "symdtd-network"
    assert load_network(target).outputs == ["y"]
    assert _only(tmp_path) == ["net.json"]


def test_check_output_accepts_new_paths_and_creates_nothing(tmp_path):
    assert check_output(tmp_path / "a" / "b" / "c.md") == tmp_path / "a" / "b" / "c.md"
    assert check_output(tmp_path / "new-folder", folder=True) == tmp_path / "new-folder"
    assert check_output(tmp_path, folder=True) == tmp_path
    (tmp_path / "old.md").write_text(OLD)
    assert check_output(tmp_path / "old.md").name == "old.md"
    assert _only(tmp_path) == ["old.md"]


@pytest.mark.parametrize("make, relative, folder, reason", [
    (None, ".", False, "it is a folder; give a file name"),
    ("f", "f", True, "it is a file, not a folder"),
    ("f", "f/x.md", False, "f is a file, not a folder"),
    ("f", "f/deeper/x.md", False, "f is a file, not a folder"),
    ("f", "f/sub", True, "f is a file, not a folder"),
])
def test_check_output_refuses_impossible_targets(tmp_path, make, relative, folder, reason):
    if make:
        (tmp_path / make).write_text(OLD)
    path = tmp_path / relative
    with pytest.raises(InputError, match=f"cannot write '{path}'.*{reason}"):
        check_output(path, folder=folder)
    assert isinstance(InputError("x"), ValueError)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_check_output_refuses_a_folder_where_no_file_can_be_created():
    with pytest.raises(InputError, match="cannot write '/proc/nope': cannot create files in /proc"):
        check_output("/proc/nope")
    with pytest.raises(InputError, match="cannot create files in /proc"):
        check_output("/proc/nope/deeper", folder=True)
