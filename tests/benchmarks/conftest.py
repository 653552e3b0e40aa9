"""Fixtures shared by the benchmark tests."""

from __future__ import annotations

import json

import pytest

from rann.config import RunConfig
from rann.runs import run_folder


def _fake_run(
    runs_dir,
    feature: str,
    fold: int,
    seconds: list[float],
    threads: int | None,
    eval_seconds: str = "",
    accuracies: dict[int, float] | None = None,
    completed: bool = True,
    checkpoint: bool = False,
    **recipe,
) -> RunConfig:
    """A smoke-profile run folder with a ``log.csv`` of ``seconds`` per epoch (``accuracies``: the
    test accuracy logged at those epochs) and, when ``completed``, its metrics and marker;
    ``recipe``: recipe settings against the smoke profile's."""
    cfg = RunConfig.from_profile(dataset="esc50", feature=feature, fold=fold, profile="smoke", **recipe)
    folder = run_folder(cfg, runs_dir)
    folder.mkdir(parents=True)
    if completed:
        metrics = {"accuracy": 0.5, "map": 0.5, "f1": 0.5, "epochs": len(seconds)} | (
            {"threads": threads} if threads else {}
        )
        (folder / "metrics.json").write_text(json.dumps(metrics))
        (folder / ".completed").write_text("")
    if checkpoint:
        (folder / "checkpoint.pt").write_bytes(b"")
    accuracies = accuracies or {}
    rows = [f"{i + 1},1.0,0.001,{s},{accuracies.get(i + 1, '')}," for i, s in enumerate(seconds)]
    rows[-1] += eval_seconds  # the eval_seconds of the last epoch (evaluated)
    (folder / "log.csv").write_text("epoch,loss,lr,seconds,test_accuracy,eval_seconds\n" + "\n".join(rows) + "\n")
    return cfg


@pytest.fixture
def fake_run():
    """The factory :func:`_fake_run`: ``fake_run(runs_dir, feature, fold, seconds, threads, ...)``."""
    return _fake_run
