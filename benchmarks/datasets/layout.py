"""Registered data laid out as your own: a ``labels.csv`` and links to the audio, for the
``folder`` dataset (``python -m benchmarks.data layout esc10``, into ``out/layouts/esc10``).

A layout's default folder can always be made again from the registered data, so a committed
report trained on it regenerates on a fresh clone (``benchmarks.reproduce`` remakes it).

ESC-10 is the 10-class, 400-clip subset of ESC-50 that ``esc50.csv`` marks in its ``esc10``
column (Piczak 2015), with ESC-50's official folds. Nothing is copied or written into the data
folder: ``DIR/audio/`` holds symbolic links to its files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from benchmarks.core.errors import DataError
from benchmarks.core.io import write_atomic
from benchmarks.datasets.paths import resolve_root

#: where a layout goes by default: ``out/layouts/<name>`` (ignored by git)
LAYOUT_ROOT = Path("out") / "layouts"


def write_layout(name: str, out: str | os.PathLike | None = None, data_root: str | os.PathLike | None = None) -> Path:
    """Write the layout ``name`` (:data:`LAYOUTS`) into ``out`` (default ``out/layouts/<name>``) from
    the registered data in ``data_root`` (default: found as for every dataset); returns the folder.

    Raises:
        DataError: as the layout's writer."""
    return LAYOUTS[name][0](out or LAYOUT_ROOT / name, data_root)


def remake_if_missing(folder: str | os.PathLike) -> bool:
    """Write the layout whose default folder is ``folder`` (relative to the working directory) if it
    is missing; whether it wrote one. Any other folder is left alone."""
    folder = Path(folder)
    if folder.exists():
        return False
    name = next((n for n in LAYOUTS if folder.resolve() == (LAYOUT_ROOT / n).resolve()), None)
    if name is not None:
        write_layout(name, folder)
    return name is not None


def write_esc10(out: str | os.PathLike, data_root: str | os.PathLike | None = None) -> Path:
    """Write ESC-10 into ``out``: ``labels.csv`` (``filename,label,fold``, the rows in ``esc50.csv``'s
    order, labels the category names) and ``audio/`` links into the ESC-50 folder; returns ``out``.

    Raises:
        DataError: ESC-50 not found, a listed clip missing, or ``out`` inside the data folder.
    """
    src = resolve_root("esc50", "meta/esc50.csv", data_root)
    out = Path(out).resolve()
    if out == src or src in out.parents:
        raise DataError(f"{out}: refusing to write inside the data folder {src}; choose another folder")
    meta = pd.read_csv(src / "meta" / "esc50.csv")
    meta = meta[meta["esc10"].astype(str).str.lower() == "true"]
    audio = {p.stem: p for p in (src / "audio").iterdir()}
    (out / "audio").mkdir(parents=True, exist_ok=True)
    rows = []
    for r in meta.itertuples():
        stem = Path(r.filename).stem
        if stem not in audio:
            raise DataError(f"{src / 'audio'}: {r.filename} (listed in meta/esc50.csv) is missing")
        link = out / "audio" / audio[stem].name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(audio[stem])
        rows.append({"filename": f"audio/{link.name}", "label": r.category, "fold": int(r.fold)})
    write_atomic(out / "labels.csv", pd.DataFrame(rows).to_csv(index=False).encode())
    return out


#: the layouts this module writes: name -> (writer ``(out, data_root) -> folder``, what it is)
LAYOUTS = {"esc10": (write_esc10, "ESC-50's 10-class subset (400 clips), official folds")}
