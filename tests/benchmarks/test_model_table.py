"""The table of models and recipe arms (``--baselines``): paired differences, stacked arms."""

from __future__ import annotations

import json

import pytest

from benchmarks.model_table import model_rows, model_table, plot_models
from rann.config import RunConfig
from rann.runs import run_folder

#: accuracy of (fold, seed) (1, 0), (1, 1), (2, 0) per arm's recipe overrides
ARMS = {
    (): (0.40, 0.30, 0.50),
    (("mixup_alpha", 0.0),): (0.45, 0.40, 0.50),
    (("mixup_alpha", 0.0), ("lr", 0.001)): (0.50, 0.40, 0.60),
    (("lr", 0.001),): (0.41, 0.31, 0.51),
}


def _runs(root) -> list[RunConfig]:
    configs = []
    for overrides, accuracies in ARMS.items():
        for (fold, seed), accuracy in zip([(1, 0), (1, 1), (2, 0)], accuracies):
            cfg = RunConfig.from_profile(
                dataset="ravdess", feature="mel", fold=fold, profile="quick", seed=seed, **dict(overrides)
            )
            folder = run_folder(cfg, root)
            folder.mkdir(parents=True)
            metrics = dict(accuracy=accuracy, map=accuracy, f1=accuracy, seconds_per_epoch=10.0, epochs=30)
            (folder / "metrics.json").write_text(json.dumps(metrics))
            configs.append(cfg)
    return configs


def test_an_arm_stacked_on_another_is_also_compared_with_that_arm(tmp_path):
    rows = {r["recipe"]: r for r in model_rows(_runs(tmp_path), tmp_path)}
    stacked = rows["lr=0.001, mixup_alpha=0.0"]
    assert stacked["accuracy_delta"] == pytest.approx((0.10 + 0.10 + 0.10) / 3)  # against the profile
    assert stacked["extends"] == ["mixup_alpha=0.0", "lr=0.001"]  # both halves of the pair
    assert stacked["extends_delta"] == pytest.approx([(0.05 + 0.0 + 0.10) / 3, (0.09 + 0.09 + 0.09) / 3])
    assert stacked["extends_runs"] == [3, 3]
    for single in ("mixup_alpha=0.0", "lr=0.001", "profile"):  # on the profile only: one Δ, against it
        assert "extends" not in rows[single]
    table = model_table(list(rows.values()), "Mel Spectrogram")
    assert "Δ against the arms it extends" in table
    assert "+5.0 ± 4.1 (3) against mixup_alpha=0.0; +9.0 ± 0.0 (3) against lr=0.001" in table


def test_without_stacked_arms_the_table_keeps_its_columns(tmp_path):
    configs = [c for c in _runs(tmp_path) if c.recipe.lr != 0.001 or c.recipe.mixup_alpha != 0.0]
    table = model_table(model_rows(configs, tmp_path), "Mel Spectrogram")
    assert "extends" not in table and table.splitlines()[0].count("|") == 11


def test_the_figure_shows_every_arm(tmp_path):
    png = plot_models(_runs(tmp_path / "runs"), tmp_path / "runs", tmp_path / "models.png", "ravdess: Mel Spectrogram")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_an_arm_is_compared_with_the_arms_it_extends_most():
    from benchmarks.model_table import _extended

    arms = ["profile", "a=1", "b=2", "a=1, b=2", "c=3"]
    assert _extended("a=1, b=2, c=3", arms) == ["a=1, b=2"]  # not a=1, b=2 or c=3 alone
    assert _extended("a=1, b=2", arms) == ["a=1", "b=2"] and _extended("a=1", arms) == []


def test_when_the_first_row_is_not_the_profile_it_is_not_repeated_as_an_arm_extended(tmp_path):
    # e.g. a check whose first row is the adopted recipe: every Δ is already against it
    configs = [c for c in _runs(tmp_path) if c.recipe.mixup_alpha == 0.0]
    rows = {r["recipe"]: r for r in model_rows(configs, tmp_path)}
    assert list(rows) == ["mixup_alpha=0.0", "lr=0.001, mixup_alpha=0.0"]
    assert "extends" not in rows["lr=0.001, mixup_alpha=0.0"]
    assert rows["lr=0.001, mixup_alpha=0.0"]["accuracy_delta"] == pytest.approx((0.05 + 0.0 + 0.10) / 3)
