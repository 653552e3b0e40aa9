"""``analysis.md``: the significance, seed, calibration, diversity and per-class tables of a
grid, with CSV/JSON beside every table and the figures beside them (see :mod:`fusion.analysis`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from benchmarks.core.io import save_figure, write_atomic
from fusion import analysis as A
from fusion.cache import FusedCache
from fusion.calibration import calibration_scores, reliability
from fusion.grid import GridResult, Row
from fusion.report import markdown_table, rows_to_csv


def _fmt(v, column: str) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, float):
        if column.endswith("_p"):
            return f"{v:.2g}"
        return f"{v:+.3f}" if column in ("gain", "difference", "ci_low", "ci_high") else f"{v:.3f}"
    return str(v)


def _table(rows: list[dict], columns: Sequence[str] | None = None) -> str:
    columns = list(columns or dict.fromkeys(k for r in rows for k in r))
    return markdown_table([[_fmt(r.get(c, ""), c) for c in columns] for r in rows], columns)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_reliability(systems: Sequence[Row], targets: np.ndarray, path: Path) -> None:
    """One reliability diagram per system: accuracy against confidence in 15 bins, with counts."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(systems), figsize=(3.2 * len(systems), 3.4), squeeze=False)
    for ax, r in zip(axes[0], systems):
        conf, acc, count = reliability(r.probs, targets)
        edges = np.linspace(0, 1, 16)
        ax.bar(
            edges[:-1],
            np.nan_to_num(acc),
            width=1 / 15,
            align="edge",
            color="tab:blue",
            alpha=0.7,
            edgecolor="k",
            label="accuracy",
        )
        ax.plot([0, 1], [0, 1], "k--", lw=1)
        ax.set_title(A.system_name(r), fontsize=8)
        ax.set_xlabel("confidence")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("accuracy in bin")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)


def plot_diversity(rows: list[dict], features: Sequence[str], path_heat: Path, path_scatter: Path) -> float:
    """Heat-maps of Yule's Q and disagreement; a scatter of each pair's disagreement against its
    fusion gain. Returns the Pearson correlation of the scatter."""
    plt = _plt()
    idx = {f: i for i, f in enumerate(features)}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, key, cmap in ((axes[0], "yule_q", "RdBu_r"), (axes[1], "disagreement", "viridis")):
        m = np.full((len(features), len(features)), np.nan)
        for r in rows:
            m[idx[r["a"]], idx[r["b"]]] = m[idx[r["b"]], idx[r["a"]]] = r[key]
        im = ax.imshow(m, cmap=cmap, vmin=-1 if key == "yule_q" else 0, vmax=1 if key == "yule_q" else np.nanmax(m))
        ax.set_xticks(range(len(features)), features, rotation=45)
        ax.set_yticks(range(len(features)), features)
        for (i, j), v in np.ndenumerate(m):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
        ax.set_title({"yule_q": "Yule's Q (1: errors together)", "disagreement": "disagreement rate"}[key])
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    save_figure(fig, path_heat, dpi=110)
    x, y = np.array([r["disagreement"] for r in rows]), np.array([r["fusion_gain"] for r in rows])
    ok = np.isfinite(x) & np.isfinite(y)
    corr = float(np.corrcoef(x[ok], y[ok])[0, 1]) if ok.sum() > 2 else float("nan")
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    ax.scatter(x, y)
    for r in rows:
        ax.annotate(f"{r['a']}+{r['b']}", (r["disagreement"], r["fusion_gain"]), fontsize=7)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("disagreement rate of the pair")
    ax.set_ylabel(f"fusion gain over the better member ({rows[0]['method'] if rows else ''})")
    ax.set_title(f"does diversity predict the gain? Pearson r = {corr:.2f}")
    fig.tight_layout()
    save_figure(fig, path_scatter, dpi=110)
    return corr


def plot_per_class(names: list[str], table: np.ndarray, classes: Sequence[str], path: Path) -> None:
    """Per-class accuracy, classes x systems, the best single feature of each class outlined."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.0 * len(names) + 3, 0.22 * len(classes) + 1.5))
    im = ax.imshow(table, cmap="magma", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=6)
    singles = table[:, :-1]
    for i, row in enumerate(singles):
        if np.isfinite(row).any():
            j = int(np.nanargmax(row))
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="cyan", lw=1.2))
    ax.set_title("per-class accuracy (cyan: best single feature of the class)", fontsize=9)
    fig.colorbar(im, ax=ax, shrink=0.6)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def _emit(out: Path, name: str, rows: list[dict]) -> None:
    write_atomic(out / f"{name}.csv", rows_to_csv(rows))
    write_atomic(out / f"{name}.json", json.dumps(rows, indent=1, default=float) + "\n")


def _findings(
    sig: list[dict], seeds: list[dict], calib: list[dict], pairs: list[dict], corr: float, wins: dict[str, int]
) -> list[str]:
    """The headline findings, in plain sentences, from the tables."""
    out = []
    n_sig = sum(r["significant"] for r in sig)
    top = max(sig, key=lambda r: r["gain"])
    out.append(
        f"{n_sig} of {len(sig)} fused systems beat their best member significantly (95 % paired-bootstrap interval "
        "above 0); "
        f"the largest gain is {top['system']}: {top['gain']:+.3f} [{top['ci_low']:+.3f}, {top['ci_high']:+.3f}] over "
        f"{top['best_member']}."
    )
    weak = [r for r in sig if not r["significant"]]
    if weak:
        out.append(
            "Not significant: "
            + "; ".join(f"{r['system']} {r['gain']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}]" for r in weak[:6])
            + ("; ..." if len(weak) > 6 else "")
            + "."
        )
    if seeds:
        fold_sd, seed_sd = (
            np.median([r["std_over_folds"] for r in seeds]),
            np.median([r["std_over_seeds"] for r in seeds]),
        )
        out.append(
            f"Seeds: the accuracy's std over seeds (median {seed_sd:.3f}) is "
            f"{'smaller' if seed_sd < fold_sd else 'larger'} than its std over folds (median {fold_sd:.3f})."
        )
    out.append(_calibration_finding(calib))
    for p in pairs:
        if {p["method_a"], p["method_b"]} == {"ds", "stack"}:
            out.append(
                f"D-S against the stacker: {p['a']} {p['accuracy_a']:.3f} vs {p['b']} {p['accuracy_b']:.3f}, "
                f"difference {p['difference']:+.3f} "
                f"[{p['ci_low']:+.3f}, {p['ci_high']:+.3f}], McNemar p = {p['mcnemar_p']:.3g}."
            )
    out.append(
        "Diversity: across feature pairs, the disagreement rate and the fusion gain correlate with Pearson r = "
        f"{corr:.2f}."
    )
    out.append(
        "Per class, the best single feature is "
        + ", ".join(f"{f} on {n}" for f, n in sorted(wins.items(), key=lambda kv: -kv[1]))
        + " classes."
    )
    return out


def _calibration_finding(calib: list[dict]) -> str:
    """The median ECE per method, and the best-calibrated fused system and single feature."""
    singles = [r for r in calib if r["n_features"] == 1]
    fused = [r for r in calib if r["n_features"] > 1]
    best_single, best_fused = min(singles, key=lambda r: r["ece"]), min(fused, key=lambda r: r["ece"])
    by_method = {}
    for r in fused:
        by_method.setdefault(r["method"], []).append(r["ece"])
    ranking = ", ".join(
        f"{m} {np.median(v):.3f}" for m, v in sorted(by_method.items(), key=lambda kv: np.median(kv[1]))
    )
    return (
        f"Calibration: median ECE over the grid per method: {ranking}; the best-calibrated fused system is "
        f"{best_fused['system']} (ECE {best_fused['ece']:.3f}), the best single feature {best_single['system']} "
        f"(ECE {best_single['ece']:.3f})."
    )


def write_analysis(
    result: GridResult,
    probs_by_feature: Mapping[str, np.ndarray],
    targets: np.ndarray,
    folds: np.ndarray,
    classes: Sequence[str],
    out_dir: str | os.PathLike,
    *,
    pairs: Sequence[str] = (),
    calibrate: str | None = None,
    method_params: Mapping[str, dict] | None = None,
    provenance: str = "",
    cache: FusedCache | None = None,
    others: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Write ``analysis.md`` (headline findings first), CSV/JSON beside every table and the figures
    into ``out_dir``; returns the markdown's path. ``result`` needs the systems' probabilities
    (``grid_search(..., keep_probs=True)``); ``pairs`` names extra systems to compare
    (``"mel+mfcc:ds,mel+mfcc:wa"``: each two in turn); ``calibrate="temperature"`` adds the
    temperature-scaling comparison, its fused systems looked up in ``cache`` when given; ``others``:
    other models' ``(n_clips, n_classes)`` probabilities on the same clips, by name, each reported as a
    row of its own (never fused)."""
    out = Path(out_dir)
    sig = A.significance_rows(result)
    chosen = A.default_pairs(result) + [
        (A.parse_system(result, a), A.parse_system(result, b)) for a, b in zip(pairs[::2], pairs[1::2])
    ]
    prs, seeds, calib = A.pair_rows(result, chosen, folds), A.seed_rows(result), A.calibration_rows(result, targets)
    div = A.diversity_rows(result, "ds" if "ds" in result.methods else None)
    names, per_class = A.per_class_rows(result, targets, classes)
    corr = _figures(result, targets, classes, div, names, per_class, out)
    class_rows = [{"class": c, **{n: float(v) for n, v in zip(names, row)}} for c, row in zip(classes, per_class)]
    tables = {
        "significance": sig,
        "pairs": prs,
        "seeds": seeds,
        "calibration": calib,
        "diversity": div,
        "per_class": class_rows,
    }
    if others:
        tables["other_models"] = [
            {"system": name, "accuracy": float((p.argmax(1) == targets).mean()), **calibration_scores(p, targets)}
            for name, p in others.items()
        ]
    if calibrate == "temperature":
        tables["temperature"], tables["temperatures"] = A.temperature_rows(
            result, probs_by_feature, targets, folds, method_params, cache
        )
    for name, rows in tables.items():
        if rows:
            _emit(out, name, rows)
    md = _markdown(tables, _findings(sig, seeds, calib, prs, corr, _wins(names, per_class)), result, provenance)
    write_atomic(out / "analysis.md", md)
    return out / "analysis.md"


def _figures(result: GridResult, targets, classes, div: list[dict], names, per_class, out: Path) -> float:
    """``reliability.png``, ``diversity.png``, ``diversity_gain.png`` and ``per_class.png``; returns
    the correlation of the pairs' disagreement with their fusion gain."""
    best = max(result.fused, key=lambda r: r.mean("accuracy"))
    best_single = max(result.singles, key=lambda r: r.mean("accuracy"))
    plot_reliability(
        [best_single, *(result.get(best.features, m) for m in result.methods)], targets, out / "reliability.png"
    )
    corr = plot_diversity(div, result.features, out / "diversity.png", out / "diversity_gain.png")
    plot_per_class(names, per_class, classes, out / "per_class.png")
    return corr


def _wins(names: list[str], per_class: np.ndarray) -> dict[str, int]:
    """How many classes each single feature is the best on (the last column, the fused system, aside)."""
    wins: dict[str, int] = {}
    for row in per_class[:, :-1]:
        if np.isfinite(row).any():  # a class with no test clip (a subset of the data) has no winner
            best_single = names[int(np.nanargmax(row))]
            wins[best_single] = wins.get(best_single, 0) + 1
    return wins


def _markdown(tables: dict[str, list[dict]], findings: list[str], result: GridResult, provenance: str) -> str:
    seeds_note = f"seed {result.seeds[0]}'s predictions (of seeds {result.seeds})" if result.seeds else "one seed"
    parts = [
        f"# Analysis: is the fusion really better?\n\n{provenance.strip()}\n\nPer-clip statistics use {seeds_note}; "
        "intervals are 95 % paired-bootstrap intervals over clips (stratified by fold, 10,000 resamples, seeded); "
        "p-values are exact McNemar tests.\n\n## Headline findings\n\n" + "\n".join(f"- {f}" for f in findings)
    ]
    sections = [
        ("significance", "Every fused system against its best member", "`significant`: the interval excludes 0."),
        (
            "pairs",
            "Systems against each other",
            "Every method on the best feature set, and the pairs named with `--compare`.",
        ),
        (
            "seeds",
            "Spread over folds against spread over seeds",
            "Accuracy: std over the 5 folds (mean over seeds) and std over seeds of the 5-fold mean.",
        ),
        (
            "calibration",
            "Calibration of every system",
            "ECE with 15 equal-width confidence bins; NLL in nats; Brier score summed over classes. Figure: "
            "`reliability.png`.",
        ),
        (
            "other_models",
            "Other models (not fused)",
            "The report's baseline runs (`--baselines`), each a row of its own, never merged into a feature.",
        ),
        (
            "temperature",
            "Temperature scaling before fusion",
            "Each feature's temperature fitted on the other folds only, then fused.",
        ),
        (
            "temperatures",
            "The fitted temperatures",
            "Per feature, over the folds: above 1 the feature was over-confident, below 1 under-confident.",
        ),
        (
            "diversity",
            "Diversity of feature pairs",
            "Figures: `diversity.png` (Yule's Q, disagreement), `diversity_gain.png` (disagreement against the pair's "
            "fusion gain).",
        ),
    ]
    for name, title, note in sections:
        if tables.get(name):
            parts.append(f"## {title}\n\n{note} Raw numbers: `{name}.csv`, `{name}.json`.\n\n{_table(tables[name])}")
    parts.append(
        "## Per-class accuracy\n\nEach class's accuracy for every feature and the best fused system: `per_class.csv`, "
        "figure `per_class.png`."
    )
    return "\n\n".join(parts) + "\n"
