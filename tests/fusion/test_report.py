"""Reports in the paper's layout, with CSV/JSON beside each table and a heat-map."""

from __future__ import annotations

import csv
import json

import numpy as np

import fusion
from fusion import paper
from fusion.report import (
    combination_table,
    feature_rank_correlation,
    paper_comparison_rows,
    per_feature_table,
    write_report,
)


def grid_result(features=("mel", "mfcc", "cqt", "gfcc", "wavegram"), methods=("wa", "ds", "ids")):
    rng = np.random.default_rng(0)
    n, c = 250, 10
    targets = np.arange(n) % c
    folds = np.arange(n) // 50 + 1
    probs = {}
    for i, f in enumerate(features):
        logits = rng.normal(size=(n, c))
        logits[np.arange(n), targets] += 2.0 - 0.2 * i
        e = np.exp(logits)
        probs[f] = e / e.sum(axis=1, keepdims=True)
    return fusion.grid_search(probs, targets, folds, methods=methods)


def table_rows(md: str) -> list[list[str]]:
    lines = [line for line in md.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row.strip("|").split("|")] for row in lines[2:]]


def test_combination_table_layout():
    r = grid_result()
    md = combination_table(r)
    header = [c.strip() for c in md.splitlines()[0].strip("|").split("|")]
    assert header == [
        "Mel Spectrogram",
        "MFCC",
        "CQT",
        "GFCC",
        "Wavegram",
        "Acc. WA",
        "Acc. (D-S)",
        "Acc. (ID-S)",
        "Gain over best member [95 % CI]",
    ]
    rows = table_rows(md)
    assert len(rows) == 26
    marks = [sum(c == "✓" for c in row[:5]) for row in rows]
    assert marks == sorted(marks) and marks[0] == 2 and marks[-1] == 5
    assert rows[0][:5] == ["✓", "✓", "", "", ""]
    for j, method in enumerate(("wa", "ds", "ids")):
        col = [row[5 + j] for row in rows]
        bold = [v for v in col if v.startswith("**")]
        best = max(r.get(k, method).mean("accuracy") for k in fusion.combinations(r.features))
        assert bold and all(v.strip("*") == f"{best:.3f}" for v in bold)
    for key, row in zip(fusion.combinations(r.features), rows):  # the row's best method, its gain and CI
        best = max((r.get(key, m) for m in ("wa", "ds", "ids")), key=lambda x: x.mean("accuracy"))
        g = best.gain
        assert row[8] == f"{g.diff:+.3f} [{g.low:+.3f}, {g.high:+.3f}] {best.method}" + ("" if g.significant else " †")
        assert abs(g.diff - (best.mean("accuracy") - r.best_member(best).mean("accuracy"))) < 1e-12  # equal folds


def test_per_feature_table_has_mean_and_std_and_bold_best():
    r = grid_result()
    rows = table_rows(per_feature_table(r))
    assert [row[0] for row in rows] == ["Mel Spectrogram", "MFCC", "CQT", "GFCC", "Wavegram"]
    acc = [s.mean("accuracy") for s in r.singles]
    best = int(np.argmax(acc))
    assert rows[best][1].startswith("**") and "±" in rows[best][1]


def test_write_report_files_and_numbers(tmp_path):
    r = grid_result()
    written = write_report(r, tmp_path, provenance="Command: `test`")
    for name in ("per_feature", "grid", "paper_comparison"):
        assert (tmp_path / f"{name}.md").read_text().startswith("# ")
        assert "Command: `test`" in (tmp_path / f"{name}.md").read_text()
        assert (tmp_path / f"{name}.csv").is_file() and (tmp_path / f"{name}.json").is_file()
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "paper_comparison.png").read_bytes()[:4] == b"\x89PNG"
    assert set(written) == {"per_feature", "grid", "grid.png", "paper_comparison", "paper_comparison.png"}
    rows = json.loads((tmp_path / "grid.json").read_text())
    assert len(rows) == 78
    mel_mfcc_ds = next(x for x in rows if x["features"] == ["mel", "mfcc"] and x["method"] == "ds")
    assert mel_mfcc_ds["accuracy_mean"] == r.get(["mel", "mfcc"], "ds").mean("accuracy")
    assert len(mel_mfcc_ds["accuracy_per_fold"]) == 5 and "n_total_conflicts" in mel_mfcc_ds
    with open(tmp_path / "grid.csv") as f:
        assert len(list(csv.DictReader(f))) == 78
    assert not list(tmp_path.glob(".*partial*"))  # temporary files renamed


def test_paper_comparison_uses_the_papers_numbers():
    r = grid_result()
    cmp = paper_comparison_rows(r)
    mel = next(x for x in cmp if x["features"] == ["mel"])
    assert mel["paper"] == 0.878
    full = next(x for x in cmp if len(x["features"]) == 5 and x["method"] == "wa")
    assert full["paper"] == 0.910
    assert len(cmp) == 5 + 26 * 3
    assert paper.esc50_combination(["wavegram", "mel", "mfcc", "cqt"])["ds"] == 0.904
    assert len(paper.ESC50_COMBINATIONS) == 26


def test_single_row_column_is_bold_even_on_a_rounding_half():
    from fusion.report import _bold_best

    assert _bold_best([0.7065], ["0.707"]) == ["**0.707**"]
    assert _bold_best([0.7065, 0.70649], ["0.707", "0.706"]) == ["**0.707**", "0.706"]


def test_feature_rank_correlation_follows_the_ranking():
    # grid_result makes the first-named feature the strongest: the paper's order gives a high
    # correlation, the reversed order a negative one
    assert feature_rank_correlation(grid_result()) > 0.8
    assert feature_rank_correlation(grid_result(features=("wavegram", "gfcc", "cqt", "mfcc", "mel"))) < 0
    assert feature_rank_correlation(grid_result(features=("mel", "mfcc"))) is None
