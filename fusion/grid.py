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
from tqdm.auto import tqdm

from benchmarks.core.metrics import METRICS, average_precision, mean_average_precision
from fusion._registry import create
from fusion.cache import FusedCache
from fusion.significance import Difference, compare
from fusion.validate import FusionInputError, stack_probs


def cross_fold_fuse(
    method, probs_by_feature: Mapping[str, np.ndarray], targets: np.ndarray, folds: np.ndarray
) -> tuple[np.ndarray, int]:
    """Fuse each fold with ``method`` fitted on the other folds only.

    Returns:
        ``(fused, n_total_conflicts)``: ``(n_clips, n_classes)`` probabilities, and the number
        of clips on which Dempster's rule met total conflict (0 for methods without it).
    """
    _, masses = stack_probs(probs_by_feature)
    return _cross_fold_fuse(method, masses, np.asarray(targets), np.asarray(folds))


def _cross_fold_fuse(
    method, masses: np.ndarray, targets: np.ndarray, folds: np.ndarray, cache: FusedCache | None = None
) -> tuple[np.ndarray, int]:
    """:func:`cross_fold_fuse` on stacked masses; a method that learns from labels is looked up in
    ``cache`` first and stored there after fitting (the others cost less than the lookup)."""
    if cache is None or not method.learns_from_labels:
        return _fit_and_fuse(method, masses, targets, folds)
    key = cache.key(method, masses, targets, folds)
    hit = cache.get(key)
    if hit is not None:
        return hit
    fused, conflicts = _fit_and_fuse(method, masses, targets, folds)
    cache.put(key, fused, conflicts)
    return fused, conflicts


def _fit_and_fuse(method, masses: np.ndarray, targets: np.ndarray, folds: np.ndarray) -> tuple[np.ndarray, int]:
    fused = np.empty(masses.shape[1:])
    conflicts = 0
    for test in method._fit_each_fold(masses, targets, folds):  # fitted without fold k's labels
        fused[test] = method._combine(masses[:, test])
        conflicts += getattr(method, "n_total_conflicts_", 0)
    return fused, conflicts


def fold_scores(probs: np.ndarray, targets: np.ndarray, folds: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric per fold, ``{metric: (n_folds,)}``, folds in ascending order."""
    ks = np.unique(folds)
    scores = {
        name: np.array([fn(probs[folds == k], targets[folds == k]) for k in ks])
        for name, fn in METRICS.items()
        if name != "map"
    }
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
    """One system: a feature set fused by a method (``method`` is ``None`` for one feature).

    ``per_fold``: metric -> ``(n_folds,)`` (the mean over seeds when there are several);
    ``per_seed``: metric -> ``(n_seeds, n_folds)`` when the row merges several seeds;
    ``correct``: ``(n_clips,)`` whether the system got each clip right (the first seed);
    ``gain``: for a fused row, its accuracy minus its best member's, with a 95 % paired-bootstrap
    interval and McNemar's p-value (the first seed); ``probs``: its ``(n_clips, n_classes)``
    probabilities when the grid was asked to keep them.
    """

    features: tuple[str, ...]
    method: str | None
    per_fold: dict[str, np.ndarray]
    n_total_conflicts: int = 0
    correct: np.ndarray | None = None
    gain: Difference | None = None
    probs: np.ndarray | None = None
    per_seed: dict[str, np.ndarray] | None = None

    def mean(self, metric: str) -> float:
        """Mean over folds (and seeds)."""
        return float(self.per_fold[metric].mean())

    def std(self, metric: str) -> float:
        """Standard deviation over folds (the mean of each seed's, when there are several)."""
        if self.per_seed is not None:
            return float(self.per_seed[metric].std(axis=1).mean())
        return float(self.per_fold[metric].std())

    def seed_std(self, metric: str) -> float:
        """Standard deviation over seeds of the mean over folds (NaN with one seed)."""
        if self.per_seed is None:
            return float("nan")
        return float(self.per_seed[metric].mean(axis=1).std())

    def to_dict(self) -> dict:
        d = {"features": list(self.features), "method": self.method}
        for m, v in self.per_fold.items():
            d[f"{m}_mean"], d[f"{m}_std"], d[f"{m}_per_fold"] = float(v.mean()), self.std(m), v.tolist()
            if self.per_seed is not None:
                d[f"{m}_seed_std"], d[f"{m}_per_seed"] = self.seed_std(m), self.per_seed[m].mean(axis=1).tolist()
        if self.gain is not None:
            g = self.gain
            d.update(gain_over_best_member=g.diff, gain_ci_low=g.low, gain_ci_high=g.high, gain_mcnemar_p=g.p_value)
        if self.method == "ds":
            d["n_total_conflicts"] = self.n_total_conflicts
        return d


@dataclass
class GridResult:
    """Per-feature rows and fused rows, with the feature order and methods used (and the seeds,
    when several were merged)."""

    features: list[str]
    methods: list[str]
    folds: list[int]
    singles: list[Row] = field(default_factory=list)
    fused: list[Row] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)

    def get(self, features: Iterable[str], method: str) -> Row:
        key = tuple(f for f in self.features if f in set(features))
        for r in self.fused:
            if r.features == key and r.method == method:
                return r
        raise KeyError(f"no row for {key} with {method!r}")

    def single(self, feature: str) -> Row:
        return next(r for r in self.singles if r.features == (feature,))

    def best_member(self, row: Row) -> Row:
        """The member feature of ``row`` with the highest mean accuracy."""
        return max((self.single(f) for f in row.features), key=lambda r: r.mean("accuracy"))


def merge_seeds(results: Sequence[GridResult], seeds: Sequence[int]) -> GridResult:
    """One result from the same grid run on several seeds: ``per_fold`` the mean over seeds,
    ``per_seed`` each seed's; ``correct``, ``gain`` and ``probs`` from the first seed."""
    first = results[0]
    merged = GridResult(first.features, first.methods, first.folds, seeds=[int(s) for s in seeds])

    def merge(rows: Sequence[Row]) -> Row:
        per_seed = {m: np.stack([r.per_fold[m] for r in rows]) for m in rows[0].per_fold}
        r0 = rows[0]
        return Row(
            r0.features,
            r0.method,
            {m: v.mean(axis=0) for m, v in per_seed.items()},
            r0.n_total_conflicts,
            r0.correct,
            r0.gain,
            r0.probs,
            per_seed,
        )

    merged.singles = [merge(rows) for rows in zip(*(r.singles for r in results))]
    merged.fused = [merge(rows) for rows in zip(*(r.fused for r in results))]
    return merged


def combinations(features: Sequence[str], min_size: int = 2) -> list[tuple[str, ...]]:
    """Every subset of ``features`` of ``min_size`` or more, pairs first, then triples, ...
    each size in the order of ``features`` (as the paper's table)."""
    return [c for r in range(min_size, len(features) + 1) for c in itertools.combinations(features, r)]


def score_features(
    probs_by_feature: Mapping[str, np.ndarray],
    targets: np.ndarray,
    folds: np.ndarray,
    methods: Sequence[str] = (),
    *,
    keep_probs: bool = False,
) -> GridResult:
    """Each feature alone, fold by fold: a :class:`GridResult` with ``singles`` only (one feature
    is enough). Arguments as :func:`grid_search`'s."""
    return _scored(*stack_probs(probs_by_feature), targets, folds, methods, keep_probs)[0]


def _scored(features, masses, targets, folds, methods, keep_probs: bool):
    """The singles-only :class:`GridResult` of validated ``masses`` ``(n_features, n_clips, n_classes)``,
    and the targets and folds as arrays."""
    targets, folds = np.asarray(targets), np.asarray(folds)
    n = masses.shape[1]
    if targets.shape != (n,) or folds.shape != (n,):
        raise FusionInputError(f"targets {targets.shape} and folds {folds.shape} must both be ({n},)")
    result = GridResult(features=features, methods=list(methods), folds=[int(k) for k in np.unique(folds)])
    for i, f in enumerate(features):
        result.singles.append(_row((f,), None, masses[i], targets, folds, keep_probs=keep_probs))
    return result, targets, folds


def grid_search(
    probs_by_feature: Mapping[str, np.ndarray],
    targets: np.ndarray,
    folds: np.ndarray,
    methods: Sequence[str] = ("wa", "ds", "ids"),
    *,
    subsets: Sequence[Sequence[str]] | None = None,
    method_params: Mapping[str, dict] | None = None,
    keep_probs: bool = False,
    progress: bool = False,
    cache: FusedCache | None = None,
    n_jobs: int = 1,
) -> GridResult:
    """Score each feature alone, and every combination of two or more (or ``subsets``) with
    every method, fold by fold, leakage-free.

    Args:
        probs_by_feature: feature -> ``(n_clips, n_classes)`` probabilities over the same clips.
        targets: ``(n_clips,)`` class indices. folds: ``(n_clips,)`` fold of each clip.
        methods: registered fusion method names.
        subsets: the feature sets to fuse (default: all combinations of two or more).
        method_params: method name -> keyword arguments for :func:`fusion.create`.
        keep_probs: keep every system's probabilities on its row (for calibration, per-class).
        progress: a progress bar over the fused systems.
        cache: where the fused probabilities of methods that learn are looked up and stored
            (:class:`~fusion.cache.FusedCache`); ``None``: always fitted.
        n_jobs: processes that fit the learned methods' systems side by side (1: in this one).

    Each fused row also gets its gain over its best member (:class:`Row`).
    """
    if len(probs_by_feature) < 2:
        raise FusionInputError(f"a fusion grid needs at least two features, got {list(probs_by_feature)}")
    features, masses = stack_probs(probs_by_feature)  # validates every feature, once
    result, targets, folds = _scored(features, masses, targets, folds, methods, keep_probs)
    params = dict(method_params or {})
    subsets = list(subsets) if subsets is not None else combinations(features)
    for subset in subsets:
        unknown = set(subset) - set(features)
        if unknown:
            raise FusionInputError(f"subset {list(subset)} names unknown features {sorted(unknown)}")
    systems = [(tuple(i for i, f in enumerate(features) if f in set(s)), name) for s in subsets for name in methods]
    fitted = _fit_in_parallel(systems, masses, targets, folds, params, cache, n_jobs) if n_jobs > 1 else {}
    bar = tqdm(total=len(subsets) * len(methods), desc="fusion grid", unit="system", disable=not progress)
    for idx, name in systems:
        method = create(name, **params.get(name, {}))
        fused, conflicts = fitted.get((idx, name)) or _cross_fold_fuse(method, masses[list(idx)], targets, folds, cache)
        key = tuple(features[i] for i in idx)
        row = _row(key, name, fused, targets, folds, keep_probs=keep_probs, n_total_conflicts=conflicts)
        row.gain = compare(row.correct, result.best_member(row).correct, folds)
        result.fused.append(row)
        bar.update(1)
    bar.close()
    return result


def _fit_in_parallel(systems, masses, targets, folds, params, cache, n_jobs: int) -> dict:
    """The fused predictions of the systems ``(feature indices, method)`` whose method learns: read
    from ``cache`` where it holds them, the others fitted ``n_jobs`` processes at a time (each fit is
    its own: the numbers are those of a serial fit) and stored there. Each key is computed once.
    Returns ``{(indices, method): (fused, n_total_conflicts)}``."""
    out, todo = {}, []
    for idx, name in systems:
        method = create(name, **params.get(name, {}))
        if not method.learns_from_labels:
            continue
        m = masses[list(idx)]
        key = cache.key(method, m, targets, folds) if cache is not None else None
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            out[idx, name] = hit
        else:
            todo.append((idx, name, method, m, key))
    from joblib import Parallel, delayed

    fitted = Parallel(n_jobs=n_jobs)(delayed(_fit_and_fuse)(method, m, targets, folds) for *_, method, m, _ in todo)
    for (idx, name, _, _, key), (fused, conflicts) in zip(todo, fitted):
        if cache is not None:
            cache.put(key, fused, conflicts)
        out[idx, name] = fused, conflicts
    return out


def _row(
    features: tuple[str, ...],
    method: str | None,
    probs: np.ndarray,
    targets: np.ndarray,
    folds: np.ndarray,
    *,
    keep_probs: bool,
    n_total_conflicts: int = 0,
) -> Row:
    correct = probs.argmax(axis=1) == targets
    return Row(
        features,
        method,
        fold_scores(probs, targets, folds),
        n_total_conflicts,
        correct,
        probs=probs if keep_probs else None,
    )
