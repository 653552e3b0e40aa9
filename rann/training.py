"""Training one run: a model on one feature of one dataset, tested on one fold.

The run's folder (named by its config's fingerprint) holds:

- ``config.json``: the :class:`~rann.config.RunConfig`;
- ``log.csv``: one row per finished epoch (loss, learning rate, seconds of training, test accuracy and
  seconds of evaluating when evaluated);
- ``checkpoint.pt``: model, EMA, optimiser, scheduler and the log after the last finished epoch
  (removed when the run completes: only a resume needs it);
- ``probs.npz``: the test fold's clip names, targets, folds and class probabilities (EMA model);
- ``metrics.json``: accuracy, mAP (macro), F1 (macro), wall time;
- ``.completed``: written last.

Every file is written to a temporary name and renamed. Each epoch's randomness comes from
``(seed, epoch)`` alone, so a run killed at any moment and started again resumes from its last
finished epoch and ends with the same numbers; a completed run is never trained again.
"""

from __future__ import annotations

import csv
import io
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
from benchmarks.core.errors import CorruptRunError, ParameterError, RunLockedError
from benchmarks.core.io import write_atomic, write_json
from benchmarks.core.locks import locked
from benchmarks.core.metrics import score
from features import store
from rann import augment, build
from rann._registry import create_model
from rann.build import FrontEnd
from rann.config import RunConfig, steps_per_epoch
from rann.precision import PRECISIONS, autocast, cpu_info
from rann.runs import is_completed, read_config, read_metrics, run_folder

__all__ = [
    "FrontEnd",
    "RunInputs",
    "RunLockedError",
    "RunResult",
    "TrainingState",
    "build_model",
    "predict",
    "run_folder",
    "set_up",
    "train_epoch",
    "train_run",
]


@dataclass
class RunResult:
    """A finished run: its folder, metrics and whether it was reused rather than trained."""

    folder: Path
    metrics: dict
    reused: bool


#: Seconds of training between two checkpoints: a run of many short epochs (a small dataset) would
#: otherwise spend more time writing its 4x-the-weights checkpoint than training
CHECKPOINT_SECONDS = 20.0


#: A completed run's per-bin normalisation statistics (``mean``, ``std``: ``(channels, bins, 1)``)
NORMALISATION_FILE = "normalisation.npz"


def evaluate(probs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Accuracy, mAP (macro average precision) and macro F1 (:mod:`benchmarks.core.metrics`)."""
    return score(probs, targets)


class RunInputs:
    """A run's inputs from ``dataset`` (a :class:`~benchmarks.datasets.ClipDataset` at the run's
    rate): cached features normalised per bin with the training folds' statistics or, for a
    learned front-end, the waveforms.

    Raises:
        ParameterError: the dataset's rate or the feature's rate is not the run's ``cfg.sr``.
    """

    def __init__(self, cfg: RunConfig, dataset, *, progress: bool):
        if dataset.sr != cfg.sr:
            raise ParameterError(
                f"run {cfg.run_name()}: the dataset {dataset.name!r} is served at {dataset.sr} Hz, the run expects "
                f"{cfg.sr} Hz"
            )
        self.ds = dataset
        self.feature = features.create(cfg.feature, **cfg.feature_params)
        self.feature.check_rate(dataset.sr, f"dataset {dataset.name!r}")
        folds = self.ds.folds
        self.test_idx = np.flatnonzero(folds == cfg.fold)
        self.train_idx = np.flatnonzero(folds != cfg.fold)
        rng = np.random.default_rng(cfg.seed)
        r = cfg.recipe
        if r.max_train_clips:
            self.train_idx = np.sort(rng.permutation(self.train_idx)[: r.max_train_clips])
        if r.max_test_clips:
            self.test_idx = np.sort(rng.permutation(self.test_idx)[: r.max_test_clips])
        self.on_the_fly = not self.feature.cacheable()
        if self.on_the_fly:
            self.data = self.ds.waveforms()
            self.hop = 1  # crops and stretches act on samples
        else:
            self.data = store.extract(self.ds, self.feature, progress=progress).array
            self.hop = self.feature.config.hop_length
            self.mean, self.std = normalisation_stats(self.data, self.train_idx)
        self.normalize = cfg.recipe.normalize
        self.targets = self.ds.targets
        self.n_classes = int(self.targets.max()) + 1
        check_recipe(cfg, self.feature)

    def batch(self, idx: np.ndarray) -> torch.Tensor:
        """The clips ``idx``: waveforms ``(batch, samples)`` or normalised features
        ``(batch, channels, bins, frames)``."""
        x = torch.from_numpy(np.asarray(self.data[np.sort(idx)], dtype=np.float32))[np.argsort(np.argsort(idx))]
        if self.on_the_fly:
            return x
        if self.normalize == "clip":
            return (x - x.mean(dim=-1, keepdim=True)) / x.std(dim=-1, keepdim=True).clamp_min(1e-5)
        return (x - self.mean) / self.std


def normalisation_stats(data: np.ndarray, train_idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-bin mean and std ``(channels, bins, 1)`` over the clips ``train_idx`` and all frames of
    ``data`` ``(clips, channels, bins, frames)``: training folds only, never the test fold."""
    train = np.asarray(data[np.sort(train_idx)], dtype=np.float64)
    mean = torch.from_numpy(train.mean(axis=(0, 3), keepdims=True)[0].astype(np.float32))
    std = torch.from_numpy(train.std(axis=(0, 3), keepdims=True)[0].astype(np.float32)).clamp_min(1e-5)
    return mean, std


def build_model(cfg: RunConfig, inputs: RunInputs) -> nn.Module:
    """The run's model for ``inputs`` (:func:`rann.build.build_model`): the classifier for the cached
    features' channels and bins, or behind the learned front-end."""
    shape = {} if inputs.on_the_fly else dict(zip(("in_chans", "n_bins"), inputs.data.shape[1:3]))
    return build.build_model(cfg, inputs.n_classes, **shape)


def ema_avg_fn(decay: float, *, warmup: bool = False):
    """The EMA update for :class:`~torch.optim.swa_utils.AveragedModel`: a fixed ``decay``, or with
    ``warmup`` ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates (TensorFlow's
    ``ExponentialMovingAverage(num_updates=...)``), so that the average forgets the initialisation
    within the first tens of steps instead of ``1 / (1 - decay)`` of them."""
    if not warmup:
        return get_ema_multi_avg_fn(decay)

    @torch.no_grad()
    def update(ema_params: list, params: list, n_averaged) -> None:
        n = int(n_averaged)
        get_ema_multi_avg_fn(min(decay, (1 + n) / (10 + n)))(ema_params, params, n_averaged)

    return update


def mixes(cfg: RunConfig) -> bool:
    """Whether the run's recipe mixes clips or adds background noise (:func:`mix_batch`)."""
    return cfg.recipe.mix_clips > 1 or cfg.recipe.mix_noise_snr_db is not None


def check_recipe(cfg: RunConfig, feature: features.Feature) -> None:
    """Refuse a recipe (clip mixing, label smoothing) that cannot run as asked (raises :class:`ParameterError`)."""
    r = cfg.recipe
    if r.mix_clips < 1:
        raise ParameterError(f"run {cfg.run_name()}: mix_clips must be >= 1 (1 = off), got {r.mix_clips}")
    if r.precision not in PRECISIONS:
        raise ParameterError(
            f"run {cfg.run_name()}: precision must be one of {', '.join(PRECISIONS)}, got {r.precision!r}"
        )
    if r.normalize not in ("bin", "clip"):
        raise ParameterError(f"run {cfg.run_name()}: normalize must be 'bin' or 'clip', got {r.normalize!r}")
    if r.normalize == "clip" and mixes(cfg):
        raise ParameterError(f"run {cfg.run_name()}: clip mixing needs the per-bin statistics (normalize='bin')")
    if not 0.0 <= r.label_smoothing < 1.0:
        raise ParameterError(f"run {cfg.run_name()}: label_smoothing must be in [0, 1), got {r.label_smoothing}")
    if not mixes(cfg):
        return
    if r.mixup_alpha > 0:
        raise ParameterError(
            f"run {cfg.run_name()}: clip mixing and mixup are alternatives; set mixup_alpha=0 to mix clips"
        )
    if feature.cacheable() and feature.unit != "dB":
        raise ParameterError(
            f"run {cfg.run_name()}: clips mix in the power domain of a dB spectrogram or in the waveform; "
            f"{cfg.feature!r} is in {feature.unit!r}"
        )


def mix_batch(
    cfg: RunConfig, inputs: RunInputs, x: torch.Tensor, y: torch.Tensor, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Clip mixing (:func:`rann.augment.mix_clips`) of a batch ``x`` (waveforms, or normalised dB
    features) with labels ``y``: each clip's candidates are drawn from the training folds
    (``inputs.train_idx``) only. Returns the mixtures, in ``x``'s domain, and multi-hot targets."""
    r = cfg.recipe
    b, k = len(y), r.mix_clips - 1
    partner_idx = rng.choice(inputs.train_idx, size=(b, k))
    others = inputs.batch(partner_idx.ravel()).view(b, k, *x.shape[1:]) if k else x.new_zeros((b, 0, *x.shape[1:]))
    target = F.one_hot(y, inputs.n_classes).float()
    others_target = F.one_hot(torch.from_numpy(inputs.targets[partner_idx]).long(), inputs.n_classes).float()
    if inputs.on_the_fly:
        return augment.mix_clips(x, target, others, others_target, rng, domain="waveform", snr_db=r.mix_noise_snr_db)

    def to_power(z: torch.Tensor) -> torch.Tensor:  # normalised dB -> power
        return 10 ** ((z * inputs.std + inputs.mean) / 10)

    mixed, target = augment.mix_clips(
        to_power(x), target, to_power(others), others_target, rng, domain="power", snr_db=r.mix_noise_snr_db
    )
    return (10 * torch.log10(mixed.clamp_min(1e-10)) - inputs.mean) / inputs.std, target


def augment_batch(
    cfg: RunConfig, inputs: RunInputs, x: torch.Tensor, y: torch.Tensor, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """The recipe's training augmentation of one batch ``x`` with labels ``y``: inputs and soft
    (or, with clip mixing, multi-hot) targets ``(batch, n_classes)``. Waveforms (learned
    front-end) or normalised features."""
    r = cfg.recipe
    mixed_target = None
    if mixes(cfg):
        x, mixed_target = mix_batch(cfg, inputs, x, y, rng)
    if r.speed:
        x = augment.speed_stretch(x, float(rng.uniform(1 - r.speed, 1 + r.speed)))
    x = augment.random_crop(x, crop_length(cfg, inputs), rng)
    if inputs.on_the_fly:
        if r.noise_std:
            rms = x.pow(2).mean(dim=1, keepdim=True).sqrt()
            x = x + r.noise_std * 0.1 * rms * torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
    else:
        mode = inputs.feature.pitch_axis
        if mode and r.pitch_bins:
            x = augment.pitch_shift(x, int(rng.integers(-r.pitch_bins, r.pitch_bins + 1)), mode)
        if r.noise_std:
            x = x + r.noise_std * torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
        x = augment.spec_augment(
            x,
            rng,
            freq_masks=r.freq_masks,
            freq_width=r.freq_mask_bins,
            time_masks=r.time_masks,
            time_width=r.time_mask_frames,
        )
    if mixed_target is not None:
        return x, mixed_target
    return augment.mixup(x, y, inputs.n_classes, r.mixup_alpha, rng)


def loss_fn(cfg: RunConfig, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy against soft targets; binary cross-entropy per class when clips are mixed
    (``mix_clips`` > 1: multi-hot targets). ``label_smoothing`` moves the target towards uniform."""
    if cfg.recipe.label_smoothing:
        target = (1.0 - cfg.recipe.label_smoothing) * target + cfg.recipe.label_smoothing / target.shape[1]
    if cfg.recipe.mix_clips > 1:
        return F.binary_cross_entropy_with_logits(logits, target)
    return -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def crop_length(cfg: RunConfig, inputs: RunInputs) -> int:
    """The recipe's training crop t_c in the inputs' steps: frames of the cached feature, or samples."""
    return int(round(cfg.recipe.crop_seconds * cfg.sr / inputs.hop))


@torch.no_grad()
def predict(
    model: nn.Module,
    inputs: RunInputs,
    idx: np.ndarray,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
    *,
    crops: int = 1,
    length: int | None = None,
) -> np.ndarray:
    """Class probabilities ``(len(idx), n_classes)``, the forward pass in ``precision``: of whole
    clips, or with ``crops`` > 1 the mean of ``crops`` windows of ``length`` steps evenly spaced
    over each clip (:func:`rann.augment.even_crops`; ``length`` e.g. :func:`crop_length`)."""
    if crops > 1 and not length:
        raise ParameterError(f"predict: {crops} crops need a crop length (got {length!r})")
    model.eval()
    out = []
    for b in range(0, len(idx), batch_size):
        x = inputs.batch(idx[b : b + batch_size]).to(device)
        windows = [x] if crops == 1 else augment.even_crops(x, length, crops)
        probs = 0
        for w in windows:
            with autocast(precision, device):
                logits = model(w)
            probs = probs + torch.softmax(logits.float(), dim=1).cpu()
        out.append(probs / len(windows))
    return torch.cat(out).numpy()


def _log_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(
        buf, fieldnames=["epoch", "loss", "lr", "seconds", "test_accuracy", "eval_seconds"], lineterminator="\n"
    )
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode()


def train_run(
    cfg: RunConfig,
    dataset,
    *,
    runs_root: str | os.PathLike = "results/runs",
    device: str = "cpu",
    progress: bool = True,
    wait: bool = False,
    checkpoint_seconds: float = CHECKPOINT_SECONDS,
) -> RunResult:
    """Train (or resume, or reuse) the run ``cfg`` on ``dataset`` (served at ``cfg.sr``) on ``device``;
    returns its test-fold metrics.

    When another process is training the same run, raise :class:`RunLockedError`, or with ``wait``
    wait for it and reuse its result (or resume, if it stopped unfinished). The checkpoint is
    written after an epoch once ``checkpoint_seconds`` have passed since the last one (and after the
    last epoch); ``log.csv`` after every epoch.
    Determinism (same numbers after a resume) holds on the CPU; CUDA kernels may differ run to run."""
    if getattr(dataset, "protocol", None) != cfg.protocol:
        raise ParameterError(
            f"run {cfg.run_name()}: its folds are protocol {cfg.protocol!r}, the dataset's are "
            f"{getattr(dataset, 'protocol', None)!r}; create the dataset with protocol={cfg.protocol!r}"
        )
    if getattr(dataset, "data_key", None) != cfg.data:
        raise ParameterError(
            f"run {cfg.run_name()}: it is keyed to the data {cfg.data!r}, the dataset is "
            f"{getattr(dataset, 'data_key', None)!r} (other clips, labels, folds or length)"
        )
    features.create(cfg.feature, **cfg.feature_params)  # unknown names and bad settings fail before anything is written
    create_model(cfg.model, 2)
    folder = run_folder(cfg, runs_root)
    done = _completed(folder)  # without taking the lock
    if done is not None:
        return done
    with locked(folder, wait=wait):
        return _train_locked(cfg, dataset, folder, device=device, progress=progress, every=checkpoint_seconds)


def _completed(folder: Path) -> RunResult | None:
    """The run in ``folder`` if it is completed (its metrics checked), else ``None``."""
    return RunResult(folder, read_metrics(folder), reused=True) if is_completed(folder) else None


@dataclass
class TrainingState:
    """The state of a run being trained: inputs, model, EMA copy, optimiser, schedule, log."""

    inputs: RunInputs
    model: nn.Module
    ema: AveragedModel
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler
    steps: int
    log: list[dict]
    start: int  # first epoch still to train


def _claim(cfg: RunConfig, folder: Path) -> None:
    """Write the run's config, or check that a partial run's folder holds this config."""
    if (folder / "config.json").is_file():
        if read_config(folder) != cfg:
            raise CorruptRunError(
                f"{folder / 'config.json'}: holds another config than this run's; remove the folder {folder} to train "
                "this run"
            )
    else:
        write_json(folder / "config.json", cfg.to_dict())


def set_up(cfg: RunConfig, dataset, folder: Path, device: str, progress: bool) -> TrainingState:
    """Inputs, model, EMA, optimiser and schedule, restored from the checkpoint when there is one."""
    inputs = RunInputs(cfg, dataset, progress=progress)
    r = cfg.recipe
    model = build_model(cfg, inputs).to(device)
    if r.channels_last:
        model = model.to(memory_format=torch.channels_last)
    ema = AveragedModel(model, multi_avg_fn=ema_avg_fn(r.ema_decay, warmup=r.ema_warmup), use_buffers=True)
    steps = steps_per_epoch(len(inputs.train_idx), r.batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=r.lr, weight_decay=r.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=r.lr, total_steps=r.epochs * steps, pct_start=r.pct_start)
    t = TrainingState(inputs, model, ema, opt, sched, steps, log=[], start=0)
    ckpt_path = folder / "checkpoint.pt"
    if ckpt_path.is_file():
        ckpt = torch.load(ckpt_path, map_location=device, weights_only=False)
        model.load_state_dict(ckpt["model"])
        ema.load_state_dict(ckpt["ema"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        t.log, t.start = ckpt["log"], ckpt["epoch"] + 1
    return t


def train_epoch(cfg: RunConfig, t: TrainingState, epoch: int, device: str) -> dict:
    """One epoch (its randomness from ``(seed, epoch)`` alone); returns its ``log.csv`` row."""
    t0 = time.perf_counter()
    r, inputs = cfg.recipe, t.inputs
    rng = np.random.default_rng([cfg.seed, epoch])
    order = rng.permutation(inputs.train_idx)
    t.model.train()
    losses = []
    for s in range(t.steps):
        idx = order[s * r.batch_size : (s + 1) * r.batch_size]
        x, soft = augment_batch(cfg, inputs, inputs.batch(idx), torch.from_numpy(inputs.targets[idx]), rng)
        x = x.to(device, memory_format=torch.channels_last) if r.channels_last and x.ndim == 4 else x.to(device)
        with autocast(r.precision, device):  # fp32: nothing; bf16: the forward pass only
            logits = t.model(x)
        loss = loss_fn(cfg, logits.float(), soft.to(device))
        t.opt.zero_grad(set_to_none=True)
        loss.backward()
        t.opt.step()
        t.sched.step()
        t.ema.update_parameters(t.model)
        losses.append(loss.item())
    row = {
        "epoch": epoch + 1,
        "loss": round(float(np.mean(losses)), 5),
        "lr": f"{t.sched.get_last_lr()[0]:.3g}",
        "seconds": round(time.perf_counter() - t0, 2),
        "test_accuracy": "",
        "eval_seconds": "",
    }
    if (epoch + 1) % r.eval_every == 0 or epoch + 1 == r.epochs:
        t1 = time.perf_counter()
        row["test_accuracy"] = round(
            evaluate(
                predict(t.ema.module, inputs, inputs.test_idx, device=device, precision=r.precision),
                inputs.targets[inputs.test_idx],
            )["accuracy"],
            4,
        )
        row["eval_seconds"] = round(time.perf_counter() - t1, 2)
    return row


def _save_checkpoint(t: TrainingState, folder: Path, epoch: int) -> None:
    buf = io.BytesIO()
    torch.save(
        {
            "model": t.model.state_dict(),
            "ema": t.ema.state_dict(),
            "optimizer": t.opt.state_dict(),
            "scheduler": t.sched.state_dict(),
            "epoch": epoch,
            "log": t.log,
        },
        buf,
    )
    write_atomic(folder / "checkpoint.pt", buf.getvalue())


def _finish(cfg: RunConfig, t: TrainingState, folder: Path, device: str, t_start: float) -> RunResult:
    """Test-fold predictions of the EMA model, metrics, and the artifacts; ``.completed`` last."""
    inputs = t.inputs
    probs = predict(t.ema.module, inputs, inputs.test_idx, device=device, precision=cfg.recipe.precision)
    targets = inputs.targets[inputs.test_idx]
    metrics = evaluate(probs, targets)
    metrics.update(
        epochs=cfg.recipe.epochs,
        train_clips=int(len(inputs.train_idx)),
        test_clips=int(len(inputs.test_idx)),
        seconds_per_epoch=round(float(np.mean([row["seconds"] for row in t.log])), 2) if t.log else None,
        wall_seconds_this_session=round(time.perf_counter() - t_start, 1),
        parameters=int(sum(p.numel() for p in t.model.parameters())),
        threads=torch.get_num_threads() if device == "cpu" else None,
        cpu=cpu_info().model,
        cpu_bf16=cpu_info().bf16,  # "amx", "avx512_bf16" or "none": how this CPU multiplies bf16
    )
    buf = io.BytesIO()
    names = np.asarray([inputs.ds.filenames[i] for i in inputs.test_idx])
    np.savez_compressed(
        buf, names=names, targets=targets, folds=inputs.ds.folds[inputs.test_idx], probs=probs.astype(np.float32)
    )
    write_atomic(folder / "probs.npz", buf.getvalue())
    torch.save(t.ema.module.state_dict(), buf := io.BytesIO())
    write_atomic(folder / "ema.pt", buf.getvalue())
    if not inputs.on_the_fly:  # the training folds' statistics: what new audio is normalised with
        np.savez(buf := io.BytesIO(), mean=inputs.mean.numpy(), std=inputs.std.numpy())
        write_atomic(folder / NORMALISATION_FILE, buf.getvalue())
    write_json(folder / "metrics.json", metrics)
    write_atomic(folder / ".completed", b"")
    # the optimiser and schedule state only served a resume: 4x the weights, dropped once completed
    (folder / "checkpoint.pt").unlink(missing_ok=True)
    return RunResult(folder, metrics, reused=False)


def _train_locked(cfg: RunConfig, dataset, folder: Path, *, device: str, progress: bool, every: float) -> RunResult:
    done = _completed(folder)  # finished by another process while we waited for the lock
    if done is not None:
        return done
    _claim(cfg, folder)
    t_start = time.perf_counter()
    t = set_up(cfg, dataset, folder, device, progress)
    bar = tqdm(
        total=cfg.recipe.epochs,
        initial=t.start,
        desc=f"{cfg.feature} fold {cfg.fold}",
        unit="epoch",
        disable=not progress,
    )
    saved = time.perf_counter()
    for epoch in range(t.start, cfg.recipe.epochs):
        row = train_epoch(cfg, t, epoch, device)
        t.log.append(row)
        if time.perf_counter() - saved >= every or epoch + 1 == cfg.recipe.epochs:
            _save_checkpoint(t, folder, epoch)
            saved = time.perf_counter()
        write_atomic(folder / "log.csv", _log_csv(t.log))
        bar.set_postfix(loss=row["loss"], test_acc=row["test_accuracy"] or "-")
        bar.update(1)
    bar.close()
    return _finish(cfg, t, folder, device, t_start)
