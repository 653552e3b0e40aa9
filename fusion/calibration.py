"""Are the probabilities trustworthy, or only their argmax? Calibration of class probabilities.

``probs``: ``(n_clips, n_classes)`` rows summing to 1; ``targets``: ``(n_clips,)`` class indices.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax

#: Smallest probability taken into a logarithm.
EPS = 1e-12


def reliability(probs: np.ndarray, targets: np.ndarray, n_bins: int = 15) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per equal-width confidence bin over [0, 1]: mean confidence (top probability), accuracy,
    and clip count; ``(n_bins,)`` each (NaN for an empty bin)."""
    conf = np.asarray(probs).max(axis=1)
    right = np.asarray(probs).argmax(axis=1) == np.asarray(targets)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins).astype(float)
    with np.errstate(invalid="ignore"):
        mean_conf = np.bincount(bins, conf, n_bins) / count
        acc = np.bincount(bins, right, n_bins) / count
    return mean_conf, acc, count


def expected_calibration_error(probs: np.ndarray, targets: np.ndarray, n_bins: int = 15) -> float:
    """ECE: sum over equal-width confidence bins of (clips in bin / all clips) x |accuracy - mean confidence|."""
    conf, acc, count = reliability(probs, targets, n_bins)
    used = count > 0
    return float((count[used] / count.sum() * np.abs(acc[used] - conf[used])).sum())


def negative_log_likelihood(probs: np.ndarray, targets: np.ndarray) -> float:
    """Mean of -log p(target) in nats (probabilities clipped below at 1e-12)."""
    p = np.asarray(probs)[np.arange(len(targets)), targets]
    return float(-np.log(np.clip(p, EPS, 1.0)).mean())


def brier_score(probs: np.ndarray, targets: np.ndarray) -> float:
    """Mean over clips of sum over classes of (p_c - y_c)^2, y one-hot (0 is perfect, 2 the worst)."""
    p = np.asarray(probs, dtype=np.float64)
    err = p.copy()
    err[np.arange(len(targets)), targets] -= 1.0
    return float((err**2).sum(axis=1).mean())


def calibration_scores(probs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """ECE (15 bins), NLL and Brier score."""
    return {
        "ece": expected_calibration_error(probs, targets),
        "nll": negative_log_likelihood(probs, targets),
        "brier": brier_score(probs, targets),
    }


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(log p / T)``: T > 1 softens over-confident probabilities, T < 1 sharpens."""
    return np.exp(log_softmax(np.log(np.clip(probs, EPS, 1.0)) / temperature, axis=1))


def fit_temperature(probs: np.ndarray, targets: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the NLL of ``probs`` on ``targets``."""
    logp = np.log(np.clip(probs, EPS, 1.0))
    rows = np.arange(len(targets))

    def nll(log_t: float) -> float:
        return float(-log_softmax(logp / np.exp(log_t), axis=1)[rows, targets].mean())

    return float(np.exp(minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded").x))


def temperature_scale_cross_fold(
    probs_by_feature: Mapping[str, np.ndarray], targets: np.ndarray, folds: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
    """Each feature's probabilities with fold k scaled by the temperature fitted on the other
    folds only (leakage-free, like the WA weights). Returns the scaled probabilities and each
    feature's temperature per fold (in the order of ``np.unique(folds)``)."""
    targets, folds = np.asarray(targets), np.asarray(folds)
    scaled, temps = {}, {}
    for f, p in probs_by_feature.items():
        out, temps[f] = np.empty_like(p, dtype=np.float64), []
        for k in np.unique(folds):
            test = folds == k
            t = fit_temperature(p[~test], targets[~test]) if (~test).any() else 1.0
            out[test] = apply_temperature(p[test], t)
            temps[f].append(t)
        scaled[f] = out
    return scaled, temps
