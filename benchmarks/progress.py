"""Where a long benchmark stands (``--status``): every planned run's state, epochs done and test
accuracy so far, read from the run folders; nothing is trained.

A run is ``completed`` (its ``.completed`` marker), ``partial`` (a checkpoint here: the next
command resumes it), ``started`` (a ``log.csv`` but no checkpoint here, e.g. an in-progress log
committed from another machine: the run starts again) or ``new``.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.core.io import write_atomic, write_json
from rann.config import RunConfig
from rann.runs import read_log, read_metrics, run_folder


def progress_rows(runs: list[tuple[RunConfig, str]], runs_dir) -> list[dict]:
    """One row per planned run (``(config, state)`` as the runner's plan gives them): feature, fold,
    seed, model, state, epochs logged and planned, training seconds logged, and the accuracy on the
    test fold: the final one of a completed run, else the latest logged evaluation (``None`` if none)."""
    rows = []
    for cfg, state in runs:
        folder = run_folder(cfg, runs_dir)
        log = read_log(folder) if (folder / "log.csv").is_file() else []
        if state == "new" and log:
            state = "started"
        evaluated = [r["test_accuracy"] for r in log if r["test_accuracy"] is not None]
        accuracy = read_metrics(folder)["accuracy"] if state == "completed" else (evaluated[-1] if evaluated else None)
        rows.append(
            {
                "feature": cfg.feature,
                "fold": cfg.fold,
                "seed": cfg.seed,
                "model": cfg.model,
                "state": state,
                "epochs_done": len(log),
                "epochs": cfg.recipe.epochs,
                "seconds": round(sum(r["seconds"] + r["eval_seconds"] for r in log), 1),
                "accuracy": accuracy,
                "folder": str(folder),
            }
        )
    return rows


def _remaining_seconds(rows: list[dict]) -> float | None:
    """Logged seconds per epoch (each feature's own rate, else the mean over all) x epochs still to
    train; ``None`` before any epoch is logged."""
    rate = {}
    for f in {r["feature"] for r in rows}:
        done = [r for r in rows if r["feature"] == f and r["epochs_done"]]
        if done:
            rate[f] = sum(r["seconds"] for r in done) / sum(r["epochs_done"] for r in done)
    if not rate:
        return None
    mean = sum(rate.values()) / len(rate)
    return sum(_epochs_left(r) * rate.get(r["feature"], mean) for r in rows)


def _epochs_left(row: dict) -> int:
    """Epochs the run still trains: a partial run resumes; a started one (no checkpoint here)
    trains from its first epoch again."""
    if row["state"] == "completed":
        return 0
    return row["epochs"] - (row["epochs_done"] if row["state"] == "partial" else 0)


def _summary_line(rows: list[dict], jobs: int) -> str:
    """Runs completed, epochs and hours logged, and the time still to train."""
    done = [r for r in rows if r["state"] == "completed"]
    left = _remaining_seconds(rows)
    head = (
        f"**{len(done)} of {len(rows)} runs completed**; {sum(r['epochs_done'] for r in rows)} of "
        f"{sum(r['epochs'] for r in rows)} epochs logged "
        f"({sum(r['seconds'] for r in rows) / 3600:.2f} h of run time). "
    )
    if len(done) == len(rows):
        head += "Nothing left to train."
    elif left is None:
        head += "No epoch logged yet."
    else:
        head += (
            f"Still to train: about {left / 3600:.1f} h of run time at the logged rates, "
            f"{left / 3600 / jobs:.1f} h with {jobs} run{'s' if jobs > 1 else ''} side by side."
        )
    return head


def _per_feature_rows(rows: list[dict]) -> list[list[str]]:
    """Per feature: runs completed, their mean accuracy and each fold's."""
    per_feature = []
    for f in dict.fromkeys(r["feature"] for r in rows):
        mine = [r for r in rows if r["feature"] == f]
        accs = [r["accuracy"] for r in mine if r["state"] == "completed"]
        per_feature.append(
            [
                f,
                f"{len(accs)} / {len(mine)}",
                f"{sum(accs) / len(accs):.3f}" if accs else "-",
                ", ".join(f"{r['fold']}: {r['accuracy']:.3f}" for r in mine if r["state"] == "completed") or "-",
            ]
        )
    return per_feature


def progress_markdown(rows: list[dict], jobs: int = 2) -> str:
    """The summary line, a per-feature table (runs completed, mean accuracy of those) and the per-run table."""
    from tabulate import tabulate

    per_run = [
        [
            r["feature"],
            r["fold"],
            r["seed"],
            r["model"],
            r["state"],
            f"{r['epochs_done']} / {r['epochs']}",
            "-"
            if r["accuracy"] is None
            else f"{r['accuracy']:.3f}" + ("" if r["state"] == "completed" else " (so far)"),
            f"{r['seconds'] / 60:.1f}",
        ]
        for r in rows
    ]
    return "\n\n".join(
        [
            _summary_line(rows, jobs),
            tabulate(
                _per_feature_rows(rows),
                headers=["Feature", "Runs completed", "Accuracy (completed runs)", "Per fold"],
                tablefmt="github",
                disable_numparse=True,
            ),
            tabulate(
                per_run,
                headers=["Feature", "Fold", "Seed", "Model", "State", "Epochs", "Test accuracy", "Minutes logged"],
                tablefmt="github",
                disable_numparse=True,
            ),
            (
                "States: completed; partial (a checkpoint on this machine: the next command resumes it); started "
                "(a log but no checkpoint here: it trains again from its first epoch); new. A run's accuracy before "
                "it completes is its latest test-fold evaluation."
            ),
        ]
    )


def write_progress(rows: list[dict], out: Path, provenance: str = "", jobs: int = 2) -> Path:
    """``progress.md`` / ``.json`` in ``out``; returns the markdown's path."""
    head = f"{provenance.strip()}\n\n" if provenance.strip() else ""
    write_atomic(Path(out) / "progress.md", f"# Progress\n\n{head}{progress_markdown(rows, jobs)}\n")
    write_json(Path(out) / "progress.json", rows)
    return Path(out) / "progress.md"
