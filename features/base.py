"""The base of every feature: a frozen config with a stable fingerprint, and an ``nn.Module``
whose ``forward`` is the batched torch path and whose ``reference`` is the CPU library path."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from benchmarks.core.errors import ParameterError
from features import functional as Fn

#: Bump when a feature's numbers change for the same config (it invalidates every cache).
FEATURE_VERSION = 1


@dataclass(frozen=True)
class FeatureConfig:
    """Parameters of a feature, named as librosa names them. ``sr`` in Hz."""

    sr: int = 44_100

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def fingerprint(self, name: str) -> str:
        """A stable hash of the feature name, its parameters and :data:`FEATURE_VERSION`."""
        blob = json.dumps({"feature": name, "version": FEATURE_VERSION, **self.to_dict()}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SpectralConfig(FeatureConfig):
    """Short-time analysis: window and hop in samples; ``center`` pads ``n_fft // 2`` on each side."""

    n_fft: int = 1024
    hop_length: int = 320
    win_length: int | None = None  # None: n_fft
    window: str = "hann"
    center: bool = True
    pad_mode: str = "constant"

    def n_frames(self, n_samples: int) -> int:
        """Frames produced for a clip of ``n_samples`` samples."""
        if self.center:
            return 1 + n_samples // self.hop_length
        return 1 + (n_samples - self.n_fft) // self.hop_length


class Feature(nn.Module):
    """A 2-D audio feature.

    ``forward(waveform)``: ``(batch, samples)`` float32 at ``config.sr`` -> ``(batch, channels,
    bins, frames)`` float32, on whatever device the module is on. ``reference(waveform)``: the
    CPU library computation (librosa / spafe / pywavelets) of one ``(samples,)`` clip ->
    ``(channels, bins, frames)``, which the torch path is tested against.

    Subclasses set ``name`` and ``Config`` and are registered with ``@register_feature``.
    """

    name: ClassVar[str]
    Config: ClassVar[type[FeatureConfig]]
    trainable: ClassVar[bool] = False  # learned with the model: computed on the fly, never cached
    unit: ClassVar[str] = ""  # of the values, e.g. "dB"
    bin_label: ClassVar[str] = "bin"  # what the bins axis measures, e.g. "Hz"
    #: How the bins respond to a pitch shift, for augmentation: ``"shift"`` (log-frequency bins:
    #: move along the axis, edge bins repeated), ``"roll"`` (pitch classes: circular), ``None``
    #: (cepstra, tempo, learned channels: no pitch-shift augmentation).
    pitch_axis: ClassVar[str | None] = None

    @classmethod
    def cacheable(cls) -> bool:
        """Whether the feature is computed once into the on-disk cache (everything not learned)."""
        return not cls.trainable

    def display_axis(self) -> dict[str, Any]:
        """``librosa.display.specshow`` keyword arguments that label the bins axis in its unit."""
        return {}

    def __init__(self, config: FeatureConfig | None = None, **params: Any):
        super().__init__()
        if config is not None and params:
            raise ParameterError(f"{self.name}: give a config or parameters, not both")
        try:
            self.config = config if config is not None else self.Config(**params)
        except TypeError as exc:
            fields = ", ".join(f.name for f in dataclasses.fields(self.Config))
            raise ParameterError(f"{self.name}: {exc}; parameters are: {fields}") from None

    @property
    def fingerprint(self) -> str:
        return self.config.fingerprint(self.name)

    def output_shape(self, n_samples: int) -> tuple[int, int, int]:
        """``(channels, bins, frames)`` for a clip of ``n_samples`` samples."""
        with torch.no_grad():
            return tuple(self.forward(torch.zeros(1, n_samples, device=self._device())).shape[1:])  # type: ignore[return-value]

    def check_rate(self, sr: int, source: str) -> None:
        """Raise :class:`ParameterError` unless ``sr`` (Hz), the rate of the waveforms ``source``
        serves, is the rate this feature was configured for."""
        if int(sr) != int(self.config.sr):
            raise ParameterError(
                f"{self.name}: configured for sr={self.config.sr} Hz, but {source} serves waveforms at {sr} Hz; give "
                "both the same rate"
            )

    def bin_values(self) -> np.ndarray:
        """The value of each bin in ``bin_label`` units (centre frequency, note, tempo, ...)."""
        raise NotImplementedError

    def reference(self, waveform: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{self.name} has no CPU reference")

    def _device(self) -> torch.device:
        for t in list(self.buffers()) + list(self.parameters()):
            return t.device
        return torch.device("cpu")

    def _check_input(self, waveform: torch.Tensor) -> torch.Tensor:
        if waveform.ndim != 2:
            raise ParameterError(
                f"{self.name}: expected waveforms of shape (batch, samples), got {tuple(waveform.shape)}"
            )
        return waveform.to(torch.float32)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.config.to_dict().items())


@dataclass(frozen=True)
class KernelConfig(FeatureConfig):
    """Outputs every ``hop_length`` samples from ``n_bins`` filters; magnitude in dB (ref 1,
    floored at ``amin`` and ``top_db`` below each clip's peak)."""

    hop_length: int = 320
    n_bins: int = 128
    amin: float = 1e-5
    top_db: float | None = 80.0


class KernelFeature(Feature):
    """A feature made of many band-limited filters applied in the frequency domain to one DFT of
    each clip and read every ``hop_length`` samples (CQT, scalogram): magnitude in dB.

    Subclasses give the filters' DFT coefficients (:meth:`kernel_coefficients`) and the room
    they need after the clip (:meth:`filter_reach`); their config extends :class:`KernelConfig`.
    See :func:`features.functional.kernel_response`.
    """

    unit = "dB"
    pitch_axis = "shift"  # log-frequency bins

    def __init__(self, config: FeatureConfig | None = None, **params: Any):
        super().__init__(config, **params)
        self._kernel_cache: dict[tuple[int, str], tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]] = {}

    def filter_reach(self) -> int:
        """Samples the longest filter reaches on either side of its centre."""
        raise NotImplementedError

    def kernel_coefficients(self, n_fft: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(bin index, DFT bin, complex value)`` of the kept coefficients for DFT length ``n_fft``."""
        raise NotImplementedError

    def n_frames(self, n_samples: int) -> int:
        return 1 + n_samples // self.config.hop_length

    def _kernels(self, n_samples: int, device: torch.device):
        """The sparse kernels for clips of ``n_samples`` samples (built once per length and device)."""
        key = (n_samples, str(device))
        if key not in self._kernel_cache:
            hop = self.config.hop_length
            n_fft = Fn.smooth_length(n_samples + self.filter_reach() + 1, hop)
            k, f, v = self.kernel_coefficients(n_fft)
            order = np.argsort(f, kind="stable")  # sequential reads of the clip's spectrum
            k, f, v = k[order], f[order], v[order]
            self._kernel_cache[key] = (
                n_fft,
                torch.from_numpy(k * (n_fft // hop) + f % (n_fft // hop)).to(device),
                torch.from_numpy(f).to(device),
                torch.from_numpy(v.astype(np.complex64)).to(device),
            )
        return self._kernel_cache[key]

    def magnitude(self, waveform: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` -> filter output magnitudes ``(batch, n_bins, frames)``."""
        x = self._check_input(waveform)
        n_fft, position, dft_bin, value = self._kernels(x.shape[1], x.device)
        resp = Fn.kernel_response(
            x,
            n_fft=n_fft,
            hop_length=self.config.hop_length,
            n_frames=self.n_frames(x.shape[1]),
            n_filters=self.config.n_bins,
            position=position,
            dft_bin=dft_bin,
            value=value,
        )
        return resp.abs()

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return Fn.amplitude_to_db(self.magnitude(waveform), amin=self.config.amin, top_db=self.config.top_db)[:, None]
