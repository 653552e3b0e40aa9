"""Test-time multi-crop (``python -m benchmarks.multicrop``): scores a trained run's weights, the
whole clip reproducing the run's own test predictions, and refuses runs without weights."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import multicrop
from benchmarks.datasets import create_dataset
from rann.config import RunConfig
from rann.training import train_run

RECORD = Path("results/esc50/long-study/multicrop/multicrop.json")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, make_esc50_module):
    tmp = tmp_path_factory.mktemp("crops")
    make_esc50_module(tmp / "esc50", n_classes=3, per_fold=2, sr=22_050, seconds=1.0)
    ds = create_dataset("esc50", data_root=tmp / "esc50", sr=22_050, cache_dir=tmp / "cache", progress=False)
    cfg = RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="smoke", epochs=2, crop_seconds=0.5)
    return tmp, train_run(cfg, ds, runs_root=tmp / "runs", progress=False)


def test_the_whole_clip_scores_as_the_run_did_and_crops_are_scored(trained, capsys):
    tmp, run = trained
    argv = [str(run.folder), "--crops", "3,2", "--data-root", str(tmp / "esc50"), "--out", str(tmp / "report")]
    assert multicrop.main(argv) == 0
    record = json.loads((tmp / "report" / "multicrop.json").read_text())
    assert record["crops"] == ["1", "2", "3"]  # the whole clip is always the reference
    (scored,) = record["runs"]
    assert scored["run"] == run.folder.relative_to(tmp / "runs" / "esc50" / "smoke").as_posix()
    assert scored["crop_seconds"] == 0.5 and scored["clip_seconds"] == 5.0  # ESC-50 serves 5 s (padded)
    for metric in ("accuracy", "map", "f1"):  # the run's own whole-clip test predictions
        assert scored["results"]["1"][metric] == pytest.approx(run.metrics[metric], abs=1e-5)
    assert set(scored["results"]) == {"1", "2", "3"} and scored["max_difference_from_saved_probs"] < 1e-5
    md = (tmp / "report" / "multicrop.md").read_text()
    assert "| 3 crops of 0.5 s" in md and "whole clip" in md
    (tmp / "report" / "multicrop.md").unlink()
    assert multicrop.main(["--table", str(tmp / "report" / "multicrop.json")]) == 0
    assert (tmp / "report" / "multicrop.md").read_text() == md  # the table comes from the record alone


def test_a_run_without_weights_is_named(trained, tmp_path, capsys):
    tmp, run = trained
    bare = tmp_path / run.folder.name  # a run folder is named for its config
    bare.mkdir()
    for name in ("config.json", "metrics.json", "probs.npz", "log.csv", ".completed"):
        (bare / name).write_bytes((run.folder / name).read_bytes())
    assert multicrop.main([str(bare), "--data-root", str(tmp / "esc50"), "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert f"{bare}: no weights (ema.pt)" in err and "Traceback" not in err
    (bare / "ema.pt").write_bytes(b"not a checkpoint")
    assert multicrop.main([str(bare), "--data-root", str(tmp / "esc50"), "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert f"{bare / 'ema.pt'}: cannot load the weights" in err and "Traceback" not in err
    assert multicrop.main([str(tmp_path), "--out", str(tmp_path / "r")]) == 1
    assert "not a completed run" in capsys.readouterr().err


def test_the_committed_table_comes_from_its_record():
    assert multicrop.table(json.loads(RECORD.read_text())) == RECORD.with_suffix(".md").read_text()
