"""Where datasets and caches live.

Data root resolution, first match wins:

1. an explicit ``data_root`` (the ``--data-root`` option of every command);
2. ``$RANN_DATA/<dataset>``;
3. ``../shared/data/<dataset>`` beside the repository;
4. ``~/.cache/rann/<dataset>``.

Caches go to ``cache_dir`` if given, else ``$RANN_CACHE``, else ``~/.cache/rann``. They are never
written inside a data folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from benchmarks.core.errors import DataError

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_cache_dir() -> Path:
    """The cache folder: ``$RANN_CACHE`` if set, else ``~/.cache/rann``."""
    env = os.environ.get("RANN_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "rann"


def candidate_roots(name: str, data_root: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for dataset ``name``, in order (only ``data_root`` when given)."""
    if data_root is not None:
        return [Path(data_root).expanduser()]
    out = []
    env = os.environ.get("RANN_DATA")
    if env:
        out.append(Path(env).expanduser() / name)
    out.append(REPO_ROOT.parent / "shared" / "data" / name)
    out.append(Path.home() / ".cache" / "rann" / name)
    return out


def resolve_root(
    name: str, marker: str | tuple[str, ...], data_root: str | os.PathLike | None = None, download_hint: str = ""
) -> Path:
    """Return the first candidate folder that holds ``marker`` (e.g. ``meta/esc50.csv``), or any
    one of several markers (a file or a folder: one per accepted layout).

    Raises:
        DataError: naming every folder that was searched and how to get the data.
    """
    markers = (marker,) if isinstance(marker, str) else tuple(marker)
    candidates = candidate_roots(name, data_root)
    for root in candidates:
        if any((root / m).exists() for m in markers):
            return root.resolve()
    looked = "\n".join(f"  - {c} (no {' or '.join(markers)})" for c in candidates)
    raise DataError(
        f"dataset {name!r} not found. Looked in:\n{looked}\n"
        f"Point to it with --data-root DIR or the RANN_DATA environment variable"
        f" (RANN_DATA/{name}), or download it{download_hint}."
    )


def ensure_outside(path: Path, data_root: Path) -> None:
    """Raise if ``path`` lies inside ``data_root`` (data folders are read-only to us)."""
    path, data_root = Path(path).resolve(), Path(data_root).resolve()
    if path == data_root or data_root in path.parents:
        raise DataError(
            f"{path}: refusing to write a cache inside the data folder {data_root}; "
            "choose another --cache-dir or RANN_CACHE"
        )
