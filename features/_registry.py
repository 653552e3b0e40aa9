"""The feature registry: ``@register_feature`` on a :class:`~features.base.Feature` subclass,
``create(name, **params)``, ``list_features()`` (as timm's ``register_model``/``create_model``)."""

from __future__ import annotations

import difflib
from typing import Any

_FEATURES: dict[str, type] = {}


def register_feature(cls: type) -> type:
    """Class decorator: register ``cls`` under ``cls.name``. A name registered twice raises."""
    name = cls.name
    if name in _FEATURES:
        raise ValueError(f"feature {name!r} is already registered (by {_FEATURES[name].__module__})")
    _FEATURES[name] = cls
    return cls


def list_features() -> list[str]:
    """Names of all registered features, sorted."""
    return sorted(_FEATURES)


def get_feature_class(name: str) -> type:
    """The class registered as ``name``; an unknown name raises ``KeyError`` listing the choices."""
    try:
        return _FEATURES[name]
    except KeyError:
        close = difflib.get_close_matches(name, _FEATURES, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown feature {name!r}; choices: {', '.join(list_features())}.{hint}") from None


def create(name: str, **params: Any):
    """Instantiate feature ``name`` with config parameters ``params`` (``None`` values dropped).

    Returns an ``nn.Module`` mapping ``(batch, samples)`` float32 waveforms to
    ``(batch, channels, bins, frames)``.
    """
    return get_feature_class(name)(**{k: v for k, v in params.items() if v is not None})
