"""How long a report's runs took to train, summed from the committed ``log.csv`` of each run
(the seconds of every epoch) and the torch threads its ``metrics.json`` records.

Machine time is thread-seconds over the machine's cores: a run's 2-core time is its logged
seconds x its threads / 2, so two single-thread runs side by side each count half. Runs trained
before threads were recorded have no machine time.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.core.io import write_atomic, write_json
from rann.config import RunConfig
from rann.runs import read_log_seconds, read_metrics, run_folder


def training_time_rows(runs: list[tuple[str, RunConfig]], runs_dir, cores: int = 2) -> list[dict]:
    """One row per name of ``runs`` (``(name, config)`` of completed runs, e.g. the feature), in
    their order, and a last row ``all``: runs, epochs, logged training minutes, threads per run,
    and ``cores``-core machine minutes (``None`` where a run did not record its threads)."""
    groups: dict[str, list[dict]] = {}
    for name, cfg in runs:
        folder = run_folder(cfg, runs_dir)
        m = read_metrics(folder)
        groups.setdefault(name, []).append(
            {"seconds": read_log_seconds(folder), "epochs": m["epochs"], "threads": m.get("threads")}
        )

    def row(name: str, runs: list[dict]) -> dict:
        known = all(r["threads"] for r in runs)
        return {
            "runs_of": name,
            "runs": len(runs),
            "epochs": int(sum(r["epochs"] for r in runs)),
            "training_minutes": round(sum(r["seconds"] for r in runs) / 60, 1),
            "minutes_per_run": round(sum(r["seconds"] for r in runs) / 60 / len(runs), 1),
            "threads": sorted({r["threads"] for r in runs if r["threads"]}),
            "machine_minutes": round(sum(r["seconds"] * r["threads"] for r in runs) / cores / 60, 1) if known else None,
        }

    rows = [row(name, runs) for name, runs in groups.items()]
    if len(rows) > 1:
        rows.append(row("all", [r for runs in groups.values() for r in runs]))
    return rows


def training_time_table(rows: list[dict], cores: int = 2) -> str:
    """Markdown of :func:`training_time_rows`."""
    from tabulate import tabulate

    body = [
        [
            r["runs_of"],
            r["runs"],
            r["epochs"],
            ", ".join(map(str, r["threads"])) or "not recorded",
            f"{r['training_minutes']:.1f}",
            f"{r['minutes_per_run']:.1f}",
            "unknown"
            if r["machine_minutes"] is None
            else f"{r['machine_minutes']:.1f} ({r['machine_minutes'] / 60:.2f} h)",
        ]
        for r in rows
    ]
    headers = [
        "Runs of",
        "Runs",
        "Epochs",
        "Threads per run",
        "Sum of run times (min)",
        "Per run (min)",
        f"{cores}-core machine time (min)",
    ]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def write_training_time(rows: list[dict], out: Path, provenance: str = "", cores: int = 2) -> Path:
    """``training_time.md`` / ``.json`` in ``out``; returns the markdown's path."""
    note = (
        "From each run's committed `log.csv` (seconds of every training epoch, plus its test-fold evaluation where "
        "logged) and the "
        f"torch threads in its `metrics.json`: machine time = seconds x threads / {cores} cores, so two single-thread "
        "runs side "
        "by side count half each. Feature extraction (once, into the cache) is not included."
    )
    head = f"{provenance.strip()}\n\n" if provenance.strip() else ""
    write_atomic(out / "training_time.md", f"# Training time\n\n{head}{training_time_table(rows, cores)}\n\n{note}\n")
    write_json(out / "training_time.json", rows)
    return out / "training_time.md"
