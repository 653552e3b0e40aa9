"""The ESC-50 data layer: official folds, decoding, the waveform cache and bad-input errors."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from benchmarks.core.errors import DataError, ParameterError
from benchmarks.data import check_dataset, main, source_fold_leaks
from benchmarks.datasets import (
    create_dataset,
    get_dataset_class,
    list_datasets,
    register_dataset,
)
from benchmarks.datasets.audio import load_audio
from benchmarks.datasets.paths import candidate_roots

SR = 8000


def tiny(root: Path, **kw):
    return create_dataset("esc50", data_root=root, sr=SR, duration=0.25, workers=1, progress=False, **kw)


# -- the real data ---------------------------------------------------------------------------
def test_real_official_folds(esc50_root):
    ds = create_dataset("esc50", data_root=esc50_root)
    assert len(ds) == 2000
    assert sorted(np.unique(ds.folds, return_counts=True)[1]) == [400] * 5
    assert (np.unique(ds.targets, return_counts=True)[1] == 40).all()
    for k in range(1, 6):
        train, test = ds.split(fold=k)
        assert len(train) == 1600 and len(test) == 400
        assert set(test.folds) == {k} and k not in set(train.folds)
        assert not set(train.filenames) & set(test.filenames)


def test_real_no_source_recording_in_two_folds(esc50_root):
    meta = create_dataset("esc50", data_root=esc50_root).meta
    # every (recording, class) lies in one fold: clips of one sound never straddle train and test
    assert source_fold_leaks(meta) == []
    # the official release reuses 4 recordings for two related classes each (clock tick/alarm,
    # hen/rooster), in different folds; nothing else crosses folds
    shared = meta.groupby("src_file").agg(folds=("fold", "nunique"), classes=("target", "nunique"))
    crossing = shared[shared.folds > 1]
    assert sorted(crossing.index.astype(int)) == [131943, 134049, 209698, 234879]
    assert (crossing.classes == crossing.folds).all()


def test_real_clips_decode_to_5s_mono(esc50_root):
    ds = create_dataset("esc50", data_root=esc50_root)
    for i in (0, 1, 999, 1998, 1999):
        row = ds.meta.iloc[i]
        wave, info = load_audio(row.path, sr=44_100, duration=5.0)
        assert wave.shape == (220_500,) and wave.dtype == np.float32
        assert (info.sample_rate, info.channels, info.frames) == (44_100, 1, 220_500)
        assert np.isfinite(wave).all() and np.abs(wave).max() > 0
        assert row.path.suffix == ".ogg" and int(row.filename[:-4].split("-")[-1]) == row.target


def test_default_root_is_shared_beside_repo(monkeypatch):
    monkeypatch.delenv("RANN_DATA", raising=False)
    roots = candidate_roots("esc50")
    assert roots[0].parts[-3:] == ("shared", "data", "esc50")
    assert roots[1] == Path.home() / ".cache" / "rann" / "esc50"


# -- generated data: items, cache, splits ------------------------------------------------------
def test_items_and_split(tmp_path, make_esc50):
    meta = make_esc50(tmp_path / "esc50", n_classes=2)
    ds = tiny(tmp_path / "esc50")
    assert len(ds) == len(meta) == 10
    clip = ds[3]
    assert clip.waveform.shape == (int(SR * 0.25),) and clip.waveform.dtype == np.float32
    assert (clip.target, clip.category, clip.fold, clip.filename) == (1, "class1", 2, meta.filename[3])
    assert np.all(clip.waveform[int(SR * 0.2) :] == 0)  # 0.2 s clip zero-padded to 0.25 s
    train, test = ds.split(fold=3)
    assert len(train) == 8 and set(test.folds) == {3}
    assert train[0].fold != 3
    with pytest.raises(ValueError, match="fold must be an integer in 1-5"):
        ds.split(fold=6)


def test_downmix_resample_and_crop(tmp_path):
    path = tmp_path / "stereo.wav"
    t = np.arange(16000) / 16000
    left, right = np.sin(2 * np.pi * 440 * t), np.zeros_like(t)
    sf.write(path, np.stack([left, right], axis=1).astype(np.float32), 16000)
    wave, info = load_audio(path, sr=8000, duration=0.5)
    assert (info.sample_rate, info.channels, info.frames) == (16000, 2, 16000)
    assert wave.shape == (4000,)
    ref = 0.5 * np.sin(2 * np.pi * 440 * np.arange(4000) / 8000)
    assert np.abs(wave[100:-100] - ref[100:-100]).max() < 1e-3  # mean of channels, resampled


@pytest.mark.parametrize("ext", [".flac", ".ogg"])
def test_flac_and_ogg_under_the_same_stem(tmp_path, make_esc50, ext):
    make_esc50(tmp_path / "d", ext=ext)
    ds = tiny(tmp_path / "d")
    assert ds.meta.path[0].suffix == ext
    assert np.abs(ds[0].waveform).max() > 0.1


def test_cache_reused_then_rebuilt_when_source_changes(tmp_path, make_esc50, monkeypatch):
    make_esc50(tmp_path / "d")
    cache = tmp_path / "cache"
    first = tiny(tmp_path / "d", cache_dir=cache).waveforms().copy()
    folders = list((cache / "waveforms").iterdir())
    assert len(folders) == 1 and sorted(p.name for p in folders[0].iterdir()) == [
        ".lock",
        "index.json",
        "waveforms.npy",
    ]

    import benchmarks.datasets.wavecache as wc

    def no_decoding(*a, **k):
        raise AssertionError("decoded again although the cache is valid")

    monkeypatch.setattr(wc, "_build", no_decoding)
    np.testing.assert_array_equal(tiny(tmp_path / "d", cache_dir=cache).waveforms(), first)
    monkeypatch.undo()

    victim = tmp_path / "d" / "audio" / "1-1000-A-0.wav"
    sf.write(victim, np.zeros(1600, np.float32) + 0.25, SR)
    os.utime(victim, ns=(1, 1))  # a different mtime and content: a changed source
    second = tiny(tmp_path / "d", cache_dir=cache).waveforms()
    assert np.allclose(second[0, :1600], 0.25) and not np.allclose(first[0, :1600], 0.25)
    assert len(list((cache / "waveforms").iterdir())) == 1  # the stale entry is gone


def test_concurrent_processes_build_the_cache_once(tmp_path, make_esc50, monkeypatch):
    """Two runs starting together (Ray, --jobs) must not both write the same cache entry."""
    import threading
    import time

    import benchmarks.datasets.wavecache as wc

    make_esc50(tmp_path / "d")
    builds, real_build = [], wc._build

    def slow_build(*a, **k):
        builds.append(1)
        time.sleep(0.3)  # hold the entry long enough for the other caller to arrive
        return real_build(*a, **k)

    monkeypatch.setattr(wc, "_build", slow_build)
    out: list[np.ndarray] = []
    callers = [
        threading.Thread(
            target=lambda: out.append(np.array(tiny(tmp_path / "d", cache_dir=tmp_path / "cache").waveforms()))
        )
        for _ in range(2)
    ]
    for t in callers:
        t.start()
    for t in callers:
        t.join()
    assert len(builds) == 1 and len(out) == 2
    np.testing.assert_array_equal(out[0], out[1])
    assert np.abs(out[0]).max() > 0.1  # the sines, not a zeroed half-written file


def test_cache_never_inside_data_folder(tmp_path, make_esc50):
    make_esc50(tmp_path / "d")
    with pytest.raises(DataError, match="refusing to write a cache inside the data folder"):
        tiny(tmp_path / "d", cache_dir=tmp_path / "d" / "cache")


# -- bad input: each a DataError naming the file and the problem ------------------------------
def test_missing_root_names_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("RANN_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setattr(Path, "home", lambda: tmp_path / "home")
    import benchmarks.datasets.paths as paths

    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path / "repo")
    with pytest.raises(DataError) as err:
        create_dataset("esc50")
    msg = str(err.value)
    for where in (
        tmp_path / "nowhere" / "esc50",
        tmp_path / "shared" / "data" / "esc50",
        tmp_path / "home" / ".cache" / "rann" / "esc50",
    ):
        assert str(where) in msg
    assert "--data-root" in msg and "python -m benchmarks.data download esc50" in msg


def test_rann_data_env_is_used(tmp_path, make_esc50, monkeypatch):
    make_esc50(tmp_path / "env" / "esc50")
    monkeypatch.setenv("RANN_DATA", str(tmp_path / "env"))
    assert create_dataset("esc50", workers=1).root == (tmp_path / "env" / "esc50").resolve()


def test_missing_csv(tmp_path, make_esc50):
    make_esc50(tmp_path / "d")
    (tmp_path / "d" / "meta" / "esc50.csv").unlink()
    with pytest.raises(DataError, match=r"esc50\.csv"):
        tiny(tmp_path / "d")
    with pytest.raises(DataError, match=r"meta/esc50\.csv: metadata file is missing"):
        get_dataset_class("esc50").read_meta(tmp_path / "d")


def test_csv_with_wrong_columns(tmp_path, make_esc50):
    meta = make_esc50(tmp_path / "d")
    meta.rename(columns={"target": "label"}).to_csv(tmp_path / "d" / "meta" / "esc50.csv", index=False)
    with pytest.raises(DataError, match=r"esc50\.csv: wrong columns: missing target"):
        tiny(tmp_path / "d")


def test_missing_audio_file(tmp_path, make_esc50):
    make_esc50(tmp_path / "d")
    (tmp_path / "d" / "audio" / "2-2010-A-1.wav").unlink()
    with pytest.raises(DataError) as err:
        tiny(tmp_path / "d")
    assert "2-2010-A-1.wav: audio file is missing" in str(err.value)
    assert err.value.problems and len(err.value.problems) == 1


def test_zero_byte_file(tmp_path, make_esc50):
    make_esc50(tmp_path / "d")
    (tmp_path / "d" / "audio" / "3-3000-A-0.wav").write_bytes(b"")
    with pytest.raises(DataError, match=r"3-3000-A-0\.wav: audio file is empty \(0 bytes\)"):
        tiny(tmp_path / "d").waveforms()


def test_undecodable_file(tmp_path, make_esc50):
    make_esc50(tmp_path / "d")
    (tmp_path / "d" / "audio" / "4-4010-A-1.wav").write_bytes(b"RIFF this is not audio" * 10)
    with pytest.raises(DataError, match=r"4-4010-A-1\.wav: cannot decode audio"):
        tiny(tmp_path / "d").waveforms()
    assert not list((tmp_path / "d").rglob("*.npy"))  # nothing written into the data folder


def test_fold_outside_range(tmp_path, make_esc50):
    meta = make_esc50(tmp_path / "d")
    meta.loc[4, "fold"] = 7
    meta.to_csv(tmp_path / "d" / "meta" / "esc50.csv", index=False)
    with pytest.raises(DataError, match=rf"{meta.filename[4]}: fold 7 is outside 1-5"):
        tiny(tmp_path / "d")


def test_target_category_mismatch(tmp_path, make_esc50):
    meta = make_esc50(tmp_path / "d")
    meta.loc[5, "category"] = "class0"  # target 1 now has two names, class0 two targets
    meta.to_csv(tmp_path / "d" / "meta" / "esc50.csv", index=False)
    with pytest.raises(DataError, match=r"target 1 maps to several category values") as err:
        tiny(tmp_path / "d")
    assert meta.filename[5] in str(err.value)


def test_nan_audio_is_refused(tmp_path, make_esc50):
    make_esc50(tmp_path / "d")
    bad = np.full(1600, np.nan, np.float32)
    sf.write(tmp_path / "d" / "audio" / "5-5000-A-0.wav", bad, SR, subtype="FLOAT")
    with pytest.raises(DataError, match=r"5-5000-A-0\.wav: decoded audio contains NaN or inf"):
        tiny(tmp_path / "d").waveforms()


# -- the check command -------------------------------------------------------------------------
def test_check_reports_counts_and_silent_clips(tmp_path, make_esc50):
    make_esc50(tmp_path / "d")
    sf.write(tmp_path / "d" / "audio" / "1-1010-A-1.wav", np.zeros(1600, np.float32), SR)
    report = check_dataset(tiny(tmp_path / "d"))
    status = {r[0]: r[3] for r in report.rows}
    assert status["clips"] == "FAIL" and status["clips per class"] == "FAIL"  # 10 clips, not 2000
    assert status["native sample rate (Hz)"] == "FAIL"  # 8 kHz sources, 44.1 kHz expected
    assert status["all-zero clips"] == "FAIL" and status["NaN/inf clips"] == "ok"
    assert any("1-1010-A-1.wav: all samples are zero" in b for b in report.bad_files)
    assert not report.ok


def test_check_cli_lists_bad_files_and_exits_nonzero(tmp_path, make_esc50, capsys):
    make_esc50(tmp_path / "d")
    (tmp_path / "d" / "audio" / "2-2000-A-0.wav").write_bytes(b"garbage")
    rc = main(["check", "esc50", "--data-root", str(tmp_path / "d"), "--workers", "1"])
    out = capsys.readouterr()
    assert rc == 1
    assert "2-2000-A-0.wav: cannot decode audio" in out.err
    assert "| decodable" in out.out and "FAIL" in out.out


def test_cli_missing_root_is_a_message_not_a_traceback(tmp_path, capsys):
    rc = main(["check", "esc50", "--data-root", str(tmp_path / "missing")])
    err = capsys.readouterr().err
    assert rc == 1 and err.startswith("error: dataset 'esc50' not found") and "Traceback" not in err


# -- the registry ------------------------------------------------------------------------------
def test_registry():
    assert "esc50" in list_datasets()
    with pytest.raises(KeyError, match="unknown dataset 'esc5'.*choices: .*esc50"):
        get_dataset_class("esc5")
    with pytest.raises(ValueError, match="already registered"):
        register_dataset(get_dataset_class("esc50"))


def test_clip_protocol_stratifies_seeded_folds_over_clips(tmp_path, make_esc50):
    ESC50 = get_dataset_class("esc50")
    make_esc50(tmp_path / "d", n_classes=3, per_fold=2)
    official = ESC50(tmp_path / "d", cache_dir=tmp_path / "cache")
    clips = ESC50(tmp_path / "d", cache_dir=tmp_path / "cache", protocol="clips")
    again = ESC50(tmp_path / "d", cache_dir=tmp_path / "cache", protocol="clips")
    assert clips.protocol == "clips" and official.protocol is None
    np.testing.assert_array_equal(clips.folds, again.folds)  # seeded: the same split every time
    assert not np.array_equal(clips.folds, official.folds)  # its own folds, not the official ones
    assert clips.filenames == official.filenames and np.array_equal(clips.targets, official.targets)
    for k in range(1, 6):  # every fold holds every class equally (10 clips per class, 5 folds)
        assert np.bincount(clips.targets[clips.folds == k], minlength=3).tolist() == [2, 2, 2]
    with pytest.raises(ParameterError, match="unknown protocol 'speakers'; choices: clips"):
        ESC50(tmp_path / "d", cache_dir=tmp_path / "cache", protocol="speakers")
    with pytest.raises(ParameterError, match="a class has 2 clips, fewer than the 5 folds"):
        ESC50.clip_folds(np.array([0, 0, 1, 1, 1, 1, 1]), 5)
