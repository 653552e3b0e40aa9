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

#: the layouts this module writes: name -> (registered dataset, what it is)
LAYOUTS = {"esc10": ("esc50", "ESC-50's 10-class subset (400 clips), official folds")}
#: where a layout goes by default: ``out/layouts/<name>`` (ignored by git)
LAYOUT_ROOT = Path("out") / "layouts"


def remake_if_missing(folder: str | os.PathLike) -> bool:
    """Write the layout whose default folder is ``folder`` (relative to the working directory) if it
    is missing; whether it wrote one. Any other folder is left alone."""
    folder = Path(folder)
    for name in LAYOUTS:
        if not folder.exists() and folder.resolve() == (LAYOUT_ROOT / name).resolve():
            write_esc10(folder)
            return True
    return False


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
