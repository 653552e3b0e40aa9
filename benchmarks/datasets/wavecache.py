"""A decoded-waveform cache: one memory-mapped ``(n_clips, samples)`` float32 array per dataset.

Layout under ``<cache_dir>/waveforms/<dataset>-sr<sr>-<duration>s-<fingerprint>/``:

- ``waveforms.npy``: the clips in dataset order, ``(n_clips, round(sr * duration))`` float32;
- ``index.json``: file names, the source files' native rate/channels/frames, and the key.

The array is written under a temporary name and renamed last, so a folder whose
``waveforms.npy`` exists is complete. Folders of the same dataset, rate and duration with
another fingerprint (older sources) are removed once a new one is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from benchmarks.core.errors import DataError
from benchmarks.core.locks import locked
from benchmarks.datasets.audio import AudioInfo, load_audio

INDEX_VERSION = 1


def fingerprint_sources(meta_file: Path, audio_files: list[Path]) -> str:
    """A hash of the metadata file's bytes (when there is one: some layouts keep the labels in the
    file names) and each audio file's name, size and mtime."""
    h = hashlib.sha256()
    if Path(meta_file).is_file():
        h.update(Path(meta_file).read_bytes())
    for p in audio_files:
        st = p.stat()
        h.update(f"{p.name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def cache_key(name: str, sr: int, duration: float, fingerprint: str, align: str = "start") -> str:
    """The folder name that keys one cache entry."""
    return f"{name}-sr{sr}-{duration:g}s-{fingerprint[:16]}" + ("" if align == "start" else f"-{align}")


# -- worker side -------------------------------------------------------------------------
_WORKER_ARRAY: np.ndarray | None = None


def _open_worker(array_path: str) -> None:
    global _WORKER_ARRAY
    _WORKER_ARRAY = np.load(array_path, mmap_mode="r+")


def _decode_rows(
    rows: list[tuple[int, str]], sr: int, duration: float, align: str = "start"
) -> list[tuple[int, dict | str]]:
    """Decode ``rows`` of ``(index, path)`` into the shared array; return info or an error."""
    out: list[tuple[int, dict | str]] = []
    assert _WORKER_ARRAY is not None
    for i, path in rows:
        try:
            wave, info = load_audio(path, sr=sr, duration=duration, align=align)
        except DataError as exc:
            out.append((i, str(exc)))
            continue
        _WORKER_ARRAY[i] = wave
        out.append((i, info.__dict__))
    _WORKER_ARRAY.flush()
    return out


# -- public API --------------------------------------------------------------------------
def load_or_build(
    name: str,
    files: list[Path],
    *,
    meta_file: Path,
    sr: int,
    duration: float,
    cache_dir: Path,
    align: str = "start",
    workers: int | None = None,
    progress: bool = True,
) -> tuple[np.ndarray, list[AudioInfo]]:
    """Return the waveforms of ``files`` (read-only memmap) and their native info.

    Builds the cache when it is missing or stale (the source fingerprint changed).

    Raises:
        DataError: listing every file that could not be decoded (the cache is not written).
    """
    files = [Path(f) for f in files]
    fp = fingerprint_sources(meta_file, files)
    base = Path(cache_dir) / "waveforms"
    folder = base / cache_key(name, sr, duration, fp, align)
    n_samples = int(round(sr * duration))
    loaded = _try_load(folder, files, (len(files), n_samples))
    if loaded is not None:
        return loaded
    with locked(folder):  # a concurrent run (Ray, --jobs) builds it once; the others wait, then load
        loaded = _try_load(folder, files, (len(files), n_samples))
        if loaded is not None:
            return loaded
        infos = _build(
            folder,
            files,
            sr=sr,
            duration=duration,
            align=align,
            n_samples=n_samples,
            workers=workers,
            progress=progress,
            name=name,
            fingerprint=fp,
        )
    for stale in base.glob(f"{name}-sr{sr}-{duration:g}s-*"):
        if stale != folder and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    return np.load(folder / "waveforms.npy", mmap_mode="r"), infos


def _try_load(folder: Path, files: list[Path], shape: tuple[int, int]):
    array_path, index_path = folder / "waveforms.npy", folder / "index.json"
    if not (array_path.is_file() and index_path.is_file()):
        return None
    try:
        index = json.loads(index_path.read_text())
        array = np.load(array_path, mmap_mode="r")
    except (OSError, ValueError):
        return None
    if (
        index.get("version") != INDEX_VERSION
        or index.get("files") != [f.name for f in files]
        or array.shape != shape
        or array.dtype != np.float32
    ):
        return None
    return array, [AudioInfo(**d) for d in index["info"]]


def _build(folder, files, *, sr, duration, align, n_samples, workers, progress, name, fingerprint):
    partial = folder / "waveforms.partial.npy"
    array = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=(len(files), n_samples))
    del array  # workers reopen it
    workers = workers or os.cpu_count() or 1
    rows = [(i, str(p)) for i, p in enumerate(files)]
    chunks = [rows[k : k + 16] for k in range(0, len(rows), 16)]
    results: dict[int, dict | str] = {}
    bar = tqdm(total=len(files), desc=f"decoding {name}", unit="clip", disable=not progress)
    if workers == 1:
        _open_worker(str(partial))
        for chunk in chunks:
            for i, r in _decode_rows(chunk, sr, duration, align):
                results[i] = r
            bar.update(len(chunk))
    else:
        # fork where available: spawn would re-import the caller's __main__ (scripts without a
        # main guard break); the workers touch only numpy, soundfile and soxr
        ctx = get_context("fork" if "fork" in get_all_start_methods() else "spawn")
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_open_worker, initargs=(str(partial),)) as pool:
            futures = [pool.submit(_decode_rows, c, sr, duration, align) for c in chunks]
            for fut in futures:
                done = fut.result()
                for i, r in done:
                    results[i] = r
                bar.update(len(done))
    bar.close()
    errors = [results[i] for i in range(len(files)) if isinstance(results[i], str)]
    if errors:
        partial.unlink(missing_ok=True)
        raise DataError(f"{len(errors)} of {len(files)} audio files of {name} could not be loaded:", errors)
    info = [results[i] for i in range(len(files))]
    index = {
        "version": INDEX_VERSION,
        "dataset": name,
        "sample_rate": sr,
        "duration": duration,
        "fingerprint": fingerprint,
        "files": [f.name for f in files],
        "info": info,
    }
    tmp_index = folder / "index.json.partial"
    tmp_index.write_text(json.dumps(index))
    os.replace(tmp_index, folder / "index.json")
    os.replace(partial, folder / "waveforms.npy")
    return [AudioInfo(**d) for d in info]
