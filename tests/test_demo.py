import hashlib
import json

import matplotlib.pyplot as plt
import pytest

from symdtd.cli import demo
from symdtd.cli.app import main
from symdtd.cli.demo import demo_file_names, run_demo
from symdtd.cli.manifest import MANIFEST_NAME
from symdtd.core.errors import InputError


def test_demo_writes_every_file_and_reports_verdicts(tmp_path):
    summary = run_demo(tmp_path, quiet=True, digits=False)
    names = {p.name for p in summary["files"]}
    for stem in ("w2", "zplus", "zB"):
        assert f"derivation-{stem}.md" in names and f"derivation-{stem}.tex" in names
    for net in ("figure3", "skip_dag"):
        assert f"flow-{net}.svg" in names and f"flow-{net}.png" in names
    assert "root-search.png" in names
    for path in summary["files"]:
        assert path.exists() and path.stat().st_size > 0
    image = plt.imread(tmp_path / "root-search.png")
    assert image.ndim == 3 and image.shape[0] > 100
    assert summary["verdicts"]["zB"] == "all proved"
    assert summary["verdicts"]["z"] == "positivity refuted"
    assert set(summary["networks"].values()) == {"proved"}
    md = (tmp_path / "derivation-zplus.md").read_text()
    assert "| conservation | **proved** |" in md


# ---------------------------------------------------------------- the manifest (issue 14, item 7)

def _recorded(folder):
    return json.loads((folder / MANIFEST_NAME).read_text())["files"]


def test_demo_runs_twice_and_records_what_it_wrote(tmp_path):
    first = run_demo(tmp_path, quiet=True, digits=False)
    files = _recorded(tmp_path)
    assert sorted(files) == sorted(p.name for p in first["files"]) == sorted(
        demo_file_names(digits=False))
    for name, digest in files.items():   # hashlib directly, not the package's helper
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest
    second = run_demo(tmp_path, quiet=True, digits=False)   # what `make demo` twice does
    assert [p.name for p in second["files"]] == [p.name for p in first["files"]]


def test_demo_names_the_digit_files_it_writes():
    # the list checked up front must be the list evaluate writes
    from symdtd.real.models import MODEL_NAMES
    digits = set(demo_file_names()) - set(demo_file_names(digits=False))
    assert digits == {"digits_pixel_flipping.png"} | {f"digits_heatmaps_{m}.png"
                                                      for m in MODEL_NAMES}


def _fake_parts(monkeypatch, calls):
    """Replace the slow parts by one that writes each file with fixed content."""
    def rules(folder, progress, files, verdicts, quiet):
        calls.append(folder)
        for name in demo_file_names(digits=False):
            (folder / name).write_text(f"demo {name}\n")
            files.append(folder / name)
    monkeypatch.setattr(demo, "_rules_part", rules)
    for part in ("_networks_part", "_root_part"):
        monkeypatch.setattr(demo, part, lambda *args: None)


def test_a_hand_edited_or_foreign_file_stops_the_demo_before_any_work(tmp_path, monkeypatch):
    calls = []
    _fake_parts(monkeypatch, calls)
    run_demo(tmp_path, quiet=True, digits=False)
    (tmp_path / "derivation-w2.md").write_text("my notes\n")
    (tmp_path / "root-search.png").unlink()
    (tmp_path / "root-search.png").write_text("my own figure\n")   # not written by the demo
    (tmp_path / "unrelated.txt").write_text("not the demo's business\n")
    with pytest.raises(InputError) as caught:
        run_demo(tmp_path, quiet=True, digits=False)
    message = str(caught.value)
    assert "derivation-w2.md (changed since symdtd wrote it)" in message
    assert "root-search.png (changed since symdtd wrote it)" in message
    assert "--force" in message and "unrelated.txt" not in message
    assert len(calls) == 1
    assert (tmp_path / "derivation-w2.md").read_text() == "my notes\n"
    run_demo(tmp_path, quiet=True, digits=False, force=True)
    assert (tmp_path / "derivation-w2.md").read_text() == "demo derivation-w2.md\n"
    assert (tmp_path / "unrelated.txt").read_text() == "not the demo's business\n"
    run_demo(tmp_path, quiet=True, digits=False)   # recorded again: no --force needed


def test_demo_into_a_folder_it_never_wrote_refuses_existing_files(tmp_path, monkeypatch, capsys):
    calls = []
    _fake_parts(monkeypatch, calls)
    (tmp_path / "derivation-zB.tex").write_text("\\section{mine}\n")
    assert main(["demo", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "derivation-zB.tex (not written by symdtd)" in err
    assert calls == [] and (tmp_path / "derivation-zB.tex").read_text() == "\\section{mine}\n"
    monkeypatch.setattr(demo, "_digits_part", lambda *args: "table")
    assert main(["demo", "-o", str(tmp_path), "--force"]) == 0
    assert "derivation-zB.tex" in _recorded(tmp_path)


def test_an_interrupted_demo_records_the_files_it_wrote(tmp_path, monkeypatch):
    def interrupted(folder, *args):
        (folder / "flow-figure3.svg").write_text("<svg/>\n")   # written, then Ctrl-C
        raise KeyboardInterrupt
    _fake_parts(monkeypatch, [])
    monkeypatch.setattr(demo, "_networks_part", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_demo(tmp_path, quiet=True, digits=False)
    assert "flow-figure3.svg" in _recorded(tmp_path)
    assert "derivation-w2.md" in _recorded(tmp_path)
    monkeypatch.setattr(demo, "_networks_part", lambda *args: None)
    run_demo(tmp_path, quiet=True, digits=False)   # no --force needed after the interruption


def test_an_unreadable_manifest_protects_every_file(tmp_path, monkeypatch):
    _fake_parts(monkeypatch, [])
    run_demo(tmp_path, quiet=True, digits=False)
    (tmp_path / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(InputError, match=f"not written by symdtd.*{MANIFEST_NAME} is unreadable"):
        run_demo(tmp_path, quiet=True, digits=False)
