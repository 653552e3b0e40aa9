"""Improved Dempster-Shafer fusion: weight the sources, average, then combine.

All three methods here average the sources' masses with some weights and combine the
average with itself ``n - 1`` times by Dempster's rule (``n`` sources). They differ in the
weights:

- ``murphy`` (Murphy 2000): equal weights.
- ``deng`` (Deng et al. 2004): credibility from the evidence distance between sources.
- ``ids``: our reading of Li et al. 2017 (Sensors 17(8), the paper's reference [9]):
  credibility times one minus the Gini uncertainty of each source,
  ``w_i ∝ c_i (1 - G_i)``, so sources that disagree with the others or spread their mass
  thinly count less.

The pieces (:func:`evidence_distance`, :func:`credibility`, :func:`gini_uncertainty`) are
separate functions, so another reading of [9] is a change to :meth:`ImprovedDS.source_weights`.
All work per clip: masses ``(n_sources, n_clips, n_classes)``.
"""

from __future__ import annotations

import numpy as np

from fusion._registry import register_method
from fusion.base import FusionMethod
from fusion.dempster_shafer import combine_with_itself


def evidence_distance(masses: np.ndarray) -> np.ndarray:
    """Jousselme's distance between every pair of sources, per clip, ``(n_clips, n_sources, n_sources)``.

    For singleton masses Jousselme's similarity matrix is the identity, so
    ``d_ij = sqrt(0.5 * ||m_i - m_j||^2)``, in [0, 1].
    """
    m = np.moveaxis(masses, 0, 1)  # (n_clips, n_sources, n_classes)
    sq = (m**2).sum(axis=2)
    d2 = sq[:, :, None] + sq[:, None, :] - 2 * np.einsum("nic,njc->nij", m, m)
    return np.sqrt(np.clip(0.5 * d2, 0.0, 1.0))


def credibility(distance: np.ndarray) -> np.ndarray:
    """Credibility ``c_i = s_i / sum_j s_j`` with support ``s_i = sum_{j != i} (1 - d_ij)``,
    ``(n_clips, n_sources)``. Equal credibility where no source supports any other."""
    n = distance.shape[-1]
    support = (1.0 - distance).sum(axis=-1) - 1.0  # drop j == i (d_ii = 0)
    total = support.sum(axis=-1, keepdims=True)
    return np.where(total > 0, support / np.where(total > 0, total, 1.0), 1.0 / n)


def gini_uncertainty(masses: np.ndarray) -> np.ndarray:
    """Gini index ``G_i = 1 - sum_A m_i(A)^2`` per source and clip, ``(n_clips, n_sources)``:
    0 for a certain source, ``1 - 1/n_classes`` for a uniform one."""
    return (1.0 - (masses**2).sum(axis=2)).T


def weighted_self_combination(masses: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average ``masses`` with per-clip ``weights`` ``(n_clips, n_sources)``, then combine the
    average with itself ``n_sources - 1`` times."""
    avg = np.einsum("ni,inc->nc", weights, masses)
    return combine_with_itself(avg, masses.shape[0])


class _AverageThenCombine(FusionMethod):
    def source_weights(self, masses: np.ndarray) -> np.ndarray:
        """Weights ``(n_clips, n_sources)``, each row summing to 1."""
        raise NotImplementedError

    def _combine(self, masses):
        return weighted_self_combination(masses, self.source_weights(masses))


@register_method("murphy")
class Murphy(_AverageThenCombine):
    """Murphy's rule: the plain average combined with itself ``n - 1`` times."""

    label = "Acc. (Murphy)"

    def source_weights(self, masses):
        n = masses.shape[0]
        return np.full((masses.shape[1], n), 1.0 / n)


@register_method("deng")
class Deng(_AverageThenCombine):
    """Deng's rule: the credibility-weighted average combined with itself ``n - 1`` times."""

    label = "Acc. (Deng)"

    def source_weights(self, masses):
        return credibility(evidence_distance(masses))


@register_method("ids")
class ImprovedDS(_AverageThenCombine):
    """Improved D-S (our reading of Li et al. 2017): ``w_i ∝ c_i (1 - G_i)``, weighted
    average, then Dempster's rule ``n - 1`` times."""

    label = "Acc. (ID-S)"

    def source_weights(self, masses):
        w = credibility(evidence_distance(masses)) * (1.0 - gini_uncertainty(masses))
        return w / w.sum(axis=1, keepdims=True)
