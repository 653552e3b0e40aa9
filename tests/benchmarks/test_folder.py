"""The ``folder`` dataset: both layouts, mixed encodings, group-aware seeded folds, its key, and one
clear line for every kind of bad input (through the commands a user runs)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from folder_data import CLASSES, make_dataset, write_clip

from benchmarks import data as data_cli
from benchmarks import run as run_cli
from benchmarks.datasets import create_dataset


def tree(root):
    """Every file under ``root`` with its size and mtime: what "never written" is checked against."""
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


@pytest.mark.parametrize("layout", ["csv", "folders"])
def test_both_layouts_and_seeded_folds(tmp_path, layout):
    root = make_dataset(tmp_path / layout, per_class=10, groups=5, layout=layout)
    before = tree(root)
    ds = create_dataset("folder", data_root=root, n_folds=5, progress=False)
    assert ds.classes == sorted(CLASSES) and len(ds) == 30
    assert ds.duration == 1.5  # the 95th percentile of 0.8-1.2 s, rounded up to half a second
    waves = ds.waveforms()  # WAV (16-bit, float, 8-bit), FLAC, Ogg; 8-44.1 kHz; mono and stereo
    assert waves.shape == (30, round(ds.sr * 1.5)) and np.abs(waves).max() > 0.1
    folds = ds.meta.groupby("label")["fold"].value_counts().unstack()
    assert (folds == 2).all().all()  # stratified: 2 clips of every class in every fold
    if layout == "csv":  # clips of one session (group) never split across folds
        assert (ds.meta.groupby("group")["fold"].nunique() == 1).all()
    again = create_dataset("folder", data_root=root, n_folds=5, progress=False)
    other = create_dataset("folder", data_root=root, n_folds=5, fold_seed=1, progress=False)
    assert again.data_key == ds.data_key and (again.folds == ds.folds).all()
    assert other.data_key != ds.data_key and (other.folds != ds.folds).any()
    assert tree(root) == before  # read, never written


def test_the_csv_folds_are_used_as_given(tmp_path):
    root = make_dataset(tmp_path / "d", per_class=4, groups=2)
    meta = pd.read_csv(root / "labels.csv")
    meta["fold"] = np.where(meta["group"] == "s0", 1, 2)
    meta.to_csv(root / "labels.csv", index=False)
    ds = create_dataset("folder", data_root=root, progress=False)
    assert (ds.folds == meta["fold"].to_numpy()).all() and ds.expected.n_folds == 2


def test_data_check_reports_the_folder(tmp_path, capsys):
    root = make_dataset(tmp_path / "d", per_class=5, groups=5)
    assert data_cli.main(["check", "folder", "--data-root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "3: beep, hiss, hum" in out and "clips of 'hum' per fold" in out and "8000, 16000, 22050, 44100" in out


def _csv(root, rows, columns=("filename", "label")):
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=list(columns)).to_csv(root / "labels.csv", index=False)
    return root


def _bad_inputs(tmp_path):
    """(name, root, extra options, what the one line must name)"""
    rng = np.random.default_rng(0)
    few = make_dataset(tmp_path / "few", per_class=6)
    meta = pd.read_csv(few / "labels.csv")
    meta = meta[(meta["label"] != "hum") | meta["filename"].str.contains("-0[01]")].drop(columns="group")
    meta.to_csv(few / "labels.csv", index=False)
    clips = [write_clip(tmp_path / "c" / f"{c}{i}", c, rng, i).name for c in CLASSES for i in range(5)]
    c = tmp_path / "c"
    rows = [(n, n[:-5].rstrip("0123456789")) for n in clips]
    missing = make_dataset(tmp_path / "missing", per_class=5)
    with open(missing / "labels.csv", "a") as f:
        f.write("audio/gone.wav,hum,s0\n")
    broken = make_dataset(tmp_path / "broken", per_class=5)
    (broken / "audio" / "hiss-03.ogg").write_bytes(b"not audio at all" * 100)
    one = make_dataset(tmp_path / "one", layout="folders", per_class=5)
    for extra in ("beep", "hiss"):
        for p in (one / extra).iterdir():
            p.unlink()
        (one / extra).rmdir()
    gaps = _csv(
        tmp_path / "gaps",
        [(n, lab, 1 if i % 2 else 3) for i, (n, lab) in enumerate(rows)],
        ("filename", "label", "fold"),
    )
    for n in clips:
        os.link(c / n, gaps / n)
    return [
        ("fewer clips than folds", few, ["--n-folds", "3"], "label 'hum': 2 clips, fewer than the 3 folds"),
        (
            "no label column",
            _csv(c, [(n,) for n in clips], ("filename",)),
            [],
            "labels.csv: wrong columns: missing label",
        ),
        ("a missing file", missing, [], "gone.wav: listed in labels.csv, but there is no such file"),
        ("an undecodable file", broken, [], "hiss-03.ogg: cannot decode audio"),
        ("a single class", one, [], "one class only ('hum')"),
        ("a fold without clips", gaps, [], "fold 2 has no clips"),
        (
            "--folds beyond the data",
            make_dataset(tmp_path / "k", per_class=5),
            ["--n-folds", "2", "--folds", "1,3"],
            "fold 3 has no test clips",
        ),
    ]


def test_bad_input_is_one_clear_line(tmp_path, capsys):
    for name, root, extra, expected in _bad_inputs(tmp_path):
        argv = ["--dataset", "folder", "--data-root", str(root), "--features", "mel", "--profile", "smoke"]
        assert run_cli.main(argv + extra + ["--out", str(tmp_path / "out")]) == 1, name
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and expected in err and "\n" not in err, (name, err)


def test_own_data_runs_live_outside_the_repository(tmp_path, monkeypatch, capsys):
    """Runs of your own data go to the ignored out/runs (or $RANN_RUNS), never beside the committed
    runs of the registered datasets; --dry-run shows each run's resolved budget."""
    from benchmarks.esc50 import BENCHMARK as ESC50
    from benchmarks.run import BENCHMARK
    from benchmarks.runner import parse_args

    monkeypatch.delenv("RANN_RUNS", raising=False)
    root = make_dataset(tmp_path / "sounds", per_class=4)
    assert parse_args(BENCHMARK, ["--dataset", "folder", "--data-root", str(root)]).runs_dir == "out/runs"
    assert parse_args(ESC50, []).runs_dir == "results/runs"
    monkeypatch.setenv("RANN_RUNS", str(tmp_path / "my-runs"))
    assert parse_args(BENCHMARK, ["--dataset", "folder", "--data-root", str(root)]).runs_dir == str(
        tmp_path / "my-runs"
    )
    assert parse_args(ESC50, []).runs_dir == "results/runs"  # the committed runs stay where they are
    monkeypatch.setenv("RANN_CACHE", str(tmp_path / "cache"))
    argv = ["--dataset", "folder", "--data-root", str(root), "--features", "mel", "--n-folds", "2", "--dry-run"]
    assert run_cli.main(argv) == 0
    out = capsys.readouterr().out
    # 6 training clips, batch 32: one step an epoch, so 1,500 epochs for the profile's 1,500 steps
    assert "1500 epochs x 1 steps = 1,500 steps" in out and str(tmp_path / "my-runs" / "folder" / "quick") in out
    assert not (tmp_path / "my-runs").exists()  # a dry run writes nothing
