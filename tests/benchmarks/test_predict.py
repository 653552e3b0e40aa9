"""Your own data end to end: the generic benchmark command trains on a generated folder dataset,
and ``predict`` classifies new files with the trained ensemble (and refuses what it cannot do)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from folder_data import CLASSES, make_dataset, write_clip

from benchmarks import predict as predict_cli
from benchmarks import run as run_cli
from benchmarks.datasets.audio import read_audio
from benchmarks.ensemble import Ensemble
from rann.runs import read_predictions, run_folder

#: a recipe that learns three distinct sounds from 30 clips in about a minute on 2 cores: 105 steps
#: (min_steps=0: below the profile's floor of 1,500), the profile's EMA (0.995, warmed up: no
#: ema_decay by hand any more). The profile's own budget is test_the_default_command_learns_small_data
RECIPE = "epochs=15,batch_size=4,crop_seconds=1.0,eval_every=15,min_steps=0"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A report of mel + MFCC on 45 generated clips (3 group-aware folds), trained through
    ``python -m benchmarks.run --dataset folder``."""
    tmp = tmp_path_factory.mktemp("own")
    root = make_dataset(tmp / "sounds", per_class=15, groups=5)
    argv = ["--dataset", "folder", "--data-root", str(root), "--features", "mel,mfcc", "--fusion", "ds,wa"]
    argv += ["--n-folds", "3", "--recipe", RECIPE, "--runs-dir", str(tmp / "runs"), "--out", str(tmp / "report")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RANN_CACHE", str(tmp / "cache"))
        assert run_cli.main(argv) == 0
    return tmp


def test_the_generic_command_trains_end_to_end(trained):
    report = trained / "report"
    info = json.loads((report / "run.json").read_text())
    assert info["command"].startswith("python -m benchmarks.run --dataset folder")
    assert info["data"]["classes"] == sorted(CLASSES) and info["data"]["key"] and len(info["runs"]) == 6
    folds = pd.read_csv(report / "folds.csv")
    assert len(folds) == 45 and (folds.groupby("group")["fold"].nunique() == 1).all()
    fused = json.loads((report / "fusion.json").read_text())
    assert [r["method"] for r in fused] == ["ds", "wa"] and all(r["accuracy_mean"] > 0.6 for r in fused)  # chance: 1/3


def held_out(tmp_path, n: int = 5):
    """``n`` new clips of every class, 0.5-4 s long (longer ones are read in windows)."""
    rng = np.random.default_rng(123)
    return [
        (write_clip(tmp_path / f"{label}-{i}", label, rng, i, seconds=rng.uniform(0.5, 4.0)), label)
        for label in CLASSES
        for i in range(n)
    ]


def test_predict_classifies_new_files(trained, tmp_path, capsys):
    files = held_out(tmp_path)
    ens = Ensemble.load(trained / "report")
    assert ens.method_name == "ds" and sorted(ens.members) == ["mel", "mfcc"] and len(ens.members["mel"]) == 3
    predicted = [ens.classes[int(ens.predict_file(f).argmax())] for f, _ in files]
    truth = [label for _, label in files]
    assert np.mean(np.array(predicted) == truth) >= 0.9, list(zip(truth, predicted))  # constant: 1/3; shuffled: ~1/3
    assert predict_cli.main([str(trained / "report"), str(files[0][0]), "--json", "--top", "2", "--method", "wa"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["method"] == "wa" and len(out[0]["top"]) == 2 and out[0]["top"][0]["label"] == files[0][1]


def test_a_fold_model_gives_its_run_s_test_predictions(trained):
    """The ensemble's path (decode, serve, feature, normalise, model) is the evaluation's: a fold
    model's probabilities for its own test clips are those in its ``probs.npz``."""
    ens = Ensemble.load(trained / "report")
    for member in (ens.members["mel"][0], ens.members["mfcc"][2]):
        held = read_predictions(run_folder(member.cfg, trained / "runs"))
        for name, expected in zip(held.names[:4], held.probs[:4]):
            waveform, _ = read_audio(trained / "sounds" / str(name), sr=ens.sr)
            np.testing.assert_allclose(member.probs(ens.windows(waveform))[0], expected, atol=1e-5)


def test_long_files_are_read_in_windows(trained):
    ens = Ensemble.load(trained / "report")
    n = round(ens.sr * ens.duration)
    assert ens.windows(np.ones(n // 2, np.float32)).shape == (1, n)
    w = ens.windows(np.arange(3 * n, dtype=np.float32))
    # half a window's hop from the start; the last window ends at the file's end
    assert w.shape == (-(-2 * n // (n // 2)) + 1, n) and w[0, 0] == 0 and w[1, 0] == n // 2 and w[-1, -1] == 3 * n - 1


def _error(argv, capsys) -> str:
    assert predict_cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err
    return err


def test_predict_refuses_what_it_cannot_do(trained, tmp_path, capsys):
    clip = str(held_out(tmp_path, 1)[0][0])
    assert "no readable run.json" in _error([str(tmp_path), clip], capsys)
    runs = tmp_path / "runs"
    shutil.copytree(trained / "runs", runs)
    for weights in runs.rglob("ema.pt"):
        weights.unlink()
    err = _error([str(trained / "report"), clip, "--runs-dir", str(runs)], capsys)
    assert "6 of the report's 6 runs have no weights" in err and "python -m benchmarks.run --dataset folder" in err
    (tmp_path / "noise.wav").write_bytes(b"RIFF not really")
    assert "noise.wav: cannot decode audio" in _error([str(trained / "report"), str(tmp_path / "noise.wav")], capsys)
    other = tmp_path / "other-rate"
    shutil.copytree(trained / "report", other)
    info = json.loads((other / "run.json").read_text())
    info["data"]["sr"] = 16_000
    (other / "run.json").write_text(json.dumps(info))
    assert "models of 22050 Hz, its clips were served at 16000 Hz" in _error([str(other), clip], capsys)


def test_class_folders_train_end_to_end(tmp_path, capsys):
    """Class folders, one feature: its report has its table, per fold too (written and printed)."""
    root = make_dataset(tmp_path / "sounds", per_class=4, layout="folders")
    argv = ["--dataset", "folder", "--data-root", str(root), "--features", "mel", "--n-folds", "2"]
    argv += ["--recipe", "epochs=1,batch_size=4,min_steps=0", "--runs-dir", str(tmp_path / "runs")]
    assert run_cli.main([*argv, "--out", str(tmp_path / "r")]) == 0
    folds = pd.read_csv(tmp_path / "r" / "folds.csv")
    assert sorted(folds["label"].unique()) == sorted(CLASSES) and set(folds["fold"]) == {1, 2}
    table = (tmp_path / "r" / "per_feature.md").read_text()
    assert "| Mel " in table and "| fold 1 " in table and "| fold 2 " in table and "| mean " in table
    printed = capsys.readouterr().out
    assert "| fold 2 " in printed and "| mean " in printed
    row = json.loads((tmp_path / "r" / "per_feature.json").read_text())[0]
    assert row["features"] == ["mel"] and len(row["accuracy_per_fold"]) == 2


@pytest.mark.slow
def test_the_default_command_learns_small_data(tmp_path):
    """The documented command, no --recipe, on 45 generated clips (3 classes, 5 recording sessions as
    groups, 3 folds): the profile's floor of 1,500 steps and the warmed-up EMA. Before them this data
    trained 30 steps a run and its EMA was still 86 % the random initialisation (0.995 ** 30)."""
    root = make_dataset(tmp_path / "sounds", per_class=15, groups=5)
    argv = ["--dataset", "folder", "--data-root", str(root), "--features", "mel,mfcc", "--fusion", "ds"]
    argv += ["--n-folds", "3", "--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "report"), "--jobs", "2"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RANN_CACHE", str(tmp_path / "cache"))
        assert run_cli.main(argv) == 0
    info = json.loads((tmp_path / "report" / "run.json").read_text())
    assert all(r["config"]["recipe"]["epochs"] == 1_500 for r in info["runs"])  # 30 clips: 1 step an epoch
    fused = json.loads((tmp_path / "report" / "fusion.json").read_text())[0]
    assert fused["accuracy_mean"] >= 0.9
    files = held_out(tmp_path / "new")
    ens = Ensemble.load(tmp_path / "report")
    predicted = [ens.classes[int(ens.predict_file(f).argmax())] for f, _ in files]
    assert np.mean(np.array(predicted) == [label for _, label in files]) >= 0.9


def test_predict_writes_a_table_for_a_folder(trained, tmp_path, capsys):
    files = held_out(tmp_path / "new")
    (tmp_path / "new" / "notes.txt").write_text("not audio")  # skipped: only audio files are read
    table = tmp_path / "predictions.csv"
    assert predict_cli.main([str(trained / "report"), str(tmp_path / "new"), "--csv", str(table), "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert f"15 files -> {table}" in out and "files/s" in out
    rows = pd.read_csv(table, keep_default_na=False)
    assert list(rows.columns) == ["file", "label_1", "probability_1", "label_2", "probability_2", "error"]
    assert sorted(rows["file"]) == sorted(str(f) for f, _ in files) and (rows["error"] == "").all()
    truth = {str(f): label for f, label in files}
    assert np.mean([truth[f] == label for f, label in zip(rows["file"], rows["label_1"])]) >= 0.9
    assert (rows["probability_1"] >= rows["probability_2"]).all()


def test_predict_keeps_going_past_a_bad_file_in_a_table(trained, tmp_path, capsys):
    held_out(tmp_path / "new", 1)
    (tmp_path / "new" / "broken.wav").write_bytes(b"RIFF not really")
    table = tmp_path / "predictions.csv"
    assert predict_cli.main([str(trained / "report"), str(tmp_path / "new"), "--csv", str(table)]) == 1
    assert "1 of 4 files were not classified" in capsys.readouterr().err
    rows = pd.read_csv(table, keep_default_na=False).set_index("file")
    assert "cannot decode audio" in rows.loc[str(tmp_path / "new" / "broken.wav"), "error"]
    assert (rows["label_1"] != "").sum() == 3


def test_predict_names_a_folder_without_audio(trained, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no audio here")
    err = _error([str(trained / "report"), str(tmp_path / "empty")], capsys)
    assert err.startswith(f"error: {tmp_path / 'empty'}: no audio files under it")
    assert "no such file or folder" in _error([str(trained / "report"), str(tmp_path / "missing.wav")], capsys)


def test_completed_runs_keep_their_weights_not_their_checkpoint(trained):
    folders = [p.parent for p in (trained / "runs").rglob(".completed")]
    assert len(folders) == 6
    assert all((f / "ema.pt").is_file() and not (f / "checkpoint.pt").exists() for f in folders)
