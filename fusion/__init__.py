"""Fusion of per-feature class probabilities (numpy and scipy only; importable without torch).

    import fusion
    wa = fusion.create("wa").fit(oof_probs_by_feature, oof_targets)
    fused = wa.combine(test_probs_by_feature)          # (n_clips, n_classes)
    result = fusion.grid_search(probs_by_feature, targets, folds, methods=("wa", "ds", "ids"))

Methods: ``wa`` (weighted average), ``ds`` (Dempster's rule), ``ids`` (improved D-S after
Li et al. 2017), ``murphy`` and ``deng`` (classical improved-D-S baselines).
"""

from benchmarks.core.metrics import (  # re-exported: fusion's public API
    accuracy,
    f1_macro,
    mean_average_precision,
    score,
)
from fusion import average, dempster_shafer, improved, stacking  # noqa: F401  (register the methods)
from fusion._registry import create, list_methods, register_method
from fusion.cache import FusedCache
from fusion.grid import GridResult, combinations, cross_fold_fuse, grid_search, score_features
from fusion.validate import Aligned, FusionInputError, Predictions, align, stack_probs

__all__ = [
    "Aligned",
    "FusedCache",
    "FusionInputError",
    "GridResult",
    "Predictions",
    "accuracy",
    "align",
    "combinations",
    "create",
    "cross_fold_fuse",
    "f1_macro",
    "grid_search",
    "score_features",
    "list_methods",
    "mean_average_precision",
    "register_method",
    "score",
    "stack_probs",
]
