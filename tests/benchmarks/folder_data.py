"""A tiny generated dataset of your own: 3 classes of distinct sounds, mixed encodings, rates and
channel counts, a ``group`` per recording session; in both layouts of the ``folder`` dataset."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

CLASSES = ("hum", "beep", "hiss")
#: (container, subtype, rate, channels), cycled over the clips
ENCODINGS = (
    ("wav", "PCM_16", 16_000, 1),
    ("wav", "FLOAT", 22_050, 2),
    ("flac", "PCM_24", 44_100, 1),
    ("ogg", "VORBIS", 22_050, 1),
    ("wav", "PCM_U8", 8_000, 1),
)


def sound(label: str, rng: np.random.Generator, sr: int, seconds: float) -> np.ndarray:
    """One clip of class ``label``: a low hum (100-300 Hz), a beep (1.5-3 kHz), or broadband hiss."""
    t = np.arange(int(sr * seconds)) / sr
    if label == "hum":
        x = np.sin(2 * np.pi * rng.uniform(100, 300) * t) * 0.5
    elif label == "beep":
        x = np.sin(2 * np.pi * rng.uniform(1500, 3000) * t) * 0.3
    else:
        x = rng.standard_normal(len(t)) * 0.2
    return (x + rng.standard_normal(len(t)) * 0.01).astype(np.float32)


def write_clip(path: Path, label: str, rng: np.random.Generator, k: int, seconds: float = 1.0) -> Path:
    """Write one clip of ``label`` with the ``k``-th encoding; returns its path (suffix added)."""
    ext, subtype, sr, channels = ENCODINGS[k % len(ENCODINGS)]
    x = sound(label, rng, sr, seconds * rng.uniform(0.8, 1.2))
    data = np.stack([x, x * 0.9], axis=1) if channels == 2 else x
    path = path.with_suffix(f".{ext}")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, sr, subtype=subtype)
    return path


def make_dataset(root: Path, *, per_class: int = 12, groups: int = 4, layout: str = "csv", seed: int = 0) -> Path:
    """``per_class`` clips of each class under ``root``, in ``layout`` ``"csv"`` (labels.csv with a
    ``group`` column: ``groups`` sessions of consecutive clips, each session in several encodings)
    or ``"folders"`` (``<root>/<label>/<file>``)."""
    rng = np.random.default_rng(seed)
    rows = []
    for label in CLASSES:
        for i in range(per_class):
            rel = Path(label if layout == "folders" else "audio") / f"{label}-{i:02d}"
            path = write_clip(root / rel, label, rng, i)
            rows.append(
                {"filename": path.relative_to(root).as_posix(), "label": label, "group": f"s{i * groups // per_class}"}
            )
    if layout == "csv":
        with open(root / "labels.csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["filename", "label", "group"])
            w.writeheader()
            w.writerows(rows)
    return root
