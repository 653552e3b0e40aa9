"""Significance, calibration, diversity, the stacker and seeds: known answers on synthetic data."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.stats import binomtest

import fusion
from fusion.calibration import (
    apply_temperature,
    brier_score,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    temperature_scale_cross_fold,
)
from fusion.diversity import pair_diversity, per_class_accuracy
from fusion.grid import merge_seeds
from fusion.significance import mcnemar_exact, paired_bootstrap


def test_bootstrap_of_identical_systems_is_zero():
    rng = np.random.default_rng(0)
    a = rng.random(2000) < 0.7
    diff, low, high = paired_bootstrap(a, a, np.arange(2000) % 5 + 1)
    assert diff == low == high == 0.0


def test_bootstrap_width_matches_the_hand_computed_one():
    # A is right on every clip; B on a fraction p_k of fold k's clips. The difference is the mean
    # of 0/1 values; stratified by fold its variance is sum_k n_k p_k (1 - p_k) / N^2.
    n_k, p_k = np.array([400, 400, 200]), np.array([0.5, 0.8, 0.3])
    folds = np.repeat([1, 2, 3], n_k)
    b = np.concatenate([np.arange(n) < round(p * n) for n, p in zip(n_k, p_k)])
    a = np.ones_like(b)
    diff, low, high = paired_bootstrap(a, b, folds, n_resamples=20_000, seed=1)
    sd = np.sqrt((n_k * p_k * (1 - p_k)).sum()) / n_k.sum()
    assert diff == pytest.approx(1 - (n_k * p_k).sum() / n_k.sum())
    assert high - low == pytest.approx(2 * 1.959964 * sd, rel=0.05)
    assert low < diff < high
    assert paired_bootstrap(a, b, folds, seed=3) == paired_bootstrap(a, b, folds, seed=3)  # seeded


def test_mcnemar_matches_scipys_binomial_test():
    rng = np.random.default_rng(0)
    for n_only_a, n_only_b in [(10, 3), (0, 7), (25, 25), (1, 0), (40, 12)]:
        a = np.r_[np.ones(n_only_a), np.zeros(n_only_b), np.ones(30), np.zeros(20)].astype(bool)
        b = np.r_[np.zeros(n_only_a), np.ones(n_only_b), np.ones(30), np.zeros(20)].astype(bool)
        perm = rng.permutation(len(a))
        expected = binomtest(n_only_a, n_only_a + n_only_b, 0.5).pvalue
        assert mcnemar_exact(a[perm], b[perm]) == pytest.approx(expected, rel=1e-9)
    assert mcnemar_exact(np.ones(5, bool), np.ones(5, bool)) == 1.0


def test_the_grids_intervals_take_seconds():
    rng = np.random.default_rng(0)
    targets, folds = np.arange(2000) % 50, np.arange(2000) // 400 + 1
    probs = {}
    for f in ("mel", "mfcc", "cqt", "gfcc", "wavegram"):
        logits = rng.normal(size=(2000, 50))
        logits[np.arange(2000), targets] += 2.5
        probs[f] = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    t0 = time.perf_counter()
    correct = {f: p.argmax(1) == targets for f, p in probs.items()}
    for _ in range(26 * 3):
        paired_bootstrap(correct["mel"], correct["mfcc"], folds)
    assert time.perf_counter() - t0 < 5.0  # 78 intervals of 10,000 resamples (about 0.2 s here)


def _overconfident(n=1000, conf=0.9, acc=0.6, classes=4):
    """Every clip predicted with probability ``conf``, right on a fraction ``acc`` of them."""
    targets = np.arange(n) % classes
    pred = np.where(np.arange(n) < acc * n, targets, (targets + 1) % classes)
    probs = np.full((n, classes), (1 - conf) / (classes - 1))
    probs[np.arange(n), pred] = conf
    return probs, targets


def test_ece_of_a_known_overconfident_case():
    probs, targets = _overconfident()
    assert expected_calibration_error(probs, targets) == pytest.approx(0.3)
    assert negative_log_likelihood(probs, targets) == pytest.approx(-(0.6 * np.log(0.9) + 0.4 * np.log(0.1 / 3)))
    # Brier: right clips (0.1)^2 + 3 (1/30)^2; wrong ones 0.9^2 + (1 - 1/30)^2 + 2 (1/30)^2
    right, wrong = 0.01 + 3 / 900, 0.81 + (29 / 30) ** 2 + 2 / 900
    assert brier_score(probs, targets) == pytest.approx(0.6 * right + 0.4 * wrong)


def test_ece_of_calibrated_predictions_is_near_zero():
    rng = np.random.default_rng(0)
    n = 200_000
    conf = rng.uniform(0.5, 1.0, n)
    targets = np.zeros(n, int)
    right = rng.random(n) < conf  # right exactly as often as confident
    probs = np.stack([np.where(right, conf, 1 - conf), np.where(right, 1 - conf, conf)], axis=1)
    assert expected_calibration_error(probs, targets) < 0.005


def test_temperature_scaling_softens_overconfidence_without_leakage():
    probs, targets = _overconfident()
    t = fit_temperature(probs, targets)
    assert t > 1 and negative_log_likelihood(apply_temperature(probs, t), targets) < negative_log_likelihood(
        probs, targets
    )
    np.testing.assert_array_equal(apply_temperature(probs, t).argmax(1), probs.argmax(1))  # accuracy unchanged
    folds = np.arange(len(targets)) % 5 + 1
    scaled, temps = temperature_scale_cross_fold({"mel": probs}, targets, folds)
    other = targets.copy()
    other[folds == 1] = (other[folds == 1] + 1) % 4  # fold 1's labels changed: fold 1's scaling is not
    again, temps2 = temperature_scale_cross_fold({"mel": probs}, other, folds)
    np.testing.assert_array_equal(scaled["mel"][folds == 1], again["mel"][folds == 1])
    assert temps["mel"][0] == temps2["mel"][0] and temps["mel"][1] != temps2["mel"][1]


def test_pair_diversity_by_hand():
    a = np.array([1, 1, 1, 1, 0, 0, 1, 0], bool)
    b = np.array([1, 1, 0, 0, 1, 0, 1, 0], bool)  # n11 = 3, n10 = 2, n01 = 1, n00 = 2
    d = pair_diversity(a, b)
    assert d["disagreement"] == pytest.approx(3 / 8)
    assert d["yule_q"] == pytest.approx((3 * 2 - 1 * 2) / (3 * 2 + 1 * 2))
    assert d["error_correlation"] == pytest.approx(np.corrcoef(~a, ~b)[0, 1])
    assert pair_diversity(a, a)["yule_q"] == 1.0 and pair_diversity(a, a)["disagreement"] == 0.0


def test_per_class_accuracy():
    probs = np.eye(3)[[0, 1, 1, 2, 0]]
    targets = np.array([0, 1, 2, 2, 1])
    np.testing.assert_allclose(per_class_accuracy(probs, targets), [1.0, 0.5, 0.5])


def test_stack_is_a_registered_learned_method_that_helps_on_complementary_features():
    rng = np.random.default_rng(0)
    n, c = 600, 6
    targets, folds = np.arange(n) % c, np.arange(n) % 5 + 1
    probs = {}
    for f, good in (("mel", [0, 1, 2]), ("cqt", [3, 4, 5])):  # each feature knows half the classes
        logits = rng.normal(size=(n, c))
        knows = np.isin(targets, good)
        logits[np.arange(n)[knows], targets[knows]] += 4.0
        probs[f] = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    stack = fusion.create("stack")
    assert stack.learns_from_labels and "stack" in fusion.list_methods()
    fused, _ = fusion.cross_fold_fuse(stack, probs, targets, folds)
    assert fused.shape == (n, c) and np.allclose(fused.sum(1), 1)
    assert fusion.accuracy(fused, targets) > max(fusion.accuracy(p, targets) for p in probs.values()) + 0.2
    assert stack.C_ in stack.Cs


def _grid(seed):
    rng = np.random.default_rng(seed)
    n, c = 250, 10
    targets, folds = np.arange(n) % c, np.arange(n) // 50 + 1
    probs = {}
    for f in ("mel", "mfcc"):
        logits = rng.normal(size=(n, c))
        logits[np.arange(n), targets] += 1.5
        probs[f] = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return fusion.grid_search(probs, targets, folds, methods=("wa", "ds"))


def test_two_seed_table_std_is_the_numpy_std_of_the_per_seed_numbers():
    from fusion.report import per_feature_table

    g0, g1 = _grid(0), _grid(1)
    merged = merge_seeds([g0, g1], seeds=[0, 1])
    mel = merged.single("mel")
    per_seed = [g0.single("mel").mean("accuracy"), g1.single("mel").mean("accuracy")]
    assert mel.mean("accuracy") == pytest.approx(np.mean(per_seed))
    assert mel.seed_std("accuracy") == pytest.approx(np.std(per_seed))
    assert mel.std("accuracy") == pytest.approx(
        np.mean([g0.single("mel").std("accuracy"), g1.single("mel").std("accuracy")])
    )
    ds = merged.get(("mel", "mfcc"), "ds")
    assert ds.seed_std("accuracy") == pytest.approx(
        np.std([g0.get(("mel", "mfcc"), "ds").mean("accuracy"), g1.get(("mel", "mfcc"), "ds").mean("accuracy")])
    )
    row = per_feature_table(merged).splitlines()[2]
    assert f"{mel.mean('accuracy'):.3f} ± {mel.std('accuracy'):.3f} ± {mel.seed_std('accuracy'):.3f}" in row
    assert np.isnan(g0.single("mel").seed_std("accuracy"))


def test_analysis_survives_classes_without_test_clips(tmp_path):
    # a subset of the data (e.g. the smoke profile) can leave classes without any clip
    from fusion.analysis_report import write_analysis

    rng = np.random.default_rng(0)
    n, c = 100, 6
    targets, folds = np.arange(n) % 4, np.arange(n) % 2 + 1  # classes 4 and 5 never occur
    probs = {}
    for f in ("mel", "cqt"):
        logits = rng.normal(size=(n, c))
        logits[np.arange(n), targets] += 2.0
        probs[f] = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    result = fusion.grid_search(probs, targets, folds, methods=("wa", "ds"), keep_probs=True)
    path = write_analysis(result, probs, targets, folds, [f"c{i}" for i in range(c)], tmp_path)
    assert "Per class, the best single feature is" in path.read_text() and (tmp_path / "per_class.png").is_file()
