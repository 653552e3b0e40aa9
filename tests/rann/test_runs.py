"""Committed run artifacts are checked when read: a truncated or edited file gives one clear
error naming the file and the fix, from the library, the benchmark CLI and ``verify-runs``."""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest

from benchmarks.core.errors import CorruptRunError
from benchmarks.data import main as data_main
from benchmarks.datasets import create_dataset
from benchmarks.esc50 import main as esc50_main
from rann.config import RunConfig
from rann.runs import read_metrics, read_predictions, run_folder, verify_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory, make_esc50_module):
    """A generated ESC-50 and the smoke benchmark's runs on it (mel and chroma, fold 1)."""
    tmp = tmp_path_factory.mktemp("runs")
    make_esc50_module(tmp / "esc50", n_classes=3, per_fold=2, sr=22_050, seconds=1.0)
    argv = [
        "--profile",
        "smoke",
        "--features",
        "mel,chroma",
        "--folds",
        "1",
        "--data-root",
        str(tmp / "esc50"),
        "--runs-dir",
        str(tmp / "runs"),
        "--out",
        str(tmp / "out"),
        "--cache-dir",
        str(tmp / "cache"),
    ]
    assert esc50_main(argv) == 0
    return tmp, argv


@pytest.fixture
def copy(trained, tmp_path):
    """A private copy of the runs, to damage, and the benchmark's arguments pointing at it."""
    tmp, argv = trained
    shutil.copytree(tmp / "runs", tmp_path / "runs")
    argv = [
        *argv[: argv.index("--runs-dir") + 1],
        str(tmp_path / "runs"),
        "--out",
        str(tmp_path / "out"),
        "--cache-dir",
        str(tmp / "cache"),
    ]
    mel = run_folder(RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="smoke"), tmp_path / "runs")
    dataset = create_dataset("esc50", data_root=tmp / "esc50", cache_dir=tmp / "cache", progress=False)
    return mel, argv, dataset


def test_the_benchmark_runs_end_to_end_on_generated_data(trained):
    # runs whether or not the real ESC-50 is beside the repository
    tmp, _ = trained
    for name in ("per_feature.md", "fusion.md", "paper_comparison.md", "confusion.png", "run.json"):
        assert (tmp / "out" / name).is_file(), name
    info = json.loads((tmp / "out" / "run.json").read_text())
    assert [r["config"]["feature"] for r in info["runs"]] == ["mel", "chroma"]


def test_sound_runs_read_back(copy):
    mel, _, dataset = copy
    p = read_predictions(mel, dataset, fold=1)
    assert p.probs.shape == (6, 3) and set(p.folds) == {1}
    assert read_metrics(mel)["accuracy"] >= 0 and verify_run(mel, dataset) == []


def test_truncated_probs_fail_with_the_file_and_the_fix(copy, capsys):
    mel, argv, dataset = copy
    data = (mel / "probs.npz").read_bytes()
    (mel / "probs.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(
        CorruptRunError, match=r"probs\.npz: cannot read the predictions .*remove the folder .* or restore it from git"
    ):
        read_predictions(mel, dataset)
    assert esc50_main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(mel / "probs.npz") in err and "Traceback" not in err
    print(err)  # the message, for the record (pytest -s)


def test_corrupted_metrics_are_noticed(copy, capsys):
    mel, argv, _ = copy
    (mel / "metrics.json").write_text('{"accuracy": 0.5, "map": ')
    assert esc50_main(argv) == 1
    assert f"{mel / 'metrics.json'}: cannot read the metrics" in capsys.readouterr().err
    (mel / "metrics.json").write_text(json.dumps({"accuracy": 1.5, "map": 0.5, "f1": 0.5}))
    with pytest.raises(CorruptRunError, match="accuracy missing or out of range"):
        read_metrics(mel)


def _rewrite(folder, **changes):
    with np.load(folder / "probs.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    (folder / "probs.npz").write_bytes(buf.getvalue())
    return arrays


def test_predictions_that_disagree_with_the_dataset(copy):
    mel, _, dataset = copy
    arrays = _rewrite(mel)
    targets = arrays["targets"].copy()
    targets[0] = (targets[0] + 1) % 3
    _rewrite(mel, targets=targets)
    with pytest.raises(
        CorruptRunError, match=rf"targets of 1 clips disagree with the dataset, e\.g\. {arrays['names'][0]}"
    ):
        read_predictions(mel, dataset)
    names = arrays["names"].astype("U64")
    names[1] = "no-such-clip.wav"
    _rewrite(mel, targets=arrays["targets"], names=names)
    with pytest.raises(CorruptRunError, match="1 clips are not in the dataset, e.g. 'no-such-clip.wav'"):
        read_predictions(mel, dataset)
    _rewrite(mel, names=arrays["names"], probs=arrays["probs"] * 2)
    with pytest.raises(CorruptRunError, match="each row must sum to 1"):
        read_predictions(mel)


def test_verify_runs_checks_every_run(copy, capsys):
    mel, argv, _ = copy
    runs, root = argv[argv.index("--runs-dir") + 1], argv[argv.index("--data-root") + 1]
    assert data_main(["verify-runs", "--runs-dir", runs, "--data-root", root]) == 0
    assert "2 completed runs checked" in capsys.readouterr().out
    (mel / "probs.npz").write_bytes(b"not a zip")
    assert data_main(["verify-runs", "--runs-dir", runs, "--data-root", root]) == 1
    captured = capsys.readouterr()
    assert "2 completed runs checked" in captured.out and "1 problems" in captured.out
    assert str(mel / "probs.npz") in captured.err


def test_verify_runs_checks_a_run_against_its_own_protocol(copy, capsys):
    """A clip-level run's folds are the protocol's, not the dataset's own: no false alarm."""
    _, argv, _ = copy
    runs, root = argv[argv.index("--runs-dir") + 1], argv[argv.index("--data-root") + 1]
    clips = [*argv[: argv.index("--features") + 1], "mel", *argv[argv.index("--folds") :], "--protocol", "clips"]
    clips[clips.index("--out") + 1] += "-clips"
    assert esc50_main(clips) == 0
    assert data_main(["verify-runs", "--runs-dir", runs, "--data-root", root]) == 0
    assert "3 completed runs checked" in capsys.readouterr().out
