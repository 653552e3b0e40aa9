"""The numpy metrics agree with scikit-learn's."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, average_precision_score, f1_score

from benchmarks.core.metrics import (
    accuracy,
    average_precision,
    f1_macro,
    mean_average_precision,
)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("round_to", [None, 1])  # rounding creates many tied scores
def test_against_sklearn(seed, round_to):
    rng = np.random.default_rng(seed)
    n, c = 120, 6
    targets = np.r_[np.arange(c), rng.integers(0, c, n - c)]
    probs = rng.dirichlet(np.ones(c), n)
    probs[np.arange(n), targets] += rng.uniform(0, 0.5, n)
    probs /= probs.sum(axis=1, keepdims=True)
    if round_to is not None:
        probs = probs.round(round_to)
    onehot = np.eye(c)[targets]
    assert accuracy(probs, targets) == pytest.approx(accuracy_score(targets, probs.argmax(1)))
    np.testing.assert_allclose(average_precision(probs, targets), average_precision_score(onehot, probs, average=None))
    assert mean_average_precision(probs, targets) == pytest.approx(
        average_precision_score(onehot, probs, average="macro")
    )
    assert f1_macro(probs, targets) == pytest.approx(f1_score(targets, probs.argmax(1), average="macro"))


def test_f1_counts_predicted_only_classes_like_sklearn():
    targets = np.array([0, 0, 1, 1])
    probs = np.eye(3)[[0, 2, 1, 1]]  # class 2 is predicted but never true
    assert f1_macro(probs, targets) == pytest.approx(f1_score(targets, probs.argmax(1), average="macro"))


def test_ap_is_nan_for_class_without_positives():
    ap = average_precision(np.array([[0.9, 0.1], [0.8, 0.2]]), np.array([0, 0]))
    assert ap[0] == 1.0 and np.isnan(ap[1])
    assert mean_average_precision(np.array([[0.9, 0.1], [0.8, 0.2]]), np.array([0, 0])) == 1.0
