"""A training budget that fits the data (a floor in optimiser steps) and an EMA that warms up:
what makes a few hundred clips of your own train as far as ESC-50 does."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from rann.config import OWN_DATA_MIN_STEPS, RunConfig, get_profile, steps_per_epoch
from rann.training import ema_avg_fn


def own(profile: str = "quick", **kw) -> RunConfig:
    return RunConfig.from_profile(dataset="folder", feature="mel", fold=1, profile=profile, data="0123456789ab", **kw)


@pytest.mark.parametrize("n_train", [8, 30, 180, 320, 1_600, 32_000])
@pytest.mark.parametrize("profile", ["quick", "standard", "long"])
def test_a_small_dataset_gets_the_profile_s_minimum_steps(profile, n_train):
    cfg = own(profile).resolved(n_train)
    r = cfg.recipe
    steps = r.epochs * steps_per_epoch(n_train, r.batch_size)
    assert r.min_steps == OWN_DATA_MIN_STEPS and steps >= OWN_DATA_MIN_STEPS
    profile_epochs = get_profile(profile).recipe.epochs
    assert r.epochs >= profile_epochs  # a large dataset keeps the profile's epochs
    if r.epochs > profile_epochs:  # grown no further than the floor needs
        assert (r.epochs - 1) * steps_per_epoch(n_train, r.batch_size) < OWN_DATA_MIN_STEPS
        # the test fold is evaluated about as often as in the profile's run
        assert r.epochs / r.eval_every == pytest.approx(
            profile_epochs / get_profile(profile).recipe.eval_every, rel=0.1
        )


def test_esc10_sized_data_trains_150_epochs_of_10_steps():
    """ESC-10's folds: 320 training clips of 32 -> 10 steps an epoch; quick's 30 epochs were 300 steps."""
    assert own().resolved(320).recipe.epochs == 150
    assert steps_per_epoch(320, 32) * get_profile("quick").recipe.epochs == 300


def test_the_registered_datasets_budgets_and_fingerprints_are_unchanged():
    """Their profiles have no floor and no warm-up, so no committed run changes its name."""
    cfg = RunConfig.from_profile(dataset="esc50", feature="mel", fold=1, profile="quick")
    assert cfg.recipe.min_steps == 0 and not cfg.recipe.ema_warmup and cfg.resolved(8) is cfg
    assert "min_steps" not in cfg.to_dict()["recipe"] and "ema_warmup" not in cfg.to_dict()["recipe"]
    # results/runs/esc50/quick/mel/fold1-seed0-rann_cpu_16-48ce0c37acdc, committed before either existed
    assert cfg.fingerprint() == "48ce0c37acdc"
    resolved = own().resolved(40)
    assert (
        resolved.to_dict()["recipe"]["min_steps"] == OWN_DATA_MIN_STEPS and resolved.to_dict()["recipe"]["ema_warmup"]
    )
    assert resolved.fingerprint() != own().fingerprint()  # the resolved epochs are part of the run


def _toy(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 16, generator=g)
    y = (x[:, :4].sum(1) > 0).long() + 2 * (x[:, 4:8].sum(1) > 0).long()  # 4 classes
    return x, y


def _short_run(warmup: bool, steps: int = 150):
    """A linear classifier trained ``steps`` steps from a random start far from the solution, with
    the EMA of a 0.995 decay; returns (initial, trained, averaged) weights and the averaged model's
    accuracy."""
    torch.manual_seed(0)
    model = nn.Linear(16, 4)
    with torch.no_grad():
        model.weight.mul_(20.0)  # an initialisation that classifies badly
    init = model.weight.detach().clone()
    ema = AveragedModel(model, multi_avg_fn=ema_avg_fn(0.995, warmup=warmup), use_buffers=True)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    x, y = _toy()
    for _ in range(steps):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema.update_parameters(model)
    acc = float((ema.module(x).argmax(1) == y).float().mean())
    return init, model.weight.detach(), ema.module.weight.detach(), acc


def test_the_warmed_up_ema_of_a_short_run_is_the_trained_model_not_the_initialisation():
    init, trained, averaged, acc = _short_run(warmup=True)
    share_of_init = float((averaged - trained).norm() / (init - trained).norm())
    assert share_of_init < 0.1, share_of_init
    raw = float((nn.functional.linear(_toy()[0], trained).argmax(1) == _toy()[1]).float().mean())
    assert acc >= raw - 0.05 and acc > 0.8


def test_without_warm_up_a_short_run_s_ema_is_still_mostly_its_initialisation():
    """What the warm-up fixes: 0.995 ** 150 = 0.47 of the average is still the random start."""
    init, trained, averaged, acc = _short_run(warmup=False)
    share_of_init = float((averaged - trained).norm() / (init - trained).norm())
    assert share_of_init > 0.3 and math.isclose(0.995**150, 0.47, abs_tol=0.01)
    assert acc < _short_run(warmup=True)[3]


def test_the_warm_up_decay_ramps_to_the_recipe_s():
    ema_p, cur = [torch.zeros(3)], [torch.ones(3)]
    update = ema_avg_fn(0.995, warmup=True)
    update(ema_p, cur, torch.tensor(1))  # n = 1: decay 2 / 11
    assert torch.allclose(ema_p[0], torch.full((3,), 1 - 2 / 11))
    ema_p = [torch.zeros(3)]
    update(ema_p, cur, torch.tensor(10_000))  # late: the recipe's 0.995
    assert torch.allclose(ema_p[0], torch.full((3,), 0.005))
