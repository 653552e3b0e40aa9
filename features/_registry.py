"""The feature registry: ``@register_feature`` on a :class:`~features.base.Feature` subclass,
``create(name, **params)``, ``list_features()`` (as timm's ``register_model``/``create_model``)."""

from __future__ import annotations

from typing import Any

from benchmarks.core.registry import Registry

FEATURES = Registry("feature")


def register_feature(cls: type) -> type:
    """Class decorator: register ``cls`` under ``cls.name``. A name registered twice raises."""
    return FEATURES.add(cls.name, cls)


def list_features() -> list[str]:
    """Names of all registered features, sorted."""
    return FEATURES.names()


def get_feature_class(name: str) -> type:
    """The class registered as ``name``; an unknown name raises ``KeyError`` listing the choices."""
    return FEATURES.get(name)


def create(name: str, **params: Any):
    """Instantiate feature ``name`` with config parameters ``params`` (``None`` values dropped).

    Returns an ``nn.Module`` mapping ``(batch, samples)`` float32 waveforms to
    ``(batch, channels, bins, frames)``.
    """
    return FEATURES.create(name, **params)
