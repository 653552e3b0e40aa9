"""One small registry class behind every extensible axis (datasets, features, models, fusion
methods), in the style of timm's ``register_model`` / ``create_model``. Standard library only."""

from __future__ import annotations

import difflib
import fnmatch
from typing import Any, Callable


class Registry:
    """Names -> classes or factory functions of one kind (``"feature"``, ``"model"``, ...)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Any] = {}

    def add(self, name: str, entry: Any) -> Any:
        """Register ``entry`` under ``name``; a name registered twice raises ``ValueError``."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered (by {self._entries[name].__module__})")
        self._entries[name] = entry
        return entry

    def names(self, pattern: str | None = None) -> list[str]:
        """Registered names, sorted (those matching the glob ``pattern`` if given)."""
        return sorted(n for n in self._entries if pattern is None or fnmatch.fnmatch(n, pattern))

    def get(self, name: str) -> Any:
        """The entry registered as ``name``; an unknown name raises ``KeyError`` listing the choices."""
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise KeyError(f"unknown {self.kind} {name!r}; choices: {', '.join(self.names())}.{hint}") from None

    def create(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the entry registered as ``name``, dropping keyword arguments that are ``None``."""
        factory: Callable[..., Any] = self.get(name)
        return factory(*args, **{k: v for k, v in kwargs.items() if v is not None})
