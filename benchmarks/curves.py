"""Learning curves of a report's runs: the test-fold accuracy at every logged evaluation (the
``test_accuracy`` column of each run's ``log.csv``), to see whether a run was still improving when
its epochs ran out. Monitoring only: the reported accuracy is the final EMA model's."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.core.io import save_figure
from rann.config import RunConfig
from rann.runs import read_log, run_folder


def learning_curves(runs: list[tuple[str, RunConfig]], runs_dir) -> dict[str, list[tuple[list[int], list[float]]]]:
    """Per name of ``runs`` (``(name, config)``, e.g. the feature), in their order, each run's
    ``(epochs, test accuracies)`` at its logged evaluations (runs without any are left out)."""
    curves: dict[str, list[tuple[list[int], list[float]]]] = {}
    for name, cfg in runs:
        rows = [r for r in read_log(run_folder(cfg, runs_dir)) if r["test_accuracy"] is not None]
        if rows:
            curves.setdefault(name, []).append(([r["epoch"] for r in rows], [r["test_accuracy"] for r in rows]))
    return curves


def plot_learning_curves(runs: list[tuple[str, RunConfig]], runs_dir, path: Path, title: str) -> Path | None:
    """A PNG of :func:`learning_curves`: one colour per name, each run a thin line, the mean over
    the runs evaluated at the same epochs a thick one. ``None`` (nothing written) when no run logged
    an evaluation."""
    curves = learning_curves(runs, runs_dir)
    if not curves:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for (name, lines), colour in zip(curves.items(), plt.get_cmap("tab10").colors * 3):
        for epochs, accuracy in lines:
            ax.plot(epochs, accuracy, color=colour, lw=0.6, alpha=0.4)
        shared = sorted(set.intersection(*(set(e) for e, _ in lines)))
        mean = [np.mean([a[e.index(k)] for e, a in lines]) for k in shared]
        ax.plot(shared, mean, color=colour, lw=2, marker="o", ms=3, label=f"{name} ({len(lines)} runs)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test-fold accuracy (EMA model)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    return path
