"""The model registry's members: every module in this package registers its models with
``@register_model`` and is imported automatically, so adding a model is one new module here."""

import importlib
import pkgutil

for _mod in pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")
