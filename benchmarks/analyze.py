"""Analyse a benchmark's results without training: significance, seeds, calibration, a learned
baseline, diversity and per-class accuracy, from the committed runs a report folder names.

    python -m benchmarks.analyze results/esc50/quick
    python -m benchmarks.analyze results/esc50/quick --calibrate temperature --compare mel+mfcc:ds,mel+mfcc:stack

Reads ``<folder>/run.json`` (written by the benchmark) for the runs, re-fuses the grid with
the report's methods plus ``stack`` (or ``--methods``), and writes ``<folder>/analysis.md``
with CSV/JSON beside every table and the figures (reliability, diversity, per-class).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import fusion
from benchmarks.core.errors import RannBenchError
from benchmarks.core.provenance import (
    command_line,
    describe_machine,
    provenance_markdown,
)
from fusion.analysis_report import write_analysis
from fusion.grid import merge_seeds
from rann.config import RunConfig

PAPER_METHODS = ("wa", "ds", "ids")


def load_runs(folder: Path) -> tuple[dict, list[RunConfig]]:
    """The report's ``run.json`` and its runs' configs.

    Raises:
        RannBenchError: no ``run.json`` there, or one that cannot be read.
    """
    path = folder / "run.json"
    try:
        info = json.loads(path.read_text())
        return info, [RunConfig.from_dict(r["config"]) for r in info["runs"]]
    except FileNotFoundError:
        raise RannBenchError(
            f"{path}: no run.json; point to a folder the benchmark wrote (e.g. results/esc50/quick)"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise RannBenchError(
            f"{path}: cannot read the runs ({type(exc).__name__}: {exc}); run the benchmark again to rewrite it"
        ) from None


def grid_over_seeds(runs: list[RunConfig], runs_dir: str, dataset, methods: list[str], params: dict):
    """The grid (probabilities kept) per seed, merged; and the first seed's aligned predictions."""
    from benchmarks.runner import load_predictions

    seeds = sorted({c.seed for c in runs})
    results, first = [], None
    for seed in seeds:
        aligned = fusion.align(load_predictions([c for c in runs if c.seed == seed], runs_dir, dataset))
        first = first or aligned
        results.append(
            fusion.grid_search(
                aligned.probs,
                aligned.targets,
                aligned.folds,
                methods=methods,
                method_params=params,
                keep_probs=True,
                progress=True,
            )
        )
    return (results[0] if len(results) == 1 else merge_seeds(results, seeds)), first


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.analyze", description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="a report folder with run.json, e.g. results/esc50/quick")
    ap.add_argument("--methods", default=None, help="comma list (default: the report's methods, then stack)")
    ap.add_argument("--calibrate", choices=["temperature"], default=None, help="also fuse temperature-scaled features")
    ap.add_argument("--compare", default="", help="pairs of systems, e.g. mel+mfcc:ds,mel+mfcc:stack")
    ap.add_argument("--runs-dir", default="results/runs")
    ap.add_argument("--data-root", default=None)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    try:
        from benchmarks.datasets import create_dataset

        info, runs = load_runs(args.folder)
        # stack needs held-out folds to fit on: added by default only with two folds or more
        extra = ["stack"] if "stack" not in info["methods"] and len(info["folds"]) >= 2 else []
        methods = args.methods.split(",") if args.methods else [*info["methods"], *extra]
        params = {"wa": {"weights": "uniform"}} if len(info["folds"]) < 2 else {}
        dataset = create_dataset(runs[0].dataset, data_root=args.data_root, progress=False)
        result, aligned = grid_over_seeds(runs, args.runs_dir, dataset, methods, params)
        pairs = [p for p in args.compare.split(",") if p]
        if len(pairs) % 2:
            raise RannBenchError(f"--compare takes pairs of systems, got {len(pairs)}: {pairs}")
        prov = provenance_markdown(command_line(), describe_machine(("numpy", "scipy", "scikit-learn")))
        path = write_analysis(
            result,
            aligned.probs,
            aligned.targets,
            aligned.folds,
            dataset.classes,
            args.folder,
            pairs=pairs,
            calibrate=args.calibrate,
            method_params=params,
            provenance=prov,
        )
    except RannBenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path.read_text().split("## Headline findings")[1].split("\n## ")[0].strip())
    print(f"\nwall time: {time.perf_counter() - t0:.1f} s; {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
