"""What a report folder remembers of the command that wrote it (``run.json``), and the refusal
to replace a report that another command wrote (``--overwrite`` to do it anyway)."""

from __future__ import annotations

import contextlib
import io
import json
import shlex

from benchmarks.core.errors import ParameterError, RannBenchError
from benchmarks.runner.cli import CONTENT_OPTIONS, parse_args
from benchmarks.runner.plan import by_content

#: Packages whose versions go into every report's provenance.
VERSIONED = ("torch", "numpy", "scipy", "librosa", "scikit-learn")


#: The options that decide what a report holds; two commands that agree on them write the same tables.
SELECTION = (
    "dataset",
    "features",
    "methods",
    "grid",
    "profile",
    "folds",
    "protocol",
    "seeds",
    "model",
    "recipe",
    "baselines",
    "analysis",
    "calibrate",
    "runs_dir",
)


def selection(args) -> dict:
    """What ``args`` select, comparable across commands (:data:`SELECTION`; for a dataset read from
    its content, also the folder and how it is read)."""
    keys = list(SELECTION)
    if by_content(args.dataset):
        keys += ["data_root", *CONTENT_OPTIONS]
    return json.loads(json.dumps({k: getattr(args, k, None) for k in keys}, default=str))


def recorded_args(info: dict):
    """The parsed options of the command recorded in a report's ``run.json`` (``info``).

    Raises:
        RannBenchError: the record names no benchmark module, or options this version cannot parse.
    """
    import importlib

    words = shlex.split(info.get("command", ""))
    if len(words) < 3 or words[:2] != ["python", "-m"]:
        raise RannBenchError(f"run.json records no 'python -m benchmarks.<dataset>' command: {info.get('command')!r}")
    try:
        bench = importlib.import_module(words[2]).BENCHMARK
        with contextlib.redirect_stderr(io.StringIO()) as err:
            args = parse_args(bench, info.get("argv", words[3:]))
        args.data = info.get("data", {}).get("key")
        args.train_clips = {int(k): n for k, n in info.get("data", {}).get("train_clips", {}).items()} or None
        args.folds = args.folds or info.get("folds")
        return args
    except (ImportError, AttributeError):
        raise RannBenchError(f"run.json records {words[2]!r}, which is not a benchmark module") from None
    except SystemExit:
        raise RannBenchError(
            f"run.json's command no longer parses: {err.getvalue().strip().splitlines()[-1]}"
        ) from None


def check_out(args) -> None:
    """Refuse to replace a report in ``args.out`` that a command with another selection wrote.

    Raises:
        ParameterError: naming the recorded command and the ways out.
    """
    path = args.out / "run.json"
    if args.overwrite or not path.is_file():
        return
    try:
        info = json.loads(path.read_text())
        same = selection(recorded_args(info)) == selection(args)
    except (ValueError, RannBenchError):
        info, same = {}, False
    if not same:
        raise ParameterError(
            f"{args.out} holds the report of another command ({info.get('command', 'unreadable run.json')}); "
            f"this one would replace it. Write to another folder (--out DIR), regenerate that report with "
            f"`python -m benchmarks.reproduce {args.out}`, or pass --overwrite to replace it"
        )


def data_record(args, dataset) -> dict:
    """What ``run.json`` says of the data: enough to serve new audio as the runs were served
    (``benchmarks.predict``) and to plan the runs again (``key``)."""
    record = {
        "dataset": args.dataset,
        "name": args.name,
        "key": args.data,
        "sr": dataset.sr,
        "duration": dataset.duration,
        "align": dataset.align,
        "classes": dataset.classes,
    }
    if args.train_clips:  # a dataset read from its content: what resolves a budget in steps without it
        record["train_clips"] = {str(k): n for k, n in args.train_clips.items()}
    return record
