"""The analysis report end to end on a generated dataset: two folds, two seeds, a baseline model,
every section; then the report regenerated from its records (benchmarks.reproduce)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import reproduce
from benchmarks.analyze import default_out
from benchmarks.analyze import main as analyze
from benchmarks.esc50 import main as esc50


@pytest.fixture(scope="module")
def report(tmp_path_factory, make_esc50_module):
    tmp = tmp_path_factory.mktemp("analysis")
    make_esc50_module(tmp / "esc50", n_classes=3, per_fold=2, sr=22_050, seconds=1.0)
    argv = [
        "--profile",
        "smoke",
        "--features",
        "mel,chroma",
        "--folds",
        "1,2",
        "--seeds",
        "0,1",
        "--data-root",
        str(tmp / "esc50"),
        "--runs-dir",
        str(tmp / "runs"),
        "--out",
        str(tmp / "out"),
        "--cache-dir",
        str(tmp / "cache"),
        "--fusion",
        "wa,ds,stack",
        "--analysis",
        "--calibrate",
        "temperature",
        "--baselines",
        "simple_cnn",
    ]
    assert esc50(argv) == 0
    return tmp


def test_seeds_and_analysis_from_the_benchmark(report):
    out = report / "out"
    info = json.loads((out / "run.json").read_text())
    assert sorted({r["config"]["seed"] for r in info["runs"]}) == [0, 1] and len(info["runs"]) == 12
    per_feature = (out / "per_feature.md").read_text()
    assert "± std over folds ± std over seeds" in per_feature
    md = (out / "analysis.md").read_text()
    for section in (
        "Headline findings",
        "against its best member",
        "Systems against each other",
        "over folds against spread over seeds",
        "Calibration of every system",
        "Temperature scaling before fusion",
        "Diversity of feature pairs",
        "Per-class accuracy",
    ):
        assert section in md, section
    for name in (
        "reliability.png",
        "diversity.png",
        "diversity_gain.png",
        "per_class.png",
        "significance.csv",
        "calibration.json",
        "per_class.csv",
    ):
        assert (out / name).is_file(), name
    assert "Gain over best member [95 % CI]" in (out / "fusion.md").read_text()
    # the baseline is a row of its own, never fused with nor merged into mel
    assert "## Other models (not fused)" in md
    others = json.loads((out / "other_models.json").read_text())
    assert [r["system"] for r in others] == ["mel · simple_cnn (profile)"] and 0 <= others[0]["accuracy"] <= 1
    significance = json.loads((out / "significance.json").read_text())
    assert significance and all("simple_cnn" not in r["system"] for r in significance)


def test_analyze_cli_rereads_a_report_folder(report, capsys):
    out = report / "out"
    (out / "analysis.md").unlink()
    argv = [
        str(out),
        "--runs-dir",
        str(report / "runs"),
        "--data-root",
        str(report / "esc50"),
        "--compare",
        "mel+chroma:ds,mel+chroma:stack",
    ]
    assert analyze(argv) == 0
    printed = capsys.readouterr().out
    assert "fused systems beat their best member" in printed and "wall time" in printed
    pairs = json.loads((out / "pairs.json").read_text())
    assert {"a": "mel+chroma (ds)", "b": "mel+chroma (stack)"}.items() <= pairs[-1].items()
    record = json.loads((out / "analysis_run.json").read_text())
    assert record["argv"] == argv and record["command"].startswith("python -m benchmarks.analyze ")
    assert analyze([str(report)]) == 1  # no run.json there
    assert "no run.json" in capsys.readouterr().err


def test_reproduce_regenerates_the_report_and_finds_a_change(report):
    out = report / "out"
    assert analyze([str(out), "--runs-dir", str(report / "runs"), "--data-root", str(report / "esc50")]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    problems, _ = reproduce.reproduce(out)  # the benchmark's command, then analyze's, into a temporary folder
    assert problems == []
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # nothing written without --write
    lines = (out / "per_feature.csv").read_text().splitlines()
    (out / "per_feature.csv").write_text("\n".join([lines[0], lines[1].replace("0", "1", 1), *lines[2:]]) + "\n")
    (out / "stray.csv").write_text("a\n1\n")
    problems, _ = reproduce.reproduce(out)
    assert [p.split(":")[0] for p in problems] == ["per_feature.csv", "stray.csv"]
    assert "line 2 differs" in problems[0] and "does not produce it" in problems[1]
    assert reproduce.reproduce(out, write=True)[0] == problems  # --write: regenerated, stray table removed
    assert reproduce.reproduce(out)[0] == [] and not (out / "stray.csv").exists()


def test_analysis_of_a_committed_report_goes_under_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "esc50" / "quick").mkdir(parents=True)
    assert default_out(Path("results/esc50/quick")) == Path("out/esc50/quick")
    assert default_out(Path("out/esc50/quick")) == Path("out/esc50/quick")  # a report of one's own: beside it


def test_a_report_of_one_feature_is_refused_in_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # the committed recipe study: mel alone, baselines
    assert analyze(["results/esc50/recipe", "--out", str(tmp_path)]) == 1
    assert "error: results/esc50/recipe: its report has one feature (mel)" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
