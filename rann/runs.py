"""A run's folder and its committed artifacts, read back with checks.

``<runs_root>/<dataset>/<profile>/<feature>/fold<k>-seed<s>-<model>-<fingerprint>/`` holds
``config.json``, ``log.csv``, ``probs.npz`` (the test fold's clip names, targets, folds and
class probabilities), ``metrics.json`` and, written last, ``.completed``. The small ones are
committed to git, so a fusion table can be rebuilt without training; a truncated or
hand-edited file must then fail loudly, naming the file and the fix, rather than feed wrong
numbers into a table. :func:`verify_run` checks one folder; ``python -m benchmarks.data
verify-runs`` checks every committed run.
"""

from __future__ import annotations

import csv
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.core.errors import CorruptRunError
from rann.config import RunConfig

PREDICTION_KEYS = ("names", "targets", "folds", "probs")


def run_folder(cfg: RunConfig, runs_root: str | os.PathLike) -> Path:
    """``<runs_root>/<dataset>/<profile>/<feature>/fold<k>-seed<s>-<model>-<fingerprint>``."""
    return Path(runs_root) / cfg.dataset / cfg.profile / cfg.run_name()


def _fix(folder: Path) -> str:
    return f"remove the folder {folder} to train the run again, or restore it from git (git checkout -- {folder})"


@dataclass(frozen=True)
class Predictions:
    """One run's test-fold predictions: ``names`` ``(n,)``, ``targets`` ``(n,)``, ``folds`` ``(n,)``,
    ``probs`` ``(n, n_classes)`` class probabilities (rows sum to 1)."""

    names: np.ndarray
    targets: np.ndarray
    folds: np.ndarray
    probs: np.ndarray


def is_completed(folder: Path) -> bool:
    """Whether the run in ``folder`` finished (its ``.completed`` marker exists)."""
    return (Path(folder) / ".completed").is_file()


def read_config(folder: Path) -> RunConfig:
    """The run's ``config.json``.

    Raises:
        CorruptRunError: unreadable, not JSON, or not a run config.
    """
    path = Path(folder) / "config.json"
    try:
        return RunConfig.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise CorruptRunError(
            f"{path}: cannot read the run config ({type(exc).__name__}: {exc}); {_fix(Path(folder))}"
        ) from None


def read_metrics(folder: Path) -> dict:
    """The run's ``metrics.json``: at least accuracy, map and f1, each in [0, 1].

    Raises:
        CorruptRunError: unreadable, not JSON, or without those three numbers.
    """
    path = Path(folder) / "metrics.json"
    try:
        metrics = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CorruptRunError(
            f"{path}: cannot read the metrics ({type(exc).__name__}: {exc}); {_fix(Path(folder))}"
        ) from None
    bad = [
        k
        for k in ("accuracy", "map", "f1")
        if not isinstance(metrics, dict) or not isinstance(metrics.get(k), (int, float)) or not 0 <= metrics[k] <= 1
    ]
    if bad:
        raise CorruptRunError(
            f"{path}: expected accuracy, map and f1 as numbers in [0, 1]; {', '.join(bad)} missing or out of range; "
            f"{_fix(Path(folder))}"
        )
    return metrics


def read_log(folder: Path) -> list[dict]:
    """The rows of the run's ``log.csv``, one per finished epoch: ``epoch``, ``seconds`` (training)
    and, where logged, ``eval_seconds`` and ``test_accuracy`` (``None`` on epochs without a test-fold
    evaluation), as numbers.

    Raises:
        CorruptRunError: the log is missing or a row lacks its epoch or seconds."""
    path = Path(folder) / "log.csv"
    try:
        with open(path, newline="") as f:
            return [
                {
                    "epoch": int(row["epoch"]),
                    "seconds": float(row["seconds"]),
                    "eval_seconds": float(row.get("eval_seconds") or 0),
                    "test_accuracy": float(row["test_accuracy"]) if row.get("test_accuracy") else None,
                }
                for row in csv.DictReader(f)
            ]
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise CorruptRunError(
            f"{path}: cannot read the seconds of its epochs ({type(exc).__name__}: {exc}); {_fix(Path(folder))}"
        ) from None


def read_log_seconds(folder: Path) -> float:
    """The seconds of the run's ``log.csv``: every epoch's training plus its test-fold evaluation
    (where the log records it: ``eval_seconds``, logged since December 2026).

    Raises:
        CorruptRunError: the log is missing or a row has no number of seconds."""
    return float(sum(r["seconds"] + r["eval_seconds"] for r in read_log(folder)))


def read_predictions(folder: Path, dataset=None, *, fold: int | None = None) -> Predictions:
    """The run's ``probs.npz``, checked: the four arrays, one row per clip, finite probabilities
    whose rows sum to 1; with ``dataset`` (anything with ``filenames``, ``targets`` and
    ``folds``), every clip must be one of its clips, with its target and fold; with ``fold``, every
    clip must be of that fold.

    Raises:
        CorruptRunError: naming the file, what is wrong, and the fix.
    """
    folder = Path(folder)
    path = folder / "probs.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in PREDICTION_KEYS if k not in z.files]
            if missing:
                raise CorruptRunError(
                    f"{path}: expected arrays {', '.join(PREDICTION_KEYS)}; missing {', '.join(missing)}; "
                    f"{_fix(folder)}"
                )
            p = Predictions(**{k: z[k] for k in PREDICTION_KEYS})
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CorruptRunError(
            f"{path}: cannot read the predictions ({type(exc).__name__}: {exc}); {_fix(folder)}"
        ) from None
    problems = _shape_problems(p)
    if not problems and dataset is not None:
        problems = _dataset_problems(p, dataset)
    if not problems and fold is not None and np.any(p.folds != fold):
        problems = [f"holds clips of folds {sorted(set(p.folds.tolist()))}, expected only fold {fold}"]
    if problems:
        raise CorruptRunError(f"{path}: {'; '.join(problems)}; {_fix(folder)}")
    return p


def _shape_problems(p: Predictions) -> list[str]:
    n = len(p.names)
    if p.probs.ndim != 2 or n == 0 or any(len(a) != n for a in (p.targets, p.folds, p.probs)):
        return [
            f"expected names, targets, folds of one length n > 0 and probs (n, n_classes); got {len(p.names)}, "
            f"{len(p.targets)}, {len(p.folds)}, {p.probs.shape}"
        ]
    if not np.all(np.isfinite(p.probs)) or np.any(p.probs < 0) or not np.allclose(p.probs.sum(axis=1), 1, atol=1e-3):
        return ["probs must be finite, non-negative, and each row must sum to 1"]
    return []


def _dataset_problems(p: Predictions, dataset) -> list[str]:
    index = {name: i for i, name in enumerate(dataset.filenames)}
    unknown = [str(n) for n in p.names if str(n) not in index]
    if unknown:
        return [f"{len(unknown)} clips are not in the dataset, e.g. {unknown[0]!r}"]
    rows = np.array([index[str(n)] for n in p.names])
    for what, ours, theirs in (("targets", p.targets, dataset.targets[rows]), ("folds", p.folds, dataset.folds[rows])):
        wrong = np.flatnonzero(np.asarray(ours) != theirs)
        if len(wrong):
            i = wrong[0]
            return [
                f"{what} of {len(wrong)} clips disagree with the dataset, e.g. {p.names[i]}: {ours[i]} here, "
                f"{theirs[i]} in the dataset"
            ]
    return []


def verify_run(folder: Path, dataset=None) -> list[str]:
    """Every problem of one completed run folder, as ``"<file>: <problem>"`` lines (empty if sound)."""
    problems = []
    try:
        cfg = read_config(folder)
    except CorruptRunError as exc:
        return [str(exc)]
    for check in (lambda: read_metrics(folder), lambda: read_predictions(folder, dataset, fold=cfg.fold)):
        try:
            check()
        except CorruptRunError as exc:
            problems.append(str(exc))
    if Path(folder).name != cfg.run_name().split("/")[-1]:
        problems.append(
            f"{folder}: the folder name does not match its config's fingerprint ({cfg.run_name()}); "
            f"{_fix(Path(folder))}"
        )
    return problems
