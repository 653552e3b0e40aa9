"""Log-mel spectrogram (``mel``) and mel-frequency cepstral coefficients (``mfcc``)."""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np
import torch

from benchmarks.core.errors import ParameterError
from features import functional as Fn
from features._registry import register_feature
from features.base import Feature, SpectralConfig


@dataclass(frozen=True)
class MelConfig(SpectralConfig):
    """Log-mel parameters (librosa's names). ``fmin``/``fmax`` in Hz; ``top_db`` floors each
    clip at its maximum minus ``top_db`` dB. ``backend``: ``"torch"`` (chunked ``torch.fft``)
    or ``"torchlibrosa"``. Defaults: 128 bands from 50 Hz to 14 kHz, as in PANNs."""

    n_mels: int = 128
    fmin: float = 50.0
    fmax: float | None = 14_000.0
    power: float = 2.0
    ref: float = 1.0
    amin: float = 1e-10
    top_db: float | None = 80.0
    backend: str = "torch"


def mel_filterbank(c: MelConfig) -> np.ndarray:
    """librosa's Slaney-normalised mel filterbank, ``(n_mels, n_fft // 2 + 1)``."""
    return librosa.filters.mel(sr=c.sr, n_fft=c.n_fft, n_mels=c.n_mels, fmin=c.fmin, fmax=c.fmax)


def hann_window(c: SpectralConfig, periodic: bool = True) -> torch.Tensor:
    """librosa's ``get_window(window, win_length, fftbins=True)`` centred in ``n_fft`` samples."""
    win_length = c.win_length or c.n_fft
    if c.window != "hann":
        raise ParameterError(f"only the 'hann' window is implemented, got {c.window!r}")
    w = torch.hann_window(win_length, periodic=periodic, dtype=torch.float64)
    left = (c.n_fft - win_length) // 2
    return torch.nn.functional.pad(w, (left, c.n_fft - win_length - left)).float()


def librosa_melspectrogram_db(y: np.ndarray, c: MelConfig) -> np.ndarray:
    """The CPU reference: ``power_to_db(librosa.feature.melspectrogram(...))``, ``(n_mels, frames)`` dB."""
    S = librosa.feature.melspectrogram(
        y=y,
        sr=c.sr,
        n_fft=c.n_fft,
        hop_length=c.hop_length,
        win_length=c.win_length,
        window=c.window,
        center=c.center,
        pad_mode=c.pad_mode,
        power=c.power,
        n_mels=c.n_mels,
        fmin=c.fmin,
        fmax=c.fmax,
    )
    return librosa.power_to_db(S, ref=c.ref, amin=c.amin, top_db=c.top_db)


def melspectrogram(
    waveform: torch.Tensor,
    *,
    window: torch.Tensor,
    fb_t: torch.Tensor,
    n_fft: int,
    hop_length: int,
    center: bool,
    pad_mode: str,
    power: float,
) -> torch.Tensor:
    """Mel power spectrogram: ``(batch, samples)`` -> ``(batch, n_mels, frames)``.

    ``fb_t``: ``(freqs, n_mels)`` filterbank, its rows cut after the last non-zero one (the STFT
    bins above it are never computed into the product).
    """
    return Fn.stft_filterbank(
        waveform, fb_t, n_fft=n_fft, hop_length=hop_length, window=window, center=center, pad_mode=pad_mode, power=power
    )


@register_feature
class LogMel(Feature):
    """Log-mel spectrogram in dB: ``(batch, samples)`` -> ``(batch, 1, n_mels, frames)``."""

    name = "mel"
    Config = MelConfig
    unit = "dB"
    bin_label = "Hz"
    pitch_axis = "shift"

    def __init__(self, config: MelConfig | None = None, **params):
        super().__init__(config, **params)
        c = self.config
        if not 0 <= c.fmin < (c.fmax or c.sr / 2) <= c.sr / 2:
            raise ParameterError(
                f"{self.name}: need 0 <= fmin < fmax <= sr / 2, got fmin={c.fmin}, fmax={c.fmax}, sr={c.sr}"
            )
        fb = mel_filterbank(c)
        n_bins = int(np.flatnonzero(fb.any(axis=0)).max()) + 1  # bins above fmax are unused
        self.register_buffer("window", hann_window(c), persistent=False)
        self.register_buffer("fb_t", torch.from_numpy(np.ascontiguousarray(fb[:, :n_bins].T)).float(), persistent=False)
        if c.backend == "torchlibrosa":
            from torchlibrosa.stft import LogmelFilterBank, Spectrogram

            # mel power only: torchlibrosa's top_db is global over the batch, ours is per clip
            self.tl_spec = Spectrogram(
                n_fft=c.n_fft,
                hop_length=c.hop_length,
                win_length=c.win_length,
                window=c.window,
                center=c.center,
                pad_mode=c.pad_mode,
                power=c.power,
                freeze_parameters=True,
            )
            self.tl_mel = LogmelFilterBank(
                sr=c.sr, n_fft=c.n_fft, n_mels=c.n_mels, fmin=c.fmin, fmax=c.fmax, is_log=False, freeze_parameters=True
            )
        elif c.backend != "torch":
            raise ParameterError(f"mel: backend must be 'torch' or 'torchlibrosa', got {c.backend!r}")

    def mel_power(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` -> mel power ``(batch, n_mels, frames)``."""
        c = self.config
        x = self._check_input(waveform)
        if c.backend == "torchlibrosa":
            return self.tl_mel(self.tl_spec(x))[:, 0].transpose(1, 2)
        return melspectrogram(
            x,
            window=self.window,
            fb_t=self.fb_t,
            n_fft=c.n_fft,
            hop_length=c.hop_length,
            center=c.center,
            pad_mode=c.pad_mode,
            power=c.power,
        )

    def log_mel(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` -> log-mel ``(batch, n_mels, frames)`` in dB."""
        c = self.config
        return Fn.power_to_db(self.mel_power(waveform), ref=c.ref, amin=c.amin, top_db=c.top_db)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.log_mel(waveform)[:, None]

    def reference(self, waveform: np.ndarray) -> np.ndarray:
        return librosa_melspectrogram_db(np.asarray(waveform, dtype=np.float32), self.config)[None]

    def bin_values(self) -> np.ndarray:
        c = self.config
        return librosa.mel_frequencies(n_mels=c.n_mels + 2, fmin=c.fmin, fmax=c.fmax or c.sr / 2)[1:-1]

    def display_axis(self) -> dict:
        return {"y_axis": "mel", "fmin": self.config.fmin, "fmax": self.config.fmax or self.config.sr / 2}


@dataclass(frozen=True)
class MFCCConfig(MelConfig):
    """MFCC: the orthonormal DCT-II of the log-mel (dB), first ``n_mfcc`` coefficients."""

    n_mfcc: int = 128


@register_feature
class MFCC(LogMel):
    """MFCC: ``(batch, samples)`` -> ``(batch, 1, n_mfcc, frames)`` (DCT of dB values)."""

    name = "mfcc"
    Config = MFCCConfig
    unit = "DCT of dB"
    bin_label = "coefficient"
    pitch_axis = None  # a pitch shift mixes every coefficient

    def __init__(self, config: MFCCConfig | None = None, **params):
        super().__init__(config, **params)
        if self.config.n_mfcc > self.config.n_mels:
            raise ParameterError(f"mfcc: n_mfcc ({self.config.n_mfcc}) cannot exceed n_mels ({self.config.n_mels})")
        self.register_buffer("dct", Fn.dct_matrix(self.config.n_mfcc, self.config.n_mels), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return torch.matmul(self.dct, self.log_mel(waveform))[:, None]

    def reference(self, waveform: np.ndarray) -> np.ndarray:
        c = self.config
        S = librosa_melspectrogram_db(np.asarray(waveform, dtype=np.float32), c)
        return librosa.feature.mfcc(S=S, n_mfcc=c.n_mfcc, dct_type=2, norm="ortho")[None]

    def bin_values(self) -> np.ndarray:
        return np.arange(self.config.n_mfcc)

    def display_axis(self) -> dict:
        return {}
