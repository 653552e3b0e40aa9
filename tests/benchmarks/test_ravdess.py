"""RAVDESS: both layouts (our CSV + Ogg, the official Actor_XX/*.wav by name), the actor-independent
folds, centred padding and cropping, and the real data when it is beside the repository."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from benchmarks import run as run_cli
from benchmarks.core.errors import DataError
from benchmarks.datasets import create_dataset
from benchmarks.datasets.audio import fit_length
from benchmarks.datasets.paths import candidate_roots
from benchmarks.datasets.ravdess import EMOTIONS, actor_fold, parse_name


def test_parse_name_and_folds():
    assert parse_name("03-01-05-01-02-01-12") == {
        "actor": 12,
        "gender": "female",
        "emotion": "angry",
        "target": 4,
        "intensity": 1,
        "statement": 2,
        "repetition": 1,
    }
    for bad in (
        "03-01-09-01-01-01-01",
        "03-02-01-01-01-01-01",
        "03-01-01-02-01-01-01",
        "03-01-01-01-01-01-25",
        "hello",
    ):
        with pytest.raises(DataError, match=f"{bad}: not an official RAVDESS speech name"):
            parse_name(bad)
    assert [actor_fold(a) for a in (1, 4, 5, 24)] == [1, 1, 2, 6]
    for fold in range(1, 7):  # every fold: 2 male (odd) and 2 female (even) actors
        actors = [a for a in range(1, 25) if actor_fold(a) == fold]
        assert len(actors) == 4 and sum(a % 2 for a in actors) == 2


def test_fit_length_centre():
    x = np.arange(1, 7, dtype=np.float32)
    np.testing.assert_array_equal(fit_length(x, 4, "center"), [2, 3, 4, 5])
    np.testing.assert_array_equal(fit_length(x, 10, "center"), [0, 0, 1, 2, 3, 4, 5, 6, 0, 0])
    np.testing.assert_array_equal(fit_length(x, 4, "start"), [1, 2, 3, 4])


def write_official(root, actors=range(1, 25), emotions=(1, 5), sr=16_000, seconds=0.5, ext=".wav"):
    """The official layout: Actor_XX/03-01-EE-01-01-01-XX.wav, no CSV; a tone per emotion."""
    t = np.arange(int(sr * seconds)) / sr
    for a in actors:
        (root / f"Actor_{a:02d}").mkdir(parents=True, exist_ok=True)
        for e in emotions:
            sf.write(
                root / f"Actor_{a:02d}" / f"03-01-{e:02d}-01-01-01-{a:02d}{ext}",
                (0.3 * np.sin(2 * np.pi * 100 * e * t)).astype(np.float32),
                sr,
            )


def test_official_layout_is_read_from_the_names(tmp_path):
    write_official(tmp_path / "rav")
    ds = create_dataset("ravdess", data_root=tmp_path / "rav", sr=16_000, cache_dir=tmp_path / "cache", progress=False)
    assert len(ds) == 48 and set(ds.targets) == {0, 4} and ds.classes == ["neutral", "angry"]
    assert sorted(set(ds.folds)) == [1, 2, 3, 4, 5, 6] and (np.bincount(ds.folds)[1:] == 8).all()
    train, test = ds.split(fold=2)
    assert {int(a) for a in ds.meta.loc[ds.folds == 2, "actor"]} == {5, 6, 7, 8} and len(test) == 8 and len(train) == 40
    w = ds.waveforms()
    assert w.shape == (48, int(16_000 * 4.5))
    n = 8000  # the 0.5 s clip sits in the middle of the 4.5 s served
    start = (w.shape[1] - n) // 2
    assert not w[0, :start].any() and not w[0, start + n :].any() and w[0, start : start + n].any()


def test_official_layout_problems_name_the_file(tmp_path):
    write_official(tmp_path / "rav", actors=[1, 2])
    (tmp_path / "rav" / "Actor_02" / "03-01-01-01-01-01-07.wav").write_bytes(
        (tmp_path / "rav" / "Actor_02" / "03-01-01-01-01-01-02.wav").read_bytes()
    )
    (tmp_path / "rav" / "Actor_01" / "notes-01.wav").write_bytes(b"x")
    with pytest.raises(DataError) as err:
        create_dataset("ravdess", data_root=tmp_path / "rav", cache_dir=tmp_path / "cache")
    msg = str(err.value)
    assert "2 files do not follow the official RAVDESS naming" in msg
    assert (
        "03-01-01-01-01-01-07.wav: actor 07 in the name, but the file is in Actor_02" in msg
        and "notes-01.wav: not an official" in msg
    )


def test_our_csv_layout(tmp_path):
    root = tmp_path / "rav"
    write_official(root / "audio", actors=range(1, 25), emotions=(1, 3))
    rows = []
    for p in sorted((root / "audio").glob("Actor_*/*.wav")):
        labels = parse_name(p.stem)
        rows.append({"filename": f"{p.parent.name}/{p.stem}.ogg", **labels})  # the CSV names .ogg; the .wav is found
    (root / "meta").mkdir()
    pd.DataFrame(rows).to_csv(root / "meta" / "ravdess.csv", index=False)
    ds = create_dataset("ravdess", data_root=root, cache_dir=tmp_path / "cache", progress=False)
    assert (
        len(ds) == 48
        and ds.classes == ["neutral", "happy"]
        and ds.meta["path"].map(lambda p: p.suffix).eq(".wav").all()
    )
    bad = pd.DataFrame(rows).drop(columns=["actor"])
    bad.to_csv(root / "meta" / "ravdess.csv", index=False)
    with pytest.raises(DataError, match="ravdess.csv: wrong columns: missing actor"):
        create_dataset("ravdess", data_root=root, cache_dir=tmp_path / "cache")


def _real_root():
    return next((r for r in candidate_roots("ravdess") if (r / "meta" / "ravdess.csv").is_file()), None)


@pytest.mark.skipif(_real_root() is None, reason="the real RAVDESS is not beside the repository")
def test_real_ravdess_metadata(tmp_path):
    ds = create_dataset("ravdess", cache_dir=tmp_path / "cache")  # metadata only: nothing decoded
    assert len(ds) == 1440 and ds.classes == list(EMOTIONS)
    assert (np.bincount(ds.folds)[1:] == 240).all()
    assert [c for check, _, _, c in ds.extra_checks()] == [True, True, True]
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_a_copy_with_some_folds_empty_is_refused_before_training(tmp_path, capsys):
    """A RAVDESS copy holding 4 of its 24 actors: refused naming the empty fold, nothing trained."""
    write_official(tmp_path / "ravdess", actors=range(1, 5))
    argv = ["--dataset", "ravdess", "--data-root", str(tmp_path / "ravdess"), "--features", "mel", "--profile", "smoke"]
    assert run_cli.main(argv + ["--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "out")]) == 1
    assert "folds 2, 3, 4, 5, 6 have no test clips; its folds are 1: 8 clips" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
