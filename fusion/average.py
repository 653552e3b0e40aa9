"""Weighted average of the sources' masses: m(A) = sum_i w_i m_i(A), sum_i w_i = 1."""

from __future__ import annotations

import itertools
import math
from typing import Mapping, Sequence

import numpy as np
from scipy.special import log_softmax

from benchmarks.core.errors import ParameterError
from fusion._registry import register_method
from fusion.base import FusionMethod
from fusion.validate import FusionInputError

MAX_GRID_POINTS = 3000


def simplex_grid(n: int, steps: int) -> np.ndarray:
    """All weight vectors of length ``n`` with entries in multiples of ``1/steps`` summing to 1,
    shape ``(n_points, n)``."""
    points = []
    for bars in itertools.combinations(range(steps + n - 1), n - 1):
        edges = (-1, *bars, steps + n - 1)
        points.append([edges[i + 1] - edges[i] - 1 for i in range(n)])
    return np.asarray(points, dtype=np.float64) / steps


def grid_steps(n: int, max_points: int = MAX_GRID_POINTS) -> int:
    """The finest of 10, 8, 5, 4, 2 divisions whose simplex grid has at most ``max_points`` points."""
    for steps in (10, 8, 5, 4, 2):
        if math.comb(steps + n - 1, n - 1) <= max_points:
            return steps
    return 1


def correct_on_grid(masses: np.ndarray, targets: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Which clips the weighted average gets right at each grid point, ``(n_points, n_clips)`` bool.

    ``masses``: ``(n_sources, n_clips, n_classes)``; ``grid``: ``(n_points, n_sources)``. A clip
    is right when its target scores strictly above every other class. Only classes that some
    source ranks at or above the target can beat it under a convex combination, so only those
    (clip, class) pairs are evaluated.
    """
    n, n_clips, _ = masses.shape
    rows = np.arange(n_clips)
    margin = masses[:, rows, targets][:, :, None] - masses  # target minus class
    margin[:, rows, targets] = np.inf
    clip_idx, class_idx = np.nonzero((margin <= 0).any(axis=0))  # pairs that can beat the target
    correct = np.ones((len(grid), n_clips), dtype=bool)
    if len(clip_idx):
        pair_margin = np.ascontiguousarray(margin[:, clip_idx, class_idx].T, dtype=np.float32)  # (pairs, n)
        starts = np.flatnonzero(np.r_[True, clip_idx[1:] != clip_idx[:-1]])
        contested = clip_idx[starts]
        weights = np.ascontiguousarray(grid.T, dtype=np.float32)  # (n, points)
        block = max(1, 4_000_000 // len(clip_idx))
        for b in range(0, len(grid), block):
            beaten = (pair_margin @ weights[:, b : b + block]) <= 0  # (pairs, points)
            correct[b : b + block, contested] = ~np.logical_or.reduceat(beaten, starts, axis=0).T
    return correct


def best_on_grid(grid: np.ndarray, n_correct: np.ndarray) -> np.ndarray:
    """The grid point with the most correct clips; ties go to the point nearest uniform weights."""
    best = np.flatnonzero(n_correct == n_correct.max())
    spread = ((grid[best] - 1.0 / grid.shape[1]) ** 2).sum(axis=1)
    return grid[best[spread.argmin()]]


def fit_accuracy_weights(masses: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Weights on a simplex grid that maximise the accuracy of the averaged ``masses``
    ``(n_sources, n_clips, n_classes)``; ties go to the point nearest uniform weights."""
    grid = simplex_grid(masses.shape[0], grid_steps(masses.shape[0]))
    return best_on_grid(grid, correct_on_grid(masses, targets, grid).sum(axis=1))


def fit_logloss_weights(masses: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Weights (softmax-parameterised, L-BFGS) that minimise the log-loss of the averaged masses."""
    from scipy.optimize import minimize

    n = masses.shape[0]
    p_true = masses[:, np.arange(masses.shape[1]), targets].T  # (n_clips, n_sources)

    def loss(z):
        w = np.exp(log_softmax(z))
        q = np.maximum(p_true @ w, 1e-12)
        grad_w = -(p_true / q[:, None]).mean(axis=0)
        return -np.log(q).mean(), w * (grad_w - w @ grad_w)

    res = minimize(loss, np.zeros(n), jac=True, method="L-BFGS-B")
    return np.exp(log_softmax(res.x))


@register_method("wa")
class WeightedAverage(FusionMethod):
    """Weighted average of the per-feature probabilities.

    Args:
        weights: ``"accuracy"`` (default: a simplex grid in steps of 0.1 for up to 5 features,
            coarser beyond, maximising accuracy on the predictions given to ``fit``),
            ``"logloss"`` (scipy, minimising log-loss; any number of features),
            ``"uniform"``, or explicit weights (a sequence in feature order or a mapping).
    """

    learns_from_labels = True

    label = "Acc. WA"

    def __init__(self, weights: str | Sequence[float] | Mapping[str, float] = "accuracy"):
        self.weights = weights
        self.weights_: np.ndarray | None = None

    def _fit(self, masses, targets):
        n, w = masses.shape[0], self.weights
        if not isinstance(w, str):
            self.weights_ = self._explicit(n)
        elif w == "uniform":
            self.weights_ = np.full(n, 1.0 / n)
        elif w in ("accuracy", "logloss"):
            if targets is None:
                raise FusionInputError(f"wa: weights={w!r} needs targets to fit on")
            self.weights_ = (fit_accuracy_weights if w == "accuracy" else fit_logloss_weights)(masses, targets)
        else:
            raise ParameterError(f"wa: weights must be 'accuracy', 'logloss', 'uniform' or numbers, got {w!r}")

    def _fit_each_fold(self, masses, targets, folds):
        if self.weights != "accuracy" or len(np.unique(folds)) < 2:
            yield from super()._fit_each_fold(masses, targets, folds)
            return
        # accuracy decomposes over clips: score every grid point on every clip once, then
        # choose fold k's weights from the other folds' clips only
        grid = simplex_grid(masses.shape[0], grid_steps(masses.shape[0]))
        correct = correct_on_grid(masses, targets, grid)
        per_fold = {k: correct[:, folds == k].sum(axis=1) for k in np.unique(folds)}
        total = sum(per_fold.values())
        for k, n_right in per_fold.items():
            self.weights_ = best_on_grid(grid, total - n_right)
            yield folds == k

    def _explicit(self, n: int) -> np.ndarray:
        w = self.weights
        if isinstance(w, Mapping):
            if self.features_ is None or set(w) != set(self.features_):
                raise ParameterError(f"wa: weights {dict(w)} must name exactly the features {self.features_}")
            w = [w[f] for f in self.features_]
        arr = np.asarray(w, dtype=np.float64)
        if arr.shape != (n,) or (arr < 0).any() or arr.sum() <= 0:
            raise ParameterError(f"wa: need {n} non-negative weights with a positive sum, got {self.weights!r}")
        return arr / arr.sum()

    def _combine(self, masses):
        if self.weights_ is None:
            if isinstance(self.weights, str) and self.weights != "uniform":
                raise FusionInputError(f"wa: weights={self.weights!r} must be fitted first: call fit(probs, targets)")
            self._fit(masses, None)
        if len(self.weights_) != masses.shape[0]:
            raise FusionInputError(f"wa: fitted for {len(self.weights_)} features, got {masses.shape[0]}")
        return np.tensordot(self.weights_, masses, axes=1)
