"""The speed benchmark's rows: every log-mel library at the same settings, a learned feature without a reference."""

from __future__ import annotations

import numpy as np
import torch

from benchmarks.speed import logmel_paths, time_feature, time_logmel


def test_logmel_libraries_compute_the_same_shape_and_are_timed():
    clips = (0.1 * np.random.default_rng(0).standard_normal((2, 44_100))).astype(np.float32)
    x = torch.from_numpy(clips)
    shapes = set()
    for name, module in logmel_paths("cpu").items():
        with torch.inference_mode():
            out = module(x)
        shapes.add(
            tuple(out.squeeze(1).shape[-2:]) if "torchlibrosa" not in name else tuple(out.squeeze(1).shape[-2:][::-1])
        )
    assert shapes == {(128, 1 + 44_100 // 320)}  # (bands, frames) for every library
    rows = time_logmel(clips, device="cpu", ref_clips=1, repeats=1)
    assert [r["library"].split()[0] for r in rows] == ["librosa", "ours", "torchaudio", "torchlibrosa"]
    assert all(r["ms_per_clip"] > 0 for r in rows) and rows[0]["speedup_over_librosa"] == 1.0


def test_a_learned_feature_has_no_reference_row():
    clips = np.zeros((2, 44_100), np.float32)
    row = time_feature("wavegram", clips, device="cpu", ref_clips=1, repeats=1)
    assert row["reference_ms_per_clip"] is None and row["speedup"] is None and row["torch_ms_per_clip"] > 0
