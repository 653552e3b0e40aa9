"""Classify audio files with a report's trained ensemble.

    python -m benchmarks.predict out/esc50/quick dog.wav rain.ogg --top 3
    python -m benchmarks.predict out/birds/quick recordings/*.flac --method ds --json
    python -m benchmarks.predict out/birds/quick recordings/ --csv predictions.csv   # every file under a folder

Loads the models of the report's runs (each feature's fold models averaged), computes each
feature, fuses with the report's method (``--method`` for another) and prints, per file, the most
probable classes. Files longer than the training clips are read in windows of that length
(:mod:`benchmarks.ensemble` says how). Exits 1 with one line on a folder without runs, runs
without weights here, a folder without audio, or a file that does not decode. With ``--csv``, a
file that does not decode gets its error in the table's ``error`` column and the others go on
(exit 1 at the end, naming how many).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

from benchmarks.core.errors import DataError, RannBenchError
from benchmarks.core.io import write_atomic
from benchmarks.datasets.folder import AUDIO_SUFFIXES, audio_files_under


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.predict", description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="a report folder with run.json, e.g. out/esc50/quick")
    ap.add_argument(
        "files",
        nargs="+",
        type=Path,
        help="audio files (WAV, FLAC, Ogg; any rate, mono or stereo), or folders: every audio file under them",
    )
    ap.add_argument("--method", default=None, help="fusion method (default: the report's first)")
    ap.add_argument("--top", type=int, default=5, help="classes to show per file (default 5)")
    ap.add_argument("--json", action="store_true", help="print JSON: one object per file")
    ap.add_argument("--csv", type=Path, default=None, help="write a table instead: a row per file, its top classes")
    ap.add_argument("--runs-dir", default=None, help="where the runs are (default: the report's)")
    ap.add_argument("--data-root", default=None, help="the dataset, for reports that do not record their classes")
    return ap.parse_args(argv)


def audio_files(paths: list[Path]) -> list[Path]:
    """``paths`` with each folder replaced by the audio files under it (sorted; hidden ones skipped).

    Raises:
        DataError: a path that does not exist, or a folder with no audio file under it."""
    out = []
    for p in paths:
        if p.is_dir():
            found = audio_files_under(p)
            if not found:
                raise DataError(f"{p}: no audio files under it ({', '.join(AUDIO_SUFFIXES)})")
            out += found
        elif not p.exists():
            raise DataError(f"{p}: no such file or folder")
        else:
            out.append(p)
    return out


def write_table(path: Path, rows: list[tuple[Path, list, str]], top: int) -> None:
    """The ``--csv`` table: ``file``, ``label_1``, ``probability_1``, ... ``label_<top>``, ``probability_<top>``,
    ``error`` (empty, or why the file was not classified)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["file", *(f"{k}_{i}" for i in range(1, top + 1) for k in ("label", "probability")), "error"])
    for f, ranked, error in rows:
        cells = [c for label, prob in ranked for c in (label, f"{prob:.6f}")]
        w.writerow([str(f), *cells, *[""] * (2 * top - len(cells)), error])
    write_atomic(path, buf.getvalue())


def _classify(ens, files: list[Path], top: int, *, keep_going: bool) -> list[tuple[Path, list, str]]:
    """``(file, [(class, probability), ...], error)`` per file, with a progress bar; a file that does
    not decode raises, or with ``keep_going`` gets its error and an empty ranking."""
    rows = []
    for f in tqdm(files, desc="classifying", unit="file", disable=len(files) < 2):
        try:
            rows.append((f, ens.top(ens.predict_file(f), top), ""))
        except DataError as exc:
            if not keep_going:
                raise
            rows.append((f, [], str(exc)))
    return rows


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from benchmarks.ensemble import Ensemble

    try:
        files = audio_files(args.files)
        ens = Ensemble.load(args.folder, method=args.method, runs_dir=args.runs_dir, data_root=args.data_root)
        t0 = time.perf_counter()
        rows = _classify(ens, files, args.top, keep_going=args.csv is not None)
        seconds = time.perf_counter() - t0
    except RannBenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.csv is not None:
        write_table(args.csv, rows, args.top)
        failed = sum(bool(error) for _, _, error in rows)
        print(
            f"{len(rows)} files -> {args.csv} ({len(rows) / seconds:.1f} files/s; "
            f"{', '.join(ens.members)}, fused with {ens.method_name or 'nothing'})"
        )
        if failed:
            print(f"error: {failed} of {len(rows)} files were not classified: see the error column", file=sys.stderr)
        return 1 if failed else 0
    results = [(f, ranked) for f, ranked, _ in rows]
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
