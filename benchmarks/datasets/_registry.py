"""The dataset registry: ``@register_dataset`` on a class, ``create_dataset(name, **kwargs)``."""

from __future__ import annotations

from typing import Any

from benchmarks.core.registry import Registry

DATASETS = Registry("dataset")


def register_dataset(cls: type) -> type:
    """Class decorator: register ``cls`` under ``cls.name``. A name registered twice raises."""
    return DATASETS.add(cls.name, cls)


def list_datasets() -> list[str]:
    """Names of all registered datasets, sorted."""
    return DATASETS.names()


def get_dataset_class(name: str) -> type:
    """The class registered as ``name``; an unknown name raises ``KeyError`` with the choices."""
    return DATASETS.get(name)


def create_dataset(name: str, **kwargs: Any):
    """Instantiate dataset ``name``; keyword arguments that are ``None`` are dropped."""
    return DATASETS.create(name, **kwargs)
