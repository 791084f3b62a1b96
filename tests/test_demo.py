import matplotlib.pyplot as plt

from symdtd.demo import run_demo


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
