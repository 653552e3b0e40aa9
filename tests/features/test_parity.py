"""The torch path of every feature against its CPU reference (librosa / spafe / pywavelets) on
10 real ESC-50 clips (two per fold), with the tolerance for each and why."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import features
from benchmarks.datasets.audio import load_audio
from rann.config import PROFILES, RunConfig


@pytest.fixture(scope="module")
def real_clips(esc50_root):
    from benchmarks.datasets import create_dataset

    meta = create_dataset("esc50", data_root=esc50_root).meta
    rows = meta.groupby("fold").head(2)  # 10 clips, two from each fold
    return np.stack([load_audio(p, sr=44_100, duration=5.0)[0] for p in rows.path]), list(rows.filename)


def compare(name, clips, sr=44_100, seconds=None, **params):
    f = features.create(name, **{"sr": sr, **params}).eval()
    x = clips if seconds is None else clips[:, : int(f.config.sr * seconds)]
    with torch.no_grad():
        out = f(torch.from_numpy(np.ascontiguousarray(x))).numpy()
    refs = np.stack([f.reference(c) for c in x])
    assert out.shape == refs.shape
    return out, refs


def within(tol):
    """Every value within ``tol`` (same units as the feature)."""

    def check(out, ref):
        assert np.abs(out - ref).max() < tol

    return check


def within_relative(tol):
    """Every value within ``tol`` times each clip's largest coefficient."""

    def check(out, ref):
        for o, r in zip(out, ref):
            assert np.abs(o - r).max() <= tol * np.abs(r).max()

    return check


def correlated(out, ref):
    """Correlation >= 0.99 and median absolute error < 0.5 dB per clip, silent clips flat at the floor."""
    checked = 0
    for o, r in zip(out, ref):
        if r.std() == 0:  # a silent excerpt: both are flat at the floor
            assert o.std() < 1e-3
            continue
        checked += 1
        assert np.corrcoef(o.ravel(), r.ravel())[0, 1] >= 0.99
        assert np.median(np.abs(o - r)) < 0.5
    assert checked >= len(out) - 2


#: feature -> (check, seconds of each clip compared), with the reason for each tolerance
PARITY = {
    # both compute float32 FFTs of the same frames with the same filterbank: 0.01 dB everywhere,
    # edges included (the observed maximum is about 3e-4 dB)
    "mel": (within(0.01), None),
    # a DCT of the log-mel: within 1e-3 of each clip's largest coefficient (observed ~1e-6)
    "mfcc": (within_relative(1e-3), None),
    # spafe under the documented options (centred framing, win_len (n_fft + 0.5) / sr, symmetric
    # Hann, pre-emphasis 0.97, cube root, orthonormal DCT): float64 there, float32 here
    "gfcc": (within_relative(1e-3), None),
    # values in [0, 1]; same STFT and filterbank, fixed tuning
    "chroma": (within(1e-3), None),
    # onset envelope from the log-mel, windowed autocorrelation, per-frame max = 1
    "tempogram": (within(1e-3), None),
    # librosa.cqt computes the lower octaves on a resampled signal (soxr) with its own sparse
    # kernels; ours filters at full rate. The two agree closely except in deep spectral nulls
    # near the 80 dB floor.
    "cqt": (correlated, None),
    # pywt samples an integrated Morlet on a grid and differentiates it; ours uses the Morlet's
    # analytic Fourier transform (with the same one-sample box). 1-s excerpts keep pywt's time in check.
    "scalogram": (correlated, 1.0),
}


def test_every_feature_with_a_reference_has_a_parity_check():
    with_reference = [n for n in features.list_features() if features.get_feature_class(n).cacheable()]
    assert sorted(PARITY) == sorted(with_reference)


@pytest.mark.parametrize("name", sorted(PARITY))
def test_parity_at_the_default_settings(real_clips, name):
    check, seconds = PARITY[name]
    check(*compare(name, real_clips[0], seconds=seconds))


@pytest.fixture(scope="module")
def quick_clips(real_clips):
    import soxr

    return np.stack([soxr.resample(c, 44_100, QUICK_SR, quality="HQ") for c in real_clips[0]]).astype(np.float32)


QUICK_SR = PROFILES["quick"].sr


@pytest.mark.parametrize("name", sorted(PARITY))
def test_parity_at_the_quick_profile_settings(quick_clips, name):
    # what the committed quick runs were trained on: 22.05 kHz, hop 512, 64 bins
    params = RunConfig.from_profile(dataset="esc50", feature=name, fold=1, profile="quick").feature_params
    assert params["sr"] == QUICK_SR
    check, seconds = PARITY[name]
    check(*compare(name, quick_clips, seconds=seconds, **params))


def test_mel_torchlibrosa_backend(real_clips):
    # torchlibrosa's STFT is a convolution with DFT kernels: float32 rounding differs a little
    out, ref = compare("mel", real_clips[0][:3], backend="torchlibrosa")
    assert np.abs(out - ref).max() < 0.05


@pytest.mark.parametrize(
    "params, check",
    [
        # the energies as they are: same STFT and filterbank, float32 here
        ({"norm": None}, within_relative(1e-3)),
        # the energies in dB, floored 80 dB below each clip's peak (as librosa.power_to_db's top_db)
        ({"norm": None, "log": True}, within(0.01)),
        # finer pitch classes: 36 and 64 bins per octave, still folded onto one octave
        ({"norm": None, "log": True, "n_chroma": 36}, within(0.01)),
        ({"norm": None, "log": True, "n_chroma": 64}, within(0.01)),
    ],
)
def test_chroma_variants_at_the_quick_settings(quick_clips, params, check):
    quick = RunConfig.from_profile(dataset="esc50", feature="chroma", fold=1, profile="quick").feature_params
    check(*compare("chroma", quick_clips, **quick, **params))


def test_tempogram_variants_at_the_quick_settings(quick_clips):
    quick = RunConfig.from_profile(dataset="esc50", feature="tempogram", fold=1, profile="quick").feature_params
    # the autocorrelation as it is (librosa's norm=None): same envelope and window, float32 here
    within_relative(1e-3)(*compare("tempogram", quick_clips, **quick, norm=None))


def test_tempogram_from_the_cqt_at_the_quick_settings(quick_clips):
    # the onset envelope from a CQT in dB. librosa.cqt computes its lower octaves on a downsampled
    # signal (see "cqt" above): the envelopes correlate >= 0.98 on every clip, and the tempograms
    # agree within 0.05 on clips without digital silence. In digital silence librosa's CQT is flat
    # at the floor (flux exactly 0) where ours carries filter-tail ripples (flux up to ~0.6 dB), which
    # the per-frame max normalisation of a silent stretch's autocorrelation scales up to 1.
    import librosa

    quick = RunConfig.from_profile(dataset="esc50", feature="tempogram", fold=1, profile="quick").feature_params
    f = features.create("tempogram", **quick, onset="cqt").eval()
    with torch.no_grad():
        env = f.onset_strength(torch.from_numpy(quick_clips)).numpy()
    for ours, clip in zip(env, quick_clips):
        ref = librosa.onset.onset_strength(
            S=f.spectrum.reference(clip)[0], sr=f.config.sr, hop_length=f.config.hop_length, n_fft=f.config.onset_n_fft
        )
        assert np.corrcoef(ours, ref)[0, 1] >= 0.98
    out, ref = compare("tempogram", quick_clips, **quick, onset="cqt")
    sounding = np.mean(np.abs(quick_clips) < 1e-6, axis=1) < 0.01
    assert sounding.sum() >= 6
    within(0.05)(out[sounding], ref[sounding])


def test_tempogram_options_are_checked():
    from benchmarks.core.errors import ParameterError

    with pytest.raises(ParameterError, match="onset must be 'mel' or 'cqt'"):
        features.create("tempogram", sr=22_050, onset="stft")
    with pytest.raises(ParameterError, match="norm must be inf or None"):
        features.create("tempogram", sr=22_050, norm=2.0)


def test_chroma_from_the_cqt_at_the_quick_settings(quick_clips):
    # librosa.feature.chroma_cqt against our CQT's magnitudes folded by the same cq_to_chroma matrix:
    # 99 % of values within 0.05 (values in [0, 1]), all within 0.15 (the largest differences sit
    # in the first frames and quiet ones), on clips without digital silence. In digital silence librosa's
    # CQT (lower octaves downsampled) is flat where ours carries tiny filter-tail ripples, which the
    # per-frame max normalisation scales up (as for the tempogram from the CQT above).
    quick = RunConfig.from_profile(dataset="esc50", feature="chroma", fold=1, profile="quick").feature_params
    out, ref = compare("chroma", quick_clips, **quick, source="cqt")
    sounding = np.mean(np.abs(quick_clips) < 1e-6, axis=1) < 0.01
    assert sounding.sum() >= 6
    for o, r in zip(out[sounding], ref[sounding]):
        d = np.abs(o - r)
        assert np.corrcoef(o.ravel(), r.ravel())[0, 1] >= 0.999
        assert np.percentile(d, 99) < 0.05 and d.max() < 0.15


def test_chroma_options_are_checked():
    from benchmarks.core.errors import ParameterError

    with pytest.raises(ParameterError, match="source must be 'stft' or 'cqt'"):
        features.create("chroma", sr=22_050, source="mel")
    with pytest.raises(ParameterError, match="tuning=0 only"):
        features.create("chroma", sr=22_050, source="cqt", tuning=0.1)
    with pytest.raises(ParameterError, match="norm must be inf"):
        features.create("chroma", sr=22_050, norm=2.0)(torch.zeros(1, 22_050))
