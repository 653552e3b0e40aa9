"""Constant-Q transform magnitude in dB (``cqt``)."""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

from benchmarks.core.errors import ParameterError
from features import functional as Fn
from features._registry import register_feature
from features.base import KernelConfig, KernelFeature


@dataclass(frozen=True)
class CQTConfig(KernelConfig):
    """Constant-Q parameters (librosa's names): ``n_bins`` bins from ``fmin`` Hz,
    ``bins_per_octave`` per octave, Hann-windowed filters (``filter_scale`` 1), frames every
    ``hop_length`` samples centred on the frame time; magnitude in dB (ref 1, ``top_db`` per
    clip). Defaults: 128 bins of 1/16 octave from 55 Hz (A1) to 13.3 kHz. ``sparsity``:
    the fraction of each kernel's L1 norm dropped (as librosa's)."""

    fmin: float = 55.0
    bins_per_octave: int = 16
    filter_scale: float = 1.0
    sparsity: float = 0.01


@register_feature
class CQT(KernelFeature):
    """CQT magnitude in dB: ``(batch, samples)`` -> ``(batch, 1, n_bins, frames)``.

    The torch path multiplies one DFT of the whole clip by each bin's (sparse) frequency-domain
    kernel and reads the filter outputs at the frame times through a short inverse DFT, for all
    bins and clips at once (see :func:`features.functional.kernel_response`). Its kernels are
    librosa's filters (``librosa.filters.wavelet``) at full rate; ``librosa.cqt`` computes the
    lower octaves on a downsampled signal, so the two differ slightly in the lowest octaves.
    """

    name = "cqt"
    Config = CQTConfig
    bin_label = "note"

    def __init__(self, config: CQTConfig | None = None, **params):
        super().__init__(config, **params)
        c = self.config
        freqs = self.bin_frequencies()
        if freqs[-1] * (1 + 0.5 / c.bins_per_octave) >= c.sr / 2:
            raise ParameterError(
                f"cqt: the top bin ({freqs[-1]:.0f} Hz) reaches the Nyquist frequency ({c.sr / 2:.0f} Hz)"
            )
        filters, lengths = librosa.filters.wavelet(
            freqs=freqs, sr=c.sr, filter_scale=c.filter_scale, norm=1, window="hann", pad_fft=False
        )
        self._filters, self._lengths = filters, lengths

    def bin_frequencies(self) -> np.ndarray:
        c = self.config
        return librosa.cqt_frequencies(n_bins=c.n_bins, fmin=c.fmin, bins_per_octave=c.bins_per_octave)

    def bin_values(self) -> np.ndarray:
        return self.bin_frequencies()

    def filter_reach(self) -> int:
        return self._filters.shape[1] // 2

    def kernel_coefficients(self, n_fft: int):
        k, f, v = Fn.sparse_kernels(self._filters, n_fft, self.config.sparsity)
        # librosa.cqt's scale: L1-normalised filters, response times sqrt(filter length)
        return k, f, v * np.sqrt(self._lengths[k])

    def reference(self, waveform: np.ndarray) -> np.ndarray:
        c = self.config
        C = np.abs(
            librosa.cqt(
                np.asarray(waveform, dtype=np.float32),
                sr=c.sr,
                hop_length=c.hop_length,
                fmin=c.fmin,
                n_bins=c.n_bins,
                bins_per_octave=c.bins_per_octave,
                filter_scale=c.filter_scale,
                sparsity=c.sparsity,
                window="hann",
            )
        )
        return librosa.amplitude_to_db(C, ref=1.0, amin=c.amin, top_db=c.top_db)[None]
