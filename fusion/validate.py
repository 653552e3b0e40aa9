"""Checking fusion inputs: per-feature class probabilities over the same clips."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from benchmarks.core.errors import RannBenchError


class FusionInputError(RannBenchError, ValueError):
    """Fusion inputs that cannot be combined; the message names the feature and the problem."""


def stack_probs(probs_by_feature: Mapping[str, np.ndarray], *, atol: float = 1e-3) -> tuple[list[str], np.ndarray]:
    """Validate and stack per-feature probabilities.

    Args:
        probs_by_feature: feature name -> ``(n_clips, n_classes)`` class probabilities.
        atol: how far a row's sum may be from 1.

    Returns:
        ``(features, masses)`` with masses of shape ``(n_features, n_clips, n_classes)``, float64.

    Raises:
        FusionInputError: no features, wrong rank, shapes that disagree, NaN/inf, negative
            values, or rows that do not sum to 1.
    """
    if not probs_by_feature:
        raise FusionInputError("no features given")
    names = list(probs_by_feature)
    arrays = []
    shape = None
    for name in names:
        a = np.asarray(probs_by_feature[name], dtype=np.float64)
        if a.ndim != 2:
            raise FusionInputError(f"feature {name!r}: probabilities must be (n_clips, n_classes), got shape {a.shape}")
        if shape is None:
            shape = a.shape
        elif a.shape != shape:
            raise FusionInputError(
                f"feature {name!r}: shape {a.shape} differs from shape {shape} of feature {names[0]!r}"
            )
        if not np.isfinite(a).all():
            raise FusionInputError(f"feature {name!r}: {int((~np.isfinite(a)).sum())} probabilities are NaN or inf")
        if (a < 0).any():
            raise FusionInputError(
                f"feature {name!r}: {int((a < 0).sum())} probabilities are negative (min {a.min():.3g})"
            )
        dev = np.abs(a.sum(axis=1) - 1)
        if (dev > atol).any():
            i = int(dev.argmax())
            raise FusionInputError(
                f"feature {name!r}: {int((dev > atol).sum())} rows do not sum to 1 (row {i} sums to {a[i].sum():.6g}; "
                f"tolerance {atol})"
            )
        arrays.append(a / a.sum(axis=1, keepdims=True))
    return names, np.stack(arrays)


@dataclass(frozen=True)
class Predictions:
    """One feature's predictions: clip names ``(n,)``, targets ``(n,)``, folds ``(n,)`` and
    probabilities ``(n, n_classes)``, e.g. the test folds of its five runs concatenated."""

    names: np.ndarray
    targets: np.ndarray
    folds: np.ndarray
    probs: np.ndarray


@dataclass(frozen=True)
class Aligned:
    """Predictions of several features over the same clips, in one order."""

    names: np.ndarray
    targets: np.ndarray
    folds: np.ndarray
    probs: dict[str, np.ndarray]


def align(preds_by_feature: Mapping[str, Predictions]) -> Aligned:
    """Put every feature's predictions in the first feature's clip order, checking that the
    clips, their targets and their folds agree.

    Raises:
        FusionInputError: naming the feature whose clips, targets or folds disagree.
    """
    if not preds_by_feature:
        raise FusionInputError("no features given")
    items = list(preds_by_feature.items())
    ref_name, ref = items[0]
    ref_names = np.asarray(ref.names).astype(str)
    if len(set(ref_names)) != len(ref_names):
        raise FusionInputError(f"feature {ref_name!r}: clip names are not unique")
    out = {}
    for name, p in items:
        names = np.asarray(p.names).astype(str)
        if len(names) != len(ref_names) or set(names) != set(ref_names):
            missing = sorted(set(ref_names) - set(names))[:3]
            extra = sorted(set(names) - set(ref_names))[:3]
            raise FusionInputError(
                f"feature {name!r}: its clips differ from {ref_name!r}'s ({len(names)} vs {len(ref_names)} clips; "
                f"missing e.g. {missing}, extra e.g. {extra})"
            )
        order = np.argsort(names)[np.argsort(np.argsort(ref_names))]
        for field in ("targets", "folds"):
            got, want = np.asarray(getattr(p, field))[order], np.asarray(getattr(ref, field))
            if not np.array_equal(got, want):
                i = int(np.flatnonzero(got != want)[0])
                raise FusionInputError(
                    f"feature {name!r}: {field[:-1]} of clip {str(ref_names[i])!r} is {got[i]}, but {want[i]} for "
                    f"{ref_name!r}"
                )
        out[name] = np.asarray(p.probs)[order]
    return Aligned(names=ref_names, targets=np.asarray(ref.targets), folds=np.asarray(ref.folds), probs=out)
