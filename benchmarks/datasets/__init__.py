"""Datasets: each module in this package registers one dataset with ``@register_dataset``.

Adding a dataset is one new module here; it is imported (and so registered) automatically.
"""

import importlib
import pkgutil

from benchmarks.datasets._registry import create_dataset, get_dataset_class, list_datasets, register_dataset
from benchmarks.datasets.base import Clip, ClipDataset, ClipSubset, Expected

for _mod in pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_") and _mod.name != "base":
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
