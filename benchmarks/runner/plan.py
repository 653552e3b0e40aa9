"""Which runs a benchmark command needs, and their states: the dataset opened (the CLI is where
names become objects), its folds checked, every (seed, feature, fold) run planned with its budget
resolved, and what training them will cost (``--dry-run``)."""

from __future__ import annotations

import json
import os

import numpy as np

import fusion
from benchmarks.core.errors import DataError, ParameterError
from rann.config import RunConfig, get_profile, steps_per_epoch
from rann.runs import is_completed, read_metrics, run_folder

#: Seconds per epoch of 1,600 training clips (an ESC-50 fold) on 2 CPU cores, for the plan's first
#: estimate, scaled by each run's training clips (``--dry-run`` adds one measured on this CPU).
#: standard: its 40 ESC-50 runs x 100 epochs took 7.5 h; paper: rann_4_4 on 128 x 552 crops (4 s at
#: hop 320) took 94.6 s per step of 32 with two training runs sharing the cores, about 30 s idle;
#: long: 50 steps of rann_cpu_32 in bf16 on an AMX CPU, 0.124 s each (rann/config.py, LONG_EPOCHS)
EPOCH_SECONDS = {"smoke": 1.0, "quick": 8.5, "standard": 6.75, "long": 6.2, "paper": 1500.0}


#: ``benchmarks.run``'s options for a dataset read from its content (``--dataset folder``), as the
#: dataset's keyword arguments
CONTENT_OPTIONS = ("duration", "align", "n_folds", "fold_seed")


def by_content(dataset: str) -> bool:
    """Whether the registered dataset ``dataset`` is read from its content (its runs keyed by its data)."""
    from benchmarks.datasets import get_dataset_class

    return get_dataset_class(dataset).KEYED_BY_CONTENT


def open_dataset(args, *, progress: bool = True):
    """The benchmark's dataset at the profile's rate (the CLI is where names become objects).

    Raises:
        DataError: the data is missing or malformed (naming the file)."""
    from benchmarks.datasets import create_dataset

    options = {}
    if by_content(args.dataset):
        options = {k: getattr(args, k) for k in CONTENT_OPTIONS if getattr(args, k, None) is not None}
    return create_dataset(
        args.dataset,
        data_root=args.data_root,
        sr=get_profile(args.profile, args.dataset).sr,
        cache_dir=args.cache_dir,
        protocol=args.protocol,
        progress=progress,
        **options,
    )


def check_folds(dataset, folds: list[int]) -> None:
    """Refuse, before training, folds without test clips or without training clips.

    Raises:
        DataError: naming the folds and the data folder."""
    sizes = dict(zip(*np.unique(dataset.folds, return_counts=True)))
    shown = ", ".join(f"{f}: {c} clips" for f, c in sizes.items())
    empty = [k for k in folds if sizes.get(k, 0) == 0]
    whole = [k for k in folds if sizes.get(k, 0) == len(dataset)]
    for bad, what in ((empty, "no test clips"), (whole, "every clip (nothing left to train on)")):
        if bad:
            which = f"fold {bad[0]} has" if len(bad) == 1 else f"folds {', '.join(map(str, bad))} have"
            raise DataError(f"{dataset.root}: {which} {what}; its folds are {shown}")


#: With one fold tested there are no other folds' predictions to fit a fusion on: WA then weighs the
#: features equally (these settings); a method fitted on labels without such a fallback cannot run
ONE_FOLD_PARAMS = {"wa": {"weights": "uniform"}}


def check_methods(args) -> None:
    """Fusion methods fitted on the other folds' predictions (stacking) have nothing to fit on when
    the command tests one fold: ``--fusion all`` leaves them out, saying so; naming one is refused
    before anything trains. WA falls back to equal weights (``ONE_FOLD_PARAMS``).

    Raises:
        ParameterError: naming the methods and the fold."""
    if len(args.folds) > 1 or len(args.features) < 2:  # one feature: nothing is fused
        return
    fitted = [m for m in args.methods if m not in ONE_FOLD_PARAMS and fusion.create(m).learns_from_labels]
    if not fitted:
        return
    why = f"{', '.join(fitted)} {'is' if len(fitted) == 1 else 'are'} fitted on the other folds' predictions"
    if args.fusion != "all":
        raise ParameterError(
            f"--fusion {args.fusion} with --folds {args.folds[0]}: {why}; test two folds or more, or leave "
            f"{'it' if len(fitted) == 1 else 'them'} out"
        )
    args.methods = [m for m in args.methods if m not in fitted]
    print(
        f"--fusion all with --folds {args.folds[0]}: {why}, so {'it is' if len(fitted) == 1 else 'they are'} left out"
    )


def resolve_data(args, dataset) -> None:
    """What a dataset read from its content fixes once read: ``args.data`` (its key, in every
    run's fingerprint) and, when ``--folds`` was not given, its folds."""
    args.data = dataset.data_key
    args.train_clips = {int(k): int(np.sum(dataset.folds != k)) for k in np.unique(dataset.folds)}
    if args.folds is None:
        args.folds = list(range(1, int(dataset.folds.max()) + 1))


def plan(args, *, baselines: bool = False, dataset=None) -> list[tuple[RunConfig, str]]:
    """Every (seed, feature, fold) run with its state: ``completed``, ``partial`` or ``new``;
    with ``baselines``, the ``--baselines`` runs instead (each model on the first feature). A
    recipe with ``min_steps`` has its epochs resolved for the fold's training clips, counted in
    ``dataset`` (or the registered dataset's size).

    Raises:
        CorruptRunError: a completed run whose ``metrics.json`` cannot be read."""
    systems = args.baselines if baselines else [(args.model, {}, {})]
    features = args.features[:1] if baselines else args.features
    out = []
    for model, recipe, feature_settings in systems:
        for seed in args.seeds:
            for feature in features:
                for fold in args.folds:
                    cfg = RunConfig.from_profile(
                        dataset=args.dataset,
                        feature=feature,
                        fold=fold,
                        profile=args.profile,
                        seed=seed,
                        model=model,
                        feature_overrides=feature_settings,
                        protocol=args.protocol,
                        data=getattr(args, "data", None),
                        **{**args.recipe, **recipe},
                    )
                    cfg = cfg.resolved(int(train_clips(cfg, dataset, args.train_clips)))
                    out.append((cfg, run_state(run_folder(cfg, args.runs_dir))))
    return out


def run_state(folder) -> str:
    """``completed`` (its metrics checked: CorruptRunError), ``partial`` (a checkpoint) or ``new``."""
    if is_completed(folder):
        read_metrics(folder)  # a committed run is checked when read
        return "completed"
    return "partial" if (folder / "checkpoint.pt").is_file() else "new"


def train_clips(cfg: RunConfig, dataset=None, counted: dict[int, int] | None = None) -> float:
    """How many clips the run trains on: counted in ``dataset`` (or given per fold in ``counted``),
    else from its registered size."""
    from benchmarks.datasets import get_dataset_class

    if cfg.recipe.max_train_clips:
        return cfg.recipe.max_train_clips
    if dataset is not None:
        return float(np.sum(dataset.folds != cfg.fold))
    if counted and cfg.fold in counted:
        return float(counted[cfg.fold])
    expected = get_dataset_class(cfg.dataset).expected
    return expected.n_clips * (1 - 1 / expected.n_folds)


def epoch_steps(cfg: RunConfig, dataset=None, counted: dict[int, int] | None = None) -> int:
    """Optimiser steps per epoch of the run, as training counts them (the last partial batch dropped,
    1 at least); its training clips as :func:`train_clips` counts them."""
    return steps_per_epoch(int(train_clips(cfg, dataset, counted)), cfg.recipe.batch_size)


def epoch_share(cfg: RunConfig, dataset=None) -> float:
    """A run's epoch against one of :data:`EPOCH_SECONDS`: its training clips against 1,600, and its
    crop against the profile's (a step costs about 20 % fixed and 80 % in proportion to the crop:
    2-s crops measured 0.62 of 3.7-s ones)."""
    crop = cfg.recipe.crop_seconds / get_profile(cfg.profile).recipe.crop_seconds
    return train_clips(cfg, dataset) / 1600 * (0.2 + 0.8 * crop)


def print_plan(args, runs, dataset=None) -> list:
    """Print what will be reused, resumed and trained (every run with ``--dry-run``); return the
    runs to train."""
    todo = [(c, s) for c, s in runs if s != "completed"]
    est = sum(EPOCH_SECONDS[args.profile] * c.recipe.epochs * epoch_share(c, dataset) for c, _ in todo)
    print(
        f"{len(runs)} runs: {len(runs) - len(todo)} reused, {sum(s == 'partial' for _, s in todo)} to resume, "
        f"{sum(s == 'new' for _, s in todo)} to train (about {est / 60:.0f} min on 2 CPU cores)"
    )
    if args.dry_run:
        for c, s in runs:
            n = epoch_steps(c, dataset, args.train_clips)
            budget = f"{c.recipe.epochs} epochs x {n} steps = {c.recipe.epochs * n:,} steps"
            print(f"  {c.feature:10s} fold {c.fold}  {s:9s}  {budget:32s}  {run_folder(c, args.runs_dir)}")
        if todo:
            print(measured_estimate(todo, args, dataset))
    return todo


#: ``--dry-run`` measures a step at the recipe's full batch when the batch-of-8 price of it is at most
#: this many seconds (the 2 steps it takes then cost a few seconds; the paper's RANN stays scaled)
FULL_BATCH_STEP_S = 1.0


def measured_estimate(todo, args, dataset=None) -> str:
    """The cost of ``todo`` on this CPU: one training step measured per kind of run (the runs of
    one feature, model and recipe, folds and seeds aside), extrapolated to each run's steps and
    epochs; one line per kind where there are several, and the total."""
    import torch

    from rann.timing import step_seconds

    busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0  # other work on the cores before we measure
    kinds: dict[str, list[RunConfig]] = {}
    for cfg, _ in todo:
        key = json.dumps({k: v for k, v in cfg.to_dict().items() if k not in ("fold", "seed")}, sort_keys=True)
        kinds.setdefault(key, []).append(cfg)
    lines, total, batches, scaled = [], 0.0, set(), ""
    for runs in kinds.values():
        cfg = runs[0]
        r = cfg.recipe
        # A batch of 8 is priced first and scaled to the recipe's batch; a wide model's small batch
        # overstates its share per clip (rann_cpu_32 in bf16: 0.27 s scaled against 0.22 s measured at 32, AMD
        # EPYC), so a step that cheap is measured again at the full batch, in a few seconds
        batch = min(8, r.batch_size)
        step = step_seconds(cfg, batch_size=batch) / batch * r.batch_size
        if batch < r.batch_size and step <= FULL_BATCH_STEP_S:
            batch = r.batch_size
            step = step_seconds(cfg, batch_size=batch)
        batches.add(batch)
        scaled = scaled or (" scaled to the recipe's" if batch < r.batch_size else "")
        steps = [epoch_steps(c, dataset, args.train_clips) for c in runs]
        hours = step * sum(n * c.recipe.epochs for n, c in zip(steps, runs)) / 3600
        total += hours
        budgets = {(c.recipe.epochs, n) for n, c in zip(steps, runs)}
        size = "{} epochs x {} steps".format(*budgets.pop()) if len(budgets) == 1 else "their epochs x steps"
        lines.append(
            f"{cfg.feature}, {cfg.model}, {r.precision}: {step:.2f} s per step of {r.batch_size} clips; "
            f"{len(runs)} runs x {size} = about {hours:,.1f} h"
        )
    batch = "/".join(str(b) for b in sorted(batches))
    notes = (" (bring a GPU: --device cuda)" if total > 24 else "") + (
        f"; measured while other processes kept the cores busy (load {busy:.1f}): an overestimate"
        if busy >= 1.0
        else ""
    )
    head = f"measured on this CPU ({torch.get_num_threads()} threads, batch {batch}{scaled}): "
    if len(lines) == 1:
        return head + lines[0] + notes
    return head + f"about {total:,.1f} h in all{notes}\n  " + "\n  ".join(lines)


def unknown_name(args) -> str | None:
    """The error for the first unknown feature, fusion method or model, or bad feature setting; or ``None``."""
    import features
    import rann

    try:
        for f in args.features:
            features.get_feature_class(f)
        for m in args.methods:
            fusion.create(m)
        for m, _, settings in args.baselines:
            rann.create_model(m, 2)
            features.create(
                args.features[0],
                **RunConfig.from_profile(
                    dataset=args.dataset,
                    feature=args.features[0],
                    fold=1,
                    profile=args.profile,
                    feature_overrides=settings,
                ).feature_params,
            )
    except KeyError as exc:
        return str(exc.args[0])
    except ParameterError as exc:
        return str(exc)
    return None
