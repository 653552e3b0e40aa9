"""Data commands.

    python -m benchmarks.data check esc50 [--data-root DIR] [--cache-dir DIR]
    python -m benchmarks.data download esc50 --root DIR [--url URL]
    python -m benchmarks.data list
    python -m benchmarks.data layout esc10 [DIR]    # ESC-10 as your own data: labels.csv + links (out/layouts/esc10)

``check`` decodes every clip (through the waveform cache) and compares the data with the
official release: clip count, clips per class and per fold, native rate and duration,
NaN/inf and all-zero clips. It prints a summary table and exits 1 listing every bad file.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tabulate import tabulate

from benchmarks.core.errors import CorruptRunError, DataError
from benchmarks.datasets import ClipDataset, create_dataset, list_datasets


@dataclass
class CheckReport:
    """The outcome of :func:`check_dataset`: summary rows and every bad file."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # check, expected, found, status
    bad_files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad_files and all(r[3] != "FAIL" for r in self.rows)

    def add(self, check: str, expected, found, ok: bool) -> None:
        self.rows.append((check, str(expected), str(found), "ok" if ok else "FAIL"))

    def table(self) -> str:
        return tabulate(self.rows, headers=["check", "expected", "found", "status"], tablefmt="github")


def _counts(values: np.ndarray) -> str:
    u, c = np.unique(values, return_counts=True)
    return f"{len(u)} x {c.min()}" if c.min() == c.max() else f"{len(u)} groups, {c.min()}-{c.max()} each"


def source_fold_leaks(meta) -> list[tuple[object, int, list[int]]]:
    """``(src_file, target, folds)`` for every source recording whose clips of one class span
    several folds (the official protocol keeps them in one fold)."""
    folds = meta.groupby(["src_file", "target"])["fold"].unique()
    return [(s, int(t), sorted(map(int, f))) for (s, t), f in folds.items() if len(f) > 1]


def _add_counts(rep: CheckReport, what: str, values: np.ndarray, n_groups: int, want: int | tuple[int, ...]) -> None:
    """One row: clips per class (or fold) against one expected number or one per group."""
    _, counts = np.unique(values, return_counts=True)
    ok = len(counts) == n_groups and (counts == np.broadcast_to(np.asarray(want), (n_groups,))).all()
    if np.ndim(want) == 0:
        rep.add(f"clips per {what}", f"{n_groups} x {want}", _counts(values), ok)
    else:
        rep.add(f"clips per {what}", ", ".join(map(str, want)), ", ".join(map(str, counts)), ok)


def _check_sources(ds: ClipDataset, rep: CheckReport) -> None:
    """Clips cut from one source recording (``src_file``) must share a fold."""
    leaks = source_fold_leaks(ds.meta)
    groups = ds.meta.groupby(["src_file", "target"]).ngroups
    rep.add("(recording, class) in one fold", "all", f"{groups - len(leaks)} of {groups}", not leaks)
    rep.bad_files += [f"src_file {s}, target {t}: clips in folds {f}" for s, t, f in leaks]
    shared = ds.meta.groupby("src_file")["fold"].nunique()
    shared = shared[shared > 1]
    if len(shared):  # the official ESC-50 has 4: one recording cut for two related classes
        rep.rows.append(("recordings in 2 classes and 2 folds", "-", ", ".join(map(str, shared.index)), "info"))


def _check_native(ds: ClipDataset, rep: CheckReport, paths: list) -> None:
    """The source files' rates, channels and durations against the release's."""
    exp, info = ds.expected, ds.native_info()
    bad_rate = [
        f"{p}: sample rate {i.sample_rate} Hz, expected {exp.sample_rate}"
        for p, i in zip(paths, info)
        if exp.sample_rate and i.sample_rate != exp.sample_rate
    ]
    rep.add(
        "native sample rate (Hz)",
        exp.sample_rate or "any",
        ", ".join(map(str, sorted({i.sample_rate for i in info}))),
        not bad_rate,
    )
    if exp.sample_rate is None:
        rep.rows.append(("native channels", "-", ", ".join(map(str, sorted({i.channels for i in info}))), "info"))
    durs = np.array([i.duration for i in info])
    if isinstance(exp.duration, tuple):  # a range of durations
        lo, hi = exp.duration
        bad_dur = [f"{p}: {d:.4f} s, expected {lo}-{hi} s" for p, d in zip(paths, durs) if not lo <= d <= hi]
        rep.add("native duration (s)", f"{lo}-{hi}", f"{durs.min():.3f}-{durs.max():.3f}", not bad_dur)
        rep.rows.append(
            (
                "duration percentiles 5/25/50/75/95 (s)",
                "-",
                " / ".join(f"{v:.2f}" for v in np.percentile(durs, [5, 25, 50, 75, 95])),
                "info",
            )
        )
        rep.rows.append(
            (
                f"clips longer than the served {ds.duration:g} s ({ds.align}-aligned)",
                "-",
                f"{(durs > ds.duration).sum()} ({(durs > ds.duration).mean():.1%})",
                "info",
            )
        )
    else:
        want = round(exp.duration * exp.sample_rate)
        bad_dur = [
            f"{p}: {i.duration:.4f} s, expected {exp.duration} s"
            for p, i in zip(paths, info)
            if i.sample_rate == exp.sample_rate and i.frames != want
        ]
        rep.add("native duration (s)", exp.duration, f"{durs.min():.3f}-{durs.max():.3f}", not bad_dur)
    rep.bad_files += bad_rate + bad_dur


def _check_served(ds: ClipDataset, rep: CheckReport, waves: np.ndarray, paths: list) -> None:
    """What is served: no NaN/inf or all-zero clip, the asked rate and length."""
    n = len(ds)
    nonfinite, silent = [], []
    for start in range(0, n, 256):  # the cache refuses NaN/inf when it is built; re-check what is served
        block = np.asarray(waves[start : start + 256])
        nonfinite += [paths[start + k] for k in np.flatnonzero(~np.isfinite(block).all(axis=1))]
        silent += [paths[start + k] for k in np.flatnonzero(~block.any(axis=1))]
    rep.add("NaN/inf clips", 0, len(nonfinite), not nonfinite)
    rep.add("all-zero clips", 0, len(silent), not silent)
    rep.add(
        "served as",
        f"{ds.sr} Hz x {ds.duration} s",
        f"{waves.shape[0]} x {waves.shape[1]} float32",
        waves.shape == (n, round(ds.sr * ds.duration)),
    )
    rep.bad_files += [f"{p}: decodes to NaN or inf" for p in nonfinite] + [f"{p}: all samples are zero" for p in silent]


def check_dataset(ds: ClipDataset) -> CheckReport:
    """Decode every clip of ``ds`` and compare it with ``ds.expected``."""
    exp, rep = ds.expected, CheckReport()
    n = len(ds)
    rep.add("clips", exp.n_clips, n, n == exp.n_clips)
    _add_counts(rep, "class", ds.targets, exp.n_classes, exp.clips_per_class)
    _add_counts(rep, "fold", ds.folds, exp.n_folds, exp.clips_per_fold)
    if "src_file" in ds.meta:
        _check_sources(ds, rep)
    for check, expected, found, ok in ds.extra_checks():
        rep.add(check, expected, found, ok)
    try:
        waves = ds.waveforms()
    except DataError as exc:
        rep.add("decodable", n, n - len(exc.problems), False)
        rep.bad_files += exc.problems or [str(exc)]
        return rep
    rep.add("decodable", n, n, True)
    paths = list(ds.meta["path"])
    _check_native(ds, rep, paths)
    _check_served(ds, rep, waves, paths)
    return rep


def verify_runs(runs_dir: str | Path, data_root: str | Path | None = None) -> tuple[int, list[str]]:
    """Check every completed run under ``runs_dir`` (``<dataset>/<profile>/<feature>/<run>/``):
    readable config, metrics and predictions, the clips' names, targets and folds as in the
    dataset opened with the run's protocol (when the dataset is found). Returns the number of
    runs checked and the problems."""
    from rann.runs import read_config, verify_run

    checked, problems = 0, []
    for ds_dir in sorted(p for p in Path(runs_dir).iterdir() if p.is_dir()):
        datasets: dict[str | None, ClipDataset | None] = {}  # per protocol, opened once
        for marker in sorted(ds_dir.glob("*/*/*/.completed")):
            try:
                protocol = read_config(marker.parent).protocol
            except CorruptRunError:
                protocol = None  # verify_run reports the config
            if protocol not in datasets:
                datasets[protocol] = _open_for_runs(ds_dir.name, data_root, protocol)
            checked += 1
            problems += verify_run(marker.parent, datasets[protocol])
    return checked, problems


def _open_for_runs(name: str, data_root, protocol: str | None) -> ClipDataset | None:
    """Dataset ``name`` with the folds of ``protocol``, or ``None`` (with a note) where it is not found."""
    try:
        return create_dataset(name, data_root=data_root, progress=False, protocol=protocol)
    except (DataError, KeyError) as exc:
        print(f"note: {name}: runs checked without the dataset ({str(exc).splitlines()[0]})", file=sys.stderr)
        return None


def build_parser() -> argparse.ArgumentParser:
    """The subcommands and their options."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.data", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_check = sub.add_parser("check", help="decode every clip and check the dataset against the official release")
    p_check.add_argument("dataset", choices=list_datasets())
    p_check.add_argument(
        "--data-root", default=None, help="dataset folder (default: RANN_DATA, ../shared/data, ~/.cache/rann)"
    )
    p_check.add_argument("--cache-dir", default=None, help="cache folder (default: RANN_CACHE or ~/.cache/rann)")
    p_check.add_argument("--workers", type=int, default=None, help="decoding processes (default: all cores)")
    p_dl = sub.add_parser("download", help="download and unpack the official archive")
    p_dl.add_argument("dataset", choices=list_datasets())
    p_dl.add_argument("--root", required=True, help="folder to create for the dataset")
    p_dl.add_argument("--url", default=None, help="archive address (default: the official one)")
    p_dl.add_argument("--timeout", type=float, default=10.0, help="seconds to wait on the network")
    sub.add_parser("list", help="list the registered datasets")
    from benchmarks.datasets.layout import LAYOUTS

    p_lay = sub.add_parser(
        "layout", help="write registered data as your own: DIR/labels.csv and links to its audio (for --dataset folder)"
    )
    p_lay.add_argument("layout", choices=list(LAYOUTS), help="; ".join(f"{k}: {v[1]}" for k, v in LAYOUTS.items()))
    p_lay.add_argument("out", nargs="?", default=None, help="folder to write (default out/layouts/<layout>)")
    p_lay.add_argument("--data-root", default=None, help="the registered dataset's folder (default: as for check)")
    p_runs = sub.add_parser("verify-runs", help="check every completed run's artifacts against its dataset")
    p_runs.add_argument("--runs-dir", default="results/runs")
    p_runs.add_argument("--data-root", default=None, help="dataset folder, when the runs are of one dataset")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)

    try:
        if args.command == "list":
            print("\n".join(list_datasets()))
            return 0
        if args.command == "verify-runs":
            checked, problems = verify_runs(args.runs_dir, args.data_root)
            print(f"{checked} completed runs checked under {args.runs_dir}: {len(problems)} problems")
            print("\n".join(f"  - {p}" for p in problems), file=sys.stderr)
            return 1 if problems or not checked else 0
        if args.command == "layout":
            from benchmarks.datasets.layout import LAYOUT_ROOT, write_layout

            out = args.out or LAYOUT_ROOT / args.layout
            root = write_layout(args.layout, out, args.data_root)
            print(f"{args.layout}: {root / 'labels.csv'} and {root / 'audio'}/ (links); next:")
            print(f"  python -m benchmarks.data check folder --data-root {out}")
            return 0
        if args.command == "download":
            from benchmarks.datasets.download import download_dataset

            root = download_dataset(args.dataset, args.root, url=args.url, timeout=args.timeout)
            print(f"{args.dataset} is ready in {root}")
            return 0
        t0 = time.perf_counter()
        ds = create_dataset(args.dataset, data_root=args.data_root, cache_dir=args.cache_dir, workers=args.workers)
        report = check_dataset(ds)
        wall = time.perf_counter() - t0
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.dataset} at {ds.root}\n")
    print(report.table())
    print(f"\nwall time: {wall:.1f} s")
    if report.bad_files:
        print(f"\n{len(report.bad_files)} bad files:", file=sys.stderr)
        print("\n".join(f"  - {b}" for b in report.bad_files), file=sys.stderr)
    print("OK" if report.ok else "FAILED")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
