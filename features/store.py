"""The on-disk feature cache: one memory-mapped ``(n_clips, channels, bins, frames)`` float32
array per (dataset, feature fingerprint), computed once, batched, on the torch path.

Layout under ``<cache_dir>/features/<dataset>-<source fingerprint>-sr<sr>/<feature>-<fingerprint>/``:

- ``features.npy``: the array, clips in dataset order (present only when complete);
- ``index.json``: feature name, config, fingerprint, clip file names, shape;
- while building: ``features.partial.npy`` and ``progress.json`` (clips done so far).

An interrupted extraction resumes from the last batch recorded in ``progress.json`` (which is
written only after the rows it counts are flushed). The finished array is checked for NaN/inf
before it is renamed into place, and its shape and fingerprint are checked when loaded.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from benchmarks.core.errors import DataError, ParameterError
from benchmarks.core.io import write_atomic
from benchmarks.core.locks import locked
from benchmarks.datasets import wavecache
from benchmarks.datasets.paths import ensure_outside
from features.base import Feature

INDEX_VERSION = 1


@dataclass(frozen=True)
class FeatureStore:
    """A complete cache entry: ``array`` ``(n_clips, channels, bins, frames)`` (read-only
    memmap) and its ``index``."""

    folder: Path
    array: np.ndarray
    index: dict


def store_folder(dataset, feature: Feature) -> Path:
    """Where ``feature`` of ``dataset`` is cached."""
    src = wavecache.fingerprint_sources(dataset.root / dataset.meta_file, list(dataset.meta["path"]))[:12]
    folder = (
        Path(dataset.cache_dir)
        / "features"
        / f"{dataset.name}-{src}-sr{dataset.sr}-{dataset.duration:g}s"
        / f"{feature.name}-{feature.fingerprint}"
    )
    ensure_outside(folder, dataset.root)
    return folder


def _write_json(path: Path, obj) -> None:
    write_atomic(path, json.dumps(obj, indent=1))


def _finite_rows(array: np.ndarray, chunk: int = 64) -> np.ndarray:
    """Indices of rows holding NaN or inf."""
    bad = []
    for start in range(0, len(array), chunk):
        block = np.asarray(array[start : start + chunk]).reshape(min(chunk, len(array) - start), -1)
        bad += list(start + np.flatnonzero(~np.isfinite(block).all(axis=1)))
    return np.asarray(bad, dtype=np.int64)


def load(dataset, feature: Feature, *, check_finite: bool = True) -> FeatureStore | None:
    """The complete cache entry of ``feature`` for ``dataset``, or ``None`` if there is none.

    An entry whose index disagrees with the feature or the dataset, or whose array holds NaN/inf,
    is reported with a warning, removed and treated as missing.
    """
    folder = store_folder(dataset, feature)
    array_path, index_path = folder / "features.npy", folder / "index.json"
    if not array_path.is_file() or not index_path.is_file():
        return None
    problem = None
    try:
        index = json.loads(index_path.read_text())
        array = np.load(array_path, mmap_mode="r")
    except (OSError, ValueError) as exc:
        problem = f"unreadable ({exc})"
    else:
        if index.get("version") != INDEX_VERSION or index.get("fingerprint") != feature.fingerprint:
            problem = "fingerprint differs from the feature's"
        elif index.get("files") != dataset.filenames:
            problem = "clip list differs from the dataset's"
        elif list(array.shape) != index.get("shape") or array.shape[0] != len(dataset) or array.dtype != np.float32:
            problem = f"array shape {array.shape} differs from the index's {index.get('shape')}"
        elif check_finite and len(bad := _finite_rows(array)):
            problem = f"{len(bad)} clips hold NaN or inf (e.g. {dataset.filenames[bad[0]]})"
    if problem:
        warnings.warn(f"{folder}: discarding the cached {feature.name} features: {problem}", stacklevel=2)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return FeatureStore(folder, array, index)


def extract(
    dataset, feature: Feature, *, batch_size: int = 32, device: str | torch.device = "cpu", progress: bool = True
) -> FeatureStore:
    """Compute ``feature`` for every clip of ``dataset`` into the cache (resuming an
    interrupted run), or return the complete entry if there is one.

    Raises:
        ParameterError: for a learned feature (computed with the model, never cached), or a
            feature whose ``sr`` is not the dataset's.
    """
    if not feature.cacheable():
        raise ParameterError(f"{feature.name} is learned with the model: it is computed on the fly, not cached")
    feature.check_rate(dataset.sr, f"dataset {dataset.name!r}")
    done_store = load(dataset, feature)
    if done_store is not None:
        return done_store
    folder = store_folder(dataset, feature)
    with locked(folder):  # concurrent runs (Ray, --jobs) extract once; the others wait, then load
        done_store = load(dataset, feature)  # extracted by another process while we waited
        if done_store is not None:
            return done_store
        return _extract(dataset, feature, folder, batch_size=batch_size, device=device, progress=progress)


def _extract(
    dataset, feature: Feature, folder: Path, *, batch_size: int, device: str | torch.device, progress: bool
) -> FeatureStore:
    waves = dataset.waveforms()
    feature = feature.to(device).eval()
    shape = (len(dataset), *feature.output_shape(waves.shape[1]))
    partial, progress_path = folder / "features.partial.npy", folder / "progress.json"
    start = 0
    if partial.is_file() and progress_path.is_file():
        state = json.loads(progress_path.read_text())
        if state.get("fingerprint") == feature.fingerprint and state.get("shape") == list(shape):
            start = int(state["done"])
    if start == 0:
        np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=shape).flush()
    out = np.load(partial, mmap_mode="r+")
    bar = tqdm(
        total=len(dataset), initial=start, desc=f"{feature.name} ({dataset.name})", unit="clip", disable=not progress
    )
    with torch.inference_mode():
        for b in range(start, len(dataset), batch_size):
            x = torch.from_numpy(np.array(waves[b : b + batch_size], dtype=np.float32)).to(device)
            out[b : b + len(x)] = feature(x).float().cpu().numpy()
            out.flush()
            _write_json(progress_path, {"fingerprint": feature.fingerprint, "shape": list(shape), "done": b + len(x)})
            bar.update(len(x))
    bar.close()
    bad = _finite_rows(out)
    if len(bad):
        raise DataError(
            f"{feature.name}: NaN or inf in the features of {len(bad)} clips, e.g. {dataset.filenames[bad[0]]}; cache "
            "not written"
        )
    del out
    index = {
        "version": INDEX_VERSION,
        "feature": feature.name,
        "config": feature.config.to_dict(),
        "fingerprint": feature.fingerprint,
        "dataset": dataset.name,
        "files": dataset.filenames,
        "shape": list(shape),
    }
    _write_json(folder / "index.json", index)
    os.replace(partial, folder / "features.npy")
    progress_path.unlink(missing_ok=True)
    return FeatureStore(folder, np.load(folder / "features.npy", mmap_mode="r"), index)
