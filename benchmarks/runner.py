"""The benchmark runner every dataset shares: one model per (feature, fold, seed), then fusion,
then the paper's tables.

A benchmark is a :class:`Benchmark` (dataset name, default features) and a few-line entry point::

    python -m benchmarks.esc50 --features mel,mfcc,cqt --fusion ds
    python -m benchmarks.ravdess --grid --fusion all
    python -m benchmarks.esc50 --dry-run                     # the plan: runs to train / reused

Each run is reused when completed, resumed when partial, trained otherwise (``rann.training``);
the fusion is leakage-free (``fusion.grid``). Reports go to ``--out`` (default
``results/<dataset>/<profile>/``): ``per_feature``, ``fusion`` (or ``grid`` with ``--grid``) and
``paper_comparison`` (where the paper has numbers for the dataset) as .md/.csv/.json,
``confusion.png`` of the best system, and ``run.json`` (configs, versions, machine, git commit,
wall time per stage).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import shlex
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import fusion
from benchmarks.core.errors import DataError, ParameterError, RannBenchError
from benchmarks.core.io import save_figure, write_atomic, write_json
from benchmarks.core.provenance import (
    command_line,
    describe_machine,
    git_commit,
    provenance_markdown,
)
from benchmarks.curves import plot_learning_curves
from benchmarks.model_table import (
    model_rows,
    parse_baselines,
    parse_recipe,
    plot_models,
    recipe_label,
    write_model_table,
)
from benchmarks.progress import progress_markdown, progress_rows, write_progress
from benchmarks.training_time import training_time_rows, write_training_time
from fusion import paper
from fusion.analysis_report import write_analysis
from fusion.grid import merge_seeds
from fusion.report import combination_table, per_feature_table, per_fold_table, rows_to_csv, write_report
from rann.config import PROFILES, RunConfig, get_profile, steps_per_epoch
from rann.precision import check_precision
from rann.runs import is_completed, read_metrics, read_predictions, run_folder
from rann.training import RunLockedError, train_run


@dataclass(frozen=True)
class Benchmark:
    """What a benchmark's entry point fixes: the dataset (``None``: chosen with ``--dataset``, as
    ``python -m benchmarks.run`` does) and the features run by default."""

    dataset: str | None
    default_features: str = "mel,mfcc,cqt,gfcc,wavegram"
    description: str = ""

    @property
    def module(self) -> str:
        """The entry point's module, as in ``python -m <module>``."""
        return f"benchmarks.{self.dataset}" if self.dataset else "benchmarks.run"


#: The paper's fusion methods, in its column order; ``--fusion all`` puts the others after them.
PAPER_METHODS = ("wa", "ds", "ids")
#: Packages whose versions go into every report's provenance.
VERSIONED = ("torch", "numpy", "scipy", "librosa", "scikit-learn")
#: Seconds per epoch of 1,600 training clips (an ESC-50 fold) on 2 CPU cores, for the plan's first
#: estimate, scaled by each run's training clips (``--dry-run`` adds one measured on this CPU).
#: standard: its 40 ESC-50 runs x 100 epochs took 7.5 h; paper: rann_4_4 on 128 x 552 crops (4 s at
#: hop 320) took 94.6 s per step of 32 with two training runs sharing the cores, about 30 s idle
EPOCH_SECONDS = {"smoke": 1.0, "quick": 8.5, "standard": 6.75, "paper": 1500.0}


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
                    cfg = cfg.resolved(int(_train_clips(cfg, dataset, getattr(args, "train_clips", None))))
                    out.append((cfg, run_state(run_folder(cfg, args.runs_dir))))
    return out


def run_state(folder) -> str:
    """``completed`` (its metrics checked: CorruptRunError), ``partial`` (a checkpoint) or ``new``."""
    if is_completed(folder):
        read_metrics(folder)  # a committed run is checked when read
        return "completed"
    return "partial" if (folder / "checkpoint.pt").is_file() else "new"


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


def _train_local(todo, dataset, args, *, progress: bool = True) -> list[str]:
    """Train ``todo`` on ``dataset`` in order. A run another process is training (another worker,
    or a second copy of the command) is left to it and revisited at the end: then we wait for it
    and reuse its result."""
    failures: list[str] = []
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress)
    queue = [(cfg, False) for cfg, _ in todo]  # (run, wait for another process's lock)
    while queue:
        cfg, wait = queue.pop(0)
        try:
            train_run(cfg, dataset, runs_root=args.runs_dir, device=args.device, wait=wait, progress=progress)
        except RunLockedError:
            queue.append((cfg, True))
            continue
        except Exception as exc:  # reported, never silently dropped
            failures.append(f"{cfg.feature} fold {cfg.fold} seed {cfg.seed}: {type(exc).__name__}: {exc}")
        bar.update(1)
    bar.close()
    return failures


def _worker(todo: list, args, threads: int) -> list[str]:
    """One ``--jobs`` process: ``threads`` torch threads, its own dataset object, the whole plan
    (the run locks share the runs out between the workers)."""
    import torch

    torch.set_num_threads(threads)
    return _train_local(todo, open_dataset(args, progress=False), args, progress=False)


def _job(worker, share, args, threads: int, conn) -> None:
    """A ``--jobs`` child process: ``worker``'s failures sent back through ``conn``."""
    try:
        failures = worker(share, args, threads)
    except Exception as exc:  # reported by the parent, as a run's failure is
        failures = [f"{multiprocessing.current_process().name}: {type(exc).__name__}: {exc}"]
    conn.send(failures)
    conn.close()


def _stop(signum, frame):
    """SIGTERM in the parent becomes an exception, so that its workers are stopped with it."""
    raise SystemExit(128 + signum)


def _train_jobs(todo, args, worker=_worker) -> list[str]:
    """``--jobs N`` processes on this machine, the cores split between them; worker ``i`` starts
    ``i / N`` of the way into the plan, so they rarely meet at a lock. Two single-thread workers
    train about 15 % more runs per hour on 2 cores than one two-thread process.

    Stopping the command (Ctrl-C, or SIGTERM to this process alone, as ``kill`` or a scheduler
    sends it) stops the workers too; their runs resume from their last checkpoint."""
    n = max(1, args.jobs)
    threads = max(1, len(os.sched_getaffinity(0)) // n)
    shares = [todo[i * len(todo) // n :] + todo[: i * len(todo) // n] for i in range(n)]
    ctx = multiprocessing.get_context("spawn")
    procs, pipes = [], []
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        for i, share in enumerate(shares):
            recv, send = ctx.Pipe(duplex=False)
            procs.append(ctx.Process(target=_job, args=(worker, share, args, threads, send), name=f"worker {i}"))
            procs[-1].start()
            send.close()  # the child holds the other end: EOF here when it dies without a word
            pipes.append(recv)
        failures = []
        for proc, recv in zip(procs, pipes):
            try:
                sent = recv.recv()
            except EOFError:  # killed (out of memory?) or crashed: no word back
                sent = None
            proc.join()
            failures += (
                sent
                if sent is not None
                else [f"{proc.name} died (exit code {proc.exitcode}) before it finished its share"]
            )
    except BaseException:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    return sorted(set(failures))


def _train_ray(todo, args) -> list[str]:
    try:
        import ray
    except ImportError:
        raise SystemExit('error: --executor ray needs Ray: pip install -e ".[distributed]"') from None
    ray.init(
        address=args.ray_address,
        num_cpus=None if args.ray_address else args.jobs * args.cpus_per_run,
        ignore_reinit_error=True,
        include_dashboard=False,
        log_to_driver=False,
    )
    runs_dir, device = str(Path(args.runs_dir).resolve()), args.device

    @ray.remote(num_cpus=args.cpus_per_run, num_gpus=args.gpus_per_run, max_retries=1, retry_exceptions=True)
    def remote_run(cfg_dict):
        import torch

        torch.set_num_threads(max(1, int(ray.get_runtime_context().get_assigned_resources().get("CPU", 1))))
        cfg = RunConfig.from_dict(cfg_dict)
        dataset = open_dataset(args, progress=False)
        # wait=True: a run another command is training is waited for and reused, as in _train_local
        return str(train_run(cfg, dataset, runs_root=runs_dir, device=device, progress=False, wait=True).folder)

    refs = {remote_run.remote(cfg.to_dict()): cfg for cfg, _ in todo}
    failures = []
    with tqdm(total=len(refs), desc="runs (ray)", unit="run") as bar:
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            try:
                ray.get(done[0])
            except Exception as exc:  # failed twice (Ray retried once)
                cfg = refs[done[0]]
                failures.append(
                    f"{cfg.feature} fold {cfg.fold}: failed after one retry: {type(exc).__name__}: "
                    f"{str(exc).splitlines()[0]}"
                )
            bar.update(1)
    return failures


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


def build_parser(bench: Benchmark) -> argparse.ArgumentParser:
    """The benchmark's command-line options (:func:`parse_args` turns them into run settings)."""
    ap = argparse.ArgumentParser(
        prog=f"python -m {bench.module}", description=bench.description or __doc__.split("\n\n")[0]
    )
    if bench.dataset is None:
        _add_dataset_options(ap)
    ap.add_argument("--features", default=bench.default_features, help=f"comma list (default {bench.default_features})")
    ap.add_argument("--fusion", default=",".join(PAPER_METHODS), help="comma list of fusion methods, or 'all'")
    ap.add_argument("--grid", action="store_true", help="also fuse every combination of two or more features")
    ap.add_argument("--profile", default="quick", choices=list(PROFILES))
    ap.add_argument("--folds", default=None, help="comma list (default: every fold of the dataset)")
    ap.add_argument(
        "--protocol",
        default=None,
        choices=["clips"],
        help="the folds: the dataset's own (default), or 'clips': stratified over clips, seeded (the runs are "
        "keyed by it; the fold of every clip is written to folds.csv beside the report)",
    )
    ap.add_argument("--model", default=None, help="model name (default: the profile's)")
    ap.add_argument(
        "--recipe",
        default="",
        help="recipe settings for every run, e.g. epochs=60,mixup_alpha=0 (a range: mix_noise_snr_db=10/30)",
    )
    ap.add_argument(
        "--baselines",
        default=None,
        help="other models / settings on the first feature, as extra rows: e.g. "
        "simple_cnn,sed_resnest_cpu:mix_clips=3:mixup_alpha=0,rann_cpu_16:feature.source=cqt",
    )
    ap.add_argument(
        "--seeds", default="0", help="comma list of seeds; tables give mean ± std over folds and over seeds"
    )
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument(
        "--runs-dir",
        default=None,
        help=f"where the runs live (default {REGISTERED_RUNS} for a registered dataset, whose runs are committed; "
        f"for your own data $RANN_RUNS, else {OUT_ROOT}/runs, ignored by git)",
    )
    ap.add_argument(
        "--out",
        default=None,
        help=f"report folder (default {OUT_ROOT}/<dataset>/<profile>/, ignored by git; the committed reports under "
        "results/ are regenerated by python -m benchmarks.reproduce)",
    )
    ap.add_argument("--overwrite", action="store_true", help="replace a report in --out that a different command wrote")
    ap.add_argument(
        "--no-train",
        action="store_true",
        help="train nothing: fail, naming them, if a run is not completed (benchmarks.reproduce uses this)",
    )
    _add_execution_options(ap)
    return ap


def _add_dataset_options(ap: argparse.ArgumentParser) -> None:
    """``benchmarks.run``'s choice of dataset, and the options of one read from its content."""
    from benchmarks.datasets import list_datasets

    ap.add_argument("--dataset", required=True, choices=list_datasets(), help="folder: your own audio (--data-root)")
    ap.add_argument(
        "--name",
        default=None,
        help="what the reports call the data: out/<name>/<profile>/ (default: the folder's name)",
    )
    ap.add_argument(
        "--duration", type=float, default=None, help="folder: served length, s (default: the 95th percentile)"
    )
    ap.add_argument("--align", default=None, choices=["start", "center"], help="folder: keep the start (default)")
    ap.add_argument("--n-folds", type=int, default=None, help="folder without a fold column: folds to make (5)")
    ap.add_argument("--fold-seed", type=int, default=None, help="folder: seed of those folds (0)")


def _add_execution_options(ap: argparse.ArgumentParser) -> None:
    """Where and how the runs train, and what the command does instead of training."""
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--executor", default="local", choices=["local", "ray"])
    ap.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="runs at a time: processes on this machine (the cores split between them), or Ray tasks",
    )
    ap.add_argument("--cpus-per-run", type=int, default=2)
    ap.add_argument("--gpus-per-run", type=float, default=0)
    ap.add_argument("--ray-address", default=None, help="a Ray cluster (default: start a local instance)")
    ap.add_argument(
        "--force-precision",
        action="store_true",
        help="train precision=bf16 runs on a CPU without AMX, where bf16 is slower than fp32 (refused otherwise)",
    )
    ap.add_argument("--dry-run", action="store_true", help="print the plan and exit")
    ap.add_argument(
        "--status",
        action="store_true",
        help="print every planned run's state, epochs and test accuracy so far, write progress.md in --out, and exit",
    )
    ap.add_argument(
        "--analysis",
        action="store_true",
        help="also write analysis.md (significance, calibration, diversity, per class)",
    )
    ap.add_argument(
        "--calibrate",
        choices=["temperature"],
        default=None,
        help="with --analysis: also fuse temperature-scaled features",
    )


def parse_args(bench: Benchmark, argv):
    """The parsed options, names resolved: lists of features, folds, seeds and methods, the recipe
    and baselines parsed, ``out`` a path."""
    ap = build_parser(bench)
    args = ap.parse_args(argv)
    args.dataset = bench.dataset or args.dataset
    args.features = args.features.split(",")
    from benchmarks.datasets import get_dataset_class

    keyed = by_content(args.dataset)
    given = [f"--{a.replace('_', '-')}" for a in CONTENT_OPTIONS if getattr(args, a, None) is not None]
    if given and not keyed:
        ap.error(f"{', '.join(given)}: only for a dataset read from its content (--dataset folder)")
    if keyed and not args.data_root:
        ap.error(f"--dataset {args.dataset} needs its folder: --data-root DIR")
    if args.folds is not None:
        args.folds = [int(k) for k in args.folds.split(",")]
    elif not keyed:  # a folder's folds are known once it is read (resolve_data)
        args.folds = list(range(1, get_dataset_class(args.dataset).expected.n_folds + 1))
    args.seeds = [int(s) for s in args.seeds.split(",")]
    try:
        args.recipe = parse_recipe(args.recipe.split(","))
        args.baselines = parse_baselines(args.baselines)
    except ParameterError as exc:
        ap.error(str(exc))
    if args.fusion == "all":
        args.methods = [*PAPER_METHODS, *(m for m in fusion.list_methods() if m not in PAPER_METHODS)]
    else:
        args.methods = args.fusion.split(",")
    args.runs_dir = args.runs_dir or default_runs_dir(keyed)
    args.name = getattr(args, "name", None) or (Path(args.data_root).resolve().name if keyed else args.dataset)
    default_out = OUT_ROOT / args.name / args.profile
    args.out = Path(args.out or (default_out / args.protocol if args.protocol else default_out))
    args.data = None  # the data's key, for a dataset read from its content (resolve_data)
    args.train_clips = None  # and its training clips per fold, which resolve a budget in steps
    return args


def resolve_data(args, dataset) -> None:
    """What a dataset read from its content fixes once read: ``args.data`` (its key, in every
    run's fingerprint) and, when ``--folds`` was not given, its folds."""
    args.data = dataset.data_key
    args.train_clips = {int(k): int(np.sum(dataset.folds != k)) for k in np.unique(dataset.folds)}
    if args.folds is None:
        args.folds = list(range(1, int(dataset.folds.max()) + 1))


def default_runs_dir(own_data: bool) -> str:
    """Where runs live by default: the committed :data:`REGISTERED_RUNS` for a registered dataset;
    for your own data (``own_data``) ``$RANN_RUNS``, else ``out/runs`` (ignored by git, so that a
    ``git clean`` never deletes them and they never sit beside the committed runs)."""
    return (os.environ.get("RANN_RUNS") or str(OUT_ROOT / "runs")) if own_data else REGISTERED_RUNS


#: The committed runs of the registered datasets
REGISTERED_RUNS = "results/runs"
#: Where a benchmark writes its report by default: ignored by git, so that no command replaces a
#: committed report under ``results/`` (only an explicit ``--out`` there, or benchmarks.reproduce)
OUT_ROOT = Path("out")
#: The options that decide what a report holds; two commands that agree on them write the same tables.
SELECTION = (
    "dataset",
    "features",
    "methods",
    "grid",
    "profile",
    "folds",
    "protocol",
    "seeds",
    "model",
    "recipe",
    "baselines",
    "analysis",
    "calibrate",
    "runs_dir",
)


def selection(args) -> dict:
    """What ``args`` select, comparable across commands (:data:`SELECTION`; for a dataset read from
    its content, also the folder and how it is read)."""
    keys = list(SELECTION)
    if by_content(args.dataset):
        keys += ["data_root", *CONTENT_OPTIONS]
    return json.loads(json.dumps({k: getattr(args, k, None) for k in keys}, default=str))


def recorded_args(info: dict):
    """The parsed options of the command recorded in a report's ``run.json`` (``info``).

    Raises:
        RannBenchError: the record names no benchmark module, or options this version cannot parse.
    """
    import importlib

    words = shlex.split(info.get("command", ""))
    if len(words) < 3 or words[:2] != ["python", "-m"]:
        raise RannBenchError(f"run.json records no 'python -m benchmarks.<dataset>' command: {info.get('command')!r}")
    try:
        bench = importlib.import_module(words[2]).BENCHMARK
        with contextlib.redirect_stderr(io.StringIO()) as err:
            args = parse_args(bench, info.get("argv", words[3:]))
        args.data = info.get("data", {}).get("key")
        args.train_clips = {int(k): n for k, n in info.get("data", {}).get("train_clips", {}).items()} or None
        args.folds = args.folds or info.get("folds")
        return args
    except (ImportError, AttributeError):
        raise RannBenchError(f"run.json records {words[2]!r}, which is not a benchmark module") from None
    except SystemExit:
        raise RannBenchError(
            f"run.json's command no longer parses: {err.getvalue().strip().splitlines()[-1]}"
        ) from None


def check_out(args) -> None:
    """Refuse to replace a report in ``args.out`` that a command with another selection wrote.

    Raises:
        ParameterError: naming the recorded command and the ways out.
    """
    path = args.out / "run.json"
    if args.overwrite or not path.is_file():
        return
    try:
        info = json.loads(path.read_text())
        same = selection(recorded_args(info)) == selection(args)
    except (ValueError, RannBenchError):
        info, same = {}, False
    if not same:
        raise ParameterError(
            f"{args.out} holds the report of another command ({info.get('command', 'unreadable run.json')}); "
            f"this one would replace it. Write to another folder (--out DIR), regenerate that report with "
            f"`python -m benchmarks.reproduce {args.out}`, or pass --overwrite to replace it"
        )


def _unknown_name(args) -> str | None:
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


def _print_plan(args, runs, dataset=None) -> list:
    """Print what will be reused, resumed and trained (every run with ``--dry-run``); return the
    runs to train."""
    todo = [(c, s) for c, s in runs if s != "completed"]
    est = sum(EPOCH_SECONDS[args.profile] * c.recipe.epochs * _epoch_share(c, dataset) for c, _ in todo)
    print(
        f"{len(runs)} runs: {len(runs) - len(todo)} reused, {sum(s == 'partial' for _, s in todo)} to resume, "
        f"{sum(s == 'new' for _, s in todo)} to train (about {est / 60:.0f} min on 2 CPU cores)"
    )
    if args.dry_run:
        for c, s in runs:
            n = steps_per_epoch(int(_train_clips(c, dataset, args.train_clips)), c.recipe.batch_size)
            budget = f"{c.recipe.epochs} epochs x {n} steps = {c.recipe.epochs * n:,} steps"
            print(f"  {c.feature:10s} fold {c.fold}  {s:9s}  {budget:32s}  {run_folder(c, args.runs_dir)}")
        if todo:
            print(_measured_estimate(todo, args, dataset))
    return todo


def _epoch_share(cfg: RunConfig, dataset=None) -> float:
    """A run's epoch against one of :data:`EPOCH_SECONDS`: its training clips against 1,600, and its
    crop against the profile's (a step costs about 20 % fixed and 80 % in proportion to the crop:
    2-s crops measured 0.62 of 3.7-s ones)."""
    crop = cfg.recipe.crop_seconds / get_profile(cfg.profile).recipe.crop_seconds
    return _train_clips(cfg, dataset) / 1600 * (0.2 + 0.8 * crop)


def _train_clips(cfg: RunConfig, dataset=None, counted: dict[int, int] | None = None) -> float:
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


def _measured_estimate(todo, args, dataset=None) -> str:
    """The cost of ``todo`` extrapolated from one measured training step of its first run on this CPU."""
    import torch

    from rann.timing import step_seconds

    busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0  # other work on the cores before we measure
    cfg = todo[0][0]
    r = cfg.recipe
    # a batch of 8 costs within 20 % of a full batch's share per clip (2 clips: twice as much)
    batch = min(8, r.batch_size)
    per_clip = step_seconds(cfg, batch_size=batch) / batch
    n_train = _train_clips(cfg, dataset)
    step = per_clip * r.batch_size
    hours = step * (n_train // r.batch_size) * r.epochs * len(todo) / 3600
    return (
        f"measured on this CPU ({torch.get_num_threads()} threads, {cfg.feature}, {cfg.model}, batch {batch} scaled "
        f"to {r.batch_size}): "
        f"{step:.2f} s per step of {r.batch_size} clips; {len(todo)} runs x {r.epochs} epochs x "
        f"{int(n_train // r.batch_size)} steps "
        f"= about {hours:,.1f} h"
        + (" (bring a GPU: --device cuda)" if hours > 24 else "")
        + (
            f"; measured while other processes kept the cores busy (load {busy:.1f}): an overestimate"
            if busy >= 1.0
            else ""
        )
    )


def _train(todo, dataset, args) -> list[str]:
    """Train ``todo`` with the chosen executor; the failures."""
    if args.executor == "ray":
        return _train_ray(todo, args)
    return _train_jobs(todo, args) if args.jobs > 1 else _train_local(todo, dataset, args)


def _fuse(args, runs, dataset, cache=None):
    """The first seed's aligned predictions and the grid over every seed, merged (``None`` for a
    single feature)."""
    params = {"wa": {"weights": "uniform"}} if len(args.folds) < 2 else {}  # one fold: nothing held out to fit on
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


def _write_reports(args, aligned, result, dataset, prov: str) -> dict:
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


def _status(args, runs) -> int:
    """``--status``: every planned run's state, printed and written to ``progress.md`` in ``--out``."""
    rows = progress_rows(runs, args.runs_dir)
    print(progress_markdown(rows, max(1, args.jobs)))
    prov = provenance_markdown(command_line(), describe_machine(VERSIONED))
    print(f"\nwritten: {write_progress(rows, args.out, prov, max(1, args.jobs))}")
    return 0


def _report(args, runs, extra, dataset, prov: str, cache, stages: dict) -> dict:
    """Every report of a finished plan (tables, confusion, training time, models, analysis); the
    files. The seconds of the fusion and of the reports go into ``stages``."""
    t0 = time.perf_counter()
    aligned, result, params = _fuse(args, runs, dataset, cache)
    stages["fusion"] = time.perf_counter() - t0
    written = _write_reports(args, aligned, result, dataset, prov)
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


def run(bench: Benchmark, argv: list[str] | None = None, *, command: str | None = None) -> int:
    """Run ``bench`` with the command-line arguments ``argv`` (default ``sys.argv[1:]``); the exit
    status. ``command``: the command line recorded in the reports (default: this one)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = command or f"python -m {bench.module} {shlex.join(argv)}".strip()
    args = parse_args(bench, argv)
    error = _unknown_name(args)
    if error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        dataset, runs, extra = _prepare(args)
        if args.status:
            return _status(args, runs + extra)
        todo = _print_plan(args, runs + extra, dataset)
        if args.dry_run:  # writes nothing, so no report folder is in its way
            return 0
        check_out(args)
        for cfg, _ in todo:  # bf16 on a CPU without AMX: refused before anything trains
            check_precision(cfg.recipe.precision, args.device, force=args.force_precision)
        if todo and args.no_train:
            missing = "\n".join(f"  - {run_folder(c, args.runs_dir)} ({s})" for c, s in todo)
            raise RannBenchError(f"--no-train: {len(todo)} runs are not completed here:\n{missing}")
        if todo and args.executor == "local":
            dataset.waveforms()  # an undecodable file fails here, once, before any run starts
        failures = _train(todo, dataset, args) if todo else []
        stages["training"] = time.perf_counter() - t0
        if failures:
            print(f"{len(failures)} runs failed:\n" + "\n".join(f"  - {f}" for f in failures), file=sys.stderr)
            return 1
        machine = describe_machine(VERSIONED)
        prov = provenance_markdown(command, machine)
        written = _report(args, runs, extra, dataset, prov, fusion_cache(args), stages)
    except RannBenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    info = {
        "command": command,
        "argv": argv,
        "machine": machine,
        "git_commit": git_commit(),
        "profile": args.profile,
        "features": args.features,
        "folds": args.folds,
        "methods": args.methods,
        "data": _data_record(args, dataset),
        "runs": [
            {"config": c.to_dict(), "folder": str(run_folder(c, args.runs_dir)), "reused": s == "completed"}
            for c, s in runs + extra
        ],
        "wall_seconds": {k: round(v, 2) for k, v in stages.items()},
        "reports": sorted(str(p) for p in written.values()),
    }
    write_json(args.out / "run.json", info)
    print("\nwall time: " + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()) + f"; reports in {args.out}/")
    return 0


def _prepare(args):
    """The dataset (``None`` for ``--dry-run`` / ``--status`` of a registered one: no data needed),
    the features' runs and the baseline runs. A dataset read from its content is read first: its
    folds and key are part of the plan.

    Raises:
        DataError: missing or malformed data, or a fold without test or training clips."""
    keyed = by_content(args.dataset)
    dataset = None if (args.dry_run or args.status) and not keyed else open_dataset(args)
    if keyed:
        resolve_data(args, dataset)
    if dataset is not None:
        check_folds(dataset, args.folds)
    return dataset, plan(args, dataset=dataset), plan(args, baselines=True, dataset=dataset)


def _data_record(args, dataset) -> dict:
    """What ``run.json`` says of the data: enough to serve new audio as the runs were served
    (``benchmarks.predict``) and to plan the runs again (``key``)."""
    record = {
        "dataset": args.dataset,
        "name": args.name,
        "key": args.data,
        "sr": dataset.sr,
        "duration": dataset.duration,
        "align": dataset.align,
        "classes": dataset.classes,
    }
    if args.train_clips:  # a dataset read from its content: what resolves a budget in steps without it
        record["train_clips"] = {str(k): n for k, n in args.train_clips.items()}
    return record


def fusion_cache(args) -> fusion.FusedCache:
    """The fused-prediction cache: ``fusion/`` under ``--cache-dir``, ``$RANN_CACHE`` or ``~/.cache/rann``."""
    from benchmarks.datasets.paths import default_cache_dir

    return fusion.FusedCache(Path(args.cache_dir or default_cache_dir()) / "fusion")
