"""A run's model from its config: the one builder that training, the trained ensemble and the
step timing share, so that a model is built (and seeded) one way everywhere."""

from __future__ import annotations

import torch
from torch import nn

import features
from rann._registry import create_model
from rann.config import RunConfig


class FrontEnd(nn.Module):
    """A learned feature followed by the classifier: ``(batch, samples)`` -> logits ``(batch, n_classes)``."""

    def __init__(self, feature: nn.Module, classifier: nn.Module):
        super().__init__()
        self.feature, self.classifier = feature, classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.feature(x))


def build_model(cfg: RunConfig, n_classes: int, *, in_chans: int | None = None, n_bins: int | None = None) -> nn.Module:
    """The run's classifier of ``n_classes`` for inputs ``(batch, in_chans, n_bins, frames)`` (by
    default the feature's output shape), behind the run's learned front-end when its feature is
    one (then the input is ``(batch, samples)``). Initialised from ``torch.manual_seed(cfg.seed)``:
    the front-end first, then the classifier, as every committed run was."""
    if in_chans is None or n_bins is None:  # a fresh feature in eval mode: no batch statistics touched
        in_chans, n_bins, _ = features.create(cfg.feature, **cfg.feature_params).eval().output_shape(int(cfg.sr * 0.5))
    torch.manual_seed(cfg.seed)
    front = (
        features.create(cfg.feature, **cfg.feature_params)
        if features.get_feature_class(cfg.feature).trainable
        else None
    )
    classifier = create_model(cfg.model, n_classes, in_chans=in_chans, n_bins=n_bins, **cfg.model_kwargs)
    return classifier if front is None else FrontEnd(front, classifier)
