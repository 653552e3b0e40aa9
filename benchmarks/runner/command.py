"""One benchmark command from start to end: parse, plan, refuse what cannot run, train with the
chosen executor, write the reports and ``run.json``."""

from __future__ import annotations

import shlex
import sys
import time

from benchmarks.core.errors import RannBenchError
from benchmarks.core.io import write_json
from benchmarks.core.provenance import describe_machine, git_commit, provenance_markdown
from benchmarks.runner.cli import Benchmark, parse_args
from benchmarks.runner.execute import train
from benchmarks.runner.plan import (
    by_content,
    check_folds,
    check_methods,
    open_dataset,
    plan,
    print_plan,
    resolve_data,
    unknown_name,
)
from benchmarks.runner.record import VERSIONED, check_out, data_record
from benchmarks.runner.report import fusion_cache, status, write_all_reports
from rann.precision import check_precision
from rann.runs import run_folder


def run(bench: Benchmark, argv: list[str] | None = None, *, command: str | None = None) -> int:
    """Run ``bench`` with the command-line arguments ``argv`` (default ``sys.argv[1:]``); the exit
    status. ``command``: the command line recorded in the reports (default: this one)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = command or f"python -m {bench.module} {shlex.join(argv)}".strip()
    args = parse_args(bench, argv)
    error = unknown_name(args)
    if error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        dataset, runs, extra = _prepare(args)
        if args.status:
            return status(args, runs + extra)
        todo = print_plan(args, runs + extra, dataset)
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
        failures = train(todo, dataset, args) if todo else []
        stages["training"] = time.perf_counter() - t0
        if failures:
            print(f"{len(failures)} runs failed:\n" + "\n".join(f"  - {f}" for f in failures), file=sys.stderr)
            return 1
        machine = describe_machine(VERSIONED)
        prov = provenance_markdown(command, machine)
        written = write_all_reports(args, runs, extra, dataset, prov, fusion_cache(args), stages)
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
        "data": data_record(args, dataset),
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
        DataError: missing or malformed data, or a fold without test or training clips.
        ParameterError: a fusion method named that cannot be fitted on the folds tested."""
    keyed = by_content(args.dataset)
    dataset = None if (args.dry_run or args.status) and not keyed else open_dataset(args)
    if keyed:
        resolve_data(args, dataset)
    if dataset is not None:
        check_folds(dataset, args.folds)
    check_methods(args)
    return dataset, plan(args, dataset=dataset), plan(args, baselines=True, dataset=dataset)
