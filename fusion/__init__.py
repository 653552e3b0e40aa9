"""Fusion of per-feature class probabilities (numpy/scipy only)."""
