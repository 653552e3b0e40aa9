"""RANN models: the paper's parameter counts (Table XII), shapes, the registry."""

from __future__ import annotations

import pytest
import torch

import rann
from rann.models.rann_net import RANN, rann_strides

TABLE_XII = {
    "RANN-8x1-6": 54_435_473,
    "RANN-8x2-6": 54_532_241,
    "RANN-8x4-6": 54_919_313,
    "RANN-4x4-6": 54_919_313,
    "RANN-8x8-6": 56_467_601,
    "RANN-8x4-5": 38_198_545,
    "RANN-8x4-4": 24_504_849,
}


@pytest.mark.parametrize("name, params", TABLE_XII.items())
def test_parameter_counts_equal_table_xii(name, params):
    model = rann.create_model(name, num_classes=527)
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == params


@pytest.mark.parametrize("t_m, fmap", [(1, (8, 64)), (2, (8, 32)), (4, (8, 16)), (8, (8, 8))])
def test_final_feature_map_for_1024_frames(t_m, fmap):
    model = rann.create_model(f"rann_{t_m}_1", num_classes=527).eval()  # shapes do not depend on W
    with torch.no_grad():
        assert tuple(model.forward_features(torch.zeros(1, 1, 128, 1024)).shape[2:]) == fmap


def test_strides_and_kernels():
    assert rann_strides(1) == [(1, 1), (2, 2), (2, 2), (2, 2), (2, 2)]
    assert rann_strides(8) == [(1, 1), (2, 4), (2, 4), (2, 4), (2, 2)]
    block = rann.create_model("rann_4_1", num_classes=10).blocks[4]  # first block of stage 2
    assert block.conv1.kernel_size == (3, 6) and block.conv2.kernel_size == (3, 5) and block.conv1.padding == (1, 2)
    assert block.conv1.stride == (2, 4) and block.conv1.bias is None
    with pytest.raises(ValueError, match="t_m must be 1, 2, 4 or 8"):
        RANN(10, t_m=3)


@pytest.mark.parametrize(
    "name", [n for n in rann.list_models() if n.endswith("_1") or not n.startswith("rann_") or n.startswith("rann_cpu")]
)
def test_forward_any_frame_count(name):
    model = rann.create_model(name, num_classes=50, in_chans=1).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 1, 128, 101))  # not a multiple of the time stride: padded
    assert out.shape == (2, 50) and torch.isfinite(out).all()


def test_registry():
    assert {"rann_4_6", "rann_cpu_16", "simple_cnn"} <= set(rann.list_models())
    assert rann.list_models("rann_8_*") == [f"rann_8_{w}" for w in range(1, 7)]
    with pytest.raises(KeyError, match="unknown model 'rann_4_66'.*choices:"):
        rann.create_model("rann_4_66", num_classes=2)
    with pytest.raises(ValueError, match="already registered"):
        rann.register_model(rann.models.simple_cnn.simple_cnn)


def test_cpu_rann_matches_the_calibration_size():
    model = rann.create_model("rann_cpu_16", num_classes=50, n_bins=64)
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 2) == 0.72


@pytest.mark.slow
def test_multiply_adds_equal_table_xii():
    from rann.summary import PAPER_TABLE_XII, multiply_adds

    for name, (_, macs) in PAPER_TABLE_XII.items():
        frames = 512 if name.startswith("RANN-4x") else 1024
        got, _ = multiply_adds(rann.create_model(name, num_classes=527), torch.zeros(1, 1, 128, frames))
        assert round(got / 1e9, 3) == macs, name
