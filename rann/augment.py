"""Training-time augmentation, batched, with explicit random generators (reproducible per epoch).

Where training reads the feature cache the augmentations are feature-space equivalents:

- temporal crop: a random ``t_c``-second window of frames;
- speed stretch: the time axis resampled by a factor in ``[1 - speed, 1 + speed]`` (linear);
- pitch shift: a shift along the bins axis by up to ``pitch_bins`` bins, only for features whose
  bins are log-frequency (mel, cqt, scalogram; edge bins repeated) or pitch classes (chroma;
  circular); none for cepstra or the tempogram;
- Gaussian noise: added to the normalised feature;
- SpecAugment: frequency and time masks (set to 0, the training mean);
- mixup: each clip mixed with a clip of another class, ``lambda ~ Beta(alpha, alpha)``.

For a feature computed on the fly from the waveform (the wavegram), crop, speed (resampling
the waveform), Gaussian noise (relative to each clip's rms) and mixup act on the waveform;
there is no pitch shift or SpecAugment there.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def random_crop(x: torch.Tensor, length: int, rng: np.random.Generator) -> torch.Tensor:
    """A random window of ``length`` along the last axis (zero-padded if shorter), one offset per clip."""
    n = x.shape[-1]
    if n <= length:
        return F.pad(x, (0, length - n))
    starts = rng.integers(0, n - length + 1, size=x.shape[0])
    idx = torch.from_numpy(starts)[:, None] + torch.arange(length)
    idx = idx.view(x.shape[0], *([1] * (x.ndim - 2)), length).expand(*x.shape[:-1], length)
    return torch.gather(x, -1, idx)


def speed_stretch(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Resample the last axis by ``factor`` (> 1 is faster: fewer frames)."""
    n = max(2, int(round(x.shape[-1] / factor)))
    if x.ndim == 2:
        return F.interpolate(x[:, None], size=n, mode="linear", align_corners=False)[:, 0]
    return F.interpolate(x, size=(x.shape[-2], n), mode="bilinear", align_corners=False)


def pitch_shift(x: torch.Tensor, shift: int, mode: str) -> torch.Tensor:
    """Shift ``(batch, channels, bins, frames)`` by ``shift`` bins: ``"roll"`` circularly,
    ``"shift"`` repeating the edge bin (a feature's ``pitch_axis`` says which applies)."""
    if shift == 0:
        return x
    if mode == "roll":
        return torch.roll(x, shift, dims=2)
    idx = (torch.arange(x.shape[2]) - shift).clamp(0, x.shape[2] - 1)
    return x[:, :, idx]


def spec_augment(x: torch.Tensor, rng: np.random.Generator, *, freq_masks: int, freq_width: int, time_masks: int, time_width: int) -> torch.Tensor:
    """Zero random bands of bins and of frames, independently per clip."""
    x = x.clone()
    b, _, n_bins, n_frames = x.shape
    for axis, count, width, size in ((2, freq_masks, freq_width, n_bins), (3, time_masks, time_width, n_frames)):
        for _ in range(count):
            w = rng.integers(0, width + 1, size=b)
            start = rng.integers(0, np.maximum(1, size - w + 1))
            for i in range(b):
                if w[i]:
                    if axis == 2:
                        x[i, :, start[i] : start[i] + w[i]] = 0
                    else:
                        x[i, :, :, start[i] : start[i] + w[i]] = 0
    return x


def mixup(x: torch.Tensor, y: torch.Tensor, n_classes: int, alpha: float, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Mix each clip with a clip of another class; returns inputs and soft targets ``(batch, n_classes)``."""
    target = F.one_hot(y, n_classes).float()
    if alpha <= 0 or len(y) < 2:
        return x, target
    labels = y.numpy()
    partner = rng.permutation(len(y))
    for i in np.flatnonzero(labels[partner] == labels):  # redraw partners of the same class
        others = np.flatnonzero(labels != labels[i])
        if len(others):
            partner[i] = rng.choice(others)
    lam = torch.from_numpy(rng.beta(alpha, alpha, size=len(y)).astype(np.float32))
    lam_x = lam.view(-1, *([1] * (x.ndim - 1)))
    return lam_x * x + (1 - lam_x) * x[partner], lam[:, None] * target + (1 - lam[:, None]) * target[partner]
