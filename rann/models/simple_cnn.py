"""The baseline of the sound-classification tutorial (seed 004)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rann._registry import register_model


class SimpleCNN(nn.Module):
    """The baseline of the sound-classification tutorial (seed 004): four blocks of
    conv (stride 2) -> ReLU -> BatchNorm with 8, 16, 32, 64 channels (5x5 kernels first, then
    3x3), adaptive average pooling and one linear layer."""

    def __init__(self, num_classes: int, in_chans: int = 1, n_bins: int | None = None):
        super().__init__()
        layers, c_in = [], in_chans
        for c, k in ((8, 5), (16, 3), (32, 3), (64, 3)):
            layers += [nn.Conv2d(c_in, c, k, stride=2, padding=k // 2), nn.ReLU(inplace=True), nn.BatchNorm2d(c)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


@register_model
def simple_cnn(num_classes: int, in_chans: int = 1, **kwargs) -> SimpleCNN:
    """The 4-conv-block baseline of seed 004."""
    return SimpleCNN(num_classes, in_chans, **kwargs)
