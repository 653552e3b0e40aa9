"""The fusion-method registry: ``@register_method("name")`` on a class, ``create(name, **params)``."""

from __future__ import annotations

from typing import Any, Callable

from benchmarks.core.registry import (
    Registry,  # standard library only: fusion stays torch-free
)

METHODS = Registry("fusion method")


def register_method(name: str) -> Callable[[type], type]:
    """Class decorator: register a fusion method under ``name``. A name registered twice raises."""

    def wrap(cls: type) -> type:
        METHODS.add(name, cls)
        cls.name = name
        return cls

    return wrap


def list_methods() -> list[str]:
    """Names of all registered fusion methods, sorted."""
    return METHODS.names()


def create(name: str, **params: Any):
    """Instantiate fusion method ``name``; parameters that are ``None`` are dropped.

    An unknown name raises ``KeyError`` listing the choices.
    """
    return METHODS.create(name, **params)
