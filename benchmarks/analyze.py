"""Analyse a benchmark's results without training: significance, seeds, calibration, a learned
baseline, diversity and per-class accuracy, from the committed runs a report folder names.

    python -m benchmarks.analyze results/esc50/quick
    python -m benchmarks.analyze results/esc50/quick --calibrate temperature --compare mel+mfcc:ds,mel+mfcc:stack

Reads ``<folder>/run.json`` (written by the benchmark), plans its recorded command again for the
runs (the features' runs are fused; ``--baselines`` runs are rows of their own), re-fuses the grid
with the report's methods plus ``stack`` (or ``--methods``), and writes ``analysis.md`` with CSV/JSON
beside every table, the figures, and ``analysis_run.json`` (this command, for benchmarks.reproduce)
into ``--out``: by default the report folder itself, or, for a committed report under ``results/``,
the same path under ``out/`` (ignored by git). Fused predictions of the learned methods come from
the cache the benchmark filled (``$RANN_CACHE/fusion``) and are fitted only when absent.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

from benchmarks.core.errors import RannBenchError
from benchmarks.core.io import write_json
from benchmarks.core.provenance import describe_machine, provenance_markdown
from benchmarks.runner import OUT_ROOT, fusion_cache, grid_over_seeds, open_dataset, other_models, plan, recorded_args
from fusion.analysis_report import write_analysis

RESULTS = Path("results")


def load_report(folder: Path):
    """The report's recorded options (:func:`benchmarks.runner.recorded_args`), its features' runs
    and its baseline runs.

    Raises:
        RannBenchError: no ``run.json`` there, one that cannot be read, or a command that no longer parses.
    """
    path = folder / "run.json"
    try:
        info = json.loads(path.read_text())
    except FileNotFoundError:
        raise RannBenchError(
            f"{path}: no run.json; point to a folder the benchmark wrote (e.g. results/esc50/quick)"
        ) from None
    except ValueError as exc:
        raise RannBenchError(f"{path}: cannot read it ({exc}); run the benchmark again to rewrite it") from None
    args = recorded_args(info)
    return args, [c for c, _ in plan(args)], [c for c, _ in plan(args, baselines=True)]


def default_out(folder: Path) -> Path:
    """``folder`` itself; for a committed report under ``results/``, the same path under ``out/``."""
    try:
        return OUT_ROOT / folder.resolve().relative_to(RESULTS.resolve())
    except ValueError:
        return folder


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.analyze", description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="a report folder with run.json, e.g. results/esc50/quick")
    ap.add_argument("--methods", default=None, help="comma list (default: the report's methods, then stack)")
    ap.add_argument("--calibrate", choices=["temperature"], default=None, help="also fuse temperature-scaled features")
    ap.add_argument("--compare", default="", help="pairs of systems, e.g. mel+mfcc:ds,mel+mfcc:stack")
    ap.add_argument(
        "--out", type=Path, default=None, help="where to write (default: the folder; out/... for one under results/)"
    )
    ap.add_argument("--runs-dir", default=None, help="default: the report's")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--cache-dir", default=None, help="the cache folder (default $RANN_CACHE or ~/.cache/rann)")
    return ap.parse_args(argv)


def analyse(args, command: str) -> Path:
    """Write the analysis of ``args.folder`` into ``args.out``; the markdown's path."""
    report, runs, extra = load_report(args.folder)
    if len(report.features) < 2:
        raise RannBenchError(
            f"{args.folder}: its report has one feature ({report.features[0]}), so nothing is fused and there is "
            "nothing to analyse; its models are compared in models.md"
        )
    runs_dir = args.runs_dir or report.runs_dir
    # stack needs held-out folds to fit on: added by default only with two folds or more
    extra_methods = ["stack"] if "stack" not in report.methods and len(report.folds) >= 2 else []
    methods = args.methods.split(",") if args.methods else [*report.methods, *extra_methods]
    params = {"wa": {"weights": "uniform"}} if len(report.folds) < 2 else {}
    report.data_root = args.data_root or report.data_root
    dataset = open_dataset(report, progress=False)
    cache = fusion_cache(args)
    result, aligned = grid_over_seeds(runs, runs_dir, dataset, methods, params, cache=cache)
    pairs = [p for p in args.compare.split(",") if p]
    if len(pairs) % 2:
        raise RannBenchError(f"--compare takes pairs of systems, got {len(pairs)}: {pairs}")
    others = other_models([c for c in extra if c.seed == report.seeds[0]], runs_dir, dataset, aligned)
    machine = describe_machine(("numpy", "scipy", "scikit-learn"))
    return write_analysis(
        result,
        aligned.probs,
        aligned.targets,
        aligned.folds,
        dataset.classes,
        args.out,
        pairs=pairs,
        calibrate=args.calibrate,
        method_params=params,
        provenance=provenance_markdown(command, machine),
        cache=cache,
        others=others,
    )


def main(argv: list[str] | None = None, *, command: str | None = None) -> int:
    """The exit status; ``command``: the command line recorded in the analysis (default: this one)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = command or f"python -m benchmarks.analyze {shlex.join(argv)}"
    args = parse_args(argv)
    args.out = args.out or default_out(args.folder)
    t0 = time.perf_counter()
    try:
        path = analyse(args, command)
    except RannBenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - t0
    write_json(args.out / "analysis_run.json", {"command": command, "argv": argv, "wall_seconds": round(seconds, 2)})
    print(path.read_text().split("## Headline findings")[1].split("\n## ")[0].strip())
    print(f"\nwall time: {seconds:.1f} s; {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
