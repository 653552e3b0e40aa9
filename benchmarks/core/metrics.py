"""Classification metrics in numpy (they agree with scikit-learn's; tests check it).

``probs``: ``(n_clips, n_classes)`` scores; ``targets``: ``(n_clips,)`` class indices.
"""

from __future__ import annotations

import numpy as np


def accuracy(probs: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of clips whose highest-scoring class is the target."""
    return float((np.asarray(probs).argmax(axis=1) == targets).mean())


def average_precision(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Average precision per class, as ``sklearn.metrics.average_precision_score`` (no
    interpolation; tied scores form one threshold). NaN for a class with no positive clip.

    ``probs`` ``(..., n_clips, n_classes)`` and ``targets`` ``(..., n_clips)`` -> ``(..., n_classes)``;
    leading dimensions (e.g. folds of equal size) are computed at once.

    With one label per clip, the positives of class c are the clips of class c, and
    AP(c) = mean over those clips i of the precision at i's score,
    #{j of class c: p_j(c) >= p_i(c)} / #{j: p_j(c) >= p_i(c)}.
    """
    probs = np.asarray(probs, dtype=np.float64)
    targets = np.asarray(targets)
    lead, (n, c) = probs.shape[:-2], probs.shape[-2:]
    p, t = probs.reshape(-1, n, c), targets.reshape(-1, n)
    b = len(p)
    counts = np.stack([np.bincount(row, minlength=c) for row in t])  # (b, c)
    # own[b, c, s]: the score for class c of the s-th clip of class c (NaN where there is none)
    order = np.argsort(t, axis=1, kind="stable")
    by_class = np.take_along_axis(t, order, axis=1)
    slot = np.arange(n) - np.take_along_axis(np.cumsum(counts, axis=1) - counts, by_class, axis=1)
    own = np.full((b, c, max(1, int(counts.max()))), np.nan)
    rows = np.repeat(np.arange(b), n)
    own[rows, by_class.ravel(), slot.ravel()] = p[rows, order.ravel(), by_class.ravel()]
    columns = np.ascontiguousarray(p.transpose(0, 2, 1))  # (b, c, n)
    n_at_least = (columns[:, :, None, :] >= own[..., None]).sum(axis=-1)  # NaN compares False
    tp_at_least = (own[:, :, None, :] >= own[..., None]).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(np.isnan(own), 0.0, tp_at_least / n_at_least)
        return (precision.sum(axis=-1) / counts).reshape(*lead, c)


def mean_average_precision(probs: np.ndarray, targets: np.ndarray) -> float:
    """Macro mean of :func:`average_precision` over the classes that have a positive clip."""
    return float(np.nanmean(average_precision(probs, targets)))


def f1_macro(probs: np.ndarray, targets: np.ndarray) -> float:
    """Macro F1 of the argmax predictions over the classes present in targets or predictions
    (a class with no true and no predicted positive counts as 0, as scikit-learn does)."""
    pred = np.asarray(probs).argmax(axis=1)
    c = max(int(pred.max()), int(np.max(targets))) + 1
    tp = np.bincount(targets[pred == targets], minlength=c)
    n_true = np.bincount(targets, minlength=c)
    n_pred = np.bincount(pred, minlength=c)
    present = (n_true + n_pred) > 0
    f1 = 2 * tp[present] / (n_true[present] + n_pred[present])
    return float(f1.mean())


METRICS = {"accuracy": accuracy, "map": mean_average_precision, "f1": f1_macro}


def score(probs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """All of :data:`METRICS` for one set of predictions."""
    return {name: fn(probs, targets) for name, fn in METRICS.items()}
