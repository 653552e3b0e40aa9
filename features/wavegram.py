"""Wavegram: a learned 1-D convolutional front-end on the raw waveform (PANNs' Wavegram)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.core.errors import ParameterError
from features._registry import register_feature
from features.base import Feature, FeatureConfig


@dataclass(frozen=True)
class WavegramConfig(FeatureConfig):
    """A strided convolution (``base_channels`` filters of ``2 * stride + 1`` taps, stride
    ``hop_length // 64``) and three blocks of two convolutions with max-pooling by 4, so one output
    frame per ``hop_length`` samples. The default, PANNs' Wavegram, is stride 5 (11 taps) for a
    hop of 320 samples. The ``n_channels`` outputs are reshaped to ``(out_chans, n_channels //
    out_chans)`` "bins". ``center`` pads ``hop_length // 2`` samples on each side, for
    ``1 + samples // hop_length`` frames."""

    base_channels: int = 64
    n_channels: int = 128
    out_chans: int = 1
    center: bool = True

    hop_length: int = 320  # samples per frame: the stem's stride times 4 * 4 * 4


class _WaveBlock(nn.Module):
    """Conv(3) -> BN -> ReLU -> Conv(3, dilation 2) -> BN -> ReLU -> max-pool."""

    def __init__(self, c_in: int, c_out: int, pool: int):
        super().__init__()
        self.conv1 = nn.Conv1d(c_in, c_out, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, 3, padding=2, dilation=2, bias=False)
        self.bn2 = nn.BatchNorm1d(c_out)
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu_(self.bn1(self.conv1(x)))
        x = F.relu_(self.bn2(self.conv2(x)))
        return F.max_pool1d(x, self.pool)


@register_feature
class Wavegram(Feature):
    """Learned front-end: ``(batch, samples)`` -> ``(batch, out_chans, n_channels // out_chans,
    frames)``. It is trained with the model (``trainable``), so it has no CPU reference and is
    never cached."""

    name = "wavegram"
    Config = WavegramConfig
    trainable = True
    unit = "activation"
    bin_label = "channel"

    def __init__(self, config: WavegramConfig | None = None, **params):
        super().__init__(config, **params)
        c = self.config
        if c.hop_length % 64 or c.hop_length < 64:
            raise ParameterError(
                f"wavegram: hop_length ({c.hop_length}) must be a positive multiple of 64 (the stem's stride times 4 "
                "* 4 * 4)"
            )
        if c.n_channels % c.out_chans:
            raise ParameterError(
                f"wavegram: n_channels ({c.n_channels}) must be divisible by out_chans ({c.out_chans})"
            )
        stride = c.hop_length // 64
        self.conv0 = nn.Conv1d(1, c.base_channels, 2 * stride + 1, stride=stride, padding=stride, bias=False)
        self.bn0 = nn.BatchNorm1d(c.base_channels)
        self.blocks = nn.Sequential(
            _WaveBlock(c.base_channels, c.base_channels, 4),
            _WaveBlock(c.base_channels, c.n_channels, 4),
            _WaveBlock(c.n_channels, c.n_channels, 4),
        )

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        c = self.config
        x = self._check_input(waveform)
        if c.center:
            x = F.pad(x, (c.hop_length // 2, c.hop_length // 2))
        x = F.relu_(self.bn0(self.conv0(x[:, None])))
        x = self.blocks(x)  # (batch, n_channels, frames)
        return x.reshape(x.shape[0], c.out_chans, c.n_channels // c.out_chans, x.shape[-1])

    def bin_values(self) -> np.ndarray:
        return np.arange(self.config.n_channels // self.config.out_chans)
