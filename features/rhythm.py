"""Autocorrelation tempogram of the onset-strength envelope (``tempogram``)."""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np
import torch

from benchmarks.core.errors import ParameterError
from features import functional as Fn
from features._registry import register_feature
from features.base import Feature, FeatureConfig
from features.cqt import CQT
from features.mel import LogMel

#: The CQT whose flux is the onset envelope with ``onset="cqt"``: librosa's ``cqt`` defaults.
ONSET_CQT = {"fmin": 32.70, "n_bins": 84, "bins_per_octave": 12}


@dataclass(frozen=True)
class TempogramConfig(FeatureConfig):
    """Tempogram parameters (librosa's names). The onset envelope is librosa's default
    ``onset_strength``: log-mel (``n_fft`` 2048, 128 bands, 0 Hz to ``sr / 2``) spectral flux,
    lag 1, averaged over bands; with ``onset="cqt"`` the flux of a CQT in dB instead (84 bins of
    a semitone from C1, librosa's ``cqt`` defaults). ``win_length`` frames of it (Hann-windowed,
    centred) are autocorrelated; bin ``l`` is a lag of ``l`` frames, i.e.
    ``60 sr / (hop_length l)`` BPM. 128 lags at hop 320 reach 0.93 s (64.6 BPM)."""

    hop_length: int = 320
    win_length: int = 128
    onset_n_fft: int = 2048
    onset_n_mels: int = 128
    #: librosa's ``norm``: ``inf`` divides each frame by its maximum (the lag-0 value; librosa's
    #: default, which drops the onset envelope's level); ``None`` keeps the autocorrelation
    norm: float | None = float("inf")
    onset: str = "mel"


@register_feature
class Tempogram(Feature):
    """Tempogram: ``(batch, samples)`` -> ``(batch, 1, win_length, frames)``, each frame divided
    by its maximum (the lag-0 autocorrelation) unless ``norm=None``."""

    name = "tempogram"
    Config = TempogramConfig
    unit = "autocorrelation / frame max"
    bin_label = "BPM"

    def display_axis(self) -> dict:
        return {"y_axis": "tempo"}

    def __init__(self, config: TempogramConfig | None = None, **params):
        super().__init__(config, **params)
        c = self.config
        if c.norm not in (None, float("inf")):
            raise ParameterError(f"tempogram: norm must be inf or None, got {c.norm}")
        if c.onset == "mel":
            self.spectrum = LogMel(
                sr=c.sr, n_fft=c.onset_n_fft, hop_length=c.hop_length, n_mels=c.onset_n_mels, fmin=0.0, fmax=c.sr / 2
            )
        elif c.onset == "cqt":
            self.spectrum = CQT(sr=c.sr, hop_length=c.hop_length, **ONSET_CQT)
        else:
            raise ParameterError(f"tempogram: onset must be 'mel' or 'cqt', got {c.onset!r}")
        self.register_buffer(
            "window", torch.hann_window(c.win_length, periodic=True, dtype=torch.float64).float(), persistent=False
        )

    def onset_strength(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` -> onset-strength envelope ``(batch, frames)``."""
        spec = self.spectrum.log_mel(waveform) if self.config.onset == "mel" else self.spectrum(waveform)[:, 0]
        return Fn.onset_strength(spec, n_fft=self.config.onset_n_fft, hop_length=self.config.hop_length)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return Fn.tempogram(
            self.onset_strength(self._check_input(waveform)), window=self.window, normalize=self.config.norm is not None
        )[:, None]

    def reference(self, waveform: np.ndarray) -> np.ndarray:
        c = self.config
        y = np.asarray(waveform, dtype=np.float32)
        if c.onset == "mel":
            env = librosa.onset.onset_strength(
                y=y, sr=c.sr, hop_length=c.hop_length, n_fft=c.onset_n_fft, n_mels=c.onset_n_mels
            )
        else:  # librosa's own CQT in dB (features.cqt's reference), then the same flux
            env = librosa.onset.onset_strength(
                S=self.spectrum.reference(y)[0], sr=c.sr, hop_length=c.hop_length, n_fft=c.onset_n_fft
            )
        return librosa.feature.tempogram(
            onset_envelope=env, sr=c.sr, hop_length=c.hop_length, win_length=c.win_length, norm=c.norm
        )[None]

    def bin_values(self) -> np.ndarray:
        c = self.config
        with np.errstate(divide="ignore"):
            return librosa.tempo_frequencies(c.win_length, sr=c.sr, hop_length=c.hop_length)
