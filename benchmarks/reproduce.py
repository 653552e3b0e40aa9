"""Regenerate committed reports from their own records, training nothing, and say per folder
whether the tables came out identical (provenance lines aside).

    python -m benchmarks.reproduce                          # every report folder under results/
    python -m benchmarks.reproduce results/esc50/recipe     # one or more folders
    python -m benchmarks.reproduce results/esc50/quick --write   # also put the regenerated files there

A report folder is one with a ``run.json``: its recorded benchmark command is run again with
``--no-train`` into a temporary folder (then, where there is an ``analysis_run.json``, the
recorded ``benchmarks.analyze`` command on that), and every table (``.md``, ``.csv``, ``.json``)
is compared with the committed one, the ``Command:`` and ``Machine:`` lines aside: the text
exactly, every number to a relative 1e-9 (full-precision CSV/JSON numbers differ in their last
digit between CPUs, whose vector units sum in another order; the markdown's rounded numbers must
match exactly). Not compared:
the records themselves (``run.json``, ``analysis_run.json``), a hand-written ``README.md``,
``progress.*`` (a ``--status`` snapshot of training, not a result) and figures. Without
``--write`` nothing under the folder is touched; with it, in a folder that differs, the
regenerated tables and figures replace the committed ones (the records stay) and committed
tables that the record no longer produces are removed. Exits 1 if any folder differs or fails.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import re
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import analyze
from benchmarks.core.errors import RannBenchError
from benchmarks.datasets.layout import remake_if_missing
from benchmarks.runner import recorded_args, run
from benchmarks.runner.plan import by_content

RESULTS = Path("results")
RECORDS = {"run.json", "analysis_run.json"}
TABLES = {".md", ".csv", ".json"}
PROVENANCE = ("Command:", "Machine:")


def report_folders(root: Path = RESULTS) -> list[Path]:
    """Every folder under ``root`` with a ``run.json``, sorted."""
    return sorted(p.parent for p in root.rglob("run.json"))


def tables(folder: Path) -> set[str]:
    """The names of the report tables directly in ``folder`` (see the module's docstring)."""
    return {
        p.name
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix in TABLES
        and p.name not in RECORDS | {"README.md"}
        and not p.name.startswith("progress.")
    }


def _quiet(fn, *args, **kwargs) -> int:
    """``fn(*args, **kwargs)`` with its output captured; what it printed to stderr is raised on failure."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = fn(*args, **kwargs)
    if rc != 0:
        raise RannBenchError((err.getvalue().strip() or out.getvalue().strip()).splitlines()[-1])
    return rc


def _with(argv: list[str], option: str, value: str) -> list[str]:
    """``argv`` with ``option`` set to ``value`` (replaced where present, else appended)."""
    out, skip = [], False
    for i, word in enumerate(argv):
        if skip:
            skip = False
        elif word == option:
            skip = True
        elif not word.startswith(option + "="):
            out.append(word)
    return [*out, option, value]


def regenerate(folder: Path, dest: Path, *, data_root: str | None = None) -> None:
    """Run ``folder``'s recorded commands again into ``dest``, training nothing.

    Raises:
        RannBenchError: a record that cannot be read or run, or a run that is not completed here.
    """
    info = json.loads((folder / "run.json").read_text())
    args = recorded_args(info)  # checks the record before anything runs
    if data_root is None and by_content(args.dataset) and args.data_root:
        remake_if_missing(args.data_root)  # a layout of registered data (out/layouts/esc10): made again
    argv = _with(info.get("argv", shlex.split(info["command"])[3:]), "--out", str(dest)) + ["--no-train"]
    if data_root:
        argv = _with(argv, "--data-root", data_root)
    module = __import__(shlex.split(info["command"])[2], fromlist=["BENCHMARK"])
    _quiet(run, module.BENCHMARK, argv, command=info["command"])
    record = folder / "analysis_run.json"
    if record.is_file():
        a = json.loads(record.read_text())
        recorded = str(analyze.parse_args(a["argv"]).folder)
        a_argv = _with([str(dest) if w == recorded else w for w in a["argv"]], "--out", str(dest))
        _quiet(analyze.main, _with(a_argv, "--data-root", data_root) if data_root else a_argv, command=a["command"])


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.startswith(PROVENANCE)]


NUMBER = re.compile(r"(-?\d+\.\d+(?:e[-+]?\d+)?|-?\d+e[-+]?\d+)")


def same_line(a: str, b: str, rel: float = 1e-9) -> bool:
    """Whether two lines agree: their text exactly, their decimal numbers to a relative ``rel``."""
    if a == b:
        return True
    pa, pb = NUMBER.split(a), NUMBER.split(b)  # text at even positions, numbers at odd ones
    if len(pa) != len(pb) or pa[::2] != pb[::2]:
        return False
    return all(math.isclose(float(x), float(y), rel_tol=rel, abs_tol=1e-12) for x, y in zip(pa[1::2], pb[1::2]))


def compare(folder: Path, dest: Path) -> list[str]:
    """The differences between the committed tables in ``folder`` and the regenerated ones in ``dest``."""
    committed, produced = tables(folder), tables(dest)
    problems = []
    for name in sorted(committed | produced):
        if name not in produced:
            problems.append(f"{name}: committed, but its record does not produce it")
        elif name not in committed:
            problems.append(f"{name}: produced by its record, but not committed")
        else:
            a, b = _lines(folder / name), _lines(dest / name)
            if len(a) != len(b) or not all(map(same_line, a, b)):
                i = next((i for i, (x, y) in enumerate(zip(a, b)) if not same_line(x, y)), min(len(a), len(b)))
                show = (a[i] if i < len(a) else "<end>")[:100], (b[i] if i < len(b) else "<end>")[:100]
                problems.append(f"{name}: line {i + 1} differs: committed {show[0]!r}, regenerated {show[1]!r}")
    return problems


def write_back(folder: Path, dest: Path) -> None:
    """Put ``dest``'s regenerated files (tables and figures, not the records) into ``folder``;
    remove committed tables that the record no longer produces."""
    for name in tables(folder) - tables(dest):
        (folder / name).unlink()
    for p in dest.iterdir():
        if p.is_file() and p.name not in RECORDS:
            shutil.copyfile(p, folder / p.name)


def reproduce(folder: Path, *, write: bool = False, data_root: str | None = None) -> tuple[list[str], float]:
    """Regenerate ``folder`` and compare; the problems (empty: identical) and the seconds taken."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="reproduce-") as tmp:
        dest = Path(tmp)
        try:
            regenerate(folder, dest, data_root=data_root)
        except (RannBenchError, OSError, ValueError, KeyError) as exc:
            return [f"cannot regenerate: {exc}"], time.perf_counter() - t0
        problems = compare(folder, dest)
        if write and problems:  # an identical folder keeps its files, figures and provenance lines too
            write_back(folder, dest)
    return problems, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.reproduce", description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="*", type=Path, help="report folders (default: every one under results/)")
    ap.add_argument("--write", action="store_true", help="put the regenerated tables and figures into the folders")
    ap.add_argument("--data-root", default=None)
    args = ap.parse_args(argv)
    folders = args.folders or report_folders()
    if not folders:
        print("error: no report folder (one with a run.json) under results/", file=sys.stderr)
        return 1
    counts, t0 = dict.fromkeys(("identical", "rewritten", "DIFFERS", "FAILED"), 0), time.perf_counter()
    for folder in folders:
        if not (folder / "run.json").is_file():
            print(f"{folder}: FAILED: no run.json, not a report folder", flush=True)
            counts["FAILED"] += 1
            continue
        problems, seconds = reproduce(folder, write=args.write, data_root=args.data_root)
        failed = bool(problems) and problems[0].startswith("cannot regenerate")
        state = "identical" if not problems else "FAILED" if failed else "rewritten" if args.write else "DIFFERS"
        counts[state] += 1
        print(f"{folder}: {state} ({len(tables(folder))} tables, {seconds:.1f} s)", flush=True)
        for p in problems:
            print(f"  - {p}", flush=True)
    summary = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    print(f"{len(folders)} report folders: {summary}; {time.perf_counter() - t0:.1f} s")
    return 1 if counts["DIFFERS"] or counts["FAILED"] else 0


if __name__ == "__main__":
    sys.exit(main())
