"""Registered data laid out as your own (``python -m benchmarks.data layout esc10``): a labels.csv
and links, nothing written into the data folder, remade for a report that needs it."""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks import data as data_cli
from benchmarks.core.errors import DataError
from benchmarks.datasets import create_dataset
from benchmarks.datasets.layout import LAYOUT_ROOT, remake_if_missing, write_esc10


def _esc50(tmp_path, make_esc50):
    meta = make_esc50(tmp_path / "esc50", n_classes=3, per_fold=2)
    meta["esc10"] = meta["target"] < 2  # two of the three classes are "ESC-10"
    meta.to_csv(tmp_path / "esc50" / "meta" / "esc50.csv", index=False)
    return meta


def test_esc10_is_the_marked_clips_with_their_folds_as_links(tmp_path, make_esc50):
    meta = _esc50(tmp_path, make_esc50)
    before = sorted(p.name for p in (tmp_path / "esc50").rglob("*"))
    out = write_esc10(tmp_path / "esc10", tmp_path / "esc50")
    labels = pd.read_csv(out / "labels.csv")
    marked = meta[meta["esc10"]]
    assert list(labels.columns) == ["filename", "label", "fold"] and len(labels) == len(marked) == 20
    assert (
        labels["label"].tolist() == marked["category"].tolist() and labels["fold"].tolist() == marked["fold"].tolist()
    )
    assert all(
        (out / f).is_symlink() and (out / f).resolve().parent == (tmp_path / "esc50" / "audio").resolve()
        for f in labels["filename"]
    )
    assert sorted(p.name for p in (tmp_path / "esc50").rglob("*")) == before  # nothing written there
    ds = create_dataset("folder", data_root=out, sr=8000, cache_dir=tmp_path / "cache", progress=False)
    assert ds.classes == ["class0", "class1"] and sorted(set(ds.folds.tolist())) == [1, 2, 3, 4, 5]


def test_the_layout_refuses_the_data_folder_and_missing_audio(tmp_path, make_esc50):
    _esc50(tmp_path, make_esc50)
    with pytest.raises(DataError, match="refusing to write inside the data folder"):
        write_esc10(tmp_path / "esc50" / "esc10", tmp_path / "esc50")
    next((tmp_path / "esc50" / "audio").glob("1-*-0.wav")).unlink()
    with pytest.raises(DataError, match=r"1-\d+-A-0\.wav \(listed in meta/esc50.csv\) is missing"):
        write_esc10(tmp_path / "out", tmp_path / "esc50")


def test_the_command_and_the_default_folder_a_report_remakes(tmp_path, make_esc50, monkeypatch, capsys):
    _esc50(tmp_path, make_esc50)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RANN_DATA", str(tmp_path))
    assert data_cli.main(["layout", "esc10"]) == 0
    assert "python -m benchmarks.data check folder --data-root out/layouts/esc10" in capsys.readouterr().out
    assert (LAYOUT_ROOT / "esc10" / "labels.csv").is_file()
    assert not remake_if_missing(LAYOUT_ROOT / "esc10")  # there: left alone
    (LAYOUT_ROOT / "esc10" / "labels.csv").unlink()
    (LAYOUT_ROOT / "esc10" / "audio").rename(tmp_path / "gone")
    (LAYOUT_ROOT / "esc10").rmdir()
    assert remake_if_missing(LAYOUT_ROOT / "esc10") and (LAYOUT_ROOT / "esc10" / "labels.csv").is_file()
    assert not remake_if_missing(tmp_path / "somewhere-else")  # not a layout's folder: never written
    assert not (tmp_path / "somewhere-else").exists()
