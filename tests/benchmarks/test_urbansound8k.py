"""UrbanSound8K on generated files in the official layout, covering what the release really holds:
8-, 16-, 24-, 32-bit and float WAVs, mono and stereo, 8-192 kHz, clips shorter than 4 s; the
downloader against a local HTTP server; the benchmark's error without the data."""

from __future__ import annotations

import io
import tarfile

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from benchmarks.core.errors import DataError
from benchmarks.data import check_dataset
from benchmarks.data import main as data_main
from benchmarks.datasets import create_dataset
from benchmarks.datasets.download import download_dataset
from benchmarks.urbansound8k import main as us8k_main

#: (subtype, rate, channels, seconds): the formats of the release
FORMATS = [
    ("PCM_U8", 8_000, 1, 4.0),
    ("PCM_16", 44_100, 2, 4.0),
    ("PCM_24", 96_000, 2, 1.5),
    ("PCM_32", 192_000, 1, 0.5),
    ("FLOAT", 48_000, 1, 2.0),
    ("PCM_16", 22_050, 1, 0.3),
    ("PCM_16", 11_025, 2, 4.0),
    ("DOUBLE", 16_000, 1, 3.0),
]
CLASSES = [
    "air_conditioner",
    "car_horn",
    "children_playing",
    "dog_bark",
    "drilling",
    "engine_idling",
    "gun_shot",
    "jackhammer",
    "siren",
    "street_music",
]


def write_us8k(root, formats=FORMATS, folds=(1, 2, 3)):
    """metadata/UrbanSound8K.csv and audio/fold<k>/<fsID>-<class>-0-<n>.wav, one file per format per fold."""
    rows = []
    for fold in folds:
        (root / "audio" / f"fold{fold}").mkdir(parents=True, exist_ok=True)
        for i, (subtype, sr, ch, seconds) in enumerate(formats):
            cls = i % len(CLASSES)
            fs_id = 1000 * fold + i
            name = f"{fs_id}-{cls}-0-0.wav"
            t = np.arange(int(sr * seconds)) / sr
            x = 0.4 * np.sin(2 * np.pi * 440 * t)
            sf.write(
                root / "audio" / f"fold{fold}" / name, np.stack([x] * ch, axis=1) if ch > 1 else x, sr, subtype=subtype
            )
            rows.append(
                {
                    "slice_file_name": name,
                    "fsID": fs_id,
                    "start": 0.0,
                    "end": seconds,
                    "salience": 1,
                    "fold": fold,
                    "classID": cls,
                    "class": CLASSES[cls],
                }
            )
    (root / "metadata").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(root / "metadata" / "UrbanSound8K.csv", index=False)
    return rows


def test_every_format_decodes_to_mono_at_the_asked_rate(tmp_path):
    write_us8k(tmp_path / "us")
    ds = create_dataset(
        "urbansound8k", data_root=tmp_path / "us", sr=22_050, cache_dir=tmp_path / "cache", progress=False
    )
    assert len(ds) == 24 and sorted(set(ds.folds)) == [1, 2, 3]
    w = ds.waveforms()
    assert w.shape == (24, 4 * 22_050) and w.dtype == np.float32
    info = ds.native_info()
    assert sorted({i.sample_rate for i in info}) == sorted({f[1] for f in FORMATS}) and {i.channels for i in info} == {
        1,
        2,
    }
    for k, (subtype, sr, ch, seconds) in enumerate(FORMATS):
        n = int(round(22_050 * seconds))
        clip = w[k]
        assert np.abs(clip[: n - 50]).max() > 0.3, subtype  # the tone, every bit depth
        assert not clip[n + 50 :].any(), subtype  # zero-padded after a short clip
        spectrum = np.abs(np.fft.rfft(clip[: n // 2 * 2]))
        assert abs(np.argmax(spectrum) * 22_050 / (n // 2 * 2) - 440) < 5, subtype  # resampled correctly
    assert ds.classes[:2] == ["air_conditioner", "car_horn"]
    rep = check_dataset(ds)
    found = {r[0]: r for r in rep.rows}
    assert found["clips"][3] == "FAIL"  # 24 of the official 8,732
    assert found["native sample rate (Hz)"][1] == "any" and found["native duration (s)"][3] == "ok"


def test_missing_audio_and_bad_columns_are_named(tmp_path):
    rows = write_us8k(tmp_path / "us", folds=(1,))
    (tmp_path / "us" / "audio" / "fold1" / rows[0]["slice_file_name"]).unlink()
    with pytest.raises(DataError, match=rf"fold1/{rows[0]['slice_file_name']}: audio file is missing"):
        create_dataset("urbansound8k", data_root=tmp_path / "us", cache_dir=tmp_path / "cache")
    pd.DataFrame(rows).drop(columns=["classID"]).to_csv(tmp_path / "us" / "metadata" / "UrbanSound8K.csv", index=False)
    with pytest.raises(DataError, match="wrong columns: missing classID"):
        create_dataset("urbansound8k", data_root=tmp_path / "us", cache_dir=tmp_path / "cache")


def test_the_benchmark_says_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RANN_DATA", str(tmp_path / "nowhere"))
    assert us8k_main(["--features", "mel", "--data-root", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert (
        "dataset 'urbansound8k' not found. Looked in:" in err
        and "python -m benchmarks.data download urbansound8k --root DIR" in err
    )


def _official_targz(path, n_clips=8732):
    """A .tar.gz shaped like the release: UrbanSound8K/{metadata/UrbanSound8K.csv, audio/fold<k>/*.wav}."""
    buf = io.BytesIO()
    sf.write(buf, np.zeros(8, np.float32), 8000, format="WAV", subtype="PCM_16")
    wav = buf.getvalue()
    lines = ["slice_file_name,fsID,start,end,salience,fold,classID,class"]
    with tarfile.open(path, "w:gz") as tf:
        for i in range(n_clips):
            fold, cls = i % 10 + 1, i % 10
            name = f"{i}-{cls}-0-0.wav"
            lines.append(f"{name},{i},0,0.001,1,{fold},{cls},{CLASSES[cls]}")
            info = tarfile.TarInfo(f"UrbanSound8K/audio/fold{fold}/{name}")
            info.size = len(wav)
            tf.addfile(info, io.BytesIO(wav))
        data = ("\n".join(lines) + "\n").encode()
        info = tarfile.TarInfo("UrbanSound8K/metadata/UrbanSound8K.csv")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))


def test_download_and_unpack_the_official_tar(server, tmp_path):
    base, www = server
    _official_targz(www / "UrbanSound8K.tar.gz")
    root = download_dataset(
        "urbansound8k", tmp_path / "data" / "us8k", url=f"{base}/UrbanSound8K.tar.gz", progress=False
    )
    assert (root / "metadata" / "UrbanSound8K.csv").is_file() and len(
        list((root / "audio").glob("fold*/*.wav"))
    ) == 8732
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["us8k"]  # no partial download left beside it
    ds = create_dataset("urbansound8k", data_root=root, cache_dir=tmp_path / "cache")
    assert len(ds) == 8732


def test_a_tar_that_escapes_its_folder_is_refused(server, tmp_path, capsys):
    base, www = server
    with tarfile.open(www / "evil.tar.gz", "w:gz") as tf:
        info = tarfile.TarInfo("../../outside.txt")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
    assert (
        data_main(["download", "urbansound8k", "--root", str(tmp_path / "us8k"), "--url", f"{base}/evil.tar.gz"]) == 1
    )
    assert "refusing to extract member '../../outside.txt'" in capsys.readouterr().err
    assert not (tmp_path / "outside.txt").exists() and not (tmp_path / "us8k").exists()
