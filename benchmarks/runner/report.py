"""A finished plan's reports: the fusion grid over seeds, and every table and figure (per feature,
fusion or grid, paper comparison, confusion, training time, learning curves, models, analysis);
``--status``'s progress table."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

import fusion
from benchmarks.core.io import save_figure, write_atomic
from benchmarks.core.provenance import command_line, describe_machine, provenance_markdown
from benchmarks.curves import plot_learning_curves
from benchmarks.model_table import model_rows, plot_models, recipe_label, write_model_table
from benchmarks.progress import progress_markdown, progress_rows, write_progress
from benchmarks.runner.plan import ONE_FOLD_PARAMS
from benchmarks.runner.record import VERSIONED
from benchmarks.training_time import training_time_rows, write_training_time
from fusion import paper
from fusion.analysis_report import write_analysis
from fusion.grid import merge_seeds
from fusion.report import combination_table, per_feature_table, per_fold_table, rows_to_csv, write_report
from rann.config import RunConfig
from rann.runs import read_predictions, run_folder


def load_predictions(runs: list[RunConfig], runs_dir, dataset) -> dict[str, fusion.Predictions]:
    """Each feature's test-fold predictions, the folds concatenated, each run's ``probs.npz``
    checked against ``dataset`` (:func:`rann.runs.read_predictions`)."""
    by_feature: dict[str, list] = {}
    for cfg in runs:
        by_feature.setdefault(cfg.feature, []).append(
            read_predictions(run_folder(cfg, runs_dir), dataset, fold=cfg.fold)
        )
    return {
        f: fusion.Predictions(
            **{k: np.concatenate([getattr(p, k) for p in parts]) for k in ("names", "targets", "folds", "probs")}
        )
        for f, parts in by_feature.items()
    }


def plot_confusion(probs: np.ndarray, targets: np.ndarray, classes: list[str], title: str, path: Path) -> None:
    """A row-normalised confusion matrix PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(classes)
    cm = np.zeros((n, n))
    np.add.at(cm, (targets, probs.argmax(1)), 1)
    cm /= np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(12, 11))
    im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), classes, rotation=90, fontsize=6)
    ax.set_yticks(range(n), classes, fontsize=6)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="fraction of the true class", shrink=0.8)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def fuse(args, runs, dataset, cache=None):
    """The first seed's aligned predictions and the grid over every seed, merged (``None`` for a
    single feature)."""
    params = ONE_FOLD_PARAMS if len(args.folds) < 2 else {}  # one fold: nothing held out to fit on
    subsets = None if args.grid else [tuple(args.features)]
    result, aligned = grid_over_seeds(
        [c for c, _ in runs], args.runs_dir, dataset, args.methods, params, subsets, cache
    )
    return aligned, result, params


def grid_over_seeds(runs: list[RunConfig], runs_dir, dataset, methods, params: dict, subsets=None, cache=None):
    """The fusion grid of ``runs`` per seed (probabilities kept, learned methods fitted on every
    core and looked up in ``cache``), merged over the seeds; and the first seed's aligned
    predictions. With one feature, the grid holds its scores alone (no fused rows)."""
    seeds = list(dict.fromkeys(c.seed for c in runs))
    results, first = [], None
    for seed in seeds:
        aligned = fusion.align(load_predictions([c for c in runs if c.seed == seed], runs_dir, dataset))
        first = first or aligned
        if len(aligned.probs) < 2:
            results.append(fusion.score_features(aligned.probs, aligned.targets, aligned.folds, methods))
        else:
            results.append(
                fusion.grid_search(
                    aligned.probs,
                    aligned.targets,
                    aligned.folds,
                    methods=methods,
                    subsets=subsets,
                    method_params=params,
                    keep_probs=True,
                    progress=True,
                    cache=cache,
                    n_jobs=len(os.sched_getaffinity(0)),
                )
            )
    return (None if not results else results[0] if len(results) == 1 else merge_seeds(results, seeds)), first


def write_reports(args, aligned, result, dataset, prov: str) -> dict:
    """The tables (printed too) and the confusion matrix of the best system; returns the files."""
    prov += f"  \nProfile: `{args.profile}`, folds {args.folds}, seeds {args.seeds}"
    if args.protocol:  # folds made here, not the dataset's own
        prov += f", protocol `{args.protocol}` (every clip's fold in folds.csv)"
    written = write_report(
        result,
        args.out,
        provenance=prov,
        fused_name="grid" if args.grid else "fusion",
        table=paper.TABLES.get(args.dataset),
    )
    if result.fused:
        best = max(result.fused, key=lambda r: r.mean("accuracy"))
        fused = best.probs  # the first seed's
        title = f"{' + '.join(best.features)} ({best.method}): accuracy {best.mean('accuracy'):.3f}"
        print("\n" + per_feature_table(result) + "\n\n" + combination_table(result))
    else:  # one feature: its table, per fold too
        fused = aligned.probs[args.features[0]]
        title = f"{args.features[0]}: accuracy {fusion.accuracy(fused, aligned.targets):.3f}"
        print("\n" + per_feature_table(result) + "\n\n" + per_fold_table(result.singles[0]))
    plot_confusion(fused, aligned.targets, dataset.classes, title, args.out / "confusion.png")
    return written


def status(args, runs) -> int:
    """``--status``: every planned run's state, printed and written to ``progress.md`` in ``--out``."""
    rows = progress_rows(runs, args.runs_dir)
    print(progress_markdown(rows, max(1, args.jobs)))
    prov = provenance_markdown(command_line(), describe_machine(VERSIONED))
    print(f"\nwritten: {write_progress(rows, args.out, prov, max(1, args.jobs))}")
    return 0


def write_all_reports(args, runs, extra, dataset, prov: str, cache, stages: dict) -> dict:
    """Every report of a finished plan (tables, confusion, training time, models, analysis); the
    files. The seconds of the fusion and of the reports go into ``stages``."""
    t0 = time.perf_counter()
    aligned, result, params = fuse(args, runs, dataset, cache)
    stages["fusion"] = time.perf_counter() - t0
    written = write_reports(args, aligned, result, dataset, prov)
    named = [(c.feature, c) for c, _ in runs] + [(f"{c.feature} · {c.model} ({recipe_label(c)})", c) for c, _ in extra]
    written["training_time"] = write_training_time(training_time_rows(named, args.runs_dir), args.out, prov)
    plot_learning_curves(
        named, args.runs_dir, args.out / "curves.png", f"{args.name}, {args.profile}: test fold while training"
    )
    if extra:
        ours = [c for c, _ in runs if c.feature == args.features[0]] + [c for c, _ in extra]
        name = paper.PAPER_NAMES.get(args.features[0], args.features[0])
        written["models"] = write_model_table(model_rows(ours, args.runs_dir), name, args.out, prov)
        plot_models(ours, args.runs_dir, args.out / "models.png", f"{args.name}: {name}, every run of every arm")
    if args.protocol or dataset.KEYED_BY_CONTENT:  # folds made here: anyone can rerun the split without this code
        write_atomic(args.out / "folds.csv", rows_to_csv(dataset.fold_table()))
        written["folds"] = args.out / "folds.csv"
    if args.analysis and result.fused:
        others = other_models([c for c, _ in extra if c.seed == args.seeds[0]], args.runs_dir, dataset, aligned)
        written["analysis"] = write_analysis(
            result,
            aligned.probs,
            aligned.targets,
            aligned.folds,
            dataset.classes,
            args.out,
            calibrate=args.calibrate,
            method_params=params,
            provenance=prov,
            cache=cache,
            others=others,
        )
    stages["reports"] = time.perf_counter() - t0 - stages["fusion"]
    return written


def other_models(extra: list[RunConfig], runs_dir, dataset, aligned) -> dict:
    """The baseline runs' probabilities in ``aligned``'s clip order, one entry per (model, recipe):
    ``"<feature> · <model> (<recipe>)"`` -> ``(n_clips, n_classes)``. Rows of their own in the
    analysis, never fused with nor merged into a feature.

    Raises:
        FusionInputError: a baseline whose test clips are not the features' clips."""
    groups: dict[str, list[RunConfig]] = {}
    for c in extra:
        groups.setdefault(f"{c.feature} · {c.model} ({recipe_label(c)})", []).append(c)
    out = {}
    for name, cfgs in groups.items():
        preds = next(iter(load_predictions(cfgs, runs_dir, dataset).values()))
        order = {n: i for i, n in enumerate(preds.names)}
        if set(order) != set(aligned.names):
            raise fusion.FusionInputError(
                f"{name}: its test clips are not the features' ({len(order)} against {len(aligned.names)})"
            )
        out[name] = preds.probs[[order[n] for n in aligned.names]]
    return out


def fusion_cache(args) -> fusion.FusedCache:
    """The fused-prediction cache: ``fusion/`` under ``--cache-dir``, ``$RANN_CACHE`` or ``~/.cache/rann``."""
    from benchmarks.datasets.paths import default_cache_dir

    return fusion.FusedCache(Path(args.cache_dir or default_cache_dir()) / "fusion")
