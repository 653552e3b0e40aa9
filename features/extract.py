"""Extract features for a whole dataset into the cache.

    python -m features.extract esc50 --features mel,mfcc,cqt [--device cpu|cuda] [--batch 32]

``--features all`` (the default) is every registered feature except trainable ones (the
wavegram is learned with the model and computed on the fly). Finished features are reused;
an interrupted extraction resumes where it stopped.
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

import features
from benchmarks.core.errors import DataError
from benchmarks.datasets import create_dataset, list_datasets
from features import store


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m features.extract", description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", choices=list_datasets())
    ap.add_argument("--features", default="all", help="comma list of features, or 'all'")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--batch", type=int, default=32, help="clips per batch")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument(
        "--report",
        default=None,
        help="also write the timings as markdown to this file (e.g. results/features/extract_esc50.md)",
    )
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda but CUDA is not available", file=sys.stderr)
        return 1
    names = (
        [n for n in features.list_features() if features.get_feature_class(n).cacheable()]
        if args.features == "all"
        else args.features.split(",")
    )
    try:
        for n in names:
            features.get_feature_class(n)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 1
    try:
        ds = create_dataset(args.dataset, data_root=args.data_root, cache_dir=args.cache_dir)
        t_all = time.perf_counter()
        ds.waveforms()
        rows = [("waveforms (decode or load)", f"{tuple(ds.waveforms().shape)}", time.perf_counter() - t_all)]
        print(f"waveforms: {rows[0][2]:.1f} s")
        for n in names:
            feat = features.create(n)
            if not feat.cacheable():
                print(f"{n}: learned with the model, computed on the fly (not cached)")
                continue
            t0 = time.perf_counter()
            s = store.extract(ds, feat, batch_size=args.batch, device=args.device)
            rows.append((n, str(tuple(s.array.shape)), time.perf_counter() - t0))
            print(f"{n}: {tuple(s.array.shape)} in {rows[-1][2]:.1f} s -> {s.folder}", flush=True)
        total = time.perf_counter() - t_all
        print(f"total: {total:.1f} s")
        if args.report:
            _report(args.report, rows + [("total", "", total)], args.device)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _report(path: str, rows: list[tuple[str, str, float]], device: str) -> None:
    from pathlib import Path

    from tabulate import tabulate

    from benchmarks.core.io import write_atomic
    from benchmarks.core.provenance import (
        command_line,
        describe_machine,
        provenance_markdown,
    )

    machine = describe_machine(("torch",))
    machine["torch threads"] = str(torch.get_num_threads())
    table = tabulate(
        [(n, shape, f"{t:.1f}") for n, shape, t in rows],
        headers=["step", "shape", "wall (s)"],
        tablefmt="github",
        disable_numparse=True,
    )
    note = (
        "Times include reading the waveforms and writing each memory-mapped array; "
        "a feature already in the cache takes well under a second."
    )
    write_atomic(
        Path(path),
        f"# Feature extraction on {device}\n\n{provenance_markdown(command_line(), machine)}\n\n{note}\n\n{table}\n",
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
