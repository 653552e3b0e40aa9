"""A run's model from its config: the one builder that training, the trained ensemble and the
step timing share, so that a model is built (and seeded) one way everywhere."""

from __future__ import annotations

import pickle
from pathlib import Path

import torch
from torch import nn

import features
from benchmarks.core.errors import CorruptRunError
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


def load_weights(model: nn.Module, cfg: RunConfig, folder: Path) -> nn.Module:
    """``model`` (from :func:`build_model`) with the run's trained weights (``folder/ema.pt``), in
    eval mode and in the memory order the run was tested in (channels-last where its recipe says:
    bf16 kernels of the other order round differently).

    Raises:
        CorruptRunError: the weights cannot be read or do not fit the model (naming the file)."""
    path = Path(folder) / "ema.pt"
    try:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except (RuntimeError, OSError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        raise CorruptRunError(f"{path}: cannot load the weights ({str(exc).splitlines()[0]})") from None
    if cfg.recipe.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model.eval()
