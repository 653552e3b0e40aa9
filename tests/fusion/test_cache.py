"""The fused-prediction cache: a hit gives the fitted numbers back exactly; any change to the
inputs or to the method's settings misses; a damaged entry is refitted."""

from __future__ import annotations

import numpy as np

import fusion
from fusion.cache import FusedCache


def _inputs(seed: int = 0):
    rng = np.random.default_rng(seed)
    n, classes = 60, 3
    targets = np.repeat(np.arange(classes), n // classes)
    folds = np.tile(np.arange(1, 4), n // 3)
    probs = {}
    for f in ("a", "b"):
        logits = rng.normal(size=(n, classes)) + 2.0 * np.eye(classes)[targets]
        probs[f] = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return probs, targets, folds


def _grid(probs, targets, folds, cache, **params):
    return fusion.grid_search(probs, targets, folds, methods=("ds", "stack"), keep_probs=True, cache=cache, **params)


def test_a_hit_returns_the_fitted_numbers_and_only_learned_methods_are_stored(tmp_path):
    probs, targets, folds = _inputs()
    cache = FusedCache(tmp_path)
    first = _grid(probs, targets, folds, cache)
    assert (cache.hits, cache.misses) == (0, 1) and len(list(tmp_path.glob("*.npz"))) == 1  # stack, not ds
    again = _grid(probs, targets, folds, cache)
    assert (cache.hits, cache.misses) == (1, 1)
    for r0, r1 in zip(first.fused, again.fused):
        np.testing.assert_array_equal(r0.probs, r1.probs)
    uncached = _grid(probs, targets, folds, None)
    np.testing.assert_array_equal(uncached.get(("a", "b"), "stack").probs, again.get(("a", "b"), "stack").probs)


def test_changed_inputs_or_settings_miss_and_a_damaged_entry_is_refitted(tmp_path):
    probs, targets, folds = _inputs()
    cache = FusedCache(tmp_path)
    _grid(probs, targets, folds, cache)
    _grid(probs, targets, folds, cache, method_params={"stack": {"Cs": (0.1,)}})  # other settings
    other, _, _ = _inputs(seed=1)
    _grid(other, targets, folds, cache)  # other probabilities
    _grid(probs, targets, np.roll(folds, 1), cache)  # other folds
    assert (cache.hits, cache.misses) == (0, 4)
    for entry in tmp_path.glob("*.npz"):
        entry.write_bytes(b"not an npz")
    _grid(probs, targets, folds, cache)
    assert cache.misses == 5 and cache.hits == 0
    _grid(probs, targets, folds, cache)
    assert cache.hits == 1


def test_fits_in_parallel_equal_serial_ones_and_fill_the_cache(tmp_path):
    probs, targets, folds = _inputs()
    probs["c"] = probs["a"][::-1].copy()
    serial = fusion.grid_search(probs, targets, folds, methods=("ds", "stack"))
    cache = FusedCache(tmp_path)
    parallel = fusion.grid_search(probs, targets, folds, methods=("ds", "stack"), cache=cache, n_jobs=2)
    assert len(list(tmp_path.glob("*.npz"))) == 4  # the four combinations' stackers
    for r0, r1 in zip(serial.fused, parallel.fused):
        assert (r0.features, r0.method) == (r1.features, r1.method)
        for m in r0.per_fold:
            np.testing.assert_array_equal(r0.per_fold[m], r1.per_fold[m])
