"""The dataset registry: ``@register_dataset`` on a class, ``create_dataset(name, **kwargs)``."""

from __future__ import annotations

import difflib
from typing import Any

_DATASETS: dict[str, type] = {}


def register_dataset(cls: type) -> type:
    """Class decorator: register ``cls`` under ``cls.name``. A name registered twice raises."""
    name = cls.name
    if name in _DATASETS:
        raise ValueError(f"dataset {name!r} is already registered (by {_DATASETS[name].__module__})")
    _DATASETS[name] = cls
    return cls


def list_datasets() -> list[str]:
    """Names of all registered datasets, sorted."""
    return sorted(_DATASETS)


def get_dataset_class(name: str) -> type:
    """The class registered as ``name``; an unknown name raises ``KeyError`` with the choices."""
    try:
        return _DATASETS[name]
    except KeyError:
        close = difflib.get_close_matches(name, _DATASETS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown dataset {name!r}; choices: {', '.join(list_datasets())}.{hint}") from None


def create_dataset(name: str, **kwargs: Any):
    """Instantiate dataset ``name``; keyword arguments that are ``None`` are dropped."""
    return get_dataset_class(name)(**{k: v for k, v in kwargs.items() if v is not None})
