"""How long one training step of a run takes on this machine, from random inputs of the run's
training shape (no dataset needed): what ``--dry-run`` extrapolates a profile's cost from."""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

import features
from rann.build import build_model
from rann.config import RunConfig
from rann.precision import autocast


def step_seconds(cfg: RunConfig, *, batch_size: int = 2, steps: int = 2, n_classes: int = 50) -> float:
    """Seconds of one optimiser step (forward, backward, AdamW) on ``batch_size`` random training
    crops of ``cfg`` (``cfg.recipe.crop_seconds`` at ``cfg.sr``), on the CPU with torch's current
    threads, in the run's memory order and precision: the last of ``steps`` steps (the first warms up)."""
    feature = features.create(cfg.feature, **cfg.feature_params)
    n_samples = int(cfg.sr * cfg.recipe.crop_seconds)
    c, bins, frames = feature.output_shape(n_samples)
    model = build_model(cfg, n_classes, in_chans=c, n_bins=bins)
    # a learned front-end trains on the waveform
    x = torch.randn(batch_size, c, bins, frames) if feature.cacheable() else torch.randn(batch_size, n_samples)
    y = torch.randint(0, n_classes, (batch_size,))
    r = cfg.recipe
    return step_times(model, x, y, precision=r.precision, channels_last=r.channels_last, steps=steps, lr=r.lr)[-1]


def step_times(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    precision: str = "fp32",
    channels_last: bool = False,
    steps: int = 2,
    lr: float = 1e-3,
) -> list[float]:
    """Seconds of each of ``steps`` optimiser steps (forward in ``precision``, fp32 loss, backward,
    AdamW) of ``model`` on the batch ``x`` with class labels ``y``, in channels-last order if asked;
    the first includes the warm-up (oneDNN picks and compiles its kernels)."""
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    times = []
    for _ in range(max(1, steps)):
        t0 = time.perf_counter()
        with autocast(precision):
            logits = model(x)
        loss = F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    return times
