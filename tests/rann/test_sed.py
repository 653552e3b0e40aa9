"""The SED model (ResNeSt + bi-GRU + attention): shapes, the attention pooling, no downloads."""

from __future__ import annotations

import pytest
import torch

import rann
from benchmarks.core.errors import ParameterError


@pytest.fixture(scope="module")
def cpu_model():
    torch.manual_seed(0)
    return rann.create_model("sed_resnest_cpu", num_classes=10, n_bins=64).eval()


def test_clip_logits_and_framewise_probabilities(cpu_model):
    x = torch.randn(3, 1, 64, 159)
    with torch.no_grad():
        logits = cpu_model(x)
    assert logits.shape == (3, 10) and torch.isfinite(logits).all()
    frames = cpu_model.framewise(x)
    assert frames.shape == (3, 159, 10)  # one row per input frame
    torch.testing.assert_close(frames.sum(dim=2), torch.ones(3, 159))
    sig = cpu_model.framewise(x, activation="sigmoid")
    assert ((sig > 0) & (sig < 1)).all() and not torch.allclose(sig.sum(dim=2), torch.ones(3, 159))
    with pytest.raises(ParameterError, match="activation"):
        cpu_model.framewise(x, activation="relu")


def test_clip_logit_is_the_attention_weighted_sum_of_frame_scores(cpu_model):
    x = torch.randn(2, 1, 64, 216)
    with torch.no_grad():
        weights, scores = cpu_model._frames(x)
        assert weights.shape == scores.shape == (2, 216 // 16 + 1, 10)  # output stride 16
        torch.testing.assert_close(weights.sum(dim=1), torch.ones(2, 10))  # a distribution over frames per class
        torch.testing.assert_close(cpu_model(x), (weights * scores).sum(dim=1))
        # pooling over frequency: the clip logits do not depend on the number of bins' layout in time
        assert cpu_model(torch.randn(2, 1, 128, 216)).shape == (2, 10)


def test_sizes_depths_and_no_download(monkeypatch):
    import timm.models._builder as builder

    def refuse(*args, **kwargs):
        raise AssertionError("a pretrained checkpoint was requested")

    monkeypatch.setattr(builder, "load_pretrained", refuse)
    monkeypatch.setattr(builder, "load_state_dict_from_hf", refuse, raising=False)
    import timm

    for name, kw, depth, hidden in [
        ("sed_resnest_cpu", {}, "resnest14d", 64),
        ("sed_resnest", {"depth": "resnest26d"}, "resnest26d", 256),
        ("sed_resnest", {}, "resnest50d", 256),
    ]:
        m = rann.create_model(name, num_classes=50, **kw)
        assert m.backbone.conv1[0].in_channels == 1  # one input channel, randomly initialised
        backbone = sum(p.numel() for p in m.backbone.parameters())
        if name == "sed_resnest":  # timm's backbone as it is, without its classifier
            assert backbone == sum(p.numel() for p in timm.create_model(depth, in_chans=1, num_classes=0).parameters())
        c = m.backbone.num_features
        gru = (
            2 * 3 * (hidden * (c + hidden) + 2 * hidden)
        )  # bidirectional: 3 gates, input + recurrent weights, 2 biases
        heads = 2 * (2 * hidden * 50 + 50)  # attention and class scores
        assert sum(p.numel() for p in m.parameters()) == backbone + gru + heads
    assert sum(p.numel() for p in rann.create_model("sed_resnest_cpu", num_classes=50).parameters()) == 777_484
    assert sum(p.numel() for p in rann.create_model("sed_resnest", num_classes=50).parameters()) == 29_026_980
    with pytest.raises(ParameterError, match="depth must be one of resnest14d, resnest26d, resnest50d"):
        rann.create_model("sed_resnest", num_classes=5, depth="resnet18")


def test_trains_one_step(cpu_model):
    model = rann.create_model("sed_resnest_cpu", num_classes=4)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.randn(4, 1, 64, 80), torch.tensor([0, 1, 2, 3])
    before = {k: v.clone() for k, v in model.named_parameters()}
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    changed = [k for k, v in model.named_parameters() if not torch.equal(v, before[k])]
    assert any(k.startswith("backbone.") for k in changed) and any(k.startswith("gru.") for k in changed)
    assert any(k.startswith("attention.") for k in changed)


def test_summary_lists_the_other_models():
    from rann.summary import other_models

    rows = {r[0]: r for r in other_models()}
    assert {"rann_cpu_16", "simple_cnn", "sed_resnest", "sed_resnest_cpu"} <= set(rows) and "rann_4_4" not in rows
    assert (
        rows["sed_resnest_cpu"][1] == "777,484"
        and rows["simple_cnn"][1] == f"{sum(p.numel() for p in rann.create_model('simple_cnn', 50).parameters()):,}"
    )
