"""A description of the machine a benchmark ran on, recorded beside its results."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from importlib import metadata


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine(packages: tuple[str, ...] = ("numpy", "scipy")) -> dict[str, str]:
    """CPU model, usable cores, memory, OS, Python and the given packages' versions."""
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        memory = f"{mem:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        memory = "unknown"
    info = {
        "cpu": _cpu_model(),
        "cores": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "memory": memory,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
    for p in packages:
        try:
            info[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            pass
    return info


def command_line() -> str:
    """The command that is running, as ``python -m module args`` when run with ``-m``."""
    argv = list(sys.argv)
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:
        return "python -m " + " ".join([spec.name.removesuffix(".__main__"), *map(shlex.quote, argv[1:])])
    return "python " + " ".join(map(shlex.quote, argv))


def provenance_markdown(command: str, machine: dict[str, str]) -> str:
    """Two markdown lines: the command and the machine."""
    return f"Command: `{command}`  \nMachine: " + ", ".join(f"{k} {v}" for k, v in machine.items())


def git_commit(cwd: str | os.PathLike | None = None) -> str:
    """The commit checked out in ``cwd`` (default: this source tree), as 40 hex digits, with
    ``+dirty`` appended when tracked files differ from it; ``"unknown"`` outside a git work tree."""
    import subprocess

    cwd = cwd or os.path.dirname(os.path.abspath(__file__))
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=cwd, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], capture_output=True, cwd=cwd).returncode == 1
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")
