"""The training-time report: machine time from each run's log.csv and recorded threads."""

from __future__ import annotations

import json

import pytest

from benchmarks.core.errors import CorruptRunError
from benchmarks.training_time import training_time_rows, write_training_time
from rann.runs import run_folder


def test_machine_time_counts_threads_over_the_cores(tmp_path, fake_run):
    runs = [
        ("mel", fake_run(tmp_path, "mel", 1, [60.0, 60.0], 1, eval_seconds="30")),
        ("mel", fake_run(tmp_path, "mel", 2, [120.0], 2)),
        ("chroma", fake_run(tmp_path, "chroma", 1, [30.0], None)),
    ]
    rows = training_time_rows(runs, tmp_path)
    mel, chroma, total = rows
    # mel: 150 s on one thread + 120 s on two = 390 thread-seconds = 3.25 2-core minutes
    assert mel == {
        "runs_of": "mel",
        "runs": 2,
        "epochs": 3,
        "training_minutes": 4.5,
        "minutes_per_run": 2.2,
        "threads": [1, 2],
        "machine_minutes": 3.2,
    }
    assert chroma["machine_minutes"] is None and chroma["threads"] == []  # trained before threads were recorded
    assert (
        total["runs_of"] == "all"
        and total["runs"] == 3
        and total["machine_minutes"] is None
        and total["training_minutes"] == 5.0
    )
    md = write_training_time(rows, tmp_path / "out").read_text()
    assert "| mel " in md and "3.2 (0.05 h)" in md and "not recorded" in md and "unknown" in md
    assert json.loads((tmp_path / "out" / "training_time.json").read_text()) == rows


def test_an_unreadable_log_names_the_file(tmp_path, fake_run):
    cfg = fake_run(tmp_path, "mel", 1, [60.0], 1)
    (run_folder(cfg, tmp_path) / "log.csv").write_text("epoch,loss\n1,2.0\n")
    with pytest.raises(CorruptRunError, match=r"log\.csv: cannot read the seconds"):
        training_time_rows([("mel", cfg)], tmp_path)
