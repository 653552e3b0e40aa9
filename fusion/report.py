"""Tables in the paper's layout (markdown via tabulate), with CSV/JSON beside them, and a heat-map.

- per-feature table: Accuracy, mAP, F1 (mean ± std over folds), best per column in bold;
- combination table: one check-mark column per feature, then one accuracy column per method
  (``Acc. WA``, ``Acc. (D-S)``, ``Acc. (ID-S)``, ...), rows pairs first, best per column in bold;
- comparison with the paper's published numbers for the same rows, and a scatter of ours
  against the paper's.

Every file is written to a temporary name and renamed.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import numpy as np

from benchmarks.core.io import save_figure, write_atomic
from fusion import paper
from fusion._registry import create
from fusion.grid import GridResult

METRIC_HEADERS = {"accuracy": "Accuracy", "map": "mAP", "f1": "F1"}


def _bold_best(values: list[float], cells: list[str]) -> list[str]:
    best = float(np.nanmax(values)) if len(values) else np.nan
    # equal as shown (3 decimals): numpy's and Python's rounding disagree on halves
    return [f"**{c}**" if np.isfinite(v) and f"{float(v):.3f}" == f"{best:.3f}" else c for v, c in zip(values, cells)]


def markdown_table(rows: list[list], headers: list[str]) -> str:
    """A GitHub-markdown table of ``rows`` (cells shown as given, never re-formatted as numbers)."""
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def method_label(method: str) -> str:
    """A fusion method's column name in the paper's tables (e.g. ``"Acc. D-S"``), else its registry name."""
    return create(method).label or method


def _cell(result: GridResult, r, metric: str, with_fold_std: bool = True) -> str:
    """``mean ± fold std`` (``± seed std`` after it when seeds were merged)."""
    cell = f"{r.mean(metric):.3f}" + (f" ± {r.std(metric):.3f}" if with_fold_std else "")
    return cell + (f" ± {r.seed_std(metric):.3f}" if result.seeds else "")


def spread_note(result: GridResult) -> str:
    """What the ± in the tables are."""
    if result.seeds:
        seeds = ", ".join(map(str, result.seeds))
        return f"mean over folds and {len(result.seeds)} seeds ({seeds}) ± std over folds ± std over seeds"
    return "mean ± std over folds"


def per_feature_table(result: GridResult) -> str:
    """The paper's per-feature table: one row per feature, Accuracy / mAP / F1 as mean ± std
    over folds (± std over seeds, when several)."""
    cols = []
    for metric in METRIC_HEADERS:
        vals = [r.mean(metric) for r in result.singles]
        cols.append(_bold_best(vals, [_cell(result, r, metric) for r in result.singles]))
    rows = [[paper.PAPER_NAMES.get(r.features[0], r.features[0]), *cells] for r, *cells in zip(result.singles, *cols)]
    return markdown_table(rows, ["Feature", *METRIC_HEADERS.values()])


def per_fold_table(row) -> str:
    """One system's Accuracy / mAP / F1 on each test fold, then their mean (and std over folds)."""
    folds = len(next(iter(row.per_fold.values())))
    rows = [[f"fold {k + 1}", *(f"{row.per_fold[m][k]:.3f}" for m in METRIC_HEADERS)] for k in range(folds)]
    rows.append(["mean", *(f"{row.mean(m):.3f} ± {row.std(m):.3f}" for m in METRIC_HEADERS)])
    return markdown_table(rows, ["Test fold", *METRIC_HEADERS.values()])


def _combo_keys(result: GridResult) -> list[tuple[str, ...]]:
    keys: list[tuple[str, ...]] = []
    for r in result.fused:
        if r.features not in keys:
            keys.append(r.features)
    return keys


def combination_table(result: GridResult, metric: str = "accuracy") -> str:
    """The paper's combination table: check-marks per feature, then ``metric`` (mean over folds,
    ± std over seeds when several) per method, the best value per method column in bold; then
    the gain of the row's best method over the row's best single feature with its 95 % paired
    bootstrap interval, marked † where the interval includes 0."""
    keys = _combo_keys(result)
    cols = []
    for m in result.methods:
        rows_m = [result.get(k, m) for k in keys]
        cols.append(
            _bold_best(
                [r.mean(metric) for r in rows_m], [_cell(result, r, metric, with_fold_std=False) for r in rows_m]
            )
        )
    gains = [_gain_cell(result, k) for k in keys]
    rows = [
        [("✓" if f in k else "") for f in result.features] + [c[i] for c in cols] + [gains[i]]
        for i, k in enumerate(keys)
    ]
    headers = (
        [paper.PAPER_NAMES.get(f, f) for f in result.features]
        + [method_label(m) for m in result.methods]
        + ["Gain over best member [95 % CI]"]
    )
    return markdown_table(rows, headers)


def _gain_cell(result: GridResult, key: tuple[str, ...]) -> str:
    best = max((result.get(key, m) for m in result.methods), key=lambda r: r.mean("accuracy"))
    if best.gain is None:
        return ""
    return f"{best.gain} {best.method}" + ("" if best.gain.significant else " †")


def paper_comparison_rows(result: GridResult, table: paper.PaperTable = paper.ESC50) -> list[dict]:
    """Our accuracy beside the paper's (``table``: its numbers for one dataset) for every row the paper also has."""
    rows = []
    for r in result.singles:
        f = r.features[0]
        if f in table.per_feature:
            rows.append({"features": [f], "method": None, "paper": table.per_feature[f], "ours": r.mean("accuracy")})
    for k in _combo_keys(result):
        published = table.combination(k) or {}
        for m in result.methods:
            if m in published:
                rows.append(
                    {"features": list(k), "method": m, "paper": published[m], "ours": result.get(k, m).mean("accuracy")}
                )
    return rows


def paper_comparison_table(result: GridResult, table: paper.PaperTable = paper.ESC50) -> str:
    """Markdown of :func:`paper_comparison_rows` (the paper's numbers labelled as the paper's)."""
    rows = [
        [
            paper.display_name(r["features"]),
            method_label(r["method"]) if r["method"] else "single feature",
            f"{r['paper']:.3f}",
            f"{r['ours']:.3f}",
            f"{r['ours'] - r['paper']:+.3f}",
        ]
        for r in paper_comparison_rows(result, table)
    ]
    return markdown_table(rows, ["System", "Method", "Accuracy (paper)", "Accuracy (ours)", "Difference"])


def rows_to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    flat = [{k: (";".join(map(str, v)) if isinstance(v, list) else v) for k, v in r.items()} for r in rows]
    fields = list(dict.fromkeys(k for r in flat for k in r))
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return buf.getvalue()


def plot_grid(result: GridResult, path: Path, metric: str = "accuracy") -> None:
    """A heat-map PNG: one row per feature combination, one column per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = _combo_keys(result)
    values = np.array([[result.get(k, m).mean(metric) for m in result.methods] for k in keys])
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(result.methods), 0.8 + 0.32 * len(keys)))
    im = ax.imshow(values, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(result.methods)), [method_label(m).replace("Acc. ", "") for m in result.methods])
    ax.set_yticks(range(len(keys)), [" + ".join(k) for k in keys], fontsize=8)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, f"{v:.3f}", ha="center", va="center", fontsize=7, color="white" if v < values.mean() else "black")
    fig.colorbar(im, ax=ax, label=METRIC_HEADERS.get(metric, metric) + " (mean over folds)")
    ax.set_title("Fusion of feature combinations")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)


def feature_rank_correlation(result: GridResult, table: paper.PaperTable = paper.ESC50) -> float | None:
    """Spearman correlation between our and the paper's single-feature accuracies (features the
    paper has; ``None`` for fewer than three)."""
    rows = [r for r in paper_comparison_rows(result, table) if r["method"] is None]
    if len(rows) < 3:
        return None
    from scipy.stats import spearmanr

    return float(spearmanr([r["paper"] for r in rows], [r["ours"] for r in rows]).statistic)


def plot_paper_comparison(result: GridResult, path: Path, table: paper.PaperTable = paper.ESC50) -> None:
    """A scatter PNG of our accuracy against the paper's, one point per row both have: single
    features labelled, fused systems coloured by method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = paper_comparison_rows(result, table)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    for method in [None, *result.methods]:
        pts = [r for r in rows if r["method"] == method]
        if pts:
            ax.scatter(
                [r["paper"] for r in pts],
                [r["ours"] for r in pts],
                s=40 if method is None else 18,
                marker="o" if method is None else "x",
                label="single feature" if method is None else method_label(method).replace("Acc. ", ""),
            )
    for r in rows:
        if r["method"] is None:
            ax.annotate(
                paper.PAPER_NAMES.get(r["features"][0], r["features"][0]),
                (r["paper"], r["ours"]),
                fontsize=7,
                xytext=(4, -3),
                textcoords="offset points",
            )
    lo = min(min(r["paper"], r["ours"]) for r in rows) - 0.02
    ax.plot([lo, 1], [lo, 1], color="grey", lw=0.8, ls="--", label="ours = paper")
    rho = feature_rank_correlation(result, table)
    ax.set_xlabel("accuracy (paper)")
    ax.set_ylabel("accuracy (ours, mean over folds)")
    ax.set_title(
        f"Ours against the paper's {table.dataset} numbers"
        + (f"\nSpearman rank correlation of single features: {rho:.2f}" if rho is not None else ""),
        fontsize=10,
    )
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)


def write_report(
    result: GridResult,
    out_dir: str | os.PathLike,
    *,
    provenance: str = "",
    fused_name: str = "grid",
    table: paper.PaperTable | None = paper.ESC50,
) -> dict[str, Path]:
    """Write ``per_feature``, ``<fused_name>`` (when any fused rows) and ``paper_comparison``
    tables as ``.md`` + ``.csv`` + ``.json``, and ``<fused_name>.png``. ``provenance`` (command,
    machine) heads each markdown file; ``table`` is the paper's numbers for the dataset (``None``:
    no comparison). Returns the paths written, by name."""
    out = Path(out_dir)
    head = f"{provenance.strip()}\n\n" if provenance.strip() else ""
    written: dict[str, Path] = {}

    def emit(name: str, title: str, table: str, rows: list[dict]) -> None:
        write_atomic(out / f"{name}.md", f"# {title}\n\n{head}{table}\n")
        write_atomic(out / f"{name}.csv", rows_to_csv(rows))
        write_atomic(out / f"{name}.json", json.dumps(rows, indent=1) + "\n")
        written[name] = out / f"{name}.md"

    single = per_feature_table(result)
    if len(result.singles) == 1:  # the report of one feature: its folds too
        single += "\n\n" + per_fold_table(result.singles[0])
    emit("per_feature", f"Per-feature results ({spread_note(result)})", single, [r.to_dict() for r in result.singles])
    if result.fused:
        gain_note = (
            "Gain over best member: accuracy of the row's best method minus that of its best single feature, with the "
            "95 % "
            "interval of a paired bootstrap over clips (stratified by fold, 10,000 resamples"
            + (f", seed {result.seeds[0]}'s predictions" if result.seeds else "")
            + "); † marks an interval that includes 0 (not significant)."
        )
        grid_md = combination_table(result) + f"\n\n{gain_note}"
        spread = f" and {len(result.seeds)} seeds ± std over seeds" if result.seeds else ""
        emit(
            fused_name,
            f"Fused features: accuracy (mean over folds{spread})",
            grid_md,
            [r.to_dict() for r in result.fused],
        )
        plot_grid(result, out / f"{fused_name}.png")
        written[f"{fused_name}.png"] = out / f"{fused_name}.png"
    if table is None:  # the paper has no numbers for this dataset
        return written
    rows = paper_comparison_rows(result, table)
    emit(
        "paper_comparison",
        f"Ours against the paper's published {table.dataset} numbers",
        paper_comparison_table(result, table),
        rows,
    )
    if rows:
        plot_paper_comparison(result, out / "paper_comparison.png", table)
        written["paper_comparison.png"] = out / "paper_comparison.png"
    return written


__all__ = [
    "combination_table",
    "feature_rank_correlation",
    "paper_comparison_rows",
    "paper_comparison_table",
    "per_feature_table",
    "plot_grid",
    "plot_paper_comparison",
    "write_report",
]
