"""The data layer: datasets in their official layouts, decoding, the waveform cache, downloads.

Each module here other than the infrastructure ones (``base``, ``audio``, ``paths``,
``wavecache``, ``download``) registers one dataset with ``@register_dataset``; adding a dataset
is one new module here, imported (and so registered) automatically.
"""

import importlib
import pkgutil

from benchmarks.datasets._registry import (
    create_dataset,
    get_dataset_class,
    list_datasets,
    register_dataset,
)
from benchmarks.datasets.base import Clip, ClipDataset, ClipSubset, Expected

_INFRASTRUCTURE = {"base", "audio", "paths", "wavecache", "download"}
for _mod in pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_") and _mod.name not in _INFRASTRUCTURE:
        importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = [
    "Clip",
    "ClipDataset",
    "ClipSubset",
    "Expected",
    "create_dataset",
    "get_dataset_class",
    "list_datasets",
    "register_dataset",
]
