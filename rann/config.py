"""Run configurations and the frozen training profiles.

A run is (dataset, feature, model, fold, profile, seed) plus every setting that changes its
numbers, held in one frozen :class:`RunConfig`; its fingerprint names the run's folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from typing import Any

#: Bump when training changes its numbers for the same config.
TRAINING_VERSION = 1


@dataclass(frozen=True)
class Recipe:
    """Training settings. Seconds are of audio; ``lr`` is the one-cycle peak."""

    epochs: int = 30
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.02
    pct_start: float = 0.3  # share of the one-cycle schedule spent warming up
    ema_decay: float = 0.995
    crop_seconds: float = 3.7  # t_c: random crop at training time; the whole clip at test time
    mixup_alpha: float = 0.3  # Beta(alpha, alpha); partners drawn from other classes
    freq_masks: int = 2
    freq_mask_bins: int = 8
    time_masks: int = 2
    time_mask_frames: int = 20
    speed: float = 0.1  # time stretch by a factor in [1 - speed, 1 + speed]
    pitch_bins: int = 2  # shift along the bins axis by up to this many bins (log-frequency features)
    noise_std: float = 0.1  # Gaussian noise, in units of the normalised feature (or waveform rms)
    eval_every: int = 5  # also evaluate the test fold every this many epochs (monitoring only)
    max_train_clips: int | None = None  # smoke: a few clips
    max_test_clips: int | None = None
    # clip mixing (the birdcall recipe): each example the sum of 1 to mix_clips training clips
    # (multi-hot targets, binary cross-entropy), plus noise at an SNR drawn from this (low, high)
    # range in dB; 1 / None: off. Needs mixup_alpha = 0 (the two are alternatives)
    mix_clips: int = 1
    mix_noise_snr_db: tuple[float, float] | None = None
    # the model's weights and the training inputs in channels-last memory order (NHWC): the same
    # model, about 10 % faster per step on these CPUs (162 -> 146 ms for 32 quick-size clips)
    channels_last: bool = False
    # label smoothing: the (possibly mixed) target moved this share of the way to uniform
    label_smoothing: float = 0.0
    # how cached features are normalised: "bin", each bin by the training folds' mean and std;
    # "clip", each clip's bins by their own mean and std over its frames (utterance-level
    # cepstral mean and variance normalisation: removes a speaker's or a channel's spectral tilt)
    normalize: str = "bin"
    # the training budget's floor in optimiser steps: a small dataset trains
    # ``max(epochs, ceil(min_steps / steps_per_epoch))`` epochs (:meth:`RunConfig.resolved`); 0: off
    min_steps: int = 0
    # the EMA's decay ramps up with the updates, ``min(ema_decay, (1 + n) / (10 + n))``, so that the
    # averaged model of a short run is not still mostly its random initialisation
    ema_warmup: bool = False
    # the forward pass's arithmetic: "fp32", or "bf16" (autocast; loss, optimiser, EMA and weights stay
    # fp32). Trained by default only on CPUs with AMX matrix units (rann.precision)
    precision: str = "fp32"

    def __post_init__(self):
        if self.mix_noise_snr_db is not None:  # JSON gives a list back
            object.__setattr__(self, "mix_noise_snr_db", tuple(float(v) for v in self.mix_noise_snr_db))


#: Recipe fields added after runs were committed, with the value that means "off": written into a
#: config (and so into its fingerprint) only when set, so the runs committed before keep their names.
LATER_RECIPE_FIELDS = {
    "mix_clips": 1,
    "mix_noise_snr_db": None,
    "channels_last": False,
    "label_smoothing": 0.0,
    "normalize": "bin",
    "min_steps": 0,
    "ema_warmup": False,
    "precision": "fp32",
}


@dataclass(frozen=True)
class Profile:
    """A named, frozen set of data, feature, model and recipe settings."""

    name: str
    sr: int
    model: str
    feature_params: dict[str, dict[str, Any]]
    recipe: Recipe
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    #: this profile on a dataset that wants other settings (speech another band than environmental
    #: sound): a whole profile of the same name per dataset, returned by :func:`get_profile`
    datasets: dict[str, Profile] = field(default_factory=dict)
    #: recipe settings that differ for one feature (e.g. its normalisation), on top of ``recipe``
    feature_recipes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def recipe_for(self, feature: str) -> Recipe:
        """The recipe of ``feature``'s runs: ``recipe`` with the feature's own settings on top."""
        own = self.feature_recipes.get(feature)
        return dataclasses.replace(self.recipe, **own) if own else self.recipe


_QUICK_FEATURES = {
    # hop 512, 64 bins at the profile's 22.05 kHz: inputs of 64 x 216 frames (5 s). The rate is
    # not repeated here: RunConfig.from_profile gives every feature the profile's ``sr``
    "mel": dict(n_fft=1024, hop_length=512, n_mels=64, fmin=50.0, fmax=11_025.0),
    "mfcc": dict(n_fft=1024, hop_length=512, n_mels=64, n_mfcc=64, fmin=50.0, fmax=11_025.0),
    "gfcc": dict(n_fft=1024, hop_length=512, n_filters=64, n_gfcc=64, fmin=50.0, fmax=11_025.0),
    "cqt": dict(hop_length=512, fmin=32.70, n_bins=64, bins_per_octave=8),
    "chroma": dict(n_fft=2048, hop_length=512),
    "tempogram": dict(hop_length=512, win_length=64),
    "scalogram": dict(hop_length=512, n_bins=64, fmin=50.0, fmax=10_000.0),
    # hop 512 like the others (stride-8 stem); 8 -> 32 channels: one training step costs what a
    # 64-bin spectrogram's does (0.32 s for 32 clips on one core, against 2.4 s for 32 -> 64 at hop 320)
    "wavegram": dict(hop_length=512, base_channels=8, n_channels=32),
}

#: The quick features, with the chromagram variant that won on folds 1-2
#: (results/esc50/variants/): the chromagram's energies kept (no per-frame normalisation) in
#: dB, 64 pitch classes per octave; the tempogram stays librosa's (no variant beat it)
_STANDARD_FEATURES = {
    **_QUICK_FEATURES,
    "chroma": dict(_QUICK_FEATURES["chroma"], norm=None, log=True, n_chroma=64),
}
STANDARD_EPOCHS = 100

_STANDARD = Profile(
    name="standard",
    sr=22_050,
    model="rann_cpu_16",
    feature_params=_STANDARD_FEATURES,
    # the quick recipe without mixup, the one arm of the recipe study (results/esc50/recipe/)
    # that won beyond its noise (+3.3 points, 4 of 4 paired runs), in channels-last order,
    # with the epochs that fit 8 h of 2-core time for 8 features x 5 folds (two single-thread
    # runs side by side); the test fold is evaluated 4 times
    recipe=Recipe(
        epochs=STANDARD_EPOCHS,
        mixup_alpha=0.0,
        speed=0.0,
        pitch_bins=0,
        noise_std=0.0,
        channels_last=True,
        eval_every=STANDARD_EPOCHS // 4,
    ),
    description=(
        f"2 CPU cores, about 8 h for 8 features x 5 folds: the quick input size and model, {STANDARD_EPOCHS} "
        "epochs, "
        "no mixup, channels-last; the chromagram with 64 pitch classes per octave in dB"
    ),
)

#: The `long` study (results/esc50/long-study/; log-mel, ESC-50 folds 1-2, paired with the standard
#: runs): rann_cpu_32 +2.1 points (2 of 2 pairs better), 200 epochs +2.0 (2 of 2), 128 mel bins -1.4
#: and test-time multi-crop not better. Width and epochs cost about the same on an AMX CPU in bf16
#: (a rann_cpu_32 step 2.1 times a rann_cpu_16 one; 200 epochs twice 100), so `long` spends its
#: budget on both: rann_cpu_32 in bf16 with the epochs that fit 14 h of 2-core time for 8 features
#: x 5 folds. Every feature's training input is 64 x 160 here, and a rann_cpu_32 bf16 step of 32
#: such clips took 0.19-0.21 s on an AMD EPYC for each of the 8 (2 threads, rann.timing.step_seconds)
#: and 0.124 s for mel on the issue's AMX CPU: 40 runs x 200 epochs x 50 steps x 0.124 s = 13.8 h
#: (about 23 h on the AMD EPYC). Before training, `python -m benchmarks.step_speed` on the AMX CPU
#: checks the 0.124 s, and so does `--dry-run --profile long` (it measures this step at 32 clips:
#: 23.7 h for the 40 runs on the AMD EPYC)
LONG_EPOCHS = 200

_LONG = dataclasses.replace(
    _STANDARD,
    name="long",
    model="rann_cpu_32",
    recipe=dataclasses.replace(_STANDARD.recipe, precision="bf16", epochs=LONG_EPOCHS, eval_every=LONG_EPOCHS // 5),
    description=(
        f"2 CPU cores with AMX, about 14 h for 8 features x 5 folds: the standard profile with a 2.87 M-parameter "
        f"RANN (rann_cpu_32) trained {LONG_EPOCHS} epochs in bf16; refused on a CPU without AMX"
    ),
)

#: speech (RAVDESS): the band of the mel-scale features ends at 8 kHz, where speech has its energy;
#: the CQT (32.7 Hz - 8.4 kHz) and the learned wavegram keep theirs
_SPEECH_FEATURES = {
    **_STANDARD_FEATURES,
    **{name: dict(_STANDARD_FEATURES[name], fmax=8_000.0) for name in ("mel", "mfcc", "gfcc")},
}
#: the epochs that fit the issue's budget. 6 h of 2-core time for 5 features x 6 folds would give
#: each of two single-thread runs side by side 24 min: at the ESC-50 standard runs' 14.2 s per epoch
#: of 1,600 clips and 3.7-s crops (their log.csv), RAVDESS's 1,200 clips take about 10.6 s, 2-s crops
#: 0.62 of that (one training step of 32 clips, measured: 0.47 s against 0.76 s), about 6.9 s with
#: their data handling: 200 epochs. But the study below took 5.3 h of the 14 h meant for it and both
#: protocols' 60 runs, leaving about 4.3 h per protocol (150 epochs at that speed), and this week's VM
#: trains about 2x slower than the ESC-50 runs did (a 3.7-s step of 32 clips: 0.75 s against 0.15-0.28 s):
#: 120 epochs (2.2 times the study's best arm's 55; 30 x 120 x 6.9 s / 2 = 3.45 h at the ESC-50
#: speed, about twice that on this week's VM)
RAVDESS_STANDARD_EPOCHS = 120
#: The study on RAVDESS (log-mel, actor-independent folds 1-2, seeds 0-1, the quick budget; report
#: and README in results/ravdess/study/), paired against the arm each extends: no mixup +6.8 points
#: against the quick recipe (3 of 4 pairs), the 8-kHz band +2.7 on top (4 of 4), per-clip
#: normalisation +9.1 on top of that (4 of 4), 2-s crops with 55 instead of 30 epochs (about 1.3
#: times the minutes) +12.4 (4 of 4); adopted. Speed perturbation, a lower learning rate and stronger
#: SpecAugment were not better beyond their noise. Checked on MFCC and CQT (this recipe, 30 epochs):
#: per-clip normalisation -2.8 +- 2.0 and -2.9 +- 3.5 points against per-bin (4 and 3 of 4 pairs
#: worse; per-bin statistics keep each clip's loudness and tilt, which may carry arousal), so it
#: is log-mel's alone; GFCC, a cepstrum too, keeps per-bin normalisation like MFCC (not measured)
_RAVDESS_STANDARD = dataclasses.replace(
    _STANDARD,
    feature_params=_SPEECH_FEATURES,
    recipe=dataclasses.replace(
        _STANDARD.recipe,
        crop_seconds=2.0,
        epochs=RAVDESS_STANDARD_EPOCHS,
        eval_every=RAVDESS_STANDARD_EPOCHS // 4,
    ),
    feature_recipes={"mel": {"normalize": "clip"}},
    description=(
        f"2 CPU cores, about 3.5 h for 5 features x 6 folds of RAVDESS: the standard profile with the "
        f"mel-scale features' band ending at 8 kHz, 2-s crops and {RAVDESS_STANDARD_EPOCHS} epochs; "
        f"log-mel normalised per clip"
    ),
)

#: Your own data (the ``folder`` dataset): a dataset of any size gets at least the optimiser steps an
#: ESC-50 quick run takes (30 epochs x 50 steps of 32 clips), and an EMA that warms up, so that a
#: few hundred clips do not end at chance with half the averaged model still its initialisation
#: (issue 36: ESC-10 fold 1, quick as it was, 300 steps: mel 0.30). No mixup and channels-last, as
#: the ESC-50 recipe study (+3.3 points, 4 of 4 pairs) and the RAVDESS study (+6.8, 3 of 4) chose.
OWN_DATA_MIN_STEPS = 1_500
_OWN_DATA = dict(min_steps=OWN_DATA_MIN_STEPS, ema_warmup=True, mixup_alpha=0.0, channels_last=True)


def _own_data(profile: Profile, description: str) -> Profile:
    """``profile`` for the ``folder`` dataset: its recipe with :data:`_OWN_DATA` on top."""
    return dataclasses.replace(
        profile, recipe=dataclasses.replace(profile.recipe, **_OWN_DATA), description=description
    )


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        sr=22_050,
        model="rann_cpu_16",
        feature_params=_QUICK_FEATURES,
        recipe=Recipe(epochs=1, batch_size=8, eval_every=1, max_train_clips=24, max_test_clips=16),
        description="seconds: 24 training and 16 test clips, one epoch; for CI",
    ),
    "quick": Profile(
        name="quick",
        sr=22_050,
        model="rann_cpu_16",
        feature_params=_QUICK_FEATURES,
        # speed, pitch and noise are off: at 30 epochs they cost 2.5 points on mel fold 1
        # (0.6225 with them, 0.6475 without); crop, SpecAugment and mixup stay on
        recipe=Recipe(epochs=30, speed=0.0, pitch_bins=0, noise_std=0.0),
        description=(
            "2 CPU cores: 22.05 kHz, hop 512, 64 bins (64 x 216 inputs), a 0.72 M-parameter CPU RANN "
            "(stride-2 stem, 4 stages of 2 blocks, 16-128 channels), 30 epochs of 1,600 clips"
        ),
    ),
    "standard": dataclasses.replace(_STANDARD, datasets={"ravdess": _RAVDESS_STANDARD}),
    "long": _LONG,
    "paper": Profile(
        name="paper",
        sr=44_100,
        model="rann_4_4",
        feature_params={"wavegram": {}},  # the features' own defaults: 44.1 kHz, hop 320, 128 bins
        recipe=Recipe(epochs=300, batch_size=32, lr=1e-3, crop_seconds=4.0),
        description="the paper's settings: 44.1 kHz, hop 320, 128 bins, RANN t_m = 4, W = 4, 300 epochs; for a GPU",
    ),
}

#: your own data trains on the quick, standard and long budgets with the floor in steps and the EMA warm-up
for _name, _what in (
    ("quick", "a few minutes a run"),
    ("standard", "the standard recipe"),
    ("long", "the long recipe, in bf16 on a CPU with AMX"),
):
    PROFILES[_name] = dataclasses.replace(
        PROFILES[_name],
        datasets={
            **PROFILES[_name].datasets,
            "folder": _own_data(
                PROFILES[_name],
                f"your own data, {_what}: the {_name} profile with at least {OWN_DATA_MIN_STEPS:,} optimiser steps "
                "whatever the data's size, an EMA that warms up, no mixup",
            ),
        },
    )


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Optimiser steps per epoch of ``n_train`` clips (the last partial batch is dropped)."""
    return max(1, math.floor(n_train / batch_size))


def get_profile(name: str, dataset: str | None = None) -> Profile:
    """The profile ``name``; on ``dataset``, its variant for that dataset when it has one."""
    try:
        profile = PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown profile {name!r}; choices: {', '.join(PROFILES)}") from None
    return profile.datasets.get(dataset, profile)


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one run's numbers."""

    dataset: str
    feature: str
    fold: int
    profile: str
    seed: int
    model: str
    sr: int
    feature_params: dict[str, Any]
    model_kwargs: dict[str, Any]
    recipe: Recipe
    version: int = TRAINING_VERSION
    # the dataset's folds (None: its own; "clips": stratified over clips). In the config, and so in
    # the fingerprint, only when set: the runs committed before it keep their names
    protocol: str | None = None
    # the identity of data without an official release (a folder of your own: its clips, labels,
    # folds and served length, :attr:`FolderDataset.data_key`); like ``protocol``, only when set
    data: str | None = None

    @classmethod
    def from_profile(
        cls,
        *,
        dataset: str,
        feature: str,
        fold: int,
        profile: str,
        seed: int = 0,
        model: str | None = None,
        feature_overrides: dict[str, Any] | None = None,
        protocol: str | None = None,
        data: str | None = None,
        **recipe_overrides: Any,
    ) -> "RunConfig":
        """The profile's run, with ``feature_overrides`` on top of its feature parameters and
        ``recipe_overrides`` (fields of :class:`Recipe`) on top of its recipe, on the dataset's
        folds of ``protocol`` (and, for data without a release, the data ``data``)."""
        p = get_profile(profile, dataset)
        recipe = dataclasses.replace(p.recipe_for(feature), **recipe_overrides)
        return cls(
            dataset=dataset,
            feature=feature,
            fold=fold,
            profile=profile,
            seed=seed,
            model=model or p.model,
            sr=p.sr,
            feature_params={"sr": p.sr, **p.feature_params.get(feature, {}), **(feature_overrides or {})},
            model_kwargs=dict(p.model_kwargs),
            recipe=recipe,
            protocol=protocol,
            data=data,
        )

    def resolved(self, n_train: int) -> "RunConfig":
        """The run on ``n_train`` training clips with its budget resolved: with ``min_steps``, the
        epochs grown to ``ceil(min_steps / steps_per_epoch)`` when the data is small (and the test fold
        evaluated as often as before, in the same share of the run); otherwise itself."""
        r = self.recipe
        if not r.min_steps:
            return self
        per_epoch = steps_per_epoch(min(n_train, r.max_train_clips or n_train), r.batch_size)
        epochs = max(r.epochs, math.ceil(r.min_steps / per_epoch))
        if epochs == r.epochs:
            return self
        eval_every = max(1, round(r.eval_every * epochs / r.epochs))
        return dataclasses.replace(self, recipe=dataclasses.replace(r, epochs=epochs, eval_every=eval_every))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for name, off in LATER_RECIPE_FIELDS.items():
            if d["recipe"][name] == off:
                del d["recipe"][name]
        for key in ("protocol", "data"):
            if d[key] is None:
                del d[key]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        return cls(**{**d, "recipe": Recipe(**d["recipe"])})

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]

    def run_name(self) -> str:
        return f"{self.feature}/fold{self.fold}-seed{self.seed}-{self.model}-{self.fingerprint()}"
