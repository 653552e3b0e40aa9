"""The fusion-method registry: ``@register_method("name")`` on a class, ``create(name, **params)``."""

from __future__ import annotations

import difflib
from typing import Any, Callable

_METHODS: dict[str, type] = {}


def register_method(name: str) -> Callable[[type], type]:
    """Class decorator: register a fusion method under ``name``. A name registered twice raises."""

    def wrap(cls: type) -> type:
        if name in _METHODS:
            raise ValueError(f"fusion method {name!r} is already registered (by {_METHODS[name].__module__})")
        cls.name = name
        _METHODS[name] = cls
        return cls

    return wrap


def list_methods() -> list[str]:
    """Names of all registered fusion methods, sorted."""
    return sorted(_METHODS)


def create(name: str, **params: Any):
    """Instantiate fusion method ``name``; parameters that are ``None`` are dropped.

    An unknown name raises ``KeyError`` listing the choices.
    """
    try:
        cls = _METHODS[name]
    except KeyError:
        close = difflib.get_close_matches(name, _METHODS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown fusion method {name!r}; choices: {', '.join(list_methods())}.{hint}") from None
    return cls(**{k: v for k, v in params.items() if v is not None})
