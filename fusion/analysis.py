"""Beyond one number per system: significance, calibration, diversity and per-class accuracy,
computed from a grid's probabilities (``fusion.grid_search(..., keep_probs=True)``), without training.

Every function returns plain rows (lists of dicts) that :mod:`fusion.analysis_report` renders.
With several seeds merged, everything per clip uses the first seed's predictions.
"""

from __future__ import annotations

import itertools
from typing import Mapping, Sequence

import numpy as np

from fusion._registry import create
from fusion.cache import FusedCache
from fusion.calibration import calibration_scores, temperature_scale_cross_fold
from fusion.diversity import pair_diversity, per_class_accuracy
from fusion.grid import GridResult, Row, _cross_fold_fuse
from fusion.significance import compare
from fusion.validate import FusionInputError, stack_probs


def system_name(row: Row) -> str:
    """``mel+mfcc (ds)``, or ``mel`` for a single feature."""
    return "+".join(row.features) + (f" ({row.method})" if row.method else "")


def parse_system(result: GridResult, spec: str) -> Row:
    """The row named ``features:method`` (``mel+mfcc:ds``) or ``feature`` (``mel``).

    Raises:
        FusionInputError: no such row in the grid.
    """
    features, _, method = spec.partition(":")
    try:
        return result.get(features.split("+"), method) if method else result.single(features)
    except (KeyError, StopIteration):
        raise FusionInputError(
            f"no system {spec!r} in this grid; name one as feature+feature:method, e.g. mel+mfcc:ds"
        ) from None


def significance_rows(result: GridResult) -> list[dict]:
    """Every fused system against its best member: accuracy, gain [95 % CI], McNemar's p."""
    rows = []
    for r in result.fused:
        g, best = r.gain, result.best_member(r)
        rows.append(
            {
                "system": system_name(r),
                "accuracy": r.mean("accuracy"),
                "best_member": best.features[0],
                "best_member_accuracy": best.mean("accuracy"),
                "gain": g.diff,
                "ci_low": g.low,
                "ci_high": g.high,
                "mcnemar_p": g.p_value,
                "significant": g.significant,
            }
        )
    return rows


def default_pairs(result: GridResult) -> list[tuple[Row, Row]]:
    """Every pair of methods on the feature set with the best fused system."""
    best = max(result.fused, key=lambda r: r.mean("accuracy"))
    rows = [result.get(best.features, m) for m in result.methods]
    return list(itertools.combinations(rows, 2))


def pair_rows(result: GridResult, pairs: Sequence[tuple[Row, Row]], folds: np.ndarray) -> list[dict]:
    """System A against system B: accuracy difference [95 % CI] and McNemar's p."""
    out = []
    for a, b in pairs:
        d = compare(a.correct, b.correct, folds)
        out.append(
            {
                "a": system_name(a),
                "b": system_name(b),
                "method_a": a.method or "",
                "method_b": b.method or "",
                "accuracy_a": a.mean("accuracy"),
                "accuracy_b": b.mean("accuracy"),
                "difference": d.diff,
                "ci_low": d.low,
                "ci_high": d.high,
                "mcnemar_p": d.p_value,
                "significant": d.significant,
            }
        )
    return out


def seed_rows(result: GridResult) -> list[dict]:
    """Each single feature's and the best fused systems' spread over folds against over seeds."""
    if not result.seeds:
        return []
    best = sorted(result.fused, key=lambda r: -r.mean("accuracy"))[: len(result.methods)]
    return [
        {
            "system": system_name(r),
            "accuracy": r.mean("accuracy"),
            "std_over_folds": r.std("accuracy"),
            "std_over_seeds": r.seed_std("accuracy"),
            "per_seed": r.per_seed["accuracy"].mean(axis=1).round(4).tolist(),
        }
        for r in [*result.singles, *best]
    ]


def calibration_rows(result: GridResult, targets: np.ndarray) -> list[dict]:
    """ECE (15 bins), NLL and Brier score of every single feature and every fused system."""
    return [
        {
            "system": system_name(r),
            "method": r.method or "",
            "n_features": len(r.features),
            "accuracy": r.mean("accuracy"),
            **calibration_scores(r.probs, targets),
        }
        for r in [*result.singles, *result.fused]
    ]


def temperature_rows(
    result: GridResult,
    probs_by_feature: Mapping[str, np.ndarray],
    targets: np.ndarray,
    folds: np.ndarray,
    method_params: Mapping[str, dict] | None = None,
    cache: FusedCache | None = None,
) -> tuple[list[dict], list[dict]]:
    """Each method on the best feature set, fused from raw and from temperature-scaled features
    (each feature's temperature fitted on the other folds only): accuracy and calibration both
    ways; and each feature's temperatures (> 1: it was over-confident, < 1: under-confident)."""
    best = max(result.fused, key=lambda r: r.mean("accuracy"))
    scaled, temps = temperature_scale_cross_fold({f: probs_by_feature[f] for f in best.features}, targets, folds)
    _, masses = stack_probs(scaled)
    out = []
    for m in result.methods:
        raw = result.get(best.features, m)
        fused, _ = _cross_fold_fuse(create(m, **dict(method_params or {}).get(m, {})), masses, targets, folds, cache)
        after = calibration_scores(fused, targets)
        before = calibration_scores(raw.probs, targets)
        out.append(
            {
                "system": system_name(raw),
                "accuracy_raw": float((raw.probs.argmax(1) == targets).mean()),
                "accuracy_scaled": float((fused.argmax(1) == targets).mean()),
                **{f"{k}_raw": v for k, v in before.items()},
                **{f"{k}_scaled": v for k, v in after.items()},
            }
        )
    return out, [
        {"feature": f, "temperature_mean": float(np.mean(t)), "per_fold": [round(x, 4) for x in t]}
        for f, t in temps.items()
    ]


def diversity_rows(result: GridResult, method: str | None = None) -> list[dict]:
    """Every pair of features: disagreement, Yule's Q, error correlation, and the gain of fusing
    the pair (with ``method``, default the first) over its better member."""
    method = method or result.methods[0]
    out = []
    for a, b in itertools.combinations(result.features, 2):
        ra, rb = result.single(a), result.single(b)
        try:
            gain = result.get((a, b), method).gain.diff
        except KeyError:
            gain = float("nan")
        out.append({"a": a, "b": b, **pair_diversity(ra.correct, rb.correct), "fusion_gain": gain, "method": method})
    return out


def per_class_rows(result: GridResult, targets: np.ndarray, classes: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Per-class accuracy ``(n_classes, n_systems)`` of each feature and of the best fused system,
    with the systems' names."""
    best = max(result.fused, key=lambda r: r.mean("accuracy"))
    systems = [*result.singles, best]
    table = np.stack([per_class_accuracy(r.probs, targets, len(classes)) for r in systems], axis=1)
    return [system_name(r) for r in systems], table
