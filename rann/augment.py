"""Training-time augmentation, batched, with explicit random generators (reproducible per epoch).

Where training reads the feature cache the augmentations are feature-space equivalents:

- temporal crop: a random ``t_c``-second window of frames;
- speed stretch: the time axis resampled by a factor in ``[1 - speed, 1 + speed]`` (linear);
- pitch shift: a shift along the bins axis by up to ``pitch_bins`` bins, only for features whose
  bins are log-frequency (mel, cqt, scalogram; edge bins repeated) or pitch classes (chroma;
  circular); none for cepstra or the tempogram;
- Gaussian noise: added to the normalised feature;
- SpecAugment: frequency and time masks (set to 0, the training mean);
- mixup: each clip mixed with a clip of another class, ``lambda ~ Beta(alpha, alpha)``;
- clip mixing (the birdcall recipe, ``mix_clips`` > 1): each example is the sum of 1 to
  ``mix_clips`` training clips at random gains, with the union of their labels, plus
  background noise at a random SNR; for dB features the sum is taken of the powers
  ``10^(x / 10)`` and turned back into dB (noise: flat in that power domain).

For a feature computed on the fly from the waveform (the wavegram), crop, speed (resampling
the waveform), Gaussian noise (relative to each clip's rms), clip mixing and mixup act on the waveform;
there is no pitch shift or SpecAugment there.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.core.errors import ParameterError


def random_crop(x: torch.Tensor, length: int, rng: np.random.Generator) -> torch.Tensor:
    """A random window of ``length`` along the last axis (zero-padded if shorter), one offset per clip."""
    n = x.shape[-1]
    if n <= length:
        return F.pad(x, (0, length - n))
    starts = rng.integers(0, n - length + 1, size=x.shape[0])
    idx = torch.from_numpy(starts)[:, None] + torch.arange(length)
    idx = idx.view(x.shape[0], *([1] * (x.ndim - 2)), length).expand(*x.shape[:-1], length)
    return torch.gather(x, -1, idx)


def even_crops(x: torch.Tensor, length: int, n: int) -> list[torch.Tensor]:
    """``n`` windows of ``length`` along the last axis, evenly spaced: the first starts at the start,
    the last ends at the end (test-time multi-crop). ``x`` no longer than ``length``: itself,
    zero-padded to ``length``, once."""
    total = x.shape[-1]
    if total <= length:
        return [F.pad(x, (0, length - total))]
    starts = np.linspace(0, total - length, n).round().astype(int)
    return [x[..., s : s + length] for s in starts]


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


def spec_augment(
    x: torch.Tensor, rng: np.random.Generator, *, freq_masks: int, freq_width: int, time_masks: int, time_width: int
) -> torch.Tensor:
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


def mixup(
    x: torch.Tensor, y: torch.Tensor, n_classes: int, alpha: float, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
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


#: Gain of each clip added by :func:`mix_clips` relative to the first, uniform in this range (dB).
MIX_GAIN_DB = (-6.0, 0.0)


def mix_clips(
    x: torch.Tensor,
    target: torch.Tensor,
    others: torch.Tensor,
    others_target: torch.Tensor,
    rng: np.random.Generator,
    *,
    domain: str,
    snr_db: tuple[float, float] | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum each clip with 0 to ``k`` others at random gains, plus noise.

    ``x``: ``(batch, ...)`` clips in an additive ``domain``: ``"power"`` (spectrogram powers) or
    ``"waveform"``;
    ``target``: ``(batch, n_classes)``; ``others``: ``(batch, k, ...)`` candidate clips to add and
    ``others_target`` ``(batch, k, n_classes)`` their targets. Each clip gets ``n ~ U{0..k}``
    of its candidates at gains drawn from :data:`MIX_GAIN_DB` (power gains; waveforms are scaled
    by their square root) and the union (maximum) of their targets. With ``snr_db = (low, high)``,
    noise at an SNR uniform in that range (dB, against the mixture's mean power) is added:
    ``|N(0, 1)|^2``-distributed powers for a spectrogram, white Gaussian noise for a waveform.
    Returns the mixtures and their multi-hot targets.
    """
    if domain not in ("power", "waveform"):
        raise ParameterError(f"domain must be 'power' or 'waveform', got {domain!r}")
    b, k = others.shape[:2]
    n_added = rng.integers(0, k + 1, size=b)
    used = np.arange(k)[None, :] < n_added[:, None]  # (batch, k)
    gain = np.where(used, 10 ** (rng.uniform(*MIX_GAIN_DB, size=(b, k)) / 10), 0.0).astype(np.float32)
    waveform = domain == "waveform"
    g = torch.from_numpy(np.sqrt(gain) if waveform else gain).view(b, k, *([1] * (x.ndim - 1)))
    mixed = x + (g * others).sum(dim=1)
    target = torch.maximum(
        target, (others_target * torch.from_numpy(used.astype(np.float32))[:, :, None]).sum(dim=1).clamp(max=1)
    )
    if snr_db is not None:
        level = mixed.pow(2).flatten(1).mean(1) if waveform else mixed.flatten(1).mean(1)
        snr = torch.from_numpy(rng.uniform(*snr_db, size=b).astype(np.float32))
        noise_power = (level / 10 ** (snr / 10)).view(b, *([1] * (x.ndim - 1)))
        noise = torch.from_numpy(rng.standard_normal(mixed.shape).astype(np.float32))
        mixed = mixed + (noise * noise_power.sqrt() if waveform else noise.pow(2) * noise_power)
    return mixed, target
