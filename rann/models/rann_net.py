"""Residual Audio Neural Networks (RANN): a WideResNet of pre-activation basic blocks whose
time strides are set by the temporal-decreasing parameter ``t_m``, and its CPU-sized variants."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.core.errors import ParameterError
from rann._registry import register_model
from rann.models.blocks import NEGATIVE_SLOPE, PreActBlock


def rann_strides(t_m: int, n_stages: int = 5) -> list[tuple[int, int]]:
    """``(s_f, s_t)`` of the first block of each stage: none in stage 1; in stages 2.. the
    frequency halves, the time is divided by 4 in stages 2 .. 1 + log2(t_m) and by 2 after."""
    s_m = int(math.log2(t_m))
    if 2**s_m != t_m or not 0 <= s_m <= n_stages - 1:
        raise ParameterError(f"t_m must be 1, 2, 4 or 8, got {t_m}")
    return [(1, 1)] + [(2, 4 if stage <= s_m else 2) for stage in range(1, n_stages)]


class RANN(nn.Module):
    """RANN: ``(batch, in_chans, n_bins, frames)`` -> logits ``(batch, num_classes)``.

    Args:
        width: W; the stages have 8W, 16W, 32W, 64W, 128W channels (``base`` = 8).
        t_m: temporal-decreasing parameter (1, 2, 4 or 8): total time stride 16 t_m.
        n_bins: input bins (a BatchNorm normalises each bin first, bins as channels).
        blocks: blocks per stage. base: channels of stage 1 per unit of width.
        stem_stride: an optional strided 3x3 convolution before stage 1 (``(s_f, s_t)``; CPU-sized
            variants use (2, 2) to work on a quarter of the positions); ``None`` for the paper's.

    The frame count is zero-padded to a multiple of the total time stride.
    """

    def __init__(
        self,
        num_classes: int,
        in_chans: int = 1,
        width: int = 6,
        t_m: int = 4,
        n_bins: int = 128,
        blocks: int = 4,
        base: int = 8,
        n_stages: int = 5,
        stem_stride: tuple[int, int] | None = None,
    ):
        super().__init__()
        self.t_m, self.width = t_m, width
        self.bn0 = nn.BatchNorm2d(n_bins)
        strides = rann_strides(t_m, n_stages)
        self.time_stride = math.prod(s[1] for s in strides) * (stem_stride[1] if stem_stride else 1)
        self.stem = nn.Identity()
        c_in = in_chans
        if stem_stride is not None:
            self.stem = nn.Conv2d(in_chans, base * width, 3, stride=stem_stride, padding=1, bias=False)
            c_in = base * width
        layers = []
        for stage, stride in enumerate(strides):
            c_out = base * width * 2**stage
            for b in range(blocks):
                layers.append(PreActBlock(c_in, c_out, stride if b == 0 else (1, 1)))
                c_in = c_out
        self.blocks = nn.Sequential(*layers)
        self.fc1 = nn.Linear(c_in, c_in)
        self.fc = nn.Linear(c_in, num_classes)
        self.num_features = c_in

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, in_chans, n_bins, frames)`` -> feature map ``(batch, channels, F', T')``."""
        pad = (-x.shape[-1]) % self.time_stride
        if pad:
            x = F.pad(x, (0, pad))
        x = self.bn0(x.transpose(1, 2)).transpose(1, 2)
        return self.blocks(self.stem(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_features(x).mean(dim=2)  # over frequency
        x = x.mean(dim=2) + x.amax(dim=2)  # over time
        return self.fc(F.leaky_relu(self.fc1(x), NEGATIVE_SLOPE))


def _rann(t_m: int, width: int):
    def factory(num_classes: int, in_chans: int = 1, **kwargs) -> RANN:
        return RANN(num_classes, in_chans, width=width, t_m=t_m, **kwargs)

    factory.__name__ = f"rann_{t_m}_{width}"
    factory.__doc__ = f"RANN with t_m = {t_m} and W = {width} (the paper's RANN-<t_c>x{t_m}-{width})."
    return factory


for _t_m in (1, 2, 4, 8):
    for _w in (1, 2, 3, 4, 5, 6):
        register_model(_rann(_t_m, _w))


def _rann_cpu(base: int):
    def factory(num_classes: int, in_chans: int = 1, **kwargs) -> RANN:
        kwargs = {"width": 1, "base": base, "t_m": 1, "n_stages": 4, "blocks": 2, "stem_stride": (2, 2), **kwargs}
        return RANN(num_classes, in_chans, **kwargs)

    factory.__name__ = f"rann_cpu_{base}"
    factory.__doc__ = (
        f"CPU-sized RANN for the quick profile: a 3x3 stride-2 stem to {base} channels, 4 stages of "
        f"2 pre-activation blocks ({base}, {2 * base}, {4 * base}, {8 * base} channels), the same head."
    )
    return factory


for _base in (16, 24, 32):
    register_model(_rann_cpu(_base))
