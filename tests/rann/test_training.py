"""Runs: files, reuse, determinism, and resuming after kill -9."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.datasets import create_dataset
from rann.config import RunConfig
from rann.training import train_run


@pytest.fixture
def tiny(tmp_path, make_esc50):
    make_esc50(tmp_path / "esc50", n_classes=3, per_fold=2, sr=22_050, seconds=1.0)  # 30 clips
    return tmp_path


def cfg(**kw):
    return RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="smoke", **kw)


def dataset(tiny, sr=22_050):
    return create_dataset("esc50", data_root=tiny / "esc50", sr=sr, cache_dir=tiny / "cache", progress=False)


def run(tiny, root, config):
    return train_run(config, dataset(tiny), runs_root=tiny / root, progress=False)


def test_smoke_run_files_then_reuse(tiny):
    res = run(tiny, "runs", cfg(epochs=2))
    names = sorted(p.name for p in res.folder.iterdir())
    assert names == [
        ".completed",
        ".lock",
        "config.json",
        "ema.pt",
        "log.csv",
        "metrics.json",
        "normalisation.npz",
        "probs.npz",
    ]
    assert RunConfig.from_dict(json.loads((res.folder / "config.json").read_text())) == cfg(epochs=2)
    p = np.load(res.folder / "probs.npz")
    assert p["probs"].shape == (6, 3) and np.allclose(p["probs"].sum(1), 1, atol=1e-5)
    assert set(p["folds"]) == {1} and len(p["names"]) == 6
    assert set(res.metrics) >= {"accuracy", "map", "f1", "seconds_per_epoch"}
    assert (res.folder / "log.csv").read_text().count("\n") == 3  # header + 2 epochs
    again = run(tiny, "runs", cfg(epochs=2))
    assert again.reused and again.metrics == res.metrics


def test_deterministic_on_cpu(tiny):
    a = run(tiny, "a", cfg(epochs=2))
    b = run(tiny, "b", cfg(epochs=2))
    np.testing.assert_array_equal(np.load(a.folder / "probs.npz")["probs"], np.load(b.folder / "probs.npz")["probs"])


def test_kill_minus_9_then_resume_gives_the_same_run(tiny):
    base = [
        sys.executable,
        "-m",
        "rann.train",
        "--feature",
        "mel",
        "--fold",
        "1",
        "--profile",
        "smoke",
        "--epochs",
        "6",
        "--data-root",
        str(tiny / "esc50"),
        "--cache-dir",
        str(tiny / "cache"),
        "--threads",
        "1",
        "--checkpoint-seconds",
        "0",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    reference = subprocess.run(
        base + ["--runs-dir", str(tiny / "ref")], env=env, capture_output=True, text=True, timeout=300
    )
    assert reference.returncode == 0, reference.stderr
    proc = subprocess.Popen(
        base + ["--runs-dir", str(tiny / "killed")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 240
    log = None
    while time.time() < deadline:  # wait until two epochs are done, then kill -9
        logs = list((tiny / "killed").rglob("log.csv"))
        if logs and logs[0].read_text().count("\n") >= 3:
            log = logs[0]
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert log is not None and not (log.parent / ".completed").exists()
    done = log.read_text().count("\n") - 1
    resumed = subprocess.run(
        base + ["--runs-dir", str(tiny / "killed")], env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    folder = log.parent
    epochs = [int(line.split(",")[0]) for line in folder.joinpath("log.csv").read_text().splitlines()[1:]]
    assert epochs == list(range(1, 7)) and 2 <= done < 6
    ref_folder = next((tiny / "ref").rglob(".completed")).parent
    np.testing.assert_array_equal(np.load(folder / "probs.npz")["probs"], np.load(ref_folder / "probs.npz")["probs"])


def test_cli_unknown_feature(tiny, capsys):
    from rann.train import main

    rc = main(
        [
            "--feature",
            "mell",
            "--fold",
            "1",
            "--profile",
            "smoke",
            "--data-root",
            str(tiny / "esc50"),
            "--runs-dir",
            str(tiny / "runs"),
        ]
    )
    assert rc == 1 and "unknown feature 'mell'" in capsys.readouterr().err


def test_cli_recipe_and_feature_settings(tiny, capsys):
    from rann.train import main

    base = [
        "--feature",
        "mel",
        "--fold",
        "1",
        "--profile",
        "smoke",
        "--data-root",
        str(tiny / "esc50"),
        "--cache-dir",
        str(tiny / "cache"),
        "--runs-dir",
        str(tiny / "runs"),
    ]
    assert main([*base, "--feature-params", "n_mels=32", "--recipe", "lr=0.01,channels_last=true"]) == 0
    (config,) = (tiny / "runs").rglob("config.json")
    cfg_ = RunConfig.from_dict(json.loads(config.read_text()))
    assert cfg_.feature_params["n_mels"] == 32 and cfg_.recipe.lr == 0.01 and cfg_.recipe.channels_last is True
    assert np.load(config.parent / "probs.npz")["probs"].shape[0] == 6  # fold 1 of the tiny dataset
    # bad settings are refused before a run folder is written
    assert main([*base, "--feature-params", "n_mel=32"]) == 1 and "parameters are: sr, n_fft" in capsys.readouterr().err
    assert main([*base, "--recipe", "epochs=many"]) == 1 and "the value must be a number" in capsys.readouterr().err
    assert (
        main([*base, "--recipe", "learning_rate=1"]) == 1
        and "unknown recipe setting 'learning_rate'" in capsys.readouterr().err
    )
    assert len(list((tiny / "runs").rglob("config.json"))) == 1


def test_a_run_being_trained_elsewhere_is_refused(tiny):
    import fcntl

    from rann.training import RunLockedError, run_folder

    config = cfg(epochs=1)
    folder = run_folder(config, tiny / "runs")
    folder.mkdir(parents=True)
    with open(folder / ".lock", "a+") as fh:  # as another process training it would hold it
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(RunLockedError, match="another process holds its lock"):
            run(tiny, "runs", config)
    assert run(tiny, "runs", config).metrics["epochs"] == 1  # free again: it trains


def _params(module):
    return {k: v.detach().clone() for k, v in module.named_parameters()}


def test_wavegram_training_path(tiny):
    # the learned front-end trains with the classifier, on augmented waveforms
    from rann.training import FrontEnd, set_up, train_epoch

    config = RunConfig.from_profile(dataset="esc50", feature="wavegram", fold=1, profile="smoke", max_train_clips=16)
    t = set_up(config, dataset(tiny), tiny / "wave-run", "cpu", progress=False)
    assert isinstance(t.model, FrontEnd) and t.inputs.on_the_fly and t.steps == 2
    before = _params(t.model)
    row = train_epoch(config, t, 0, "cpu")
    assert np.isfinite(row["loss"]) and row["loss"] > 0
    after = _params(t.model)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any(k.startswith("feature.") for k in changed) and any(k.startswith("classifier.") for k in changed)
    x = t.inputs.batch(t.inputs.train_idx[:4])
    assert x.shape == (4, 5 * 22_050)  # waveforms, not features


def test_normalisation_statistics_come_from_the_training_folds_only(tiny):
    from rann.training import RunInputs, normalisation_stats

    rng = np.random.default_rng(0)
    data = rng.normal(size=(10, 1, 4, 6)).astype(np.float32)
    train = np.array([0, 2, 3, 5, 7])
    mean, std = normalisation_stats(data, train)
    expected = data[train].astype(np.float64)
    np.testing.assert_allclose(mean.numpy(), expected.mean(axis=(0, 3), keepdims=True)[0], rtol=1e-6)
    np.testing.assert_allclose(std.numpy(), expected.std(axis=(0, 3), keepdims=True)[0], rtol=1e-5)
    data[[1, 4, 6, 8, 9]] += 100.0  # the test clips change: the statistics do not
    m2, s2 = normalisation_stats(data, train)
    assert torch.equal(mean, m2) and torch.equal(std, s2)
    # and in a real run's inputs: the statistics of folds 2-5, not of all clips
    inputs = RunInputs(
        RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="quick"), dataset(tiny), progress=False
    )
    all_clips = np.asarray(inputs.data, dtype=np.float64)
    folds = inputs.ds.folds
    np.testing.assert_allclose(
        inputs.mean.numpy(), all_clips[folds != 1].mean(axis=(0, 3), keepdims=True)[0], rtol=1e-5, atol=1e-4
    )
    assert not np.allclose(inputs.mean.numpy(), all_clips.mean(axis=(0, 3), keepdims=True)[0], atol=1e-3)


def test_a_dataset_at_another_rate_is_refused(tiny):
    from benchmarks.core.errors import ParameterError

    with pytest.raises(ParameterError, match=r"the dataset 'esc50' is served at 44100 Hz, the run expects 22050 Hz"):
        train_run(cfg(epochs=1), dataset(tiny, sr=44_100), runs_root=tiny / "runs", progress=False)
    odd = RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="smoke")
    odd = RunConfig.from_dict({**odd.to_dict(), "feature_params": {**odd.feature_params, "sr": 24_000}})
    with pytest.raises(
        ParameterError, match=r"mel: configured for sr=24000 Hz, but dataset 'esc50' serves waveforms at 22050 Hz"
    ):
        train_run(odd, dataset(tiny), runs_root=tiny / "runs", progress=False)


def test_a_profile_holds_its_rate_in_one_place():
    from rann.config import PROFILES

    for name, profile in PROFILES.items():
        assert all("sr" not in p for p in profile.feature_params.values()), name
        for feature in ("mel", "cqt", "wavegram"):
            c = RunConfig.from_profile(dataset="esc50", feature=feature, fold=1, profile=name)
            assert c.feature_params["sr"] == c.sr == profile.sr


COMMITTED = (
    Path(__file__).resolve().parents[2]
    / "results"
    / "runs"
    / "esc50"
    / "quick"
    / "mel"
    / "fold1-seed0-rann_cpu_16-48ce0c37acdc"
)


@pytest.mark.skipif(not COMMITTED.is_dir(), reason="the committed quick runs are not in this checkout")
def test_retraining_a_committed_runs_first_epoch_reproduces_its_logged_loss(esc50_root, tmp_path):
    # the refactor kept every committed number: same fingerprint, same code path, same first epoch
    from rann.runs import read_config
    from rann.training import set_up, train_epoch

    config = read_config(COMMITTED)
    assert config == RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="quick")
    assert COMMITTED.name == config.run_name().split("/")[-1]
    ds = create_dataset("esc50", data_root=esc50_root, sr=config.sr, cache_dir=tmp_path / "cache", progress=False)
    t = set_up(config, ds, tmp_path / "run", "cpu", progress=False)
    row = train_epoch(config, t, 0, "cpu")
    logged = float((COMMITTED / "log.csv").read_text().splitlines()[1].split(",")[1])
    assert abs(row["loss"] - logged) < 1e-3, (row["loss"], logged)


@pytest.mark.slow
def test_the_paper_profile_trains_two_steps_on_the_cpu(tmp_path, make_esc50):
    # the paper's exact feature, input size and model (mel at 44.1 kHz, hop 320, 128 bins; 4 s crops;
    # rann_4_4): two optimiser steps on 8 clips, through the training code itself
    from rann.training import predict, set_up, train_epoch

    make_esc50(tmp_path / "esc50", n_classes=2, per_fold=2, sr=44_100, seconds=5.0)
    config = RunConfig.from_profile(
        dataset="esc50", feature="mel", fold=1, profile="paper", max_train_clips=8, batch_size=4, max_test_clips=2
    )
    assert config.model == "rann_4_4" and config.sr == 44_100 and config.recipe.crop_seconds == 4.0
    ds = create_dataset(
        "esc50", data_root=tmp_path / "esc50", sr=config.sr, cache_dir=tmp_path / "cache", progress=False
    )
    t = set_up(config, ds, tmp_path / "run", "cpu", progress=False)
    assert t.steps == 2 and t.inputs.data.shape[1:] == (1, 128, 1 + 5 * 44_100 // 320)
    row = train_epoch(config, t, 0, "cpu")
    assert np.isfinite(row["loss"])
    probs = predict(t.ema.module, t.inputs, t.inputs.test_idx)
    assert probs.shape == (2, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_clip_mixing_never_draws_a_test_clip_and_trains_with_binary_cross_entropy(tiny, monkeypatch):
    from benchmarks.core.errors import ParameterError
    from rann import training
    from rann.training import set_up, train_epoch

    config = cfg(
        epochs=2,
        eval_every=5,
        mix_clips=3,
        mix_noise_snr_db=(10.0, 30.0),
        mixup_alpha=0.0,
        max_train_clips=None,
        batch_size=8,
    )  # epoch 1 of 2: no evaluation
    t = set_up(config, dataset(tiny), tiny / "mix-run", "cpu", progress=False)
    seen: list[np.ndarray] = []
    real_batch = t.inputs.batch

    def recording_batch(idx):
        seen.append(np.asarray(idx))
        return real_batch(idx)

    monkeypatch.setattr(t.inputs, "batch", recording_batch)
    losses = []
    real_loss = training.loss_fn
    monkeypatch.setattr(
        training, "loss_fn", lambda c, logits, target: losses.append(target) or real_loss(c, logits, target)
    )
    row = train_epoch(config, t, 0, "cpu")
    assert np.isfinite(row["loss"])
    drawn = np.concatenate(seen)
    assert len(drawn) > len(t.inputs.train_idx)  # the partners were read too
    assert set(drawn) <= set(t.inputs.train_idx) and not set(drawn) & set(t.inputs.test_idx)
    targets = torch.cat(losses)
    assert (targets.sum(1) > 1).any() and set(targets.unique().tolist()) <= {0.0, 1.0}  # multi-hot
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.zeros(2, 3), torch.tensor([[1.0, 1, 0], [0, 1, 0]])
    )
    assert torch.isclose(real_loss(config, torch.zeros(2, 3), torch.tensor([[1.0, 1, 0], [0, 1, 0]])), bce)
    # what cannot run as asked is refused before training
    with pytest.raises(ParameterError, match="clip mixing and mixup are alternatives"):
        set_up(cfg(mix_clips=2), dataset(tiny), tiny / "r1", "cpu", progress=False)
    with pytest.raises(ParameterError, match="'mfcc' is in 'DCT of dB'"):
        mfcc = RunConfig.from_profile(
            dataset="esc50", feature="mfcc", fold=1, profile="smoke", mix_clips=2, mixup_alpha=0.0
        )
        set_up(mfcc, dataset(tiny), tiny / "r2", "cpu", progress=False)


def test_clip_mixing_of_waveforms_for_the_learned_front_end(tiny):
    from rann.training import set_up, train_epoch

    config = RunConfig.from_profile(
        dataset="esc50",
        feature="wavegram",
        fold=1,
        profile="smoke",
        max_train_clips=16,
        mix_clips=2,
        mix_noise_snr_db=(5.0, 20.0),
        mixup_alpha=0.0,
    )
    t = set_up(config, dataset(tiny), tiny / "wave-mix", "cpu", progress=False)
    assert np.isfinite(train_epoch(config, t, 0, "cpu")["loss"])


def test_channels_last_trains_the_same_model(tiny):
    from rann.training import set_up, train_epoch

    rows = {}
    for cl in (False, True):
        config = cfg(epochs=2, eval_every=5, channels_last=cl)
        t = set_up(config, dataset(tiny), tiny / f"cl-{cl}", "cpu", progress=False)
        conv = next(m for m in t.model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels > 1)
        assert conv.weight.is_contiguous(memory_format=torch.channels_last) == cl
        rows[cl] = train_epoch(config, t, 0, "cpu")["loss"]
    assert rows[True] == pytest.approx(rows[False], rel=1e-4)  # the same numbers up to rounding
    assert (
        "channels_last" not in cfg().to_dict()["recipe"]
        and cfg(channels_last=True).to_dict()["recipe"]["channels_last"] is True
    )


def test_label_smoothing_moves_the_target_towards_uniform_and_is_refused_outside_0_1(tiny):
    from benchmarks.core.errors import ParameterError
    from rann.training import loss_fn, set_up

    logits = torch.tensor([[2.0, 0.0, -1.0, 0.5]])
    target = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    expected = -((0.9 * target + 0.1 / 4) * torch.log_softmax(logits, 1)).sum()
    assert torch.isclose(loss_fn(cfg(label_smoothing=0.1), logits, target), expected)
    assert torch.isclose(loss_fn(cfg(), logits, target), -torch.log_softmax(logits, 1)[0, 0])
    assert (
        "label_smoothing"
        not in RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="quick").to_dict()["recipe"]
    )
    with pytest.raises(ParameterError, match="label_smoothing must be in"):
        set_up(cfg(label_smoothing=1.0), dataset(tiny), tiny / "ls", "cpu", progress=False)


def test_the_standard_profile_is_the_quick_model_with_the_adopted_recipe():
    quick, standard = (
        RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile=p) for p in ("quick", "standard")
    )
    assert (standard.model, standard.sr, standard.feature_params) == (
        quick.model,
        quick.sr,
        quick.feature_params,
    )  # the same cached mel
    assert (
        standard.recipe.mixup_alpha == 0.0
        and standard.recipe.channels_last
        and standard.recipe.epochs >= 3 * quick.recipe.epochs
    )
    assert (
        dataclasses.replace(standard.recipe, mixup_alpha=0.3, channels_last=False, epochs=30, eval_every=5)
        == quick.recipe
    )
    chroma = RunConfig.from_profile(dataset="esc50", feature="chroma", fold=1, profile="standard").feature_params
    assert chroma["norm"] is None and chroma["log"] and chroma["n_chroma"] == 64
    tempogram = {
        p: RunConfig.from_profile(dataset="esc50", feature="tempogram", fold=1, profile=p).feature_params
        for p in ("quick", "standard")
    }
    assert tempogram["quick"] == tempogram["standard"]  # no tempogram variant won
    assert standard.fingerprint() != quick.fingerprint()


def test_a_profile_may_differ_per_dataset_and_the_others_keep_the_base():
    from benchmarks.model_table import recipe_label
    from rann.config import PROFILES, get_profile

    def run(dataset, profile, feature="mel"):
        return RunConfig.from_profile(dataset=dataset, feature=feature, fold=1, profile=profile)

    assert get_profile("standard", "esc50") is get_profile("standard") is PROFILES["standard"]
    speech = get_profile("standard", "ravdess")
    assert speech is not PROFILES["standard"] and speech.name == "standard" and speech.datasets == {}
    esc50, ravdess = run("esc50", "standard"), run("ravdess", "standard")
    assert esc50.fingerprint() == "a3d261bdd5e5"  # the committed ESC-50 standard run keeps its name
    assert (esc50.feature_params["fmax"], ravdess.feature_params["fmax"]) == (11_025.0, 8_000.0)
    for feature in ("mfcc", "gfcc"):
        assert run("ravdess", "standard", feature).feature_params["fmax"] == 8_000.0
    for feature in ("cqt", "wavegram"):  # their band is already speech's, or learned
        assert run("ravdess", "standard", feature).feature_params == run("esc50", "standard", feature).feature_params
    assert ravdess.recipe.epochs != esc50.recipe.epochs and ravdess.recipe.eval_every == ravdess.recipe.epochs // 4
    assert (ravdess.recipe.crop_seconds, esc50.recipe.crop_seconds) == (2.0, 3.7)
    assert (ravdess.recipe.normalize, esc50.recipe.normalize) == ("clip", "bin")  # log-mel's alone
    assert {run("ravdess", "standard", f).recipe.normalize for f in ("mfcc", "gfcc", "wavegram")} == {"bin"}
    assert recipe_label(ravdess) == "profile"  # read against its own dataset's profile
    # the quick profile is one for every dataset: the committed RAVDESS quick runs stay valid
    quick = run("ravdess", "quick")
    assert dataclasses.replace(quick, dataset="esc50") == run("esc50", "quick")


def test_a_profile_may_set_one_features_recipe(monkeypatch):
    from benchmarks.model_table import recipe_label
    from rann import config

    base = config.PROFILES["quick"]
    monkeypatch.setitem(
        config.PROFILES, "per-feature", dataclasses.replace(base, feature_recipes={"mfcc": {"normalize": "clip"}})
    )

    def run(feature, **recipe):
        return RunConfig.from_profile(dataset="esc50", feature=feature, fold=1, profile="per-feature", **recipe)

    assert run("mfcc").recipe == dataclasses.replace(base.recipe, normalize="clip")
    assert run("mel").recipe == base.recipe
    assert recipe_label(run("mfcc")) == recipe_label(run("mel")) == "profile"  # each against its own recipe
    assert run("mfcc", normalize="bin").recipe.normalize == "bin"  # an arm's setting still wins
    assert recipe_label(run("mfcc", normalize="bin")) == "normalize=bin"


def test_per_clip_normalisation_centres_each_clip_bin_by_its_own_frames(tiny):
    from benchmarks.core.errors import ParameterError
    from rann.training import RunInputs, set_up

    run = RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="quick", normalize="clip")
    inputs = RunInputs(run, dataset(tiny), progress=False)
    x = inputs.batch(np.array([3, 0, 5]))
    raw = torch.from_numpy(np.asarray(inputs.data[[3, 0, 5]], dtype=np.float32))
    torch.testing.assert_close(x.mean(dim=-1), torch.zeros(x.shape[:-1]), atol=1e-4, rtol=0)
    torch.testing.assert_close(x, (raw - raw.mean(-1, keepdim=True)) / raw.std(-1, keepdim=True).clamp_min(1e-5))
    # the clip's loudness no longer matters: +10 dB on every bin gives the same input
    inputs.data = np.asarray(inputs.data).copy()
    inputs.data[3] += 10.0
    torch.testing.assert_close(inputs.batch(np.array([3, 0, 5])), x, atol=1e-4, rtol=1e-4)
    # per bin (the default) is not in the config, so every committed fingerprint holds
    assert (
        "normalize"
        not in RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="quick").to_dict()["recipe"]
    )
    assert run.to_dict()["recipe"]["normalize"] == "clip"
    from rann.settings import parse_recipe

    assert parse_recipe(["normalize=clip"]) == {"normalize": "clip"}  # --recipe and --baselines take it
    with pytest.raises(ParameterError, match="epochs=abc: the value must be a number"):
        parse_recipe(["epochs=abc"])
    with pytest.raises(ParameterError, match="normalize must be 'bin' or 'clip'"):
        set_up(cfg(normalize="frame"), dataset(tiny), tiny / "n1", "cpu", progress=False)
    with pytest.raises(ParameterError, match="clip mixing needs the per-bin statistics"):
        set_up(cfg(normalize="clip", mix_clips=2, mixup_alpha=0.0), dataset(tiny), tiny / "n2", "cpu", progress=False)
