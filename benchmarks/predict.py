"""Classify audio files with a report's trained ensemble.

    python -m benchmarks.predict out/esc50/quick dog.wav rain.ogg --top 3
    python -m benchmarks.predict out/birds/quick recordings/*.flac --method ds --json

Loads the models of the report's runs (each feature's fold models averaged), computes each
feature, fuses with the report's method (``--method`` for another) and prints, per file, the most
probable classes. Files longer than the training clips are read in windows of that length
(:mod:`benchmarks.ensemble` says how). Exits 1 with one line on a folder without runs, runs
without weights here, or a file that does not decode.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.core.errors import RannBenchError


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.predict", description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="a report folder with run.json, e.g. out/esc50/quick")
    ap.add_argument("files", nargs="+", type=Path, help="audio files (WAV, FLAC, Ogg; any rate, mono or stereo)")
    ap.add_argument("--method", default=None, help="fusion method (default: the report's first)")
    ap.add_argument("--top", type=int, default=5, help="classes to show per file (default 5)")
    ap.add_argument("--json", action="store_true", help="print JSON: one object per file")
    ap.add_argument("--runs-dir", default=None, help="where the runs are (default: the report's)")
    ap.add_argument("--data-root", default=None, help="the dataset, for reports that do not record their classes")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from benchmarks.ensemble import Ensemble

    try:
        ens = Ensemble.load(args.folder, method=args.method, runs_dir=args.runs_dir, data_root=args.data_root)
        results = [(f, ens.top(ens.predict_file(f), args.top)) for f in args.files]
    except RannBenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        out = [
            {
                "file": str(f),
                "method": ens.method_name,
                "top": [{"label": c, "probability": round(p, 6)} for c, p in top],
            }
            for f, top in results
        ]
        print(json.dumps(out, indent=1))
        return 0
    n_models = sum(len(m) for m in ens.members.values())
    print(
        f"{args.folder}: {', '.join(ens.members)} ({n_models} models), fused with {ens.method_name or 'nothing'}; "
        f"{ens.sr} Hz, windows of {ens.duration:g} s"
    )
    for f, top in results:
        print(f"\n{f}")
        for rank, (c, p) in enumerate(top, 1):
            print(f"  {rank}. {c:30s} {p:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
