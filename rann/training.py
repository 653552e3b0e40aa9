"""Training one run: a model on one feature of one dataset, tested on one fold.

The run's folder (named by its config's fingerprint) holds:

- ``config.json``: the :class:`~rann.config.RunConfig`;
- ``log.csv``: one row per finished epoch (loss, learning rate, seconds, test accuracy when evaluated);
- ``checkpoint.pt``: model, EMA, optimiser, scheduler and the log after the last finished epoch;
- ``probs.npz``: the test fold's clip names, targets, folds and class probabilities (EMA model);
- ``metrics.json``: accuracy, mAP (macro), F1 (macro), wall time;
- ``.completed``: written last.

Every file is written to a temporary name and renamed. Each epoch's randomness comes from
``(seed, epoch)`` alone, so a run killed at any moment and started again resumes from its last
finished epoch and ends with the same numbers; a completed run is never trained again.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm.auto import tqdm

import features
from benchmarks.datasets import create_dataset
from benchmarks.paths import locked
from features import store
from fusion.report import write_atomic
from rann import augment
from rann._registry import create_model
from rann.config import RunConfig


@dataclass
class RunResult:
    """A finished run: its folder, metrics and whether it was reused rather than trained."""

    folder: Path
    metrics: dict
    reused: bool


def _write_json(path: Path, obj) -> None:
    write_atomic(path, json.dumps(obj, indent=1) + "\n")


def run_folder(cfg: RunConfig, runs_root: str | os.PathLike) -> Path:
    """``<runs_root>/<dataset>/<profile>/<feature>/fold<k>-seed<s>-<model>-<fingerprint>``."""
    return Path(runs_root) / cfg.dataset / cfg.profile / cfg.run_name()


def evaluate(probs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Accuracy, mAP (macro average precision) and macro F1, with scikit-learn."""
    from sklearn.metrics import accuracy_score, average_precision_score, f1_score

    pred = probs.argmax(axis=1)
    present = np.unique(targets)
    onehot = (targets[:, None] == present[None]).astype(int)
    return {
        "accuracy": float(accuracy_score(targets, pred)),
        "map": float(average_precision_score(onehot, probs[:, present], average="macro")),
        "f1": float(f1_score(targets, pred, average="macro")),
    }


class _Inputs:
    """The run's inputs: cached features (normalised per bin with training statistics) or, for a
    learned front-end, the waveforms."""

    def __init__(self, cfg: RunConfig, *, data_root, cache_dir, progress: bool):
        self.ds = create_dataset(cfg.dataset, data_root=data_root, sr=cfg.sr, cache_dir=cache_dir, progress=progress)
        self.feature = features.create(cfg.feature, **cfg.feature_params)
        folds = self.ds.folds
        self.test_idx = np.flatnonzero(folds == cfg.fold)
        self.train_idx = np.flatnonzero(folds != cfg.fold)
        rng = np.random.default_rng(cfg.seed)
        r = cfg.recipe
        if r.max_train_clips:
            self.train_idx = np.sort(rng.permutation(self.train_idx)[: r.max_train_clips])
        if r.max_test_clips:
            self.test_idx = np.sort(rng.permutation(self.test_idx)[: r.max_test_clips])
        self.on_the_fly = self.feature.trainable
        if self.on_the_fly:
            self.data = self.ds.waveforms()
            self.hop = 1  # crops and stretches act on samples
        else:
            self.data = store.extract(self.ds, self.feature, progress=progress).array
            self.hop = self.feature.config.hop_length
            train = np.asarray(self.data[np.sort(self.train_idx)], dtype=np.float64)
            self.mean = torch.from_numpy(train.mean(axis=(0, 3), keepdims=True)[0].astype(np.float32))
            self.std = torch.from_numpy(train.std(axis=(0, 3), keepdims=True)[0].astype(np.float32)).clamp_min(1e-5)
        self.targets = self.ds.targets
        self.n_classes = int(self.targets.max()) + 1

    def batch(self, idx: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.asarray(self.data[np.sort(idx)], dtype=np.float32))[np.argsort(np.argsort(idx))]
        return x if self.on_the_fly else (x - self.mean) / self.std


class _FrontEnd(nn.Module):
    """A learned feature followed by the classifier."""

    def __init__(self, feature: nn.Module, classifier: nn.Module):
        super().__init__()
        self.feature, self.classifier = feature, classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.feature(x))


def build_model(cfg: RunConfig, inputs: _Inputs) -> nn.Module:
    """The classifier (with the learned front-end in front of it when there is one)."""
    torch.manual_seed(cfg.seed)
    if inputs.on_the_fly:
        c, bins, _ = inputs.feature.output_shape(int(cfg.sr * 0.5))
        front = features.create(cfg.feature, **cfg.feature_params)
        return _FrontEnd(front, create_model(cfg.model, inputs.n_classes, in_chans=c, n_bins=bins, **cfg.model_kwargs))
    c, bins = inputs.data.shape[1:3]
    return create_model(cfg.model, inputs.n_classes, in_chans=c, n_bins=bins, **cfg.model_kwargs)


def _augment(cfg: RunConfig, inputs: _Inputs, x: torch.Tensor, y: torch.Tensor, rng: np.random.Generator):
    r = cfg.recipe
    if r.speed:
        x = augment.speed_stretch(x, float(rng.uniform(1 - r.speed, 1 + r.speed)))
    crop = int(round(r.crop_seconds * cfg.sr / inputs.hop))
    x = augment.random_crop(x, crop, rng)
    if inputs.on_the_fly:
        if r.noise_std:
            rms = x.pow(2).mean(dim=1, keepdim=True).sqrt()
            x = x + r.noise_std * 0.1 * rms * torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
    else:
        mode = augment.PITCH_AXIS.get(cfg.feature)
        if mode and r.pitch_bins:
            x = augment.pitch_shift(x, int(rng.integers(-r.pitch_bins, r.pitch_bins + 1)), mode)
        if r.noise_std:
            x = x + r.noise_std * torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
        x = augment.spec_augment(x, rng, freq_masks=r.freq_masks, freq_width=r.freq_mask_bins, time_masks=r.time_masks, time_width=r.time_mask_frames)
    return augment.mixup(x, y, inputs.n_classes, r.mixup_alpha, rng)


@torch.no_grad()
def predict(model: nn.Module, inputs: _Inputs, idx: np.ndarray, batch_size: int = 32, device: str | torch.device = "cpu") -> np.ndarray:
    """Class probabilities ``(len(idx), n_classes)`` on whole clips."""
    model.eval()
    out = [torch.softmax(model(inputs.batch(idx[b : b + batch_size]).to(device)), dim=1).cpu() for b in range(0, len(idx), batch_size)]
    return torch.cat(out).numpy()


def _log_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["epoch", "loss", "lr", "seconds", "test_accuracy"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def train_run(cfg: RunConfig, *, runs_root: str | os.PathLike = "results/runs", data_root=None, cache_dir=None, device: str = "cpu", progress: bool = True, wait: bool = False) -> RunResult:
    """Train (or resume, or reuse) the run ``cfg`` on ``device``; returns its test-fold metrics.

    When another process is training the same run, raise :class:`RunLockedError`, or with ``wait``
    wait for it and reuse its result (or resume, if it stopped unfinished).
    Determinism (same numbers after a resume) holds on the CPU; CUDA kernels may differ run to run."""
    features.get_feature_class(cfg.feature)  # unknown names fail before anything is written
    create_model(cfg.model, 2)
    folder = run_folder(cfg, runs_root)
    done = _completed(folder)  # without taking the lock
    if done is not None:
        return done
    with _exclusive(folder, wait=wait):
        return _train_locked(cfg, folder, data_root=data_root, cache_dir=cache_dir, device=device, progress=progress)


class RunLockedError(RuntimeError):
    """Another process is training this run right now."""


@contextlib.contextmanager
def _exclusive(folder: Path, wait: bool):
    """Hold an exclusive lock on the run folder (released when the process dies, even by kill -9)."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(locked(folder, wait=wait))
        except BlockingIOError:
            raise RunLockedError(f"{folder}: another process is training this run; wait for it or stop it") from None
        yield


def _completed(folder: Path) -> RunResult | None:
    """The run in ``folder`` if it is completed, else ``None``."""
    if (folder / ".completed").is_file():
        return RunResult(folder, json.loads((folder / "metrics.json").read_text()), reused=True)
    return None


def _train_locked(cfg: RunConfig, folder: Path, *, data_root, cache_dir, device: str, progress: bool) -> RunResult:
    done = _completed(folder)  # finished by another process while we waited for the lock
    if done is not None:
        return done
    if (folder / "config.json").is_file():
        if json.loads((folder / "config.json").read_text()) != cfg.to_dict():
            raise RuntimeError(f"{folder / 'config.json'}: holds another config than this run's; remove the folder")
    else:
        _write_json(folder / "config.json", cfg.to_dict())
    t_start = time.perf_counter()
    inputs = _Inputs(cfg, data_root=data_root, cache_dir=cache_dir, progress=progress)
    r = cfg.recipe
    model = build_model(cfg, inputs).to(device)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(r.ema_decay), use_buffers=True)
    steps = steps_per_epoch(len(inputs.train_idx), r.batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=r.lr, weight_decay=r.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=r.lr, total_steps=r.epochs * steps, pct_start=r.pct_start)
    log: list[dict] = []
    start = 0
    ckpt_path = folder / "checkpoint.pt"
    if ckpt_path.is_file():
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(ckpt["model"])
        ema.load_state_dict(ckpt["ema"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        log, start = ckpt["log"], ckpt["epoch"] + 1
    bar = tqdm(total=r.epochs, initial=start, desc=f"{cfg.feature} fold {cfg.fold}", unit="epoch", disable=not progress)
    for epoch in range(start, r.epochs):
        t0 = time.perf_counter()
        rng = np.random.default_rng([cfg.seed, epoch])
        order = rng.permutation(inputs.train_idx)
        model.train()
        losses = []
        for s in range(steps):
            idx = order[s * r.batch_size : (s + 1) * r.batch_size]
            x, soft = _augment(cfg, inputs, inputs.batch(idx), torch.from_numpy(inputs.targets[idx]), rng)
            loss = -(soft.to(device) * F.log_softmax(model(x.to(device)), dim=1)).sum(dim=1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            ema.update_parameters(model)
            losses.append(loss.item())
        row = {"epoch": epoch + 1, "loss": round(float(np.mean(losses)), 5), "lr": f"{sched.get_last_lr()[0]:.3g}", "seconds": round(time.perf_counter() - t0, 2), "test_accuracy": ""}
        if (epoch + 1) % r.eval_every == 0 or epoch + 1 == r.epochs:
            row["test_accuracy"] = round(evaluate(predict(ema.module, inputs, inputs.test_idx, device=device), inputs.targets[inputs.test_idx])["accuracy"], 4)
        log.append(row)
        buf = io.BytesIO()
        torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "epoch": epoch, "log": log}, buf)
        write_atomic(ckpt_path, buf.getvalue())
        write_atomic(folder / "log.csv", _log_csv(log))
        bar.set_postfix(loss=row["loss"], test_acc=row["test_accuracy"] or "-")
        bar.update(1)
    bar.close()
    probs = predict(ema.module, inputs, inputs.test_idx, device=device)
    targets = inputs.targets[inputs.test_idx]
    metrics = evaluate(probs, targets)
    metrics.update(
        epochs=r.epochs,
        train_clips=int(len(inputs.train_idx)),
        test_clips=int(len(inputs.test_idx)),
        seconds_per_epoch=round(float(np.mean([row["seconds"] for row in log])), 2) if log else None,
        wall_seconds_this_session=round(time.perf_counter() - t_start, 1),
        parameters=int(sum(p.numel() for p in model.parameters())),
    )
    buf = io.BytesIO()
    names = np.asarray([inputs.ds.filenames[i] for i in inputs.test_idx])
    np.savez_compressed(buf, names=names, targets=targets, folds=inputs.ds.folds[inputs.test_idx], probs=probs.astype(np.float32))
    write_atomic(folder / "probs.npz", buf.getvalue())
    torch.save(ema.module.state_dict(), buf := io.BytesIO())
    write_atomic(folder / "ema.pt", buf.getvalue())
    _write_json(folder / "metrics.json", metrics)
    write_atomic(folder / ".completed", b"")
    return RunResult(folder, metrics, reused=False)


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Optimiser steps per epoch (the last partial batch is dropped)."""
    return max(1, math.floor(n_train / batch_size))
