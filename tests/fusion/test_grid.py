"""The combination grid: leakage-free fitting, scoring, and the < 1 s ESC-50-sized budget's shape."""

from __future__ import annotations

import numpy as np
import pytest

import fusion
from fusion.average import correct_on_grid, fit_accuracy_weights, simplex_grid
from fusion.grid import combinations
from fusion.validate import FusionInputError, Predictions


def synthetic(n_clips=500, n_classes=10, features=("mel", "mfcc", "cqt"), seed=0):
    """Probabilities of imperfect classifiers that share part of their errors."""
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, n_classes, n_clips)
    folds = np.arange(n_clips) % 5 + 1
    shared = rng.normal(size=(n_clips, n_classes))
    probs = {}
    for i, f in enumerate(features):
        logits = 0.8 * shared + rng.normal(size=(n_clips, n_classes))
        logits[np.arange(n_clips), targets] += 2.5 - 0.3 * i
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs[f] = e / e.sum(axis=1, keepdims=True)
    return probs, targets, folds


def test_simplex_grid():
    g = simplex_grid(3, 10)
    assert g.shape == (66, 3) and np.allclose(g.sum(axis=1), 1) and (g >= 0).all()
    assert len({tuple(r) for r in g.round(6)}) == 66


def test_accuracy_weights_match_brute_force():
    probs, targets, _ = synthetic(300)
    masses = np.stack(list(probs.values()))
    grid = simplex_grid(3, 10)
    brute = np.array([[(np.tensordot(w, masses, 1).argmax(1) == targets)] for w in grid])[:, 0]
    np.testing.assert_array_equal(correct_on_grid(masses, targets, grid), brute)
    w = fit_accuracy_weights(masses, targets)
    assert (np.tensordot(w, masses, 1).argmax(1) == targets).sum() == brute.sum(axis=1).max()


def test_combinations_in_paper_order():
    combos = combinations(["mel", "mfcc", "cqt", "gfcc", "wavegram"])
    assert len(combos) == 26
    assert combos[:4] == [("mel", "mfcc"), ("mel", "cqt"), ("mel", "gfcc"), ("mel", "wavegram")]
    assert [len(c) for c in combos] == sorted(len(c) for c in combos)


LEARNED = [m for m in fusion.list_methods() if fusion.create(m).learns_from_labels]
FIXED = [m for m in fusion.list_methods() if not fusion.create(m).learns_from_labels]


def test_the_label_learning_methods_are_known():
    assert "wa" in LEARNED and {"ds", "ids", "murphy", "deng"} <= set(FIXED)


def _relabel(targets, mask, seed):
    """Wrong labels (a permutation shifted by one class) on the clips of ``mask``."""
    out = targets.copy()
    out[mask] = (np.random.default_rng(seed).permutation(out[mask]) + 1) % 10
    return out


@pytest.mark.parametrize("method", LEARNED)
def test_no_leakage_from_the_scored_fold(method):
    probs, targets, folds = synthetic()
    base, _ = fusion.cross_fold_fuse(fusion.create(method), probs, targets, folds)
    for k in range(1, 6):
        test = folds == k
        fused, _ = fusion.cross_fold_fuse(fusion.create(method), probs, _relabel(targets, test, k), folds)
        np.testing.assert_array_equal(fused[test], base[test])
        # and the test can fail: the same change to the other folds' labels does move fold k
        moved, _ = fusion.cross_fold_fuse(fusion.create(method), probs, _relabel(targets, ~test, k), folds)
        assert not np.allclose(moved[test], base[test]), (
            f"{method}: fold {k} does not depend on the other folds' labels"
        )


@pytest.mark.parametrize("method", FIXED)
def test_methods_that_say_they_learn_nothing_never_read_labels(method):
    probs, targets, folds = synthetic()
    base, _ = fusion.cross_fold_fuse(fusion.create(method), probs, targets, folds)
    fused, _ = fusion.cross_fold_fuse(
        fusion.create(method), probs, _relabel(targets, np.ones_like(folds, bool), 0), folds
    )
    np.testing.assert_array_equal(fused, base)


def test_wa_weights_do_depend_on_the_other_folds():
    probs, targets, folds = synthetic()
    base, _ = fusion.cross_fold_fuse(fusion.create("wa"), probs, targets, folds)
    flipped = targets.copy()
    flipped[folds != 1] = probs["cqt"][folds != 1].argmax(1)  # make cqt look perfect elsewhere
    fused, _ = fusion.cross_fold_fuse(fusion.create("wa"), probs, flipped, folds)
    assert not np.allclose(fused[folds == 1], base[folds == 1])


def test_shared_fold_fitting_equals_fitting_each_fold_alone():
    probs, targets, folds = synthetic()
    fused, _ = fusion.cross_fold_fuse(fusion.create("wa"), probs, targets, folds)
    for k in range(1, 6):
        train = folds != k
        wa = fusion.create("wa").fit({f: p[train] for f, p in probs.items()}, targets[train])
        np.testing.assert_allclose(fused[~train], wa.combine({f: p[~train] for f, p in probs.items()}))


def test_grid_rows_and_scores():
    probs, targets, folds = synthetic(features=("mel", "mfcc", "cqt", "gfcc"))
    r = fusion.grid_search(probs, targets, folds, methods=("wa", "ds", "ids"))
    assert [s.features for s in r.singles] == [("mel",), ("mfcc",), ("cqt",), ("gfcc",)]
    assert len(r.fused) == 11 * 3 and r.folds == [1, 2, 3, 4, 5]
    row = r.get(["mfcc", "mel"], "ds")
    assert row.features == ("mel", "mfcc") and row.per_fold["accuracy"].shape == (5,)
    fused, _ = fusion.cross_fold_fuse(fusion.create("ds"), {f: probs[f] for f in ("mel", "mfcc")}, targets, folds)
    assert row.mean("accuracy") == pytest.approx(
        np.mean([fusion.accuracy(fused[folds == k], targets[folds == k]) for k in range(1, 6)])
    )
    best_single = max(s.mean("accuracy") for s in r.singles)
    assert max(x.mean("accuracy") for x in r.fused) > best_single  # complementary errors pay off
    assert set(r.fused[0].to_dict()) >= {"features", "method", "accuracy_mean", "map_std", "f1_per_fold"}


def test_grid_needs_two_features_and_valid_subsets():
    probs, targets, folds = synthetic()
    with pytest.raises(FusionInputError, match="at least two features"):
        fusion.grid_search({"mel": probs["mel"]}, targets, folds)
    with pytest.raises(FusionInputError, match="unknown features"):
        fusion.grid_search(probs, targets, folds, subsets=[("mel", "nope")])
    with pytest.raises(FusionInputError, match="targets .* and folds"):
        fusion.grid_search(probs, targets[:-1], folds)


def test_align_reorders_and_names_the_feature_that_disagrees():
    names = np.array([f"clip{i}" for i in range(6)])
    targets, folds = np.arange(6) % 3, np.arange(6) % 2 + 1
    probs = np.eye(3)[targets]
    perm = np.array([3, 1, 5, 0, 2, 4])
    a = fusion.align(
        {
            "mel": Predictions(names, targets, folds, probs),
            "cqt": Predictions(names[perm], targets[perm], folds[perm], probs[perm]),
        }
    )
    np.testing.assert_array_equal(a.probs["cqt"], probs)
    bad = targets[perm].copy()
    bad[0] = (bad[0] + 1) % 3
    with pytest.raises(FusionInputError, match=r"feature 'cqt': target of clip 'clip3' is"):
        fusion.align(
            {
                "mel": Predictions(names, targets, folds, probs),
                "cqt": Predictions(names[perm], bad, folds[perm], probs[perm]),
            }
        )
    with pytest.raises(FusionInputError, match=r"feature 'cqt': its clips differ"):
        fusion.align(
            {
                "mel": Predictions(names, targets, folds, probs),
                "cqt": Predictions(names[:5], targets[:5], folds[:5], probs[:5]),
            }
        )


def test_fusion_imports_without_torch():
    import subprocess
    import sys

    code = "import sys, fusion, fusion.report; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
