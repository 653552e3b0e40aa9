"""Audio feature registry.

    import features
    mel = features.create("mel")                  # an nn.Module
    x = mel(waveforms)                             # (batch, samples) -> (batch, 1, 128, frames)
    features.list_features()

Each module in this package registers its features with ``@register_feature``; adding a
feature is one new module here (it is imported automatically).
"""

import importlib
import pkgutil

from features._registry import (
    create,
    get_feature_class,
    list_features,
    register_feature,
)
from features.base import Feature, FeatureConfig, SpectralConfig

_SKIP = {"base", "functional", "store", "extract"}
for _mod in pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_") and _mod.name not in _SKIP:
        importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = [
    "Feature",
    "FeatureConfig",
    "SpectralConfig",
    "create",
    "get_feature_class",
    "list_features",
    "register_feature",
]
