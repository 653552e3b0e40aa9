"""Atomic writes: text, bytes, JSON and figures go to a temporary file that is renamed into place,
so a reader (or a resumed run) never sees a half-written file that looks complete."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write ``data`` (text or bytes) to ``path`` through a temporary file and a rename; creates
    the parent folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_bytes(data) if isinstance(data, bytes) else tmp.write_text(data)
    os.replace(tmp, path)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """``obj`` as indented JSON (one space, trailing newline), written atomically."""
    write_atomic(path, json.dumps(obj, indent=1) + "\n")


def save_figure(fig, path: str | os.PathLike, dpi: int) -> None:
    """Save a matplotlib figure as PNG atomically, then close it."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    write_atomic(path, buf.getvalue())
