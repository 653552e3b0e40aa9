"""A report's trained ensemble, applied to new audio: ``Ensemble.load(folder).predict(waveform, sr)``.

A report folder (``run.json``, written by a benchmark) names its runs: one model per (feature,
fold, seed). For each feature, the fold models (and seeds) are **averaged**: each was trained on
all folds but one, so together they are a cross-validation ensemble that saw every clip, at no
extra training (retraining one model on all the data would cost another run per feature, and
leave it without a held-out check). The features' averaged probabilities are fused with one of
the report's methods, fitted, where it learns (weights, a stacker), on the report's own held-out
predictions: every clip's probabilities from the fold model that never saw it.

New audio is served as the runs' was: mono, resampled to their rate, and cut into windows of
the training clip length (``duration`` s). A shorter file is padded as the dataset pads
(``align``); a longer one is read in windows of that length with half a window's hop (the last
window ends at the file's end), and each feature's window probabilities are averaged before fusion.

The ensemble composes ``features``, ``rann`` and ``fusion``, so it lives above them, beside the CLIs.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr
import torch
from torch import nn

import features
import fusion
from benchmarks.core.errors import DataError, ParameterError, RannBenchError
from benchmarks.datasets.audio import fit_length, read_audio
from benchmarks.runner import load_predictions, open_dataset, plan, recorded_args
from rann.build import build_model, load_weights
from rann.config import RunConfig
from rann.precision import autocast
from rann.runs import is_completed, run_folder
from rann.training import NORMALISATION_FILE, RunInputs


class MissingWeightsError(RannBenchError):
    """A report's runs whose weights are not on this machine (committed runs carry none)."""


@dataclass
class Member:
    """One run's model: ``feature`` computes its input (``None``: the model starts from the
    waveform), ``mean``/``std`` ``(channels, bins, 1)`` normalise it (``None``: per clip)."""

    cfg: RunConfig
    model: nn.Module
    feature: features.Feature | None
    mean: torch.Tensor | None
    std: torch.Tensor | None

    @torch.no_grad()
    def probs(self, windows: torch.Tensor, computed: dict | None = None) -> np.ndarray:
        """``(n_windows, samples)`` -> class probabilities ``(n_windows, n_classes)``; ``computed``
        keeps features by fingerprint, so that the fold models of one feature compute it once."""
        x = windows
        if self.feature is not None:
            computed = {} if computed is None else computed
            key = self.feature.fingerprint
            x = computed[key] = computed[key] if key in computed else self.feature(windows)
            if self.mean is None:
                x = (x - x.mean(dim=-1, keepdim=True)) / x.std(dim=-1, keepdim=True).clamp_min(1e-5)
            else:
                x = (x - self.mean) / self.std
        with autocast(self.cfg.recipe.precision):  # the precision the run was trained and tested in
            logits = self.model(x)
        return torch.softmax(logits.float(), dim=1).numpy()


class Ensemble:
    """Per-feature fold models and a fusion method; ``classes`` are the report's, ``sr`` (Hz),
    ``duration`` (s) and ``align`` how its clips were served."""

    def __init__(
        self,
        members: dict[str, list[Member]],
        method: fusion.FusionMethod | None,
        classes: list[str],
        *,
        sr: int,
        duration: float,
        align: str,
        method_name: str | None = None,
    ):
        self.members, self.method, self.classes = members, method, list(classes)
        self.sr, self.duration, self.align, self.method_name = int(sr), float(duration), align, method_name

    @classmethod
    def load(
        cls,
        folder: str | Path,
        *,
        method: str | None = None,
        runs_dir: str | Path | None = None,
        data_root: str | Path | None = None,
    ) -> "Ensemble":
        """The ensemble of the report in ``folder``, fused with ``method`` (default: the report's
        first; several features only). ``runs_dir`` / ``data_root``: where its runs and (for a report
        written before run.json recorded the data) its dataset are, if not where it says.

        Raises:
            RannBenchError: no report there; runs not completed or without weights here (naming
                them and the command that trains them); runs of different rates; an unknown method.
        """
        folder = Path(folder)
        try:
            info = json.loads((folder / "run.json").read_text())
        except (OSError, ValueError):
            raise RannBenchError(
                f"{folder}: no readable run.json, so no runs to load; point to a report folder a benchmark wrote "
                "(e.g. out/esc50/quick)"
            ) from None
        args = recorded_args(info)
        args.runs_dir = str(runs_dir or args.runs_dir)
        args.data_root = data_root or args.data_root
        runs = [c for c, _ in plan(args)]
        _check_weights(runs, args.runs_dir, info["command"])
        # the dataset is opened only for reports and runs that predate what run.json and a run now record
        open_data = functools.cache(lambda: open_dataset(args, progress=False))
        data = info.get("data") or _data_from_dataset(open_data)
        rates = {c.sr for c in runs}
        if rates != {data["sr"]}:
            raise ParameterError(
                f"{folder}: its runs are models of {', '.join(f'{r} Hz' for r in sorted(rates))}, its clips were "
                f"served at {data['sr']} Hz; a report mixes models of one rate only"
            )
        n_samples = int(round(data["sr"] * data["duration"]))
        members: dict[str, list[Member]] = {}
        for cfg in runs:
            members.setdefault(cfg.feature, []).append(
                _member(cfg, run_folder(cfg, args.runs_dir), len(data["classes"]), n_samples, open_data)
            )
        name = method or (args.methods[0] if len(members) > 1 else None)
        fitted = _fit_method(name, runs, args) if name else None
        return cls(
            members,
            fitted,
            data["classes"],
            sr=data["sr"],
            duration=data["duration"],
            align=data["align"],
            method_name=name,
        )

    def windows(self, waveform: np.ndarray) -> torch.Tensor:
        """``(samples,)`` at :attr:`sr` -> ``(n_windows, round(sr * duration))`` float32."""
        n = int(round(self.sr * self.duration))
        if len(waveform) <= n:
            return torch.from_numpy(fit_length(waveform, n, self.align))[None]
        hop = max(1, n // 2)
        starts = list(range(0, len(waveform) - n + 1, hop))
        if starts[-1] != len(waveform) - n:
            starts.append(len(waveform) - n)
        return torch.from_numpy(np.stack([waveform[s : s + n] for s in starts]).astype(np.float32))

    def predict_features(self, waveform: np.ndarray, sr: int) -> dict[str, np.ndarray]:
        """Each feature's class probabilities ``(n_classes,)`` for ``waveform`` ``(samples,)`` or
        ``(channels, samples)`` at ``sr`` Hz: its models and windows averaged."""
        x = np.asarray(waveform, dtype=np.float32)
        if x.ndim == 2:
            x = x.mean(axis=0)
        if x.ndim != 1 or not len(x):
            raise ParameterError(f"expected a waveform (samples,) or (channels, samples), got shape {x.shape}")
        if not np.isfinite(x).all():
            raise ParameterError("the waveform holds NaN or inf samples")
        if int(sr) != self.sr:
            x = soxr.resample(x, int(sr), self.sr, quality="HQ").astype(np.float32)
        windows, computed = self.windows(x), {}
        return {
            f: np.mean([m.probs(windows, computed).mean(axis=0) for m in ms], axis=0) for f, ms in self.members.items()
        }

    def predict(self, waveform: np.ndarray, sr: int) -> np.ndarray:
        """Fused class probabilities ``(n_classes,)`` (in :attr:`classes` order) for one waveform."""
        per_feature = self.predict_features(waveform, sr)
        if self.method is None:
            return next(iter(per_feature.values()))
        return self.method.combine({f: p[None] for f, p in per_feature.items()})[0]

    def predict_file(self, path: str | Path) -> np.ndarray:
        """:meth:`predict` on an audio file (any format the data layer decodes).

        Raises:
            DataError: the file is missing or does not decode (naming it)."""
        waveform, _ = read_audio(path, sr=self.sr)
        return self.predict(waveform, self.sr)

    def top(self, probs: np.ndarray, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` most probable ``(class, probability)`` pairs of ``probs`` ``(n_classes,)``."""
        order = np.argsort(-probs, kind="stable")[:k]
        return [(self.classes[i], float(probs[i])) for i in order]


def _check_weights(runs: list[RunConfig], runs_dir, command: str) -> None:
    missing = [run_folder(c, runs_dir) for c in runs]
    missing = [f for f in missing if not (is_completed(f) and (f / "ema.pt").is_file())]
    if missing:
        shown = "; ".join(str(f) for f in missing[:3]) + (f"; and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise MissingWeightsError(
            f"{len(missing)} of the report's {len(runs)} runs have no weights on this machine (committed runs carry "
            f"no checkpoints): {shown}. Train them with the report's command: {command}"
        )


def _data_from_dataset(open_data) -> dict:
    """How the clips were served, from the dataset (reports written before run.json recorded it)."""
    try:
        ds = open_data()
    except DataError as exc:
        raise RannBenchError(
            f"its run.json does not record the classes, and the dataset is not here to read them: {exc}"
        ) from None
    return {"sr": ds.sr, "duration": ds.duration, "align": ds.align, "classes": ds.classes}


def _member(cfg: RunConfig, folder: Path, n_classes: int, n_samples: int, open_data) -> Member:
    """One run's model with its weights, its feature and its normalisation (``open_data()``: the
    dataset, for runs completed before their statistics were saved)."""
    feature = features.create(cfg.feature, **cfg.feature_params).eval()
    model = load_weights(build_model(cfg, n_classes), cfg, folder)
    if feature.trainable:
        return Member(cfg, model, None, None, None)
    if cfg.recipe.normalize == "clip":
        return Member(cfg, model, feature, None, None)
    stats = folder / NORMALISATION_FILE
    if stats.is_file():
        with np.load(stats) as z:
            mean, std = torch.from_numpy(z["mean"]), torch.from_numpy(z["std"])
    else:  # runs completed before the statistics were saved: computed again from the cached features
        inputs = RunInputs(cfg, open_data(), progress=False)
        mean, std = inputs.mean, inputs.std
    return Member(cfg, model, feature, mean, std)


def _fit_method(name: str, runs: list[RunConfig], args) -> fusion.FusionMethod:
    """``name`` fitted on the first seed's held-out predictions (as the report's grid fitted it)."""
    params = {"weights": "uniform"} if name == "wa" and len(args.folds) < 2 else {}
    try:
        method = fusion.create(name, **params)
    except KeyError as exc:
        raise RannBenchError(str(exc.args[0])) from None
    first = [c for c in runs if c.seed == runs[0].seed]
    aligned = fusion.align(load_predictions(first, args.runs_dir, None))
    return method.fit(aligned.probs, aligned.targets)
