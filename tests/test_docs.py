"""Every ``python -m ...`` command in the README and in ``docs/`` parses: its module exists, its
options are known and, for a benchmark, its features, fusion methods, models and recipe settings
are registered. A documented command cannot rot unnoticed."""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
OURS = ("benchmarks.", "features.", "rann.", "fusion.")
#: placeholders the docs may use in a command, and a value that parses in their place
PLACEHOLDERS = {"<dataset>": "esc50", "<name>": "esc50"}


def documented_commands() -> list[tuple[str, int, str]]:
    """``(page, line, command)`` for every ``python -m <our module> ...`` in a code block or an
    inline code span, continuation lines joined and trailing comments dropped."""
    out = []
    for page in PAGES:
        text = page.read_text().replace("\\\n", " ")
        for n, line in enumerate(text.splitlines(), 1):
            spans = re.findall(r"`(python -m [^`]+)`", line) or (
                [line[line.index("python -m ") :]]
                if line.lstrip().startswith(("python -m ", "time python -m "))
                else []
            )
            for cmd in spans:
                cmd = re.split(r"\s+#\s", cmd)[0].strip()
                if cmd.split()[2].startswith(OURS):
                    out.append((page.name, n, cmd))
    return out


class _Parsed(Exception):
    pass


def _parses(module, argv: list[str], monkeypatch) -> None:
    """Run ``module.main(argv)`` only as far as its argument parser: stop right after a successful parse."""
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        original(self, args, namespace)
        raise _Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    with pytest.raises(_Parsed):
        module.main(argv)


def test_the_docs_have_commands():
    pages = {page for page, _, _ in documented_commands()}
    assert "README.md" in pages and len(pages) >= 5 and len(documented_commands()) >= 30


@pytest.mark.parametrize("page,line,command", documented_commands(), ids=lambda v: str(v)[:60])
def test_a_documented_command_parses(page, line, command, monkeypatch):
    for placeholder, value in PLACEHOLDERS.items():
        command = command.replace(placeholder, value)
    assert "<" not in command, f"{page}:{line}: a placeholder the test does not know: {command}"
    words = shlex.split(command)
    assert words[:2] == ["python", "-m"], f"{page}:{line}: {command}"
    module = importlib.import_module(words[2])
    argv = words[3:]
    bench = getattr(module, "BENCHMARK", None)
    if bench is not None:  # the full parse, names resolved against the registries
        from benchmarks.runner import parse_args
        from benchmarks.runner.plan import unknown_name

        assert unknown_name(parse_args(bench, argv)) is None, f"{page}:{line}: {command}"
    else:
        _parses(module, argv, monkeypatch)
