"""Runnable benchmarks and the data layer they read (datasets, decoding, caches)."""
