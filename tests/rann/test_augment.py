"""Augmentations: shapes, and what each one guarantees."""

import numpy as np
import pytest
import torch

from rann import augment


def test_mixup_partners_are_of_another_class_and_target_weights_are_the_mixing_weights():
    rng = np.random.default_rng(0)
    y = torch.tensor([0, 0, 1, 1, 2, 2, 0, 1])
    x = torch.eye(8)[:, None, :, None].expand(8, 1, 8, 3).clone()  # clip i is the indicator of i
    xm, soft = augment.mixup(x, y, 3, 0.3, rng)
    for i in range(8):
        weights = xm[i, 0, :, 0]  # how much of each clip is in mixed clip i
        partners = [j for j in torch.nonzero(weights > 1e-6).ravel().tolist() if j != i]
        assert len(partners) <= 1 and all(y[j] != y[i] for j in partners)
        expected = torch.zeros(3)
        for j in range(8):
            expected[y[j]] += weights[j]  # each class weighs what its clips weigh in the input
        torch.testing.assert_close(soft[i], expected)
    assert not torch.equal(soft, torch.nn.functional.one_hot(y, 3).float())  # something was mixed


def test_crop_stretch_shift_and_masks():
    rng = np.random.default_rng(0)
    x = torch.arange(2 * 1 * 5 * 20, dtype=torch.float32).view(2, 1, 5, 20)
    c = augment.random_crop(x, 8, rng)
    assert c.shape == (2, 1, 5, 8)
    for i in range(2):  # a contiguous window of each clip
        start = int(c[i, 0, 0, 0] - x[i, 0, 0, 0])
        assert torch.equal(c[i], x[i, :, :, start : start + 8])
    assert augment.random_crop(x, 30, rng).shape[-1] == 30
    assert augment.speed_stretch(x, 1.25).shape[-1] == 16
    assert torch.equal(augment.pitch_shift(x, 1, "roll")[:, :, 0], x[:, :, -1])
    shifted = augment.pitch_shift(x, 2, "shift")
    assert torch.equal(shifted[:, :, 2:], x[:, :, :-2]) and torch.equal(shifted[:, :, 0], x[:, :, 0])
    masked = augment.spec_augment(torch.ones(4, 1, 16, 40), rng, freq_masks=2, freq_width=4, time_masks=2, time_width=5)
    assert 0 < (masked == 0).float().mean() < 0.6


def test_clip_mixing_sums_at_bounded_gains_with_the_union_of_labels():
    from rann.augment import MIX_GAIN_DB, mix_clips

    rng = np.random.default_rng(0)
    b, n = 200, 5
    x = torch.rand(b, 1, 4, 6) + 0.5
    others = torch.rand(b, 1, 1, 4, 6) + 0.5  # one candidate each
    target = torch.nn.functional.one_hot(torch.zeros(b, dtype=torch.long), n).float()
    others_target = torch.nn.functional.one_hot(torch.full((b, 1), 3), n).float()
    mixed, t = mix_clips(x, target, others, others_target, rng, domain="power", snr_db=None)
    gain = ((mixed - x) / others[:, 0]).flatten(1)
    assert torch.allclose(gain, gain[:, :1], atol=1e-5)  # one gain per clip
    g = gain[:, 0]
    added = g > 0
    assert 0.3 < added.float().mean() < 0.7  # 0 or 1 of the candidates, evenly
    lo, hi = 10 ** (MIX_GAIN_DB[0] / 10), 10 ** (MIX_GAIN_DB[1] / 10)
    assert ((g[added] >= lo - 1e-5) & (g[added] <= hi + 1e-5)).all()
    assert torch.equal(t[:, 0], torch.ones(b)) and torch.equal(t[:, 3], added.float())  # the union of labels
    # waveforms: amplitude gains are the square roots; noise at the SNR asked for
    w, ow = torch.randn(b, 1000), torch.randn(b, 1, 1000)
    mixed_w, _ = mix_clips(w, target, ow, others_target, np.random.default_rng(1), domain="waveform", snr_db=None)
    aw = ((mixed_w - w) / ow[:, 0])[:, 0]
    assert ((aw == 0) | ((aw >= lo**0.5 - 1e-4) & (aw <= 1 + 1e-4))).all()
    quiet = torch.zeros(b, 0, 1000)
    noisy, _ = mix_clips(
        w, target, quiet, others_target[:, :0], np.random.default_rng(2), domain="waveform", snr_db=(10.0, 10.0)
    )
    snr = 10 * torch.log10(w.pow(2).mean(1) / (noisy - w).pow(2).mean(1))
    assert abs(float(snr.mean()) - 10.0) < 0.2
    with pytest.raises(ValueError, match="domain must be 'power' or 'waveform'"):
        mix_clips(x, target, others, others_target, rng, domain="dB", snr_db=None)


def test_even_crops_span_the_clip_from_its_start_to_its_end():
    x = torch.arange(2 * 20, dtype=torch.float32).view(2, 1, 1, 20)
    crops = augment.even_crops(x, 8, 3)
    assert [c[0, 0, 0, 0].item() for c in crops] == [0, 6, 12]  # starts 0, 6, 12: the last ends at frame 20
    assert all(c.shape == (2, 1, 1, 8) for c in crops) and crops[-1][1, 0, 0, -1].item() == x[1, 0, 0, -1].item()
    short = augment.even_crops(x, 25, 3)  # not longer than the crop: once, zero-padded
    assert len(short) == 1 and short[0].shape[-1] == 25 and short[0][..., 20:].abs().sum() == 0
