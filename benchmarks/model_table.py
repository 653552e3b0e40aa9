"""Other models, recipes and feature settings on one feature, beside the profile's RANN: the
``--baselines`` of the benchmark runner, and its ``--recipe`` overrides.

A baseline is ``model`` or ``model:key=value:key=value`` (settings of that row only: recipe
fields, or feature parameters prefixed ``feature.``), e.g. ``simple_cnn``,
``sed_resnest_cpu:mix_clips=3:mixup_alpha=0:mix_noise_snr_db=10/30``,
``rann_cpu_16:feature.source=cqt``. A value is a number, ``none``, ``true`` / ``false``,
``low/high`` for a range, or (feature settings only) a word.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from benchmarks.core.io import save_figure, write_atomic, write_json
from rann.config import RunConfig, get_profile
from rann.runs import read_metrics, run_folder
from rann.settings import parse_recipe, parse_settings


def parse_baselines(text: str | None) -> list[tuple[str, dict, dict]]:
    """``"simple_cnn,sed_resnest_cpu:mix_clips=3,rann_cpu_16:feature.source=cqt"`` ->
    ``[(model, recipe overrides, feature overrides), ...]``: ``feature.``-prefixed keys are
    settings of the feature, the others of the recipe."""
    out = []
    for spec in filter(None, (text or "").split(",")):
        model, *items = spec.split(":")
        feature_items = [i.removeprefix("feature.") for i in items if i.startswith("feature.")]
        out.append(
            (
                model,
                parse_recipe([i for i in items if not i.startswith("feature.")]),
                parse_settings(feature_items, what="feature setting"),
            )
        )
    return out


def _show(v) -> str:
    return "/".join(f"{x:g}" for x in v) if isinstance(v, tuple) else str(v)


def recipe_label(cfg: RunConfig) -> str:
    """The run's recipe and feature settings that differ from its profile's (``"profile"`` when none)."""
    profile = get_profile(cfg.profile, cfg.dataset)
    base = dataclasses.asdict(profile.recipe_for(cfg.feature))
    diff = [f"{k}={_show(v)}" for k, v in dataclasses.asdict(cfg.recipe).items() if base[k] != v]
    base_feature = {"sr": profile.sr, **profile.feature_params.get(cfg.feature, {})}
    diff += [
        f"{cfg.feature}.{k}={_show(v)}"
        for k, v in cfg.feature_params.items()
        if k not in base_feature or base_feature[k] != v
    ]
    return ", ".join(diff) or "profile"


def model_rows(configs: list[RunConfig], runs_dir) -> list[dict]:
    """One row per (model, recipe) over ``configs`` (completed runs): accuracy, mAP and F1 as
    mean and std over every fold and seed; the accuracy difference to the first row on the same
    (fold, seed) pairs (mean and std over the pairs); trainable parameters, mean seconds per
    epoch (as logged) and minutes per run (epochs x seconds per epoch)."""
    groups = _groups(configs, runs_dir)
    rows = []
    accuracy = {key: {(m["fold"], m["seed"]): m["accuracy"] for m in ms} for key, ms in groups.items()}
    first_key = next(iter(accuracy), None)
    first = accuracy.get(first_key, {})
    for (model, recipe), ms in groups.items():
        row = {
            "model": model,
            "recipe": recipe,
            "runs": len(ms),
            "folds": sorted({m["fold"] for m in ms}),
            "seeds": sorted({m["seed"] for m in ms}),
        }
        row["accuracy_delta"], row["accuracy_delta_std"], row["paired_runs"] = _paired(accuracy[model, recipe], first)
        parents = _extended(recipe, [r for m, r in groups if m == model and (m, r) != first_key])
        if parents:  # an arm stacked on others: also against each of them
            paired = [_paired(accuracy[model, recipe], accuracy[model, p]) for p in parents]
            row["extends"] = parents
            row["extends_delta"], row["extends_delta_std"], row["extends_runs"] = map(list, zip(*paired))
        for k in ("accuracy", "map", "f1"):
            row[k], row[f"{k}_std"] = float(np.mean([m[k] for m in ms])), float(np.std([m[k] for m in ms]))
        row["parameters"] = int(ms[0].get("parameters", 0))
        row["seconds_per_epoch"] = round(float(np.mean([m["seconds_per_epoch"] for m in ms])), 2)
        row["minutes_per_run"] = round(float(np.mean([m["seconds_per_epoch"] * m["epochs"] for m in ms])) / 60, 1)
        rows.append(row)
    return rows


def _groups(configs: list[RunConfig], runs_dir) -> dict[tuple[str, str], list[dict]]:
    """The runs' metrics (with their fold and seed) per (model, recipe label), in first-seen order."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for cfg in configs:
        groups.setdefault((cfg.model, recipe_label(cfg)), []).append(
            read_metrics(run_folder(cfg, runs_dir)) | {"fold": cfg.fold, "seed": cfg.seed}
        )
    return groups


def plot_models(configs: list[RunConfig], runs_dir, path: Path, title: str) -> Path:
    """A PNG of every run's accuracy per (model, recipe) row: one dot per run (coloured by fold),
    the row's mean as a bar, the first row's mean as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(_groups(configs, runs_dir).items())
    fig, ax = plt.subplots(figsize=(8, 1.2 + 0.45 * len(groups)))
    folds = sorted({m["fold"] for _, ms in groups for m in ms})
    colours = dict(zip(folds, plt.get_cmap("tab10").colors))
    for y, (_, ms) in enumerate(groups):
        ax.scatter([m["accuracy"] for m in ms], [y] * len(ms), c=[colours[m["fold"]] for m in ms], s=22, zorder=3)
        ax.plot([np.mean([m["accuracy"] for m in ms])] * 2, [y - 0.3, y + 0.3], color="black", lw=2)
    if groups:
        ax.axvline(np.mean([m["accuracy"] for m in groups[0][1]]), color="grey", ls="--", lw=1)
    several_models = len({model for (model, _), _ in groups}) > 1
    labels = [f"{model}: {recipe}" if several_models else recipe for (model, recipe), _ in groups]
    ax.set_yticks(range(len(groups)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("test accuracy (one dot per run; colour: fold; bar: mean)")
    ax.set_title(title, fontsize=10)
    for fold, colour in colours.items():
        ax.scatter([], [], c=[colour], s=22, label=f"fold {fold}")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    return path


def _paired(runs: dict, base: dict) -> tuple[float | None, float | None, int]:
    """Mean and std of ``runs``' accuracy minus ``base``'s on their shared (fold, seed), and how many."""
    diffs = [a - base[key] for key, a in runs.items() if key in base]
    return (float(np.mean(diffs)), float(np.std(diffs)), len(diffs)) if diffs else (None, None, 0)


def _extended(recipe: str, recipes: list[str]) -> list[str]:
    """Of ``recipes`` (the rows other than the first, which every row is already compared with),
    those whose settings ``recipe`` extends, those with the most of them (several when they tie,
    e.g. both halves of a pair; none when it extends only the first row)."""
    settings = set(recipe.split(", "))
    below = {r: set(r.split(", ")) for r in recipes}
    below = {r: s for r, s in below.items() if s < settings}
    most = max(map(len, below.values()), default=0)
    return [r for r, s in below.items() if len(s) == most]


def _delta(mean: float | None, std: float | None, runs: int) -> str:
    return "no shared runs" if runs == 0 else f"{100 * mean:+.1f} ± {100 * std:.1f} ({runs})"


def _extends(row: dict) -> str:
    deltas = zip(row["extends_delta"], row["extends_delta_std"], row["extends_runs"], row["extends"])
    return "; ".join(f"{_delta(m, s, n)} against {arm}" for m, s, n, arm in deltas)


def model_table(rows: list[dict], feature_name: str) -> str:
    """Markdown of :func:`model_rows`."""
    from tabulate import tabulate

    stacked = any("extends" in r for r in rows)  # the column only when an arm extends another
    body = [
        [
            f"{feature_name} · `{r['model']}`",
            r["recipe"],
            *(f"{r[k]:.3f} ± {r[k + '_std']:.3f}" for k in ("accuracy", "map", "f1")),
            _delta(r["accuracy_delta"], r["accuracy_delta_std"], r["paired_runs"]),
            *([_extends(r) if "extends" in r else ""] * stacked),
            f"{r['parameters'] / 1e6:.2f} M",
            f"{r['seconds_per_epoch']:.1f}",
            f"{r['minutes_per_run']:.1f}",
            r["runs"],
        ]
        for r in rows
    ]
    headers = [
        "System",
        "Settings (against the profile)",
        "Accuracy",
        "mAP",
        "F1",
        "Δ accuracy (paired, points)",
        *(["Δ against the arms it extends"] * stacked),
        "Parameters",
        "Seconds per epoch",
        "Minutes per run",
        "Runs",
    ]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True)


def write_model_table(rows: list[dict], feature_name: str, out: Path, provenance: str = "") -> Path:
    """``models.md`` / ``.csv`` / ``.json`` in ``out``; the same rows are appended to
    ``per_feature.md`` when it is there. Returns the markdown's path."""
    from fusion.report import rows_to_csv

    note = (
        "Mean ± std over every fold and seed of the rows' runs. Δ accuracy: the row's accuracy minus the first row's "
        "on the "
        "same (fold, seed), in points, mean ± std over those pairs (their number in brackets)"
        + (
            "; for an arm whose settings include other arms', also against those with the most of them"
            if any("extends" in r for r in rows)
            else ""
        )
        + ". Seconds per epoch: of "
        "training (test-fold evaluations are "
        "in training_time.md), the mean logged over the rows' runs; minutes per run: epochs x that, on the machine "
        "that trained them (here two single-thread runs side by side on 2 cores)."
    )
    table = model_table(rows, feature_name)
    head = f"{provenance.strip()}\n\n" if provenance.strip() else ""
    write_atomic(out / "models.md", f"# Models on {feature_name}\n\n{head}{table}\n\n{note}\n")
    write_atomic(out / "models.csv", rows_to_csv(rows))
    write_json(out / "models.json", rows)
    per_feature = out / "per_feature.md"
    if per_feature.is_file():  # replacing the section a previous command appended, never stacking a second
        head = per_feature.read_text().split("\n\n## Other models on ")[0].rstrip()
        write_atomic(per_feature, head + f"\n\n## Other models on {feature_name}\n\n{table}\n\n{note}\n")
    return out / "models.md"
