"""Settings given as text (``--recipe epochs=60,mixup_alpha=0``, ``--feature-params n_mels=128``,
the ``key=value`` items of a ``--baselines`` row): parsed and checked against the fields they set,
below every CLI so that the model layer's own command (``rann.train``) and the benchmarks share them."""

from __future__ import annotations

import dataclasses

from benchmarks.core.errors import ParameterError
from rann.config import Recipe


def _value(text: str):
    special = {"none": None, "true": True, "false": False}
    if text.lower() in special:
        return special[text.lower()]
    for parse in (int, float, lambda t: tuple(float(v) for v in t.split("/"))):
        try:
            return parse(text)
        except ValueError:
            pass
    return text


def parse_settings(items: list[str], names: set[str] | None = None, what: str = "setting") -> dict:
    """``["key=value", ...]`` -> ``{key: value}``, a value being a number, ``none``, ``true`` /
    ``false``, ``low/high`` (a range) or else the text; with ``names``, every key must be one.

    Raises:
        ParameterError: an unknown key, or an item without ``=``."""
    out = {}
    for item in filter(None, items):
        key, eq, text = item.partition("=")
        if not eq:
            raise ParameterError(f"{what} {item!r}: expected key=value")
        if names is not None and key not in names:
            raise ParameterError(f"unknown {what} {key!r} in {item!r}; {what}s: {', '.join(sorted(names))}")
        out[key] = _value(text)
    return out


def parse_recipe(items: list[str]) -> dict:
    """Recipe overrides (:func:`parse_settings`), each key a field of :class:`rann.config.Recipe`."""
    out = parse_settings(items, {f.name for f in dataclasses.fields(Recipe)}, "recipe setting")
    defaults = Recipe()
    for key, value in out.items():
        if isinstance(value, str) and not isinstance(getattr(defaults, key), str):  # text only where text is the type
            raise ParameterError(
                f"recipe setting {key}={value}: the value must be a number, none, true / false or low/high"
            )
    return out
