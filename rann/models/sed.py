"""The sound-event-detection model of the seed's Cornell Birdcall Identification solution
(seeds 000 and 002): log-mel -> ResNeSt backbone -> pooling over frequency -> bidirectional GRU
over time -> attention pooling of framewise class scores into clip scores.

    model = rann.create_model("sed_resnest", num_classes=50)           # ResNeSt-50d, as the seed
    model = rann.create_model("sed_resnest_cpu", num_classes=50)       # 0.7 M parameters, 2 cores
    logits = model(x)                  # (batch, n_classes) clip logits, like every other model
    probs = model.framewise(x)         # (batch, frames, n_classes), frames = x's frames

The backbone comes from timm (``resnest14d`` / ``resnest26d`` / ``resnest50d``), randomly
initialised with one input channel; no weights are ever downloaded.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.core.errors import ParameterError
from rann._registry import register_model

DEPTHS = ("resnest14d", "resnest26d", "resnest50d")


class SEDResNeSt(nn.Module):
    """``(batch, in_chans, n_bins, frames)`` -> clip logits ``(batch, n_classes)``.

    1. ``backbone``: timm's ResNeSt without its pooling and classifier, a map
       ``(batch, C, n_bins / s, frames / s)`` with ``s`` = ``output_stride`` (32, or 16 / 8 with
       dilated last stages for a finer time axis).
    2. **"RoI pooling"**: the seed names its step after region-of-interest pooling but gives no
       regions; what we implement is the pooling of each time step's whole frequency extent, one
       region per backbone frame, as the mean plus the maximum over frequency (as PANNs do),
       giving the sequence ``(batch, frames / s, C)``. It keeps the time axis for the GRU and
       is independent of the number of bins.
    3. A bidirectional GRU (``gru_hidden`` units each way) over that sequence.
    4. Attention pooling: per frame, class scores ``z_t`` (a linear layer) and attention weights
       ``a_t = softmax_t(tanh(w · h_t))`` per class; the clip logit is ``sum_t a_t z_t``.

    ``framewise`` gives the per-frame class probabilities, upsampled to the input's frames.
    """

    def __init__(
        self,
        num_classes: int,
        in_chans: int = 1,
        n_bins: int | None = None,
        depth: str = "resnest50d",
        output_stride: int = 32,
        gru_hidden: int = 256,
        dropout: float = 0.2,
        backbone_kwargs: dict[str, Any] | None = None,
    ):
        super().__init__()
        if depth not in DEPTHS:
            raise ParameterError(f"depth must be one of {', '.join(DEPTHS)}, got {depth!r}")
        import timm  # here, not at the top: importing timm (and torchvision) takes seconds

        self.backbone = timm.create_model(
            depth,
            pretrained=False,
            in_chans=in_chans,
            num_classes=0,
            global_pool="",
            output_stride=output_stride,
            **(backbone_kwargs or {}),
        )
        c = self.backbone.num_features
        self.dropout = nn.Dropout(dropout)
        self.gru = nn.GRU(c, gru_hidden, batch_first=True, bidirectional=True)
        self.attention = nn.Linear(2 * gru_hidden, num_classes)
        self.scores = nn.Linear(2 * gru_hidden, num_classes)

    def _frames(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention weights and class scores per backbone frame, both ``(batch, frames / s, n_classes)``."""
        fmap = self.backbone(x)  # (batch, C, F', T')
        seq = (fmap.mean(dim=2) + fmap.amax(dim=2)).transpose(1, 2)  # (batch, T', C)
        seq, _ = self.gru(self.dropout(seq))
        seq = self.dropout(seq)
        return torch.softmax(torch.tanh(self.attention(seq)), dim=1), self.scores(seq)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights, scores = self._frames(x)
        return (weights * scores).sum(dim=1)

    @torch.no_grad()
    def framewise(self, x: torch.Tensor, activation: str = "softmax") -> torch.Tensor:
        """Per-frame class probabilities ``(batch, frames, n_classes)`` for ``x``
        ``(batch, in_chans, n_bins, frames)``: ``"softmax"`` over classes (single-label training)
        or ``"sigmoid"`` per class (multi-label training, e.g. with clip mixing); linearly
        interpolated from the backbone's frames to the input's."""
        if activation not in ("softmax", "sigmoid"):
            raise ParameterError(f"activation must be 'softmax' or 'sigmoid', got {activation!r}")
        _, scores = self._frames(x)
        probs = torch.softmax(scores, dim=2) if activation == "softmax" else torch.sigmoid(scores)
        return F.interpolate(probs.transpose(1, 2), size=x.shape[-1], mode="linear", align_corners=False).transpose(
            1, 2
        )


@register_model
def sed_resnest(num_classes: int, in_chans: int = 1, **kwargs) -> SEDResNeSt:
    """The seed's SED model: ResNeSt-50d (``depth`` to change it), bi-GRU of 256 units, attention head."""
    return SEDResNeSt(num_classes, in_chans, **kwargs)


@register_model
def sed_resnest_cpu(num_classes: int, in_chans: int = 1, **kwargs) -> SEDResNeSt:
    """A CPU-sized SED model for the quick budget: ResNeSt-14d at a quarter of its widths (an 8-channel
    deep stem, stages of 16-128 bottleneck channels, 512 out), output stride 16 (10 frames for a 3.7-s
    crop at hop 512), a bi-GRU of 64 units. One training step costs about what ``rann_cpu_16``'s does."""
    kwargs = {
        "depth": "resnest14d",
        "output_stride": 16,
        "gru_hidden": 64,
        "backbone_kwargs": {"stem_width": 8, "channels": (16, 32, 64, 128)},
        **kwargs,
    }
    return SEDResNeSt(num_classes, in_chans, **kwargs)
