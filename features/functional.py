"""Functional twins of the feature modules: pure torch functions taking every parameter
explicitly. Shapes: ``(batch, samples)`` waveforms; spectra ``(batch, bins, frames)``."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

#: Frames per FFT call: small enough that a chunk's frames, spectrum and power stay in cache.
CHUNK_FRAMES = 256


def frame_signal(waveform: torch.Tensor, *, frame_length: int, hop_length: int, center: bool, pad_mode: str = "constant") -> torch.Tensor:
    """Overlapping frames as a view: ``(batch, samples)`` -> ``(batch, frames, frame_length)``.
    With ``center``, ``frame_length // 2`` samples are padded on each side (librosa's convention)."""
    if center:
        pad = frame_length // 2
        if pad_mode == "constant":
            waveform = F.pad(waveform, (pad, pad))
        else:
            waveform = F.pad(waveform[:, None], (pad, pad), mode=pad_mode)[:, 0]
    return waveform.unfold(-1, frame_length, hop_length)


def stft_power(
    waveform: torch.Tensor,
    *,
    n_fft: int,
    hop_length: int,
    window: torch.Tensor,
    center: bool = True,
    pad_mode: str = "constant",
    n_bins: int | None = None,
    power: float = 2.0,
    chunk_frames: int = CHUNK_FRAMES,
) -> torch.Tensor:
    """``|STFT|^power``: ``(batch, samples)`` -> ``(batch, n_bins, frames)``.

    ``window`` has ``n_fft`` samples (a shorter analysis window zero-padded to ``n_fft``);
    only the first ``n_bins`` frequency bins are kept (default ``n_fft // 2 + 1``).
    """
    n_bins = n_bins or n_fft // 2 + 1
    eye = torch.eye(n_bins, dtype=waveform.dtype, device=waveform.device)
    return stft_filterbank(waveform, eye, n_fft=n_fft, hop_length=hop_length, window=window, center=center, pad_mode=pad_mode, power=power, chunk_frames=chunk_frames)


def stft_filterbank(
    waveform: torch.Tensor,
    fb_t: torch.Tensor,
    *,
    n_fft: int,
    hop_length: int,
    window: torch.Tensor,
    center: bool = True,
    pad_mode: str = "constant",
    power: float = 2.0,
    chunk_frames: int = CHUNK_FRAMES,
) -> torch.Tensor:
    """A filterbank applied to ``|STFT|^power``: ``(batch, samples)`` -> ``(batch, bands, frames)``.

    ``fb_t``: ``(freqs, bands)``, its rows the first ``freqs`` STFT bins (bins above the last
    non-zero filter row need not be given). On the CPU the frames are transformed, squared and
    filtered in chunks of ``chunk_frames`` per clip, so no complex spectrogram (nor power
    spectrogram) of the batch is ever materialised: the chunk stays in cache.
    """
    frames = frame_signal(waveform, frame_length=n_fft, hop_length=hop_length, center=center, pad_mode=pad_mode)
    n_freqs, n_bands = fb_t.shape
    batch, n_frames, _ = frames.shape
    if waveform.device.type != "cpu":  # on a GPU the whole batch at once is fastest
        chunk_frames = n_frames
        frames = frames.reshape(1, batch * n_frames, n_fft)
    if power == 2.0:  # |X|^2 @ fb == [re, im]^2 @ fb repeated per component: no separate power pass
        fb_t = fb_t.repeat_interleave(2, dim=0)
    blocks = filterbank_blocks(fb_t)
    out = torch.empty(frames.shape[0], frames.shape[1], n_bands, dtype=waveform.dtype, device=waveform.device)
    for b in range(frames.shape[0]):
        for start in range(0, frames.shape[1], chunk_frames):
            spec = torch.fft.rfft(frames[b, start : start + chunk_frames] * window)
            if power == 2.0:
                x = torch.view_as_real(spec).reshape(spec.shape[0], -1).square()
            else:
                x = spec[:, :n_freqs].abs()
                x = x if power == 1.0 else x.pow(power)
            dest = out[b, start : start + chunk_frames]
            for lo, hi, c0, c1, weight in blocks:
                dest[:, c0:c1] = x[:, lo:hi] @ weight
    return out.reshape(batch, n_frames, n_bands).transpose(1, 2)


def filterbank_blocks(fb_t: torch.Tensor, bands_per_block: int = 32) -> list[tuple[int, int, int, int, torch.Tensor]]:
    """Split a banded filterbank ``(freqs, bands)`` into groups of ``bands_per_block`` adjacent
    bands, each with the frequency rows it touches: ``(row_lo, row_hi, band_lo, band_hi, weights)``.
    Mel filters are narrow, so the groups skip most of the zeros of the dense matrix; a dense
    filterbank comes back as one block."""
    blocks = []
    for c0 in range(0, fb_t.shape[1], bands_per_block):
        cols = fb_t[:, c0 : c0 + bands_per_block]
        rows = torch.nonzero(cols.abs().sum(dim=1)).ravel()
        lo, hi = (int(rows.min()), int(rows.max()) + 1) if len(rows) else (0, 1)
        blocks.append((lo, hi, c0, c0 + cols.shape[1], cols[lo:hi].contiguous()))
    if sum((hi - lo) * (c1 - c0) for lo, hi, c0, c1, _ in blocks) > 0.6 * fb_t.numel():
        return [(0, fb_t.shape[0], 0, fb_t.shape[1], fb_t)]
    return blocks


def power_to_db(spec: torch.Tensor, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0) -> torch.Tensor:
    """``10 log10(max(spec, amin) / ref)``, floored at ``top_db`` below each example's maximum
    (per item of the batch dimension, as librosa on one clip), in dB."""
    if amin <= 0:
        raise ValueError("amin must be positive")
    # natural log, scaled: torch's log10 is several times slower on CPU
    db = torch.clamp(spec, min=amin).log_().mul_(10.0 / math.log(10.0))
    db.sub_(10.0 * math.log10(max(amin, ref)))
    if top_db is not None:
        if top_db < 0:
            raise ValueError("top_db must be non-negative")
        peak = db.reshape(db.shape[0], -1).amax(dim=1).reshape((-1,) + (1,) * (db.ndim - 1))
        db = torch.maximum(db, peak - top_db)
    return db


def amplitude_to_db(spec: torch.Tensor, *, ref: float = 1.0, amin: float = 1e-5, top_db: float | None = 80.0) -> torch.Tensor:
    """``20 log10(max(|spec|, amin) / ref)`` with the per-example ``top_db`` floor, in dB."""
    return power_to_db(spec.square(), ref=ref**2, amin=amin**2, top_db=top_db)


def dct_matrix(n_out: int, n_in: int) -> torch.Tensor:
    """Orthonormal DCT-II as a ``(n_out, n_in)`` matrix (scipy's ``dct(type=2, norm="ortho")``)."""
    n = np.arange(n_in)
    k = np.arange(n_out)[:, None]
    m = np.cos(np.pi / n_in * (n + 0.5) * k) * np.sqrt(2.0 / n_in)
    m[0] /= np.sqrt(2.0)
    return torch.from_numpy(m.astype(np.float32))


def band_response(
    spectrum: torch.Tensor, index: torch.Tensor, kernel: torch.Tensor, *, n_out: int, n_frames: int
) -> torch.Tensor:
    """Filter a whole clip with band-limited kernels given in the frequency domain and read the
    output every ``hop`` samples, without an inverse FFT of full length.

    For a DFT of length ``N = n_out * hop``, the filtered signal at times ``m * hop`` is an
    ``n_out``-point inverse DFT of the product spectrum folded modulo ``n_out``.

    Args:
        spectrum: ``(batch, n_freqs)`` complex DFT of the (padded) signal, length ``N``.
        index: ``(n_kernels, width)`` long, DFT bins where each kernel is non-zero (padded with
            any valid bin where ``kernel`` is 0).
        kernel: ``(n_kernels, width)`` complex kernel spectrum on those bins.
        n_out: ``N // hop``. n_frames: outputs to keep.

    Returns:
        ``(batch, n_kernels, n_frames)`` complex responses.
    """
    batch = spectrum.shape[0]
    n_kernels, width = index.shape
    band = spectrum[:, index] * kernel  # (batch, n_kernels, width)
    folded = torch.zeros(batch, n_kernels, n_out, dtype=band.dtype, device=band.device)
    folded.scatter_add_(2, (index % n_out).expand(batch, n_kernels, width), band)
    return torch.fft.ifft(folded, dim=-1, norm="forward")[..., :n_frames]
