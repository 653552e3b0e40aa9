"""The interface every fusion method implements."""

from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np

from fusion.validate import FusionInputError, stack_probs


class FusionMethod:
    """Combines per-feature class probabilities into one ``(n_clips, n_classes)`` array.

    ``fit(probs_by_feature, targets)`` learns whatever the method learns (a no-op for most)
    from held-out predictions; ``combine(probs_by_feature)`` fuses. ``probs_by_feature`` maps
    feature name -> ``(n_clips, n_classes)`` probabilities, rows summing to 1.
    """

    name: str = ""  # set by @register_method
    label: str = ""  # column heading in the paper's tables
    #: Whether ``fit`` reads the targets (then the grid must fit it on the other folds only).
    learns_from_labels: bool = False

    features_: list[str] | None = None

    def fit(self, probs_by_feature: Mapping[str, np.ndarray], targets: np.ndarray | None = None) -> "FusionMethod":
        """Learn from held-out predictions (validated); returns ``self``."""
        names, masses = stack_probs(probs_by_feature)
        self.features_ = names
        self._fit(masses, None if targets is None else np.asarray(targets))
        return self

    def combine(self, probs_by_feature: Mapping[str, np.ndarray]) -> np.ndarray:
        """Fuse validated per-feature probabilities into ``(n_clips, n_classes)``."""
        names, masses = stack_probs(probs_by_feature)
        if self.features_ is not None and names != self.features_:
            raise FusionInputError(f"{self.name}: fitted on features {self.features_}, combining {names}")
        return self._combine(masses)

    # Subclasses implement these two on stacked, already validated masses
    # ``(n_sources, n_clips, n_classes)``; the grid calls them directly to validate only once.
    def _fit(self, masses: np.ndarray, targets: np.ndarray | None) -> None:
        """Learn from ``masses`` and ``targets`` ``(n_clips,)`` (nothing, by default)."""

    def _combine(self, masses: np.ndarray) -> np.ndarray:
        """Fuse ``masses`` -> ``(n_clips, n_classes)``."""
        raise NotImplementedError

    def _fit_each_fold(self, masses: np.ndarray, targets: np.ndarray, folds: np.ndarray) -> Iterator[np.ndarray]:
        """For each fold ``k``: fit on the other folds only, then yield fold ``k``'s mask.

        A method whose fit can share work between folds overrides this; it must never use
        fold ``k``'s labels for the state it holds while fold ``k`` is yielded.
        """
        for k in np.unique(folds):
            test = folds == k
            train = ~test
            # with a single fold there is nothing held out to fit on
            self._fit(masses[:, train], targets[train]) if train.any() else self._fit(masses[:, test], None)
            yield test

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        return f"{type(self).__name__}({params})"
