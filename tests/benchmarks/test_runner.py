"""``--jobs`` worker processes: they end with the command that started them."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from rann.config import RunConfig

# A command with two --jobs workers that each note their pid and sleep (they stand in for training).
SCRIPT = textwrap.dedent("""
    import argparse, os, sys, time
    from pathlib import Path
    from benchmarks.runner.execute import train_jobs

    def sleepy(share, args, threads):
        Path(args.pids, str(os.getpid())).touch()
        time.sleep(120)
        return []

    def failing(share, args, threads):
        raise ValueError("no data here")

    def dying(share, args, threads):
        os._exit(3)  # as the kernel's out-of-memory killer leaves it: no word back

    if __name__ == "__main__":
        worker = {"sleepy": sleepy, "failing": failing, "dying": dying}[sys.argv[2]]
        print(train_jobs(["run a", "run b"], argparse.Namespace(jobs=2, pids=sys.argv[1]), worker=worker))
""")


def _start(tmp_path, worker):
    (tmp_path / "pids").mkdir()
    (tmp_path / "command.py").write_text(SCRIPT)
    return subprocess.Popen(
        [sys.executable, str(tmp_path / "command.py"), str(tmp_path / "pids"), worker],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigterm_to_the_command_stops_its_workers(tmp_path):
    command = _start(tmp_path, "sleepy")
    deadline = time.monotonic() + 120
    while len(pids := [int(p.name) for p in (tmp_path / "pids").iterdir()]) < 2:
        assert command.poll() is None and time.monotonic() < deadline, command.communicate()
        time.sleep(0.2)
    command.send_signal(signal.SIGTERM)  # to the parent alone, as kill / pkill / a scheduler do
    try:
        assert command.wait(timeout=60) == 128 + signal.SIGTERM
        assert not any(_alive(pid) for pid in pids), "a --jobs worker outlived its command"
    finally:  # never leave sleepers behind, even when the test fails
        for pid in filter(_alive, pids):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize(
    ("worker", "failure"), [("failing", "{}: ValueError: no data here"), ("dying", "{} died (exit code 3)")]
)
def test_a_worker_that_fails_or_dies_is_reported(tmp_path, worker, failure):
    command = _start(tmp_path, worker)
    out, err = command.communicate(timeout=120)
    assert command.returncode == 0, err
    assert failure.format("worker 0") in out and failure.format("worker 1") in out


def test_the_plans_first_estimate_scales_with_each_runs_training_clips():
    from benchmarks.runner.plan import epoch_share, train_clips

    def run(dataset, **recipe):
        return RunConfig.from_profile(dataset=dataset, feature="mel", fold=1, profile="standard", **recipe)

    assert train_clips(run("esc50")) == 1600 and train_clips(run("ravdess")) == 1200  # 4 of 5, 5 of 6 folds
    assert train_clips(run("ravdess", max_train_clips=24)) == 24
    assert epoch_share(run("esc50")) == 1.0  # what EPOCH_SECONDS are measured on
    assert epoch_share(run("esc50", crop_seconds=1.85)) == pytest.approx(0.6)  # 20 % fixed, 80 % per second
    assert epoch_share(run("ravdess", crop_seconds=3.7)) == 0.75  # 1,200 clips

    class Folds:  # a dataset read from its content counts its clips
        folds = np.array([1, 1, 2, 2, 2, 3])

    assert train_clips(run("ravdess"), Folds()) == 4
