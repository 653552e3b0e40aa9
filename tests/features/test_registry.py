"""The feature registry and what every feature must do, on short generated clips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import features
from benchmarks.core.errors import ParameterError
from features.base import Feature

ALL = features.list_features()
SR = 44_100


def clips(n=3, seconds=1.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    out = [
        0.3 * np.sin(2 * np.pi * (220 * (k + 1)) * t) * (1 + np.sin(2 * np.pi * 2 * t))
        + 0.05 * rng.standard_normal(t.size)
        for k in range(n)
    ]
    out[-1] *= 1e-3  # a quiet clip: the top_db floor must follow its own maximum
    for o in out:
        o[t.size // 4 : t.size // 2] = 0.0  # digital silence reaches every clip's floor
    return torch.from_numpy(np.stack(out).astype(np.float32))


def test_registry_lists_the_papers_features_and_ours():
    assert set(ALL) == {"mel", "mfcc", "gfcc", "cqt", "chroma", "tempogram", "wavegram", "scalogram"}
    with pytest.raises(KeyError, match="unknown feature 'mell'.*choices: chroma, cqt"):
        features.create("mell")
    with pytest.raises(ValueError, match="already registered"):
        features.register_feature(features.get_feature_class("mel"))
    with pytest.raises(ParameterError, match="parameters are: sr, n_fft"):
        features.create("mel", n_mel=64)


@pytest.mark.parametrize("name", ALL)
def test_shape_dtype_and_frames(name):
    f = features.create(name).eval()
    with torch.no_grad():
        out = f(clips())
    assert isinstance(f, Feature) and isinstance(f, torch.nn.Module)
    assert out.ndim == 4 and out.shape[0] == 3 and out.dtype == torch.float32
    assert out.shape[-1] == 1 + SR // 320  # one frame per 320-sample hop, centred
    assert torch.isfinite(out).all()
    assert tuple(out.shape[1:]) == f.output_shape(SR)
    assert len(f.bin_values()) == out.shape[2]  # one value per bin


@pytest.mark.parametrize("name", ALL)
def test_batch_equals_each_clip_alone(name):
    # in particular the dB floor (top_db) is per clip, not per batch
    f = features.create(name).eval()
    x = clips()
    with torch.no_grad():
        batch = f(x)
        alone = torch.cat([f(x[i : i + 1]) for i in range(len(x))])
    torch.testing.assert_close(batch, alone, rtol=1e-4, atol=1e-4)


def test_top_db_is_per_example():
    f = features.create("mel")
    x = clips()
    with torch.no_grad():
        out = f(x)
    peaks = out.amax(dim=(1, 2, 3))
    floors = out.amin(dim=(1, 2, 3))
    assert peaks[2] < peaks[0] - 40  # the quiet clip sits far below the others ...
    # ... and has its own floor: 80 dB below its own peak, or amin (1e-10, -100 dB); a floor
    # taken over the batch would put it at peaks[0] - 80
    torch.testing.assert_close(floors, torch.clamp(peaks - 80, min=-100.0), rtol=0, atol=1e-3)
    assert floors[2] < peaks[0] - 80 - 10


@pytest.mark.parametrize("name", ALL)
def test_fingerprint_is_stable_and_follows_the_config(name):
    a, b = features.create(name), features.create(name)
    assert a.fingerprint == b.fingerprint and len(a.fingerprint) == 16
    assert features.create(name, sr=48_000).fingerprint != a.fingerprint
    assert a.config.to_dict()["sr"] == SR


def test_wavegram_is_trainable_and_has_no_reference():
    w = features.create("wavegram")
    assert w.trainable and sum(p.requires_grad for p in w.parameters()) > 0
    with pytest.raises(NotImplementedError):
        w.reference(np.zeros(SR, np.float32))
    assert features.create("wavegram", out_chans=4).output_shape(SR) == (4, 32, 138)
    assert not any(features.get_feature_class(n).trainable for n in ALL if n != "wavegram")


def test_wavegram_hop_sets_the_stem_stride():
    w = features.create("wavegram", hop_length=512, base_channels=8, n_channels=32)
    assert w.conv0.stride == (8,) and w.conv0.kernel_size == (17,)
    assert w.output_shape(22_050) == (1, 32, 1 + 22_050 // 512)
    assert w(torch.zeros(2, 22_050)).shape == (2, 1, 32, 1 + 22_050 // 512)
    with pytest.raises(ValueError, match="hop_length \\(300\\) must be a positive multiple of 64"):
        features.create("wavegram", hop_length=300)


def test_bad_input_shape_is_a_clear_error():
    with pytest.raises(ValueError, match=r"mel: expected waveforms of shape \(batch, samples\), got \(44100,\)"):
        features.create("mel")(torch.zeros(SR))


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")


@cuda
@pytest.mark.cuda
@pytest.mark.parametrize("name", ALL)
def test_cuda_matches_cpu(name):
    torch.manual_seed(0)
    f = features.create(name).eval()
    x = clips()
    with torch.no_grad():
        cpu = f(x)
        gpu = f.to("cuda")(x.to("cuda")).cpu()
    assert gpu.shape == cpu.shape
    tol = 0.05 if f.unit == "dB" else 1e-3
    torch.testing.assert_close(gpu, cpu, rtol=1e-3, atol=tol)


@pytest.mark.parametrize("name", ["mel", "mfcc", "gfcc", "cqt", "scalogram"])
def test_band_above_nyquist_is_a_clear_error(name):
    with pytest.raises(ValueError, match=rf"{name}: .*(fmax|Nyquist)"):
        features.create(name, sr=16_000)


def test_none_is_a_setting_not_a_missing_value():
    # None reaches the config (it is not replaced by the default) and means what librosa means
    mel = features.create("mel", sr=22_050, top_db=None, fmax=None)
    assert mel.config.top_db is None and mel.config.fmax is None
    assert mel.bin_values()[-1] > 10_000  # the top band reaches towards Nyquist (11,025 Hz), not 14 kHz
    x = torch.cat([torch.zeros(1, 22_050), torch.randn(1, 22_050)])  # silence and noise
    with torch.no_grad():
        floored = features.create("mel", sr=22_050, fmax=11_025.0)(x)
        unfloored = mel(x)
    assert (floored[0].max() - floored[0].min()) <= 80.0 + 1e-3
    assert (unfloored.amax() - unfloored.amin()) > 80.0  # no top_db floor


def test_a_feature_refuses_waveforms_at_another_rate():
    mel = features.create("mel", sr=22_050, fmax=11_025.0)
    mel.check_rate(22_050, "dataset 'esc50'")
    with pytest.raises(
        ParameterError, match=r"mel: configured for sr=22050 Hz, but dataset 'esc50' serves waveforms at 44100 Hz"
    ):
        mel.check_rate(44_100, "dataset 'esc50'")


@pytest.mark.parametrize("name", ALL)
def test_per_feature_facts_live_on_the_class(name):
    cls = features.get_feature_class(name)
    assert cls.pitch_axis in (None, "shift", "roll")
    assert cls.cacheable() == (not cls.trainable)
    assert isinstance(features.create(name).display_axis(), dict)
