"""Test-time multi-crop: score trained runs on whole clips against the mean of N crops of the
training crop's length, evenly spaced over each clip, training nothing.

    python -m benchmarks.multicrop RUN_FOLDER... --crops 1,2,3,5 --out results/esc50/long-study/multicrop
    python -m benchmarks.multicrop --table results/esc50/long-study/multicrop/multicrop.json

A run is trained on random crops of ``crop_seconds`` and tested on the whole clip; this asks
whether averaging crops of the training length does better. It needs the runs' weights
(``ema.pt``: on the machine that trained them; committed runs carry none), and the dataset.
It writes ``multicrop.json`` (the record: every run's accuracy, mAP and macro F1 per setting)
and ``multicrop.md`` (per run, the mean, and the paired difference from the whole clip);
``--table`` writes the markdown again from the record alone.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.core.errors import RannBenchError
from benchmarks.core.io import write_atomic, write_json
from benchmarks.core.provenance import command_line, describe_machine, provenance_markdown
from fusion.report import markdown_table
from rann.build import load_weights
from rann.runs import is_completed, read_config, read_predictions, verify_run
from rann.training import RunInputs, build_model, crop_length, evaluate, predict


def score_run(folder: Path, crops: list[int], data_root: str | None = None) -> dict:
    """One completed run's test fold scored for each number of ``crops`` and for 1, the whole clip
    (compared with the probabilities the run saved).

    Raises:
        RannBenchError: not a completed run, no or unreadable weights here, or the dataset is not the run's."""
    from benchmarks.datasets import create_dataset

    if not is_completed(folder):
        raise RannBenchError(f"{folder}: not a completed run (no .completed marker)")
    if not (folder / "ema.pt").is_file():
        raise RannBenchError(
            f"{folder}: no weights (ema.pt) on this machine; committed runs carry none, so score runs trained here"
        )
    cfg = read_config(folder)
    if cfg.data is not None:
        raise RannBenchError(f"{folder}: a run on a folder of your own audio; this tool reads registered datasets")
    ds = create_dataset(cfg.dataset, data_root=data_root, sr=cfg.sr, protocol=cfg.protocol, progress=False)
    problems = verify_run(folder, ds)
    if problems:
        raise RannBenchError(problems[0])  # names the file
    inputs = RunInputs(cfg, ds, progress=False)
    model = load_weights(build_model(cfg, inputs), cfg, folder)
    targets = inputs.targets[inputs.test_idx]
    length = crop_length(cfg, inputs)
    results = {}
    for n in sorted(set(crops) | {1}):
        probs = predict(model, inputs, inputs.test_idx, precision=cfg.recipe.precision, crops=n, length=length)
        results[str(n)] = {k: round(v, 6) for k, v in evaluate(probs, targets).items()}
        if n == 1:
            saved = read_predictions(folder).probs
            drift = float(np.abs(probs - saved).max())
    return {
        "run": cfg.run_name(),
        "feature": cfg.feature,
        "fold": cfg.fold,
        "seed": cfg.seed,
        "model": cfg.model,
        "precision": cfg.recipe.precision,
        "crop_seconds": cfg.recipe.crop_seconds,
        "clip_seconds": ds.duration,
        # the whole clip's probabilities against those the run saved: the weights and inputs are the run's
        "max_difference_from_saved_probs": float(f"{drift:.2g}"),
        "results": results,
    }


def paired(runs: list[dict], n: str, metric: str = "accuracy") -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one run) over ``runs`` of ``n`` crops' ``metric``
    minus the whole clip's, in points (x 100)."""
    d = [100 * (r["results"][n][metric] - r["results"]["1"][metric]) for r in runs]
    return statistics.fmean(d), statistics.stdev(d) if len(d) > 1 else 0.0


def table(record: dict) -> str:
    """The markdown of a ``multicrop.json`` record."""
    runs = record["runs"]
    crop = ", ".join(sorted({f"{r['crop_seconds']:g}" for r in runs}))
    head = ["test-time input", *(f"{r['feature']} fold {r['fold']} seed {r['seed']}" for r in runs)]
    head += ["mean accuracy", "Δ accuracy (points)", "mean mAP", "Δ mAP (points)"]
    rows = []
    for n in record["crops"]:
        label = "whole clip" if n == "1" else f"{n} crops of {crop} s"
        accs = [r["results"][n]["accuracy"] for r in runs]
        maps = [r["results"][n]["map"] for r in runs]
        delta = [f"{m:+.2f} ± {s:.2f}" if n != "1" else "" for m, s in (paired(runs, n), paired(runs, n, "map"))]
        rows.append(
            [label, *(f"{a:.4f}" for a in accs), f"{np.mean(accs):.4f}", delta[0], f"{np.mean(maps):.4f}", delta[1]]
        )
    note = (
        f"Each run scored on its test fold: the whole clip, or the mean of the class probabilities of N windows "
        f"of the training crop ({crop} s) evenly spaced from the clip's start to its end. Δ: the paired "
        f"difference from the whole clip, mean ± standard deviation over the {len(runs)} runs."
    )
    provenance = provenance_markdown(record["command"], record["machine"])
    return f"# Test-time multi-crop\n\n{provenance}\n\n{note}\n\n{markdown_table(rows, head)}\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.multicrop", description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="*", type=Path, help="completed run folders with their weights")
    ap.add_argument("--crops", default="1,2,3,5", help="comma list of crop counts (1: the whole clip)")
    ap.add_argument("--data-root", default=None, help="the dataset's folder (default: the dataset's own default)")
    ap.add_argument("--out", type=Path, default=Path("out/multicrop"), help="folder of multicrop.json / .md")
    ap.add_argument("--table", type=Path, default=None, help="a multicrop.json: write its markdown again, only that")
    args = ap.parse_args(argv)
    try:
        if args.table is not None:
            record = json.loads(args.table.read_text())
            write_atomic(args.table.with_suffix(".md"), table(record))
            print(f"wrote {args.table.with_suffix('.md')}")
            return 0
        if not args.runs:
            ap.error("give run folders (or --table RECORD)")
        try:
            crops = sorted({int(c) for c in args.crops.split(",")} | {1})
        except ValueError:
            ap.error(f"--crops: {args.crops!r} is not a comma list of whole numbers")
        if crops[0] < 1:
            ap.error(f"--crops: {crops[0]} crops; give 1 or more")
        torch.set_num_threads(1)  # the timings of evaluation do not matter; leave a core to training
        runs = []
        for folder in args.runs:
            runs.append(score_run(folder, crops, args.data_root))
            line = ", ".join(f"{n}: {v['accuracy']:.4f}" for n, v in runs[-1]["results"].items())
            print(f"{runs[-1]['run']}  accuracy by crops {line}", flush=True)
        record = {
            "command": command_line(),
            "machine": describe_machine(("torch",)),
            "crops": [str(n) for n in crops],
            "runs": runs,
        }
        write_json(args.out / "multicrop.json", record)
        write_atomic(args.out / "multicrop.md", table(record))
        print(f"wrote {args.out / 'multicrop.md'}")
        return 0
    except (RannBenchError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
