"""An on-disk cache of cross-fold fused probabilities, so that what a benchmark fitted is never
refitted by the analysis of the same predictions.

An entry is keyed by everything its numbers depend on: the stacked input probabilities, the
targets and folds, the method's name and settings, and the source code of the method's module
(a changed method never reads an old entry). It lives outside git (the CLIs put it under
``$RANN_CACHE/fusion``, default ``~/.cache/rann/fusion``); deleting it only costs time.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import json
import os
from pathlib import Path

import numpy as np

from benchmarks.core.io import write_atomic

#: Bump when the layout of an entry changes.
CACHE_VERSION = 1


class FusedCache:
    """Fused ``(n_clips, n_classes)`` probabilities and their total-conflict count, per key."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.hits = self.misses = 0

    @staticmethod
    def key(method, masses: np.ndarray, targets: np.ndarray, folds: np.ndarray) -> str:
        """The key of ``method`` (unfitted, as created) on ``masses`` ``(n_sources, n_clips,
        n_classes)`` with ``targets`` and ``folds`` ``(n_clips,)``."""
        h = hashlib.sha256()
        settings = {k: v for k, v in vars(method).items() if not k.endswith("_")}  # fitted state ends in _
        source = inspect.getsource(inspect.getmodule(type(method)))
        h.update(json.dumps([CACHE_VERSION, method.name, settings, source], sort_keys=True, default=repr).encode())
        for a in (masses, targets, folds):
            a = np.ascontiguousarray(a)
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(a.tobytes())
        return h.hexdigest()[:24]

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def get(self, key: str) -> tuple[np.ndarray, int] | None:
        """The cached ``(fused, n_total_conflicts)``, or ``None`` (absent or unreadable)."""
        try:
            with np.load(self._path(key)) as z:
                out = z["fused"], int(z["conflicts"])
        except (OSError, KeyError, ValueError):
            self.misses += 1
            return None
        self.hits += 1
        return out

    def put(self, key: str, fused: np.ndarray, conflicts: int) -> None:
        """Store an entry (written to a temporary file, then renamed)."""
        buf = io.BytesIO()
        np.savez_compressed(buf, fused=fused, conflicts=np.int64(conflicts))
        write_atomic(self._path(key), buf.getvalue())
