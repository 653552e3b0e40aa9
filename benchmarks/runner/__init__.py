"""The benchmark runner every dataset shares: one model per (feature, fold, seed), then fusion,
then the paper's tables.

A benchmark is a :class:`Benchmark` (dataset name, default features) and a few-line entry point::

    python -m benchmarks.esc50 --features mel,mfcc,cqt --fusion ds
    python -m benchmarks.ravdess --grid --fusion all
    python -m benchmarks.esc50 --dry-run                     # the plan: runs to train / reused

Each run is reused when completed, resumed when partial, trained otherwise (``rann.training``);
the fusion is leakage-free (``fusion.grid``). Reports go to ``--out`` (default
``out/<dataset>/<profile>/``, ignored by git): ``per_feature``, ``fusion`` (or ``grid`` with ``--grid``) and
``paper_comparison`` (where the paper has numbers for the dataset) as .md/.csv/.json,
``confusion.png`` of the best system, and ``run.json`` (configs, versions, machine, git commit,
wall time per stage).

One module per concern (``docs/development.md`` has the map):

- :mod:`~benchmarks.runner.cli`: :class:`Benchmark` and the options every entry point shares;
- :mod:`~benchmarks.runner.plan`: the dataset, the runs a command needs and their states, the estimate;
- :mod:`~benchmarks.runner.execute`: the executors (``local``, with ``--jobs``; ``ray``), one function each;
- :mod:`~benchmarks.runner.record`: what a report folder remembers, and the refusal to replace it;
- :mod:`~benchmarks.runner.report`: fusion over seeds and every table and figure;
- :mod:`~benchmarks.runner.command`: :func:`run`, one command from start to end.
"""

from benchmarks.runner.cli import OUT_ROOT, PAPER_METHODS, REGISTERED_RUNS, Benchmark, build_parser, parse_args
from benchmarks.runner.command import run
from benchmarks.runner.execute import EXECUTORS, register_executor
from benchmarks.runner.plan import EPOCH_SECONDS, check_folds, open_dataset, plan, resolve_data, run_state
from benchmarks.runner.record import check_out, recorded_args, selection
from benchmarks.runner.report import fusion_cache, grid_over_seeds, load_predictions, other_models

__all__ = [
    "EPOCH_SECONDS",
    "EXECUTORS",
    "OUT_ROOT",
    "PAPER_METHODS",
    "REGISTERED_RUNS",
    "Benchmark",
    "build_parser",
    "check_folds",
    "check_out",
    "fusion_cache",
    "grid_over_seeds",
    "load_predictions",
    "open_dataset",
    "other_models",
    "parse_args",
    "plan",
    "recorded_args",
    "register_executor",
    "resolve_data",
    "run",
    "run_state",
    "selection",
]
