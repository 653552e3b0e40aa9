"""Every committed report regenerates from its own record (benchmarks.reproduce): the fast folders
in the default suite, all of them under ``slow``. A report that no longer regenerates fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.datasets.paths import candidate_roots
from benchmarks.reproduce import report_folders, reproduce, same_line

ROOT = Path(__file__).resolve().parents[2]
#: no fusion grid with the learned stacker: seconds each
FAST = [
    "results/esc50/recipe",
    "results/esc50/variants/chroma",
    "results/esc50/variants/tempogram",
    "results/esc50/quick/sed-mixing",
    "results/esc50/quick/all-features",
    "results/esc50/standard/all-features",
    "results/ravdess/study",
    "results/ravdess/study/mfcc",
    "results/ravdess/study/cqt",
    "results/ravdess/standard/clips/mel-per-bin",
    "results/esc10",
    "results/esc10/all-methods",
    "results/esc50/bf16-parity",
    "results/esc50/long-study/fp32-arms",
]
#: 26-combination grids with the stacker and the analysis: minutes each on 2 cores with a cold cache
SLOW = [
    "results/esc50/quick",
    "results/esc50/quick/seeds",
    "results/esc50/standard",
    "results/ravdess/quick",
    "results/ravdess/standard",
    "results/ravdess/standard/clips",
    "results/ravdess/standard-bf16",
]
META = {"esc50": "meta/esc50.csv", "ravdess": "meta/ravdess.csv"}
#: reports of registered data laid out as your own (benchmarks.data layout): the data they need
SOURCE = {"esc10": "esc50"}


def _check(folder: str, monkeypatch) -> None:
    dataset = SOURCE.get(folder.split("/")[1], folder.split("/")[1])
    if not any((root / META[dataset]).is_file() for root in candidate_roots(dataset)):
        pytest.skip(f"{dataset} not found (set RANN_DATA or place it in ../shared/data/{dataset})")
    monkeypatch.chdir(ROOT)  # the records name their runs relative to the repository
    problems, _ = reproduce(Path(folder))
    assert problems == [], f"{folder} no longer regenerates from its record:\n" + "\n".join(problems)


def test_every_report_folder_is_checked_here():
    found = {str(p.relative_to(ROOT)) for p in report_folders(ROOT / "results")}
    assert found == set(FAST) | set(SLOW), "a new report folder: add it to FAST or SLOW"


@pytest.mark.parametrize("folder", FAST)
def test_a_fast_committed_report_regenerates(folder, monkeypatch):
    _check(folder, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("folder", SLOW)
def test_a_committed_report_with_a_grid_regenerates(folder, monkeypatch):
    _check(folder, monkeypatch)


def test_numbers_agree_to_a_relative_1e_9_and_text_exactly():
    assert same_line("mel,0.0737593091237562,2", "mel,0.07375930912375622,2")  # the last digit of a CPU's sum
    assert not same_line("| 0.795 ± 0.033 |", "| 0.796 ± 0.033 |")
    assert not same_line("mel,0.5", "mfcc,0.5") and not same_line("0.5", "0.5,0.1")
