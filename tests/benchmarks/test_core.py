"""The leaf: the registry, the exception hierarchy, atomic writes, locks and provenance."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

import fusion
from benchmarks.core import errors
from benchmarks.core.errors import (
    CorruptRunError,
    DataError,
    ParameterError,
    RannBenchError,
    RunLockedError,
)
from benchmarks.core.io import write_atomic, write_json
from benchmarks.core.locks import locked
from benchmarks.core.provenance import git_commit
from benchmarks.core.registry import Registry, RegistryError
from fusion.dempster_shafer import TotalConflictError


def test_registry_passes_none_through():
    reg = Registry("thing")
    reg.add("f", lambda a=1, b=2: (a, b))
    assert reg.create("f", a=None) == (None, 2)
    with pytest.raises(RegistryError, match="thing 'f' is already registered"):
        reg.add("f", print)
    with pytest.raises(KeyError, match=r"unknown thing 'g'; choices: f"):
        reg.get("g")


def test_one_exception_base():
    for exc in (
        DataError,
        ParameterError,
        RunLockedError,
        CorruptRunError,
        RegistryError,
        fusion.FusionInputError,
        TotalConflictError,
    ):
        assert issubclass(exc, RannBenchError), exc
    assert issubclass(ParameterError, ValueError) and issubclass(fusion.FusionInputError, ValueError)
    # every exception class the project defines derives from the base
    ours = [v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, Exception)]
    assert all(issubclass(e, RannBenchError) for e in ours)


def test_data_error_lists_the_problems():
    exc = DataError("2 bad files", problems=[f"f{i}.wav: empty" for i in range(60)])
    assert "f0.wav: empty" in str(exc) and "... and 10 more" in str(exc)


def test_atomic_writes_leave_no_partial_file(tmp_path):
    write_atomic(tmp_path / "a" / "x.txt", "hello")
    write_json(tmp_path / "a" / "x.json", {"k": 1})
    assert (tmp_path / "a" / "x.txt").read_text() == "hello" and (
        tmp_path / "a" / "x.json"
    ).read_text() == '{\n "k": 1\n}\n'
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["x.json", "x.txt"]


def test_lock_refuses_a_second_holder(tmp_path):
    with locked(tmp_path / "run"):
        with pytest.raises(RunLockedError, match="another process holds its lock"):
            with locked(tmp_path / "run", wait=False):
                pass
    with locked(tmp_path / "run", wait=False):  # free again
        pass


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="not a git checkout")
def test_git_commit_is_the_checked_out_commit():
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout.strip()
    found = git_commit()
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", found) and found.startswith(head)


def test_git_commit_outside_a_work_tree(tmp_path):
    assert git_commit(tmp_path) == "unknown"
