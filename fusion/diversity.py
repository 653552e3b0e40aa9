"""Which features are complementary? Pairwise diversity of two classifiers' per-clip correctness
(Kuncheva and Whitaker 2003).

With ``n11`` clips both get right, ``n00`` both wrong, ``n10`` only the first and ``n01`` only
the second right:

- disagreement = (n10 + n01) / n;
- Yule's Q = (n11 n00 - n01 n10) / (n11 n00 + n01 n10), in [-1, 1] (1: they err together);
- error correlation = Pearson's correlation of the two error indicators.
"""

from __future__ import annotations

import numpy as np


def pair_diversity(correct_a: np.ndarray, correct_b: np.ndarray) -> dict[str, float]:
    """Disagreement, Yule's Q and error correlation of two ``(n_clips,)`` correctness vectors
    (NaN where undefined: a zero denominator)."""
    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    n11, n00 = float((a & b).sum()), float((~a & ~b).sum())
    n10, n01 = float((a & ~b).sum()), float((~a & b).sum())
    q_den = n11 * n00 + n01 * n10
    ea, eb = (~a).astype(float), (~b).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = float(np.corrcoef(ea, eb)[0, 1]) if ea.std() > 0 and eb.std() > 0 else float("nan")
    return {
        "disagreement": (n10 + n01) / len(a),
        "yule_q": (n11 * n00 - n01 * n10) / q_den if q_den else float("nan"),
        "error_correlation": corr,
    }


def per_class_accuracy(probs: np.ndarray, targets: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """Accuracy (recall) of each class, ``(n_classes,)`` (NaN for a class with no clip)."""
    n_classes = n_classes or int(np.max(targets)) + 1
    right = np.asarray(probs).argmax(axis=1) == targets
    count = np.bincount(targets, minlength=n_classes).astype(float)
    with np.errstate(invalid="ignore"):
        return np.bincount(targets, right, n_classes) / count
