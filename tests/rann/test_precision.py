"""bf16 training: what the CPU can do, the refusal where it does not pay, a bf16 step against an
fp32 one from the same weights, and a bf16 run end to end (weights and probabilities in fp32)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import rann.precision as precision
from benchmarks import esc50 as esc50_cli
from benchmarks.core.errors import ParameterError
from benchmarks.datasets import create_dataset
from rann import create_model
from rann.config import RunConfig
from rann.precision import CpuInfo, autocast, check_precision, cpu_info, parse_cpuinfo
from rann.training import train_run

INTEL = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz\n"
INTEL += "flags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n\nprocessor\t: 1\nmodel name\t: other\n"
AMD = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512_bf16\n"
OLD = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU E5-2690 v4\nflags\t\t: fpu avx avx2\n"
NO_AMX = CpuInfo("AMD EPYC", amx=False, avx512_bf16=True)


def test_the_cpu_s_bf16_unit_is_read_from_its_flags():
    assert parse_cpuinfo(INTEL) == CpuInfo("Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz", True, True)
    assert parse_cpuinfo(INTEL).bf16 == "amx"
    assert parse_cpuinfo(AMD).bf16 == "avx512_bf16" and parse_cpuinfo(OLD).bf16 == "none"
    assert cpu_info().model  # this machine's, whatever it is


def test_bf16_is_refused_without_amx_in_one_line_that_says_what_to_do():
    for cpu in (NO_AMX, parse_cpuinfo(OLD)):
        with pytest.raises(ParameterError) as exc:
            check_precision("bf16", "cpu", cpu=cpu)
        line = str(exc.value)
        assert "\n" not in line and "without AMX" in line and cpu.model in line
        assert "--recipe precision=fp32" in line and "--force-precision" in line
    check_precision("bf16", "cpu", cpu=parse_cpuinfo(INTEL))  # AMX: fine
    check_precision("bf16", "cpu", cpu=NO_AMX, force=True)  # forced: fine
    check_precision("bf16", "cuda", cpu=NO_AMX)  # the CPU does not matter on a GPU
    check_precision("fp32", "cpu", cpu=parse_cpuinfo(OLD))
    with pytest.raises(ParameterError, match="precision must be one of fp32, bf16"):
        check_precision("fp16")


@pytest.mark.parametrize(
    "settings",
    [["--profile", "smoke", "--recipe", "precision=bf16"], ["--profile", "long"]],
    ids=["recipe-bf16", "long-profile"],
)
def test_the_benchmark_refuses_a_bf16_run_before_training(tmp_path, make_esc50, monkeypatch, capsys, settings):
    """The capability check stubbed to a CPU without AMX: the command exits 1 with the one line,
    and no run folder is created; asked for in the recipe, or by `long`, whose recipe is bf16."""
    make_esc50(tmp_path / "esc50", n_classes=3, per_fold=2, sr=22_050, seconds=1.0)
    monkeypatch.setattr(precision, "cpu_info", lambda: NO_AMX)
    argv = ["--features", "mel", "--folds", "1", "--data-root", str(tmp_path / "esc50"), *settings]
    argv += ["--runs-dir", str(tmp_path / "runs"), "--out", str(tmp_path / "r")]
    assert esc50_cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: precision=bf16 on a CPU without AMX (AMD EPYC") and "\n" not in err
    assert not (tmp_path / "runs").exists()


def test_the_long_profile_is_the_study_s_choice():
    """`long`: the standard inputs, rann_cpu_32, bf16 (no --recipe needed), LONG_EPOCHS epochs."""
    from rann.config import LONG_EPOCHS, get_profile

    long = get_profile("long", "esc50")
    assert (long.model, long.recipe.precision, long.recipe.epochs) == ("rann_cpu_32", "bf16", LONG_EPOCHS)
    assert long.feature_params == get_profile("standard").feature_params


def _step(model, x, y, prec: str):
    model.zero_grad(set_to_none=True)
    with autocast(prec):
        logits = model(x)
    loss = F.cross_entropy(logits.float(), y)
    loss.backward()
    return float(loss.detach()), torch.cat([p.grad.flatten() for p in model.parameters()])


NO_BF16 = "this CPU has no bf16 instructions (neither AMX nor AVX-512 bf16): bf16 is emulated, 10x slower"


@pytest.mark.skipif(cpu_info().bf16 == "none", reason=NO_BF16)
@pytest.mark.parametrize("channels_last", [False, True])
def test_a_bf16_step_matches_an_fp32_step_from_the_same_weights(channels_last):
    """Tolerances: bf16 keeps 8 bits of mantissa (a relative rounding of up to 2^-9 = 0.2 % per value)
    and the forward pass rounds at each of the model's ~20 layers. The loss, a mean over the batch,
    averages the rounding out: within 1 %. Each gradient element carries the rounding of every layer
    above it, and small elements lose most, so the gradient vector is compared by what the optimiser
    follows: its direction (cosine >= 0.97, an angle under 14 degrees) and its norm (within 5 %).
    Measured on AMD EPYC (AVX-512 bf16), 3 seeds x both layouts: loss within 0.013 %, cosine
    0.989-0.993, norm within 0.8 %. A wrong gradient (another batch, an unscaled or fp16 path) lands
    far outside: two independent batches' gradients have a cosine near 0."""
    torch.manual_seed(0)
    model = create_model("rann_cpu_16", 50, in_chans=1, n_bins=64)
    x, y = torch.randn(16, 1, 64, 160), torch.randint(0, 50, (16,))
    if channels_last:
        model, x = model.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    model.train()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    loss32, grad32 = _step(model, x, y, "fp32")
    model.load_state_dict(state)  # the same weights and batch-norm statistics
    loss16, grad16 = _step(model, x, y, "bf16")
    assert abs(loss16 - loss32) / loss32 < 0.01, (loss32, loss16)
    assert F.cosine_similarity(grad32, grad16, dim=0) >= 0.97
    assert abs(grad16.norm() / grad32.norm() - 1) < 0.05
    assert all(p.dtype == torch.float32 for p in model.parameters())  # the weights stay fp32


def test_a_bf16_run_trains_end_to_end_in_fp32_storage(tmp_path, make_esc50):
    make_esc50(tmp_path / "esc50", n_classes=3, per_fold=2, sr=22_050, seconds=1.0)
    ds = create_dataset("esc50", data_root=tmp_path / "esc50", sr=22_050, cache_dir=tmp_path / "cache", progress=False)
    cfg = RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="smoke", precision="bf16")
    assert cfg.to_dict()["recipe"]["precision"] == "bf16"  # keyed apart from the fp32 run
    assert (
        cfg.fingerprint()
        != RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="smoke").fingerprint()
    )
    res = train_run(cfg, ds, runs_root=tmp_path / "runs", progress=False)
    weights = torch.load(res.folder / "ema.pt", weights_only=True)
    assert all(v.dtype in (torch.float32, torch.int64) for v in weights.values())
    probs = np.load(res.folder / "probs.npz")["probs"]
    assert probs.dtype == np.float32 and np.allclose(probs.sum(1), 1, atol=1e-3)
    metrics = json.loads((res.folder / "metrics.json").read_text())
    assert metrics["cpu"] == cpu_info().model and metrics["cpu_bf16"] == cpu_info().bf16
