"""The progress report of a half-trained benchmark (``--status``)."""

from __future__ import annotations

import json

from benchmarks.esc50 import main
from benchmarks.progress import _remaining_seconds, progress_rows, write_progress
from benchmarks.runner import run_state
from rann.config import RunConfig
from rann.runs import run_folder


def test_progress_counts_epochs_states_and_what_is_left(tmp_path, fake_run):
    runs_dir = tmp_path / "runs"
    done = fake_run(runs_dir, "mel", 1, [60.0, 60.0, 60.0, 60.0], 1, epochs=4)  # metrics.json says 0.5
    partial = fake_run(
        runs_dir, "mel", 2, [60.0, 60.0], 1, accuracies={1: 0.25, 2: 0.375}, completed=False, checkpoint=True, epochs=4
    )
    started = fake_run(runs_dir, "chroma", 1, [30.0], 1, accuracies={1: 0.125}, completed=False, epochs=4)
    plan = [(cfg, run_state(run_folder(cfg, runs_dir))) for cfg in (done, partial, started)]
    new = RunConfig.from_profile(dataset="esc50", feature="chroma", fold=2, profile="smoke", epochs=4)
    plan.append((new, run_state(run_folder(new, runs_dir))))

    rows = progress_rows(plan, runs_dir)
    assert [(r["feature"], r["fold"], r["state"], r["epochs_done"], r["epochs"], r["accuracy"]) for r in rows] == [
        ("mel", 1, "completed", 4, 4, 0.5),
        ("mel", 2, "partial", 2, 4, 0.375),
        ("chroma", 1, "started", 1, 4, 0.125),
        ("chroma", 2, "new", 0, 4, None),
    ]
    # left: mel fold 2 resumes, 2 epochs at mel's 60 s; chroma's started run has no checkpoint: both its runs from
    # scratch at 30 s
    assert _remaining_seconds(rows) == 2 * 60 + 8 * 30
    md = write_progress(rows, tmp_path / "out", jobs=2).read_text()
    assert (
        "**1 of 4 runs completed**; 7 of 16 epochs logged" in md
        and "about 0.1 h of run time at the logged rates, 0.1 h with 2 runs" in md
    )
    assert "| mel       | 1 / 2            | 0.500" in md and "0.375 (so far)" in md
    assert json.loads((tmp_path / "out" / "progress.json").read_text()) == rows
    finished = write_progress(rows[:1], tmp_path / "finished", jobs=2).read_text()
    assert (
        "**1 of 1 runs completed**" in finished
        and "Nothing left to train." in finished
        and "Still to train" not in finished
    )


def test_status_trains_nothing_and_writes_progress(tmp_path, capsys):
    out = tmp_path / "out"
    assert (
        main(
            [
                "--profile",
                "smoke",
                "--features",
                "mel,chroma",
                "--folds",
                "1",
                "--runs-dir",
                str(tmp_path / "runs"),
                "--out",
                str(out),
                "--status",
            ]
        )
        == 0
    )
    assert (
        "**0 of 2 runs completed**" in capsys.readouterr().out
        and "No epoch logged yet" in (out / "progress.md").read_text()
    )
    assert not (tmp_path / "runs").exists()
