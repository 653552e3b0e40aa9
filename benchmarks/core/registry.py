"""One small registry class behind every extensible axis (datasets, features, models, fusion
methods), in the style of timm's ``register_model`` / ``create_model``. Standard library only.

Unlike timm's, ``create`` passes every keyword argument on, ``None`` included: ``None`` is a
real setting for many parameters (``fmax=None`` is the Nyquist rate, ``top_db=None`` no floor),
so dropping it would silently replace what the user asked for with a default."""

from __future__ import annotations

import difflib
import fnmatch
from typing import Any, Callable

from benchmarks.core.errors import RannBenchError


class RegistryError(RannBenchError, ValueError):
    """A name registered twice."""


class Registry:
    """Names -> classes or factory functions of one kind (``"feature"``, ``"model"``, ...)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Any] = {}

    def add(self, name: str, entry: Any) -> Any:
        """Register ``entry`` under ``name``; a name registered twice raises :class:`RegistryError`."""
        if name in self._entries:
            raise RegistryError(f"{self.kind} {name!r} is already registered (by {self._entries[name].__module__})")
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
        """Call the entry registered as ``name`` with ``args`` and ``kwargs``, unchanged."""
        factory: Callable[..., Any] = self.get(name)
        return factory(*args, **kwargs)
