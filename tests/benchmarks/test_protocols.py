"""The protocol comparison (benchmarks.protocols): the paper's numbers, ours per protocol, anchors."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from benchmarks.core.io import write_json
from benchmarks.protocols import main, protocol_rows, write_protocols

ROOT = Path(__file__).resolve().parents[2]


def _report(folder: Path, mel: float, best_fused: float, minutes: float) -> Path:
    """A finished report's three records: mel and MFCC alone, the paper's fused rows and one better."""

    def row(features, method, acc):
        return {"features": features, "method": method, "accuracy_mean": acc, "accuracy_std": 0.01}

    folder.mkdir(parents=True)
    write_json(folder / "per_feature.json", [row(["mel"], None, mel), row(["mfcc"], None, mel + 0.05)])
    five = ["mel", "mfcc", "cqt", "gfcc", "wavegram"]
    grid = [row(["mel", "mfcc", "cqt"], "wa", mel + 0.06), row(["mel", "mfcc", "cqt"], "ds", mel + 0.04)]
    write_json(folder / "grid.json", [*grid, row(five, "wa", mel + 0.07), row(["mfcc", "gfcc"], "ids", best_fused)])
    write_json(folder / "training_time.json", [{"runs_of": "mel"}, {"runs_of": "all", "machine_minutes": minutes}])
    return folder


def test_the_table_has_the_papers_rows_and_each_protocols_best(tmp_path):
    reports = {
        "actor-independent": _report(tmp_path / "a", 0.60, 0.70, 420.0),
        "clip-level": _report(tmp_path / "c", 0.85, 0.95, 430.0),
    }
    rows = protocol_rows("ravdess", reports)
    assert [(r["system"], r["method"], r["paper"]) for r in rows[:4]] == [
        ("Mel Spectrogram", None, 0.739),
        ("Mel Spectrogram + MFCC + CQT", "wa", 0.772),
        ("Mel Spectrogram + MFCC + CQT", "ds", 0.768),
        ("Mel Spectrogram + MFCC + CQT + GFCC + Wavegram", "wa", 0.774),
    ]
    assert [rows[i]["clip-level"]["accuracy_mean"] for i in range(4)] == pytest.approx([0.85, 0.91, 0.89, 0.92])
    assert rows[4]["actor-independent"]["features"] == ["mfcc"]  # best single feature
    assert rows[5]["clip-level"]["accuracy_mean"] == 0.95 and rows[5]["clip-level"]["method"] == "ids"
    assert rows[6]["actor-independent"] == 420.0
    md = write_protocols("ravdess", reports, tmp_path / "out", "cmd").read_text()
    assert "| Ours, actor-independent" in md and "0.950 ± 0.010 (MFCC + GFCC, " in md
    assert "arXiv:2606.03359" in md and "0.652" in md  # the anchors
    csv = (tmp_path / "out" / "protocols.csv").read_text().splitlines()
    assert csv[0] == "system,method,paper,actor-independent,clip-level,actor-independent system,clip-level system"
    assert json.loads((tmp_path / "out" / "protocols.json").read_text())["rows"][0]["clip-level"] == 0.85


def test_a_report_that_is_not_finished_is_named(tmp_path, capsys):
    (tmp_path / "half").mkdir()
    with pytest.raises(SystemExit, match=r"half/per_feature.json: missing"):
        main(["ravdess", f"clips={tmp_path / 'half'}", "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out" / "protocols.md").exists()
    folder = _report(tmp_path / "no-total", 0.6, 0.7, 1.0)
    write_json(folder / "training_time.json", [{"runs_of": "mel"}])
    with pytest.raises(SystemExit, match=r"no-total/training_time.json: no row 'all'"):
        main(["ravdess", f"clips={folder}", "--out", str(tmp_path / "out")])


def test_a_report_argument_needs_a_label(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["ravdess", str(tmp_path), "--out", str(tmp_path / "out")])
    assert "expected LABEL=FOLDER" in capsys.readouterr().err


def test_the_committed_comparison_regenerates(tmp_path, monkeypatch):
    committed = ROOT / "results" / "ravdess" / "protocols.md"
    if not committed.is_file():
        pytest.skip("results/ravdess/protocols.md not written yet (its reports are still training)")
    command = committed.read_text().split("Command: `")[1].split("`")[0]
    argv = shlex.split(command)[3:]  # after "python -m benchmarks.protocols"
    out = argv.index("--out")
    monkeypatch.chdir(ROOT)
    main([*argv[:out], "--out", str(tmp_path)])
    drop_command = lambda text: [line for line in text.splitlines() if not line.startswith("Command: ")]  # noqa: E731
    assert drop_command((tmp_path / "protocols.md").read_text()) == drop_command(committed.read_text())
