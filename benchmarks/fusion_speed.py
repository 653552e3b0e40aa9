"""Time the full fusion grid on ESC-50-sized inputs: 2,000 clips x 50 classes, 5 features,
5 folds, every combination of two or more features (26) x each method.

    python -m benchmarks.fusion_speed [--methods wa,ds,ids] [--repeats 5] [--out out/fusion]

The per-feature probabilities are synthetic (softmax of noisy logits with errors shared
between features, accuracies near the paper's), since only their shape matters for speed.
Writes ``grid_speed.md``/``.csv`` and, from the same synthetic predictions, an example report
(``example/``) that shows the table layout.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import fusion
from benchmarks.core.io import write_atomic
from benchmarks.core.provenance import (
    command_line,
    describe_machine,
    provenance_markdown,
)
from fusion.report import rows_to_csv, write_report

FEATURES = ("mel", "mfcc", "cqt", "gfcc", "wavegram")
SIGNAL = (3.4, 3.1, 2.8, 2.7, 2.7)  # logit boost of the true class, per feature


def synthetic_predictions(n_clips: int = 2000, n_classes: int = 50, seed: int = 0):
    """``(probs_by_feature, targets, folds)`` shaped like ESC-50 test-fold predictions."""
    rng = np.random.default_rng(seed)
    targets = np.repeat(np.arange(n_classes), n_clips // n_classes)
    rng.shuffle(targets)
    folds = np.arange(n_clips) % 5 + 1
    shared = rng.normal(size=(n_clips, n_classes))
    probs = {}
    for f, s in zip(FEATURES, SIGNAL):
        logits = 1.2 * (0.7 * shared + 0.7 * rng.normal(size=(n_clips, n_classes)))
        logits[np.arange(n_clips), targets] += s
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs[f] = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return probs, targets, folds


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.fusion_speed", description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", default="wa,ds,ids", help="comma list of fusion methods")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument(
        "--out",
        default="out/fusion",
        help="folder for grid_speed.md/.csv and example/ (the committed ones: results/fusion)",
    )
    args = ap.parse_args(argv)
    methods = args.methods.split(",")
    probs, targets, folds = synthetic_predictions()
    fusion.grid_search(probs, targets, folds, methods=methods)  # warm-up (imports, caches)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        result = fusion.grid_search(probs, targets, folds, methods=methods)
        times.append(time.perf_counter() - t0)
    n_systems = len(result.fused)
    machine = describe_machine()
    command = command_line()
    row = {
        "clips": len(targets),
        "classes": probs["mel"].shape[1],
        "features": len(FEATURES),
        "folds": 5,
        "combinations": n_systems // len(methods),
        "methods": "+".join(methods),
        "systems": n_systems,
        "repeats": args.repeats,
        "min_s": round(min(times), 4),
        "median_s": round(statistics.median(times), 4),
        "max_s": round(max(times), 4),
    }
    print(
        f"grid of {row['combinations']} combinations x {len(methods)} methods ({n_systems} systems, "
        f"5-fold leakage-free fitting, 3 metrics) on {row['clips']} clips x {row['classes']} classes: "
        f"median {row['median_s']:.3f} s, min {row['min_s']:.3f} s over {args.repeats} runs"
    )
    out = Path(args.out)
    from tabulate import tabulate

    table = tabulate([list(row.values())], headers=list(row), tablefmt="github")
    write_atomic(out / "grid_speed.md", f"# Fusion grid speed\n\n{provenance_markdown(command, machine)}\n\n{table}\n")
    write_atomic(
        out / "grid_speed.csv",
        rows_to_csv([{**row, **{f"machine_{k}": v for k, v in machine.items()}, "command": command}]),
    )
    note = "**Synthetic predictions** (benchmarks.fusion_speed): this shows the layout, not results."
    write_report(result, out / "example", provenance=f"{note}\n\n{provenance_markdown(command, machine)}")
    print(f"wrote {out / 'grid_speed.md'} and {out / 'example'}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
