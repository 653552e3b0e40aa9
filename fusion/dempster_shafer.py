"""Dempster's rule of combination for Bayesian (singleton) masses.

    m(A) = prod_i m_i(A) / (1 - K),    K = 1 - sum_A prod_i m_i(A)

computed in log space, so products of many small masses do not underflow. When no class is
supported by every source (``K = 1``, total conflict) the rule is undefined for that clip.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from benchmarks.core.errors import ParameterError
from fusion._registry import register_method
from fusion.base import FusionMethod
from fusion.validate import FusionInputError


class TotalConflictError(FusionInputError):
    """Dempster's rule met clips on which the sources share no class (K = 1)."""


def dempster(masses: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Combine ``masses`` ``(n_sources, n_clips, n_classes)`` with Dempster's rule.

    Returns:
        ``(fused, conflict, total)``: fused ``(n_clips, n_classes)`` (rows of NaN where the
        conflict is total), the conflict ``K`` per clip ``(n_clips,)``, and a boolean mask of
        the clips in total conflict.
    """
    with np.errstate(divide="ignore"):
        log_prod = np.log(masses).sum(axis=0)  # (n_clips, n_classes), -inf where a source gives 0
    log_agree = logsumexp(log_prod, axis=1)  # log(1 - K)
    total = ~np.isfinite(log_agree)
    safe = np.where(total, 0.0, log_agree)
    fused = np.exp(log_prod - safe[:, None])
    fused[total] = np.nan
    conflict = np.where(total, 1.0, -np.expm1(safe))
    return fused, conflict, total


def combine_with_itself(mass: np.ndarray, n: int) -> np.ndarray:
    """Dempster's rule applied to ``n`` copies of ``mass`` ``(n_clips, n_classes)`` (i.e. the
    averaged mass combined with itself ``n - 1`` times)."""
    with np.errstate(divide="ignore"):
        log_prod = n * np.log(mass)
    return np.exp(log_prod - logsumexp(log_prod, axis=1, keepdims=True))


@register_method("ds")
class DempsterShafer(FusionMethod):
    """Dempster-Shafer evidence fusion of the per-feature probabilities (nothing to fit).

    Args:
        on_conflict: ``"average"`` (default) fuses clips in total conflict by the plain
            average of the sources and counts them; ``"raise"`` raises :class:`TotalConflictError`.

    After ``combine``, ``conflict_`` holds K per clip and ``n_total_conflicts_`` the number of
    clips that fell back.
    """

    label = "Acc. (D-S)"

    def __init__(self, on_conflict: str = "average"):
        if on_conflict not in ("average", "raise"):
            raise ParameterError(f"ds: on_conflict must be 'average' or 'raise', got {on_conflict!r}")
        self.on_conflict = on_conflict
        self.conflict_: np.ndarray | None = None
        self.n_total_conflicts_ = 0

    def _combine(self, masses):
        fused, self.conflict_, total = dempster(masses)
        self.n_total_conflicts_ = int(total.sum())
        if total.any():
            if self.on_conflict == "raise":
                raise TotalConflictError(
                    f"ds: total conflict (K = 1) on {int(total.sum())} of {len(total)} clips, e.g. clip "
                    f"{int(np.flatnonzero(total)[0])}"
                )
            fused[total] = masses[:, total].mean(axis=0)
        return fused
