"""Evaluation protocols side by side: the paper's published numbers for a dataset, ours under
each protocol (one committed report folder each), and published anchors from the literature.

    python -m benchmarks.protocols ravdess \\
        "actor-independent=results/ravdess/standard" "clip-level=results/ravdess/standard/clips" \\
        --out results/ravdess

Reads only each report's ``grid.json``, ``per_feature.json`` and ``training_time.json`` (no run,
no audio) and writes ``protocols.md`` / ``.csv`` / ``.json`` into ``--out``: the paper's rows,
each protocol's best single feature and best fused system (fold mean ± fold std of accuracy),
each protocol's 2-core training time, then the anchors with their protocol and citation.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.core.errors import DataError
from benchmarks.core.io import write_atomic, write_json
from fusion import paper
from fusion.report import markdown_table, method_label, rows_to_csv


@dataclass(frozen=True)
class Anchor:
    """A published result on the same dataset, to place ours among: who, where, under which
    protocol, with which model, and the number as published (a fraction, e.g. 0.652)."""

    work: str
    citation: str
    protocol: str
    model: str
    metric: str
    value: float


#: Published 8-class RAVDESS speech results of networks trained on RAVDESS alone (no pretrained
#: speech model), speaker-independent and not; the numbers and protocols as the works state them.
ANCHORS = {
    "ravdess": (
        Anchor(
            "Krasnoproshin & Vashkevich (2026)",
            "arXiv:2606.03359",
            "speaker-independent (no test actor in training)",
            "ResLSTM-SA, 46.8 k parameters",
            "UAR, best variant",
            0.652,
        ),
        Anchor(
            "Dal Ri, Cifariello Ciardi & Conci (2023)",
            "IEEE Access 11, 116638, doi:10.1109/ACCESS.2023.3326071",
            "within RAVDESS, speaker independence not claimed",
            "CNN with a convolutional attention block",
            "mean accuracy",
            0.83,
        ),
        Anchor(
            "Bautista, Lee & Shin (2022)",
            "Electronics 11(23), 3935",
            "10 % hold-out of the clips (speakers shared)",
            "parallel CNN-Transformer, multi-fold augmentation",
            "accuracy",
            0.893,
        ),
    ),
}


def _read(folder: Path, name: str) -> list[dict]:
    path = folder / name
    if not path.is_file():
        raise DataError(f"{path}: missing; is {folder} a finished report folder (python -m benchmarks.<dataset>)?")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise DataError(f"{path}: not valid JSON ({e})") from None


def _cell(row: dict | None, named: bool = False) -> str:
    if row is None:
        return "not run"
    cell = f"{row['accuracy_mean']:.3f} ± {row['accuracy_std']:.3f}"
    if named:
        method = f", {method_label(row['method'])}" if row["method"] else ""
        cell += f" ({paper.display_name(row['features'])}{method})"
    return cell


def _total_minutes(folder: Path) -> float | None:
    """The report's 2-core machine minutes of training (``None`` where threads were not recorded)."""
    total = next((r for r in _read(folder, "training_time.json") if r.get("runs_of") == "all"), None)
    if total is None:
        raise DataError(f"{folder / 'training_time.json'}: no row 'all' (the total over the report's runs)")
    return total["machine_minutes"]


def _best(rows: list[dict]) -> dict:
    return max(rows, key=lambda r: r["accuracy_mean"])


def protocol_rows(dataset: str, reports: dict[str, Path]) -> list[dict]:
    """Rows of the comparison: one per system the paper reports for ``dataset`` (its number and
    ours under every protocol of ``reports``, label -> report folder), then per protocol its best
    single feature, its best fused system and its 2-core training minutes. A cell is the row of
    ``grid.json``/``per_feature.json`` (accuracy fold mean and std), or a number for the time."""
    table = paper.TABLES[dataset]
    singles = {label: _read(folder, "per_feature.json") for label, folder in reports.items()}
    grids = {label: _read(folder, "grid.json") for label, folder in reports.items()}

    def find(label: str, features, method) -> dict | None:
        rows = singles[label] if method is None else grids[label]
        return next((r for r in rows if r["features"] == list(features) and r["method"] == method), None)

    rows = [
        {"system": paper.display_name([f]), "method": None, "paper": acc, **{lb: find(lb, [f], None) for lb in reports}}
        for f, acc in table.per_feature.items()
    ]
    for features, published in table.combinations:
        for method, acc in published.items():
            rows.append(
                {"system": paper.display_name(features), "method": method, "paper": acc}
                | {lb: find(lb, features, method) for lb in reports}
            )
    times = {lb: _total_minutes(folder) for lb, folder in reports.items()}
    for system, cells in (
        ("best single feature (ours)", {lb: _best(singles[lb]) for lb in reports}),
        ("best fused system (ours)", {lb: _best(grids[lb]) for lb in reports}),
        ("2-core training time (min)", times),
    ):
        rows.append({"system": system, "method": None, "paper": None, **cells})
    return rows


def protocol_table(rows: list[dict], labels: list[str]) -> str:
    """Markdown of :func:`protocol_rows`: accuracy as fold mean ± fold std; the best rows name their system."""
    body = []
    for r in rows:
        if r["system"].endswith("(min)"):
            cells = [f"{r[lb]:.0f}" if r[lb] is not None else "unknown" for lb in labels]
        else:
            cells = [_cell(r[lb], named=r["paper"] is None) for lb in labels]
        method = method_label(r["method"]) if r["method"] else ("single feature" if r["paper"] is not None else "")
        body.append([r["system"], method, f"{r['paper']:.3f}" if r["paper"] is not None else "", *cells])
    return markdown_table(body, ["System", "Method", "Accuracy (paper)", *(f"Ours, {lb}" for lb in labels)])


def anchor_table(anchors: tuple[Anchor, ...]) -> str:
    """Markdown of the published anchors."""
    body = [[a.work, a.citation, a.protocol, a.model, a.metric, f"{a.value:.3f}"] for a in anchors]
    return markdown_table(body, ["Work", "Where", "Protocol", "Model", "Metric", "Result (published)"])


def write_protocols(dataset: str, reports: dict[str, Path], out: Path, command: str) -> Path:
    """``protocols.md`` / ``.csv`` / ``.json`` in ``out``; returns the markdown's path."""
    rows = protocol_rows(dataset, reports)
    labels = list(reports)
    sources = ", ".join(f"{lb}: `{folder}`" for lb, folder in reports.items())
    md = (
        f"# {paper.TABLES[dataset].dataset}: the paper's numbers and ours under each protocol\n\n"
        f"Command: `{command}`  \nReports: {sources}\n\n"
        f"{protocol_table(rows, labels)}\n\n"
        "Ours: accuracy, mean ± std over the protocol's folds (its `grid.json` / `per_feature.json`); "
        "the time is the protocol's `training_time.json` (2-core machine minutes, feature extraction not included).\n"
    )
    if ANCHORS.get(dataset):
        md += f"\n## Published anchors\n\n{anchor_table(ANCHORS[dataset])}\n"
    flat = [
        {"system": r["system"], "method": r["method"], "paper": r["paper"]}
        | {lb: (r[lb] if not isinstance(r[lb], dict) else r[lb]["accuracy_mean"]) for lb in labels}
        | {
            f"{lb} system": paper.display_name(r[lb]["features"])
            for lb in labels
            if isinstance(r[lb], dict) and r["paper"] is None
        }
        for r in rows
    ]
    write_atomic(out / "protocols.md", md)
    write_atomic(out / "protocols.csv", rows_to_csv(flat))
    write_json(out / "protocols.json", {"rows": flat, "anchors": [asdict(a) for a in ANCHORS.get(dataset, ())]})
    return out / "protocols.md"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.protocols", description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", choices=sorted(paper.TABLES))
    ap.add_argument("reports", nargs="+", metavar="LABEL=FOLDER", help="a protocol's name and its report folder")
    ap.add_argument("--out", type=Path, required=True, help="folder for protocols.md/.csv/.json")
    args = ap.parse_args(argv)
    command = "python -m benchmarks.protocols " + shlex.join(sys.argv[1:] if argv is None else argv)
    reports = {}
    for item in args.reports:
        label, sep, folder = item.partition("=")
        if not sep or not label or not folder:
            ap.error(f"{item!r}: expected LABEL=FOLDER, e.g. clip-level=results/ravdess/standard/clips")
        reports[label] = Path(folder)
    try:
        print(write_protocols(args.dataset, reports, args.out, command))
    except DataError as e:
        raise SystemExit(f"error: {e}") from None


if __name__ == "__main__":
    main()
