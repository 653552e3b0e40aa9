"""The SED figure: from a trained SED run's weights; clear errors without them."""

from __future__ import annotations

import numpy as np

from benchmarks.datasets import create_dataset
from benchmarks.sed_figure import main, pick_clips
from rann.config import RunConfig
from rann.training import train_run


def test_figure_from_a_trained_sed_run(tmp_path, make_esc50, capsys):
    make_esc50(tmp_path / "esc50", n_classes=3, per_fold=2, sr=22_050, seconds=1.0)
    ds = create_dataset("esc50", data_root=tmp_path / "esc50", sr=22_050, cache_dir=tmp_path / "cache", progress=False)
    cfg = RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="smoke", model="sed_resnest_cpu")
    folder = train_run(cfg, ds, runs_root=tmp_path / "runs", progress=False).folder
    out = tmp_path / "sed.png"
    argv = [
        str(folder),
        "--clips",
        "2",
        "--data-root",
        str(tmp_path / "esc50"),
        "--cache-dir",
        str(tmp_path / "cache"),
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (folder / "ema.pt").write_bytes(b"not a checkpoint")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"{folder / 'ema.pt'}: cannot load the weights" in err and "Traceback" not in err
    (folder / "ema.pt").unlink()
    assert main(argv) == 1 and "ema.pt is missing" in capsys.readouterr().err
    plain = train_run(
        RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="smoke"),
        ds,
        runs_root=tmp_path / "runs",
        progress=False,
    ).folder
    assert main([str(plain), *argv[1:]]) == 1 and "gives no framewise outputs" in capsys.readouterr().err


def test_clips_are_test_clips_of_distinct_classes():
    targets = np.repeat(np.arange(5), 4)
    test_idx = np.arange(0, 20, 2)
    idx = pick_clips(targets, test_idx, 4)
    assert len(idx) == 4 and set(idx) <= set(test_idx) and len(set(targets[idx])) == 4
    np.testing.assert_array_equal(idx, pick_clips(targets, test_idx, 4))  # seeded
