"""Leakage-free cross-fold fusion and the grid over feature combinations.

The probabilities of every clip come from the run that held its fold out. To fuse fold ``k``,
a method is fitted only on the other folds' clips (their out-of-fold predictions) and then
combines fold ``k``; fold ``k``'s labels are never seen. Scores are per fold, then mean and
standard deviation over the folds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np

from benchmarks.core.metrics import METRICS, average_precision, mean_average_precision
from fusion._registry import create
from fusion.validate import FusionInputError, stack_probs


def cross_fold_fuse(method, probs_by_feature: Mapping[str, np.ndarray], targets: np.ndarray, folds: np.ndarray) -> tuple[np.ndarray, int]:
    """Fuse each fold with ``method`` fitted on the other folds only.

    Returns:
        ``(fused, n_total_conflicts)``: ``(n_clips, n_classes)`` probabilities, and the number
        of clips on which Dempster's rule met total conflict (0 for methods without it).
    """
    _, masses = stack_probs(probs_by_feature)
    return _cross_fold_fuse(method, masses, np.asarray(targets), np.asarray(folds))


def _cross_fold_fuse(method, masses: np.ndarray, targets: np.ndarray, folds: np.ndarray) -> tuple[np.ndarray, int]:
    fused = np.empty(masses.shape[1:])
    conflicts = 0
    for test in method._fit_each_fold(masses, targets, folds):  # fitted without fold k's labels
        fused[test] = method._combine(masses[:, test])
        conflicts += getattr(method, "n_total_conflicts_", 0)
    return fused, conflicts


def fold_scores(probs: np.ndarray, targets: np.ndarray, folds: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric per fold, ``{metric: (n_folds,)}``, folds in ascending order."""
    ks = np.unique(folds)
    scores = {name: np.array([fn(probs[folds == k], targets[folds == k]) for k in ks]) for name, fn in METRICS.items() if name != "map"}
    sizes = {int((folds == k).sum()) for k in ks}
    if len(sizes) == 1:  # equal folds: all average precisions in one batched call
        order = np.argsort(folds, kind="stable")
        n = sizes.pop()
        ap = average_precision(probs[order].reshape(len(ks), n, -1), targets[order].reshape(len(ks), n))
        scores["map"] = np.nanmean(ap, axis=1)
    else:
        scores["map"] = np.array([mean_average_precision(probs[folds == k], targets[folds == k]) for k in ks])
    return {name: scores[name] for name in METRICS}


@dataclass
class Row:
    """One system: a feature set fused by a method (``method`` is ``None`` for one feature)."""

    features: tuple[str, ...]
    method: str | None
    per_fold: dict[str, np.ndarray]
    n_total_conflicts: int = 0

    def mean(self, metric: str) -> float:
        return float(self.per_fold[metric].mean())

    def std(self, metric: str) -> float:
        return float(self.per_fold[metric].std())

    def to_dict(self) -> dict:
        d = {"features": list(self.features), "method": self.method}
        for m, v in self.per_fold.items():
            d[f"{m}_mean"], d[f"{m}_std"], d[f"{m}_per_fold"] = float(v.mean()), float(v.std()), v.tolist()
        if self.method == "ds":
            d["n_total_conflicts"] = self.n_total_conflicts
        return d


@dataclass
class GridResult:
    """Per-feature rows and fused rows, with the feature order and methods used."""

    features: list[str]
    methods: list[str]
    folds: list[int]
    singles: list[Row] = field(default_factory=list)
    fused: list[Row] = field(default_factory=list)

    def get(self, features: Iterable[str], method: str) -> Row:
        key = tuple(f for f in self.features if f in set(features))
        for r in self.fused:
            if r.features == key and r.method == method:
                return r
        raise KeyError(f"no row for {key} with {method!r}")


def combinations(features: Sequence[str], min_size: int = 2) -> list[tuple[str, ...]]:
    """Every subset of ``features`` of ``min_size`` or more, pairs first, then triples, ...
    each size in the order of ``features`` (as the paper's table)."""
    return [c for r in range(min_size, len(features) + 1) for c in itertools.combinations(features, r)]


def grid_search(
    probs_by_feature: Mapping[str, np.ndarray],
    targets: np.ndarray,
    folds: np.ndarray,
    methods: Sequence[str] = ("wa", "ds", "ids"),
    *,
    subsets: Sequence[Sequence[str]] | None = None,
    method_params: Mapping[str, dict] | None = None,
) -> GridResult:
    """Score each feature alone, and every combination of two or more (or ``subsets``) with
    every method, fold by fold, leakage-free.

    Args:
        probs_by_feature: feature -> ``(n_clips, n_classes)`` probabilities over the same clips.
        targets: ``(n_clips,)`` class indices. folds: ``(n_clips,)`` fold of each clip.
        methods: registered fusion method names.
        subsets: the feature sets to fuse (default: all combinations of two or more).
        method_params: method name -> keyword arguments for :func:`fusion.create`.
    """
    features, masses = stack_probs(probs_by_feature)  # validates every feature, once
    if len(features) < 2:
        raise FusionInputError(f"a fusion grid needs at least two features, got {features}")
    targets, folds = np.asarray(targets), np.asarray(folds)
    n = len(next(iter(probs_by_feature.values())))
    if targets.shape != (n,) or folds.shape != (n,):
        raise FusionInputError(f"targets {targets.shape} and folds {folds.shape} must both be ({n},)")
    params = dict(method_params or {})
    result = GridResult(features=features, methods=list(methods), folds=[int(k) for k in np.unique(folds)])
    for i, f in enumerate(features):
        result.singles.append(Row((f,), None, fold_scores(masses[i], targets, folds)))
    for subset in subsets if subsets is not None else combinations(features):
        unknown = set(subset) - set(features)
        if unknown:
            raise FusionInputError(f"subset {list(subset)} names unknown features {sorted(unknown)}")
        idx = [i for i, f in enumerate(features) if f in set(subset)]
        key = tuple(features[i] for i in idx)
        for name in methods:
            method = create(name, **params.get(name, {}))
            fused, conflicts = _cross_fold_fuse(method, masses[idx], targets, folds)
            result.fused.append(Row(key, name, fold_scores(fused, targets, folds), conflicts))
    return result
