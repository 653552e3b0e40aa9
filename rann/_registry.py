"""The model registry: ``@register_model`` on a factory function, ``create_model(name, num_classes, ...)``
(as timm's)."""

from __future__ import annotations

from typing import Any, Callable

from benchmarks.core.registry import Registry

MODELS = Registry("model")


def register_model(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Function decorator: register a model factory under its function name. Twice raises."""
    return MODELS.add(fn.__name__, fn)


def list_models(pattern: str | None = None) -> list[str]:
    """Registered model names, sorted (those matching the glob ``pattern`` if given)."""
    return MODELS.names(pattern)


def resolve_name(name: str) -> str:
    """The paper's ``RANN-{t_c}x{t_m}-{W}`` names resolve to ``rann_{t_m}_{W}`` (``t_c``, the
    crop length in seconds, is a data setting)."""
    if name.upper().startswith("RANN-"):
        try:
            tc_tm, width = name[5:].split("-")
            _, t_m = tc_tm.lower().split("x")
            return f"rann_{int(t_m)}_{int(width)}"
        except ValueError:
            raise KeyError(f"cannot read {name!r} as RANN-<t_c>x<t_m>-<W>") from None
    return name


def create_model(name: str, num_classes: int, in_chans: int = 1, **kwargs: Any):
    """Build model ``name`` (``None`` keyword arguments are dropped). An unknown name raises
    ``KeyError`` listing the choices."""
    return MODELS.create(resolve_name(name), num_classes=num_classes, in_chans=in_chans, **kwargs)
