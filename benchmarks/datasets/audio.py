"""Decoding one clip into a fixed-length mono float32 waveform."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from benchmarks.core.errors import DataError, ParameterError


@dataclass(frozen=True)
class AudioInfo:
    """What the source file holds before conversion: rate (Hz), channels and frames."""

    sample_rate: int
    channels: int
    frames: int

    @property
    def duration(self) -> float:
        """Native duration in seconds."""
        return self.frames / self.sample_rate


def load_audio(path: str | Path, *, sr: int, duration: float, align: str = "start") -> tuple[np.ndarray, AudioInfo]:
    """Decode ``path`` to mono float32 at ``sr`` Hz, zero-padded or cropped to ``duration`` s:
    ``align="start"`` keeps the beginning (pads or cuts at the end), ``"center"`` keeps the middle
    (pads or cuts both ends equally).

    Returns:
        ``(waveform, info)``: waveform of shape ``(round(sr * duration),)``, values nominally in
        [-1, 1]; ``info`` describes the source file.

    Raises:
        DataError: as :func:`read_audio`.
    """
    mono, info = read_audio(path, sr=sr)
    return fit_length(mono, int(round(sr * duration)), align), info


def read_audio(path: str | Path, *, sr: int) -> tuple[np.ndarray, AudioInfo]:
    """Decode the whole of ``path`` to mono float32 ``(samples,)`` at ``sr`` Hz; down-mixing averages
    the channels, resampling uses soxr at high quality.

    Raises:
        DataError: the file is missing, empty, undecodable, holds no samples, or decodes to NaN/inf.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: audio file is missing")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: audio file is empty (0 bytes)")
    try:
        data, native_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile raises several types; all mean "cannot decode"
        raise DataError(f"{path}: cannot decode audio ({type(exc).__name__}: {str(exc).strip()})") from None
    info = AudioInfo(sample_rate=int(native_sr), channels=int(data.shape[1]), frames=int(data.shape[0]))
    if info.frames == 0:
        raise DataError(f"{path}: audio file holds no samples")
    mono = data.mean(axis=1) if info.channels > 1 else data[:, 0]
    if info.sample_rate != sr:
        mono = soxr.resample(mono, info.sample_rate, sr, quality="HQ")
    if not np.isfinite(mono).all():
        raise DataError(f"{path}: decoded audio contains NaN or inf samples")
    return np.ascontiguousarray(mono, dtype=np.float32), info


def fit_length(x: np.ndarray, n: int, align: str = "start") -> np.ndarray:
    """``x`` ``(samples,)`` zero-padded or cropped to ``n`` samples, float32, aligned at the
    ``"start"`` or the ``"center"``."""
    if align not in ("start", "center"):
        raise ParameterError(f"align must be 'start' or 'center', got {align!r}")
    out = np.zeros(n, dtype=np.float32)
    m = min(n, x.shape[0])
    src = (x.shape[0] - m) // 2 if align == "center" else 0
    dst = (n - m) // 2 if align == "center" else 0
    out[dst : dst + m] = x[src : src + m]
    return out
