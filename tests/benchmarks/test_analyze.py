"""The analysis report end to end on a generated dataset: two folds, two seeds, every section."""

from __future__ import annotations

import json

import pytest

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
    ]
    assert esc50(argv) == 0
    return tmp


def test_seeds_and_analysis_from_the_benchmark(report):
    out = report / "out"
    info = json.loads((out / "run.json").read_text())
    assert sorted({r["config"]["seed"] for r in info["runs"]}) == [0, 1] and len(info["runs"]) == 8
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
    assert analyze([str(report)]) == 1  # no run.json there
    assert "no run.json" in capsys.readouterr().err
