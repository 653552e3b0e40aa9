"""Pre-activation (ResNet-v2) basic blocks with RANN's stride-dependent kernels."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.core.errors import ParameterError

NEGATIVE_SLOPE = 0.01  # LeakyReLU everywhere


def kernels_for_stride(stride: int) -> tuple[int, int, int]:
    """``(conv1 kernel, conv2 kernel, padding)`` along an axis with this stride: 3/3/1 for
    stride 1 or 2, 6/5/2 for stride 4."""
    if stride in (1, 2):
        return 3, 3, 1
    if stride == 4:
        return 6, 5, 2
    raise ParameterError(f"stride must be 1, 2 or 4, got {stride}")


class PreActBlock(nn.Module):
    """BN -> LeakyReLU -> conv1 (stride) -> BN -> LeakyReLU -> conv2, plus the shortcut (identity,
    or a 1x1 strided conv + BN when the shape changes). ``(batch, c_in, F, T)`` ->
    ``(batch, c_out, F / s_f, T / s_t)``; no convolution has a bias."""

    def __init__(self, c_in: int, c_out: int, stride: tuple[int, int] = (1, 1)):
        super().__init__()
        (kf1, kf2, pf), (kt1, kt2, pt) = kernels_for_stride(stride[0]), kernels_for_stride(stride[1])
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, (kf1, kt1), stride=stride, padding=(pf, pt), bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, (kf2, kt2), padding=(pf, pt), bias=False)
        self.shortcut = nn.Identity()
        if c_in != c_out or stride != (1, 1):
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.leaky_relu(self.bn1(x), NEGATIVE_SLOPE))
        out = self.conv2(F.leaky_relu(self.bn2(out), NEGATIVE_SLOPE))
        return out + self.shortcut(x)
