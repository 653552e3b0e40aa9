"""Functional twins of the feature modules: pure torch functions taking every parameter
explicitly. Shapes: ``(batch, samples)`` waveforms; spectra ``(batch, bins, frames)``."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.core.errors import ParameterError

#: Frames per FFT call: small enough that a chunk's frames, spectrum and power stay in cache.
CHUNK_FRAMES = 256


def frame_signal(
    waveform: torch.Tensor, *, frame_length: int, hop_length: int, center: bool, pad_mode: str = "constant"
) -> torch.Tensor:
    """Overlapping frames as a view: ``(batch, samples)`` -> ``(batch, frames, frame_length)``.
    With ``center``, ``frame_length // 2`` samples are padded on each side (librosa's convention)."""
    if center:
        pad = frame_length // 2
        if pad_mode == "constant":
            waveform = F.pad(waveform, (pad, pad))
        else:
            waveform = F.pad(waveform[:, None], (pad, pad), mode=pad_mode)[:, 0]
    return waveform.unfold(-1, frame_length, hop_length)


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


def power_to_db(
    spec: torch.Tensor, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0
) -> torch.Tensor:
    """``10 log10(max(spec, amin) / ref)``, floored at ``top_db`` below each example's maximum
    (per item of the batch dimension, as librosa on one clip), in dB."""
    if amin <= 0:
        raise ParameterError("amin must be positive")
    # natural log, scaled: torch's log10 is several times slower on CPU
    db = torch.clamp(spec, min=amin).log_().mul_(10.0 / math.log(10.0))
    db.sub_(10.0 * math.log10(max(amin, ref)))
    if top_db is not None:
        if top_db < 0:
            raise ParameterError("top_db must be non-negative")
        peak = db.reshape(db.shape[0], -1).amax(dim=1).reshape((-1,) + (1,) * (db.ndim - 1))
        db = torch.maximum(db, peak - top_db)
    return db


def amplitude_to_db(
    spec: torch.Tensor, *, ref: float = 1.0, amin: float = 1e-5, top_db: float | None = 80.0
) -> torch.Tensor:
    """``20 log10(max(|spec|, amin) / ref)`` with the per-example ``top_db`` floor, in dB."""
    return power_to_db(spec.square(), ref=ref**2, amin=amin**2, top_db=top_db)


def dct_matrix(n_out: int, n_in: int) -> torch.Tensor:
    """Orthonormal DCT-II as a ``(n_out, n_in)`` matrix (scipy's ``dct(type=2, norm="ortho")``)."""
    n = np.arange(n_in)
    k = np.arange(n_out)[:, None]
    m = np.cos(np.pi / n_in * (n + 0.5) * k) * np.sqrt(2.0 / n_in)
    m[0] /= np.sqrt(2.0)
    return torch.from_numpy(m.astype(np.float32))


def smooth_length(min_length: int, hop_length: int) -> int:
    """A multiple of ``hop_length`` of at least ``min_length`` samples whose only prime factors
    are 2, 3 and 5, with as many factors of 2 as possible (FFT-friendly; within +25%)."""

    def twos(n: int) -> int:
        return (n & -n).bit_length() - 1

    def smooth(n: int) -> bool:
        for p in (2, 3, 5):
            while n % p == 0:
                n //= p
        return n == 1

    start = -(-min_length // hop_length)
    candidates = [k * hop_length for k in range(start, int(start * 1.25) + 2) if smooth(k * hop_length)]
    if not candidates:
        return start * hop_length
    return max(candidates, key=lambda n: (twos(n), -n))


def sparse_kernels(filters: np.ndarray, n_fft: int, sparsity: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency-domain kernels of time-domain filters centred at sample 0, kept sparse.

    Args:
        filters: ``(n_filters, length)`` complex, each centred at ``length // 2``.
        n_fft: DFT length the kernels are for.
        sparsity: drop each kernel's smallest DFT coefficients that together hold this fraction
            of its L1 norm (librosa's ``sparsity``).

    Returns:
        ``(filter_index, dft_bin, value)``: flat arrays of the kept coefficients (bins in
        ``[0, n_fft // 2]`` only: the filters are analytic).
    """
    n_filters, length = filters.shape
    buf = np.zeros((n_filters, n_fft), dtype=np.complex128)
    buf[:, :length] = filters
    buf = np.roll(buf, -(length // 2), axis=1)  # centre at sample 0
    spectra = np.fft.fft(buf, axis=1)[:, : n_fft // 2 + 1]
    keep_k, keep_f, keep_v = [], [], []
    for k, s in enumerate(spectra):
        mag = np.abs(s)
        order = np.argsort(mag)
        cum = np.cumsum(mag[order])
        drop = order[cum <= sparsity * cum[-1]]
        kept = np.setdiff1d(np.arange(len(s)), drop)
        keep_k.append(np.full(len(kept), k))
        keep_f.append(kept)
        keep_v.append(s[kept])
    return np.concatenate(keep_k), np.concatenate(keep_f), np.concatenate(keep_v)


def kernel_response(
    waveform: torch.Tensor,
    *,
    n_fft: int,
    hop_length: int,
    n_frames: int,
    n_filters: int,
    position: torch.Tensor,
    dft_bin: torch.Tensor,
    value: torch.Tensor,
) -> torch.Tensor:
    """Convolve each clip with many band-limited filters and read the outputs every
    ``hop_length`` samples, from one FFT of the clip and no full-length inverse FFT.

    With ``N = n_fft = n_out * hop_length``, the filtered signal at times ``m * hop_length`` is
    an ``n_out``-point inverse DFT of the product spectrum folded modulo ``n_out``. Filters are
    centred at sample 0, and the clip (zero-padded to ``n_fft``) must leave room for the
    longest filter's half-length after its end, so no output wraps around.

    Args:
        waveform: ``(batch, samples)``.
        position: ``(n,)`` long, ``filter * n_out + dft_bin % n_out`` for each kept coefficient.
        dft_bin: ``(n,)`` long DFT bin of each coefficient (sorted ascending reads fastest);
            value: ``(n,)`` complex coefficient.

    Returns:
        ``(batch, n_filters, n_frames)`` complex filter outputs.
    """
    n_out = n_fft // hop_length
    spectrum = torch.fft.rfft(waveform, n=n_fft)  # (batch, n_fft // 2 + 1)
    folded = torch.zeros(waveform.shape[0], n_filters * n_out, dtype=spectrum.dtype, device=spectrum.device)
    # on the CPU two clips at a time keep the gathered coefficients in cache
    step = 2 if waveform.device.type == "cpu" else waveform.shape[0]
    for b in range(0, waveform.shape[0], step):
        band = torch.index_select(spectrum[b : b + step], 1, dft_bin).mul_(value)
        folded[b : b + step].index_add_(1, position, band)
    out = torch.fft.ifft(folded.view(-1, n_filters, n_out), dim=-1, norm="forward") / n_fft
    return out[..., :n_frames]


def max_normalize(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Divide by the largest absolute value along ``dim``; slices whose peak is below the smallest
    normal float are left as they are (as ``librosa.util.normalize`` does)."""
    peak = x.abs().amax(dim=dim, keepdim=True)
    tiny = torch.finfo(x.dtype).tiny
    return x / torch.where(peak < tiny, torch.ones_like(peak), peak)


def chroma_stft(
    waveform: torch.Tensor,
    *,
    fb_t: torch.Tensor,
    window: torch.Tensor,
    n_fft: int,
    hop_length: int,
    center: bool,
    pad_mode: str,
    norm: float | None = math.inf,
) -> torch.Tensor:
    """Chromagram as ``librosa.feature.chroma_stft``: ``(batch, samples)`` -> ``(batch, n_chroma, frames)``,
    each frame divided by its maximum (``norm=inf``) or the energies as they are (``norm=None``).
    ``fb_t``: ``(n_fft // 2 + 1, n_chroma)`` chroma filterbank."""
    return normalize_frames(
        stft_filterbank(
            waveform, fb_t, n_fft=n_fft, hop_length=hop_length, window=window, center=center, pad_mode=pad_mode
        ),
        norm,
    )


def chroma_cqt(magnitude: torch.Tensor, *, fb_t: torch.Tensor, norm: float | None = math.inf) -> torch.Tensor:
    """Chromagram as ``librosa.feature.chroma_cqt``: CQT magnitudes ``(batch, n_bins, frames)`` ->
    ``(batch, n_chroma, frames)`` through ``fb_t`` ``(n_bins, n_chroma)`` (``librosa.filters.cq_to_chroma``,
    transposed), normalised per frame as :func:`normalize_frames`."""
    return normalize_frames(torch.matmul(fb_t.T, magnitude), norm)


def normalize_frames(x: torch.Tensor, norm: float | None) -> torch.Tensor:
    """``(batch, bins, frames)`` with each frame divided by its maximum (``norm=inf``, librosa's
    default) or as it is (``norm=None``)."""
    if norm is None:
        return x
    if norm != math.inf:
        raise ParameterError(f"norm must be inf (each frame by its maximum) or None, got {norm!r}")
    return max_normalize(x, dim=1)


def onset_strength(log_mel: torch.Tensor, *, n_fft: int, hop_length: int) -> torch.Tensor:
    """Spectral-flux onset envelope as ``librosa.onset.onset_strength``: log-mel ``(batch, n_mels, frames)``
    in dB -> ``(batch, frames)``, delayed to align with the STFT's centring (``n_fft`` samples)."""
    flux = (log_mel[..., 1:] - log_mel[..., :-1]).clamp_min(0).mean(dim=1)
    pad = 1 + n_fft // (2 * hop_length)
    return F.pad(flux, (pad, 0))[:, : log_mel.shape[-1]]


def tempogram(onset_envelope: torch.Tensor, *, window: torch.Tensor, normalize: bool = True) -> torch.Tensor:
    """Autocorrelation tempogram as ``librosa.feature.tempogram``: ``(batch, frames)`` onset envelope ->
    ``(batch, win_length, frames)``, each frame's autocorrelation divided by its maximum (with ``normalize``).
    ``window``: ``(win_length,)``; the envelope is padded by linear ramps at both ends."""
    env, w = onset_envelope, window.shape[0]
    n, half = env.shape[-1], w // 2
    ramp = torch.arange(half, dtype=env.dtype, device=env.device) / half
    padded = torch.cat([env[:, :1] * ramp, env, env[:, -1:] * (1.0 - (ramp + 1.0 / half))], dim=1) if half else env
    frames = padded.unfold(-1, w, 1)[:, :n] * window  # (batch, frames, w)
    spec = torch.fft.rfft(frames, n=2 * w, dim=-1)
    ac = torch.fft.irfft(spec.real.square() + spec.imag.square(), n=2 * w, dim=-1)[..., :w]
    return (max_normalize(ac, dim=-1) if normalize else ac).transpose(1, 2)


def gfcc(
    waveform: torch.Tensor,
    *,
    fb_t: torch.Tensor,
    dct: torch.Tensor,
    window: torch.Tensor,
    n_fft: int,
    hop_length: int,
    pre_emphasis: float,
) -> torch.Tensor:
    """Gammatone cepstra as spafe's ``gfcc`` (frames centred by padding ``n_fft // 2``): pre-emphasis,
    gammatone energies ``fb_t`` ``(n_fft // 2 + 1, n_filters)``, cube root, then ``dct`` ``(n_gfcc, n_filters)``:
    ``(batch, samples)`` -> ``(batch, n_gfcc, frames)``."""
    x = F.pad(waveform, (n_fft // 2, n_fft // 2))
    x = torch.cat([x[:, :1], x[:, 1:] - pre_emphasis * x[:, :-1]], dim=1)
    energy = stft_filterbank(x, fb_t, n_fft=n_fft, hop_length=hop_length, window=window, center=False)
    return torch.matmul(dct, energy.clamp_min(0).pow(1.0 / 3.0))
