"""Chromagram from the power spectrogram, or from a constant-Q transform (``chroma``)."""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np
import torch

from benchmarks.core.errors import ParameterError
from features import functional as Fn
from features._registry import register_feature
from features.base import Feature, SpectralConfig
from features.cqt import CQT
from features.mel import hann_window


@dataclass(frozen=True)
class ChromaConfig(SpectralConfig):
    """Chroma parameters (librosa's names). ``tuning`` is fixed (in fractions of a bin; 0 = A440)
    rather than estimated per clip, so the filterbank is the same for every clip of a batch.
    ``n_fft`` 4096 at 44.1 kHz gives 10.8 Hz bins, librosa's resolution at 22.05 kHz."""

    n_fft: int = 4096
    n_chroma: int = 12
    tuning: float = 0.0
    #: librosa's ``norm``: ``inf`` divides each frame by its maximum (librosa's default, which
    #: drops the loudness envelope); ``None`` keeps the energies.
    norm: float | None = float("inf")
    #: also take ``10 log10`` of the chroma (``power_to_db``, ref 1, floored ``top_db`` below each clip's peak)
    log: bool = False
    amin: float = 1e-10
    top_db: float | None = 80.0
    #: ``"stft"``: ``librosa.feature.chroma_stft`` (power spectrogram through chroma filters);
    #: ``"cqt"``: ``librosa.feature.chroma_cqt`` (CQT magnitudes, ``bins_per_octave`` per octave
    #: for ``n_octaves`` octaves from ``fmin`` Hz, folded onto ``n_chroma`` pitch classes)
    source: str = "stft"
    bins_per_octave: int = 36
    n_octaves: int = 7
    fmin: float = 32.70  # C1, librosa's default


@register_feature
class Chroma(Feature):
    """Chromagram: ``(batch, samples)`` -> ``(batch, 1, n_chroma, frames)``; by default each frame
    divided by its maximum (values in [0, 1]), as librosa; ``norm=None`` keeps the energies and
    ``log=True`` gives them in dB."""

    name = "chroma"
    Config = ChromaConfig
    unit = "energy / frame max"
    bin_label = "pitch class"
    pitch_axis = "roll"

    def display_axis(self) -> dict:
        return {"y_axis": "chroma"}

    def __init__(self, config: ChromaConfig | None = None, **params):
        super().__init__(config, **params)
        c = self.config
        if c.source == "stft":
            fb = librosa.filters.chroma(sr=c.sr, n_fft=c.n_fft, tuning=c.tuning, n_chroma=c.n_chroma)
        elif c.source == "cqt":
            if c.tuning:
                raise ParameterError("chroma: source='cqt' supports tuning=0 only (our CQT's kernels are at A440)")
            n_bins = c.n_octaves * c.bins_per_octave
            self.cqt = CQT(
                sr=c.sr, hop_length=c.hop_length, fmin=c.fmin, n_bins=n_bins, bins_per_octave=c.bins_per_octave
            )
            fb = librosa.filters.cq_to_chroma(
                n_bins, bins_per_octave=c.bins_per_octave, n_chroma=c.n_chroma, fmin=c.fmin
            )
        else:
            raise ParameterError(f"chroma: source must be 'stft' or 'cqt', got {c.source!r}")
        self.register_buffer("window", hann_window(c), persistent=False)
        self.register_buffer("fb_t", torch.from_numpy(np.ascontiguousarray(fb.T)).float(), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        c = self.config
        x = self._check_input(waveform)
        if c.source == "cqt":
            x = Fn.chroma_cqt(self.cqt.magnitude(x), fb_t=self.fb_t, norm=c.norm)
        else:
            x = Fn.chroma_stft(
                x,
                fb_t=self.fb_t,
                window=self.window,
                n_fft=c.n_fft,
                hop_length=c.hop_length,
                center=c.center,
                pad_mode=c.pad_mode,
                norm=c.norm,
            )
        return (Fn.power_to_db(x, amin=c.amin, top_db=c.top_db) if c.log else x)[:, None]

    def reference(self, waveform: np.ndarray) -> np.ndarray:
        c = self.config
        y = np.asarray(waveform, dtype=np.float32)
        if c.source == "cqt":
            S = librosa.feature.chroma_cqt(
                y=y,
                sr=c.sr,
                hop_length=c.hop_length,
                fmin=c.fmin,
                norm=c.norm,
                tuning=0.0,
                n_chroma=c.n_chroma,
                n_octaves=c.n_octaves,
                bins_per_octave=c.bins_per_octave,
            )
        else:
            S = librosa.feature.chroma_stft(
                y=y,
                sr=c.sr,
                n_fft=c.n_fft,
                hop_length=c.hop_length,
                win_length=c.win_length,
                window=c.window,
                center=c.center,
                pad_mode=c.pad_mode,
                tuning=c.tuning,
                n_chroma=c.n_chroma,
                norm=c.norm,
            )
        return (librosa.power_to_db(S, ref=1.0, amin=c.amin, top_db=c.top_db) if c.log else S)[None]

    def bin_values(self) -> np.ndarray:
        return np.arange(self.config.n_chroma)
