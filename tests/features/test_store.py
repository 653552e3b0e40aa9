"""The feature cache: computed once, resumable after an interrupt, verified on load."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import features
from benchmarks.core.errors import DataError
from benchmarks.datasets import create_dataset
from features import store
from features.extract import main

SMALL = dict(sr=8000, n_fft=256, hop_length=80, n_mels=16, fmin=0.0, fmax=4000.0)


@pytest.fixture
def tiny(tmp_path, make_esc50):
    make_esc50(tmp_path / "esc50", n_classes=2, per_fold=1)  # 10 clips
    return create_dataset(
        "esc50",
        data_root=tmp_path / "esc50",
        sr=8000,
        duration=0.25,
        cache_dir=tmp_path / "cache",
        workers=1,
        progress=False,
    )


def test_extract_then_reuse(tiny, monkeypatch):
    mel = features.create("mel", **SMALL)
    s = store.extract(tiny, mel, batch_size=4, progress=False)
    assert s.array.shape == (10, 1, 16, 1 + 2000 // 80)
    with torch.no_grad():
        direct = mel(torch.from_numpy(np.array(tiny.waveforms()))).numpy()
    np.testing.assert_allclose(s.array, direct, atol=1e-5)
    assert sorted(p.name for p in s.folder.iterdir()) == [".lock", "features.npy", "index.json"]
    assert s.index["fingerprint"] == mel.fingerprint and s.index["files"] == tiny.filenames

    monkeypatch.setattr(type(mel), "forward", lambda *a: (_ for _ in ()).throw(AssertionError("recomputed")))
    again = store.extract(tiny, features.create("mel", **SMALL), batch_size=4, progress=False)
    np.testing.assert_array_equal(again.array, s.array)


def test_other_config_gets_its_own_entry(tiny):
    a = store.extract(tiny, features.create("mel", **SMALL), progress=False)
    b = store.extract(tiny, features.create("mel", **{**SMALL, "n_mels": 8}), progress=False)
    assert a.folder != b.folder and b.array.shape[2] == 8


def test_interrupt_then_resume_redoes_no_finished_batch(tiny, monkeypatch):
    mel = features.create("mel", **SMALL)
    real_forward = type(mel).forward
    calls = []

    def flaky(self, x):
        calls.append(len(x))
        if len(calls) == 4:  # the shape probe, two batches, then a stop during the third batch
            raise KeyboardInterrupt
        return real_forward(self, x)

    monkeypatch.setattr(type(mel), "forward", flaky)
    with pytest.raises(KeyboardInterrupt):
        store.extract(tiny, mel, batch_size=2, progress=False)
    folder = store.store_folder(tiny, mel)
    assert not (folder / "features.npy").exists()  # nothing that looks complete
    assert json.loads((folder / "progress.json").read_text())["done"] == 4

    calls.clear()
    monkeypatch.setattr(type(mel), "forward", lambda self, x: (calls.append(len(x)), real_forward(self, x))[1])
    resumed = store.extract(tiny, mel, batch_size=2, progress=False)
    assert calls[1:] == [2, 2, 2]  # (the first call is the shape probe) clips 4-9 only
    assert not (folder / "progress.json").exists()
    with torch.no_grad():
        np.testing.assert_allclose(
            resumed.array, real_forward(mel, torch.from_numpy(np.array(tiny.waveforms()))).numpy(), atol=1e-5
        )


def test_nan_features_are_refused(tiny, monkeypatch):
    mel = features.create("mel", **SMALL)
    real_forward = type(mel).forward
    monkeypatch.setattr(type(mel), "forward", lambda self, x: real_forward(self, x) * torch.nan)
    with pytest.raises(DataError, match="NaN or inf in the features of 10 clips"):
        store.extract(tiny, mel, progress=False)
    assert not (store.store_folder(tiny, mel) / "features.npy").exists()


def test_corrupted_entry_is_discarded_and_rebuilt(tiny):
    mel = features.create("mel", **SMALL)
    s = store.extract(tiny, mel, progress=False)
    arr = np.load(s.folder / "features.npy", mmap_mode="r+")
    arr[3, 0, 0, 0] = np.nan
    arr.flush()
    del arr
    with pytest.warns(UserWarning, match="1 clips hold NaN or inf"):
        assert store.load(tiny, mel) is None
    rebuilt = store.extract(tiny, mel, progress=False)
    assert np.isfinite(rebuilt.array).all()


def test_trainable_feature_is_not_cached(tiny):
    with pytest.raises(ValueError, match="wavegram is learned with the model"):
        store.extract(tiny, features.create("wavegram"), progress=False)


def test_cli(tmp_path, make_esc50, capsys):
    make_esc50(tmp_path / "esc50", n_classes=1, per_fold=1, seconds=0.1)
    rc = main(
        [
            "esc50",
            "--features",
            "mel,chroma",
            "--data-root",
            str(tmp_path / "esc50"),
            "--cache-dir",
            str(tmp_path / "cache"),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and "mel: (5, 1, 128, 690)" in out and "chroma: (5, 1, 12, 690)" in out
    assert main(["esc50", "--features", "mell", "--data-root", str(tmp_path / "esc50")]) == 1
    assert "unknown feature 'mell'" in capsys.readouterr().err
