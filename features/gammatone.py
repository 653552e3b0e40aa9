"""Gammatone-frequency cepstral coefficients (``gfcc``), after spafe."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from benchmarks.core.errors import ParameterError
from features import functional as Fn
from features._registry import register_feature
from features.base import Feature, SpectralConfig


@dataclass(frozen=True)
class GFCCConfig(SpectralConfig):
    """GFCC parameters. ``n_filters`` gammatone (ERB-spaced, order 4) filters from ``fmin`` to
    ``fmax`` Hz on the power spectrum, cube-root compression, orthonormal DCT-II, first
    ``n_gfcc`` coefficients; pre-emphasis ``y[n] = x[n] - 0.97 x[n-1]``; symmetric Hann window.

    Spafe frames without centring, takes its window in seconds and always pre-emphasises; the
    reference therefore pads the clip by ``n_fft // 2`` zeros on each side first (so frames
    line up with the other features), and passes ``win_len = (n_fft + 0.5) / sr`` and
    ``win_hop = (hop_length + 0.5) / sr`` (spafe truncates ``seconds * sr`` to an integer).
    """

    n_gfcc: int = 128
    n_filters: int = 128
    fmin: float = 50.0
    fmax: float = 14_000.0
    pre_emphasis: float = 0.97
    window: str = "hanning"


@register_feature
class GFCC(Feature):
    """GFCC: ``(batch, samples)`` -> ``(batch, 1, n_gfcc, frames)`` (DCT of cube-root energies)."""

    name = "gfcc"
    Config = GFCCConfig
    unit = "DCT of cube-root energy"
    bin_label = "coefficient"

    def __init__(self, config: GFCCConfig | None = None, **params):
        super().__init__(config, **params)
        c = self.config
        if c.window != "hanning" or c.pre_emphasis != 0.97:
            raise ParameterError(
                "gfcc: spafe fixes the window to a symmetric Hann ('hanning') here and pre-emphasis to 0.97"
            )
        if not 0 <= c.fmin < c.fmax <= c.sr / 2:
            raise ParameterError(f"gfcc: need 0 <= fmin < fmax <= sr / 2, got fmin={c.fmin}, fmax={c.fmax}, sr={c.sr}")
        if c.n_gfcc > c.n_filters:
            raise ParameterError(f"gfcc: n_gfcc ({c.n_gfcc}) cannot exceed n_filters ({c.n_filters})")
        from spafe.fbanks.gammatone_fbanks import gammatone_filter_banks

        fb, _ = gammatone_filter_banks(
            nfilts=c.n_filters, nfft=c.n_fft, fs=c.sr, low_freq=c.fmin, high_freq=c.fmax, scale="constant"
        )
        self.register_buffer("window", torch.from_numpy(np.hanning(c.n_fft)).float(), persistent=False)
        # spafe's power spectrum is |X|^2 / n_fft: fold the 1/n_fft into the filterbank
        self.register_buffer("fb_t", torch.from_numpy(np.ascontiguousarray(fb.T / c.n_fft)).float(), persistent=False)
        self.register_buffer("dct", Fn.dct_matrix(c.n_gfcc, c.n_filters), persistent=False)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        c = self.config
        return Fn.gfcc(
            self._check_input(waveform),
            fb_t=self.fb_t,
            dct=self.dct,
            window=self.window,
            n_fft=c.n_fft,
            hop_length=c.hop_length,
            pre_emphasis=c.pre_emphasis,
        )[:, None]

    def reference(self, waveform: np.ndarray) -> np.ndarray:
        from spafe.features.gfcc import gfcc
        from spafe.utils.preprocessing import SlidingWindow

        c = self.config
        y = np.pad(np.asarray(waveform, dtype=np.float64), c.n_fft // 2)
        window = SlidingWindow((c.n_fft + 0.5) / c.sr, (c.hop_length + 0.5) / c.sr, c.window)
        g = gfcc(
            y,
            fs=c.sr,
            num_ceps=c.n_gfcc,
            pre_emph=True,
            pre_emph_coeff=c.pre_emphasis,
            window=window,
            nfilts=c.n_filters,
            nfft=c.n_fft,
            low_freq=c.fmin,
            high_freq=c.fmax,
            scale="constant",
            dct_type=2,
        )
        return g.T[None].astype(np.float32)

    def bin_values(self) -> np.ndarray:
        return np.arange(self.config.n_gfcc)
