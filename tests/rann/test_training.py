"""Runs: files, reuse, determinism, and resuming after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from rann.config import RunConfig
from rann.training import train_run


@pytest.fixture
def tiny(tmp_path, make_esc50):
    make_esc50(tmp_path / "esc50", n_classes=3, per_fold=2, sr=22_050, seconds=1.0)  # 30 clips
    return tmp_path


def cfg(**kw):
    return RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="smoke", **kw)


def run(tiny, root, config):
    return train_run(config, runs_root=tiny / root, data_root=tiny / "esc50", cache_dir=tiny / "cache", progress=False)


def test_smoke_run_files_then_reuse(tiny):
    res = run(tiny, "runs", cfg(epochs=2))
    names = sorted(p.name for p in res.folder.iterdir())
    assert names == [".completed", ".lock", "checkpoint.pt", "config.json", "ema.pt", "log.csv", "metrics.json", "probs.npz"]
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
    base = [sys.executable, "-m", "rann.train", "--feature", "mel", "--fold", "1", "--profile", "smoke", "--epochs", "6",
            "--data-root", str(tiny / "esc50"), "--cache-dir", str(tiny / "cache"), "--threads", "1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    reference = subprocess.run(base + ["--runs-dir", str(tiny / "ref")], env=env, capture_output=True, text=True, timeout=300)
    assert reference.returncode == 0, reference.stderr
    proc = subprocess.Popen(base + ["--runs-dir", str(tiny / "killed")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    resumed = subprocess.run(base + ["--runs-dir", str(tiny / "killed")], env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    folder = log.parent
    epochs = [int(line.split(",")[0]) for line in folder.joinpath("log.csv").read_text().splitlines()[1:]]
    assert epochs == list(range(1, 7)) and 2 <= done < 6
    ref_folder = next((tiny / "ref").rglob(".completed")).parent
    np.testing.assert_array_equal(np.load(folder / "probs.npz")["probs"], np.load(ref_folder / "probs.npz")["probs"])


def test_cli_unknown_feature(tiny, capsys):
    from rann.train import main

    rc = main(["--feature", "mell", "--fold", "1", "--profile", "smoke", "--data-root", str(tiny / "esc50"), "--runs-dir", str(tiny / "runs")])
    assert rc == 1 and "unknown feature 'mell'" in capsys.readouterr().err


def test_a_run_being_trained_elsewhere_is_refused(tiny):
    import fcntl

    from rann.training import RunLockedError, run_folder

    config = cfg(epochs=1)
    folder = run_folder(config, tiny / "runs")
    folder.mkdir(parents=True)
    with open(folder / ".lock", "a+") as fh:  # as another process training it would hold it
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(RunLockedError, match="another process is training this run"):
            run(tiny, "runs", config)
    assert run(tiny, "runs", config).metrics["epochs"] == 1  # free again: it trains
