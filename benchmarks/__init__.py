"""Runnable benchmarks (the CLIs) on top of everything, plus the two lowest layers of the project.

Layers, each importing only those below it:

1. ``benchmarks.core``: the leaf (registry, errors, atomic writes, locks, metrics, provenance);
2. ``benchmarks.datasets``: the data layer (datasets, decoding, waveform cache, downloads);
3. ``features``, ``fusion``, ``rann``: the libraries (they take datasets, arrays and configs);
4. the modules directly in ``benchmarks`` (``esc50``, ``data``, ``speed``, ...) and the
   ``python -m`` entry points of the libraries: the CLIs, the only code that turns names into objects.

This file imports nothing, so ``import benchmarks.core`` loads the leaf alone.
"""
