"""The base class of clip-classification datasets with official cross-validation folds.

A dataset is a metadata table (one row per clip: file name, fold, integer target, category)
plus an audio folder. A subclass declares where those live and what the official release
holds (:class:`Expected`); this class validates the metadata, finds the audio, decodes it
through the waveform cache and serves :class:`Clip` items and fold splits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from benchmarks.core.errors import DataError, ParameterError
from benchmarks.datasets import wavecache
from benchmarks.datasets.audio import AudioInfo
from benchmarks.datasets.paths import default_cache_dir, ensure_outside, resolve_root


@dataclass(frozen=True)
class Clip:
    """One labelled clip: ``waveform`` is ``(samples,)`` float32 at the dataset's rate."""

    waveform: np.ndarray
    target: int
    category: str
    fold: int
    filename: str


@dataclass(frozen=True)
class Expected:
    """What the official release holds; ``check`` compares the data on disk against it."""

    n_clips: int
    n_classes: int
    n_folds: int
    clips_per_class: int | tuple[int, ...]  # one number for all, or one per target
    clips_per_fold: int | tuple[int, ...]  # one number for all, or one per fold
    sample_rate: int | None  # native rate of the source files, Hz (None: they vary)
    duration: float | tuple[float, float]  # native duration of every clip, s (or its range)


class ClipDataset:
    """A folded clip-classification dataset.

    Subclasses set the class attributes below; the metadata must have the columns in
    ``required_columns``, and each row's audio is ``audio_dir/<stem><ext>`` for the first
    ``ext`` in ``audio_exts`` that exists (``<stem>`` is the ``filename`` column without suffix).

    Args:
        data_root: folder of the dataset; ``None`` searches the default places (see
            :mod:`benchmarks.datasets.paths`).
        sr: sample rate of the served waveforms, Hz.
        duration: length of the served waveforms, s (zero-padded or cropped).
        cache_dir: where the decoded-waveform cache goes (default ``$RANN_CACHE`` or
            ``~/.cache/rann``); never inside the data folder.
        workers: decoding processes (default: all cores).
        progress: show a progress bar while decoding.
        protocol: the folds. ``None``: the dataset's own (official) folds; ``"clips"``: stratified
            folds over clips (as many as the dataset's, seeded with :data:`PROTOCOL_SEED`), which
            put clips of one speaker or recording in training and test folds alike.
    """

    name: ClassVar[str]
    meta_file: ClassVar[str]  # relative to the root; proves the root holds the data
    other_layouts: ClassVar[tuple[str, ...]] = ()  # paths that prove it too, for layouts without meta_file
    audio_dir: ClassVar[str] = "audio"
    audio_exts: ClassVar[tuple[str, ...]] = (".wav", ".flac", ".ogg")
    required_columns: ClassVar[tuple[str, ...]] = ("filename", "fold", "target", "category")
    expected: ClassVar[Expected]
    download_url: ClassVar[str | None] = None
    default_sr: ClassVar[int] = 44_100
    default_duration: ClassVar[float] = 5.0
    align: ClassVar[str] = "start"  # where clips are padded or cut to the duration: "start" or "center"
    #: whether the dataset is read from its content (folds made here, runs keyed by :attr:`data_key`)
    KEYED_BY_CONTENT: ClassVar[bool] = False
    #: the alternatives to the dataset's own folds (``protocol=``), and the seed of the clip-level one
    PROTOCOLS: ClassVar[tuple[str, ...]] = ("clips",)
    PROTOCOL_SEED: ClassVar[int] = 0

    def __init__(
        self,
        data_root: str | os.PathLike | None = None,
        *,
        sr: int | None = None,
        duration: float | None = None,
        cache_dir: str | os.PathLike | None = None,
        workers: int | None = None,
        progress: bool = True,
        protocol: str | None = None,
    ):
        if protocol is not None and protocol not in self.PROTOCOLS:
            choices = ", ".join(self.PROTOCOLS)
            raise ParameterError(
                f"{self.name}: unknown protocol {protocol!r}; choices: {choices} (or none: the dataset's folds)"
            )
        hint = f" with: python -m benchmarks.data download {self.name} --root DIR" if self.download_url else ""
        self.root = resolve_root(self.name, (self.meta_file, *self.other_layouts), data_root, download_hint=hint)
        self.sr = int(sr or self.default_sr)
        self.duration = float(duration or self.default_duration)
        if self.sr <= 0 or self.duration <= 0:
            raise ParameterError(f"sr and duration must be positive, got sr={self.sr}, duration={self.duration}")
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
        ensure_outside(self.cache_dir, self.root)
        self.workers = workers
        self.progress = progress
        self.protocol = protocol
        self.meta = self.read_meta(self.root)
        if protocol == "clips":
            self.meta["fold"] = self.clip_folds(self.meta["target"].to_numpy(), self.expected.n_folds)
        self._waveforms: np.ndarray | None = None
        self._info: list[AudioInfo] | None = None

    @classmethod
    def clip_folds(cls, targets: np.ndarray, n_folds: int) -> np.ndarray:
        """``(n_clips,)`` folds 1-``n_folds``, stratified by ``targets`` over clips, seeded.

        Raises:
            ParameterError: a class with fewer clips than folds.
        """
        from sklearn.model_selection import StratifiedKFold

        counts = np.bincount(targets)
        if counts[counts > 0].min() < n_folds:
            raise ParameterError(
                f"{cls.name}: a class has {counts[counts > 0].min()} clips, fewer than the {n_folds} folds"
            )
        folds = np.zeros(len(targets), dtype=np.int64)
        splits = StratifiedKFold(n_folds, shuffle=True, random_state=cls.PROTOCOL_SEED).split(targets, targets)
        for k, (_, test) in enumerate(splits, 1):
            folds[test] = k
        return folds

    # -- metadata ------------------------------------------------------------------------
    @staticmethod
    def read_csv(csv: Path, columns: tuple[str, ...]) -> pd.DataFrame:
        """The metadata file ``csv``, which must have ``columns``.

        Raises:
            DataError: missing or unreadable file, or missing columns (naming the file).
        """
        if not csv.is_file():
            raise DataError(f"{csv}: metadata file is missing")
        try:
            meta = pd.read_csv(csv)
        except Exception as exc:
            raise DataError(f"{csv}: cannot read the metadata as CSV ({type(exc).__name__}: {exc})") from None
        missing = [c for c in columns if c not in meta.columns]
        if missing:
            raise DataError(
                f"{csv}: wrong columns: missing {', '.join(missing)} "
                f"(found {', '.join(map(str, meta.columns))}; expected at least {', '.join(columns)})"
            )
        return meta

    @classmethod
    def read_meta(cls, root: Path) -> pd.DataFrame:
        """Read and validate the metadata; add a ``path`` column with each clip's audio file.

        Raises:
            DataError: missing or unreadable file, missing columns, bad values, missing audio.
        """
        root = Path(root)
        csv = root / cls.meta_file
        meta = cls.read_csv(csv, cls.required_columns)
        if meta.empty:
            raise DataError(f"{csv}: metadata has no rows")
        cls._validate_values(csv, meta)
        meta = meta.astype({"fold": int, "target": int, "category": str, "filename": str}).reset_index(drop=True)
        meta["path"] = cls._find_audio(root, meta)
        return meta

    @classmethod
    def _validate_values(cls, csv: Path, meta: pd.DataFrame) -> None:
        exp = cls.expected
        problems = []
        dup = meta["filename"][meta["filename"].duplicated()]
        problems += [f"{f}: listed more than once" for f in dup]
        for col, lo, hi in (("fold", 1, exp.n_folds), ("target", 0, exp.n_classes - 1)):
            values = pd.to_numeric(meta[col], errors="coerce")
            bad = meta.loc[values.isna() | (values != values.round()) | (values < lo) | (values > hi)]
            problems += [f"{r.filename}: {col} {getattr(r, col)!r} is outside {lo}-{hi}" for r in bad.itertuples()]
        if not problems:
            for key, other in (("target", "category"), ("category", "target")):
                groups = meta.groupby(key)[other].unique()
                for value, others in groups.items():
                    if len(others) > 1:
                        rows = meta.loc[meta[key] == value]
                        firsts = rows.drop_duplicates(other)[["filename", other]].values.tolist()
                        shown = "; ".join(f"{f} has {other} {o!r}" for f, o in firsts)
                        problems.append(f"{key} {value!r} maps to several {other} values: {shown}")
        if problems:
            raise DataError(f"{csv}: invalid metadata ({len(problems)} problems):", problems)

    @classmethod
    def _find_audio(cls, root: Path, meta: pd.DataFrame) -> list[Path]:
        audio = root / cls.audio_dir
        listings: dict[Path, set[str]] = {}  # folder -> its file names, listed once
        paths, missing = [], []
        for fname in meta["filename"]:
            folder, stem = audio / Path(fname).parent, Path(fname).stem
            if folder not in listings:
                listings[folder] = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
            hit = next((folder / (stem + e) for e in cls.audio_exts if stem + e in listings[folder]), None)
            if hit is None:
                missing.append(f"{audio / fname}: audio file is missing (also tried {', '.join(cls.audio_exts)})")
            paths.append(hit)
        if missing:
            raise DataError(
                f"{len(missing)} of {len(meta)} audio files listed in {root / cls.meta_file} are missing:", missing
            )
        return paths

    def extra_checks(self) -> list[tuple[str, str, str, bool]]:
        """Dataset-specific ``(check, expected, found, ok)`` rows for ``benchmarks.data check``."""
        return []

    # -- items ---------------------------------------------------------------------------
    @property
    def cache_name(self) -> str:
        """The name of the dataset's waveform cache entries (one per rate and length)."""
        return self.name

    @property
    def data_key(self) -> str | None:
        """What identifies data that has no official release (part of the runs' fingerprints);
        ``None`` for a registered release, whose name says it all."""
        return None

    def fold_table(self) -> list[dict]:
        """One row per clip with its fold, to repeat a split made here without this code."""
        clips = zip(self.filenames, self.folds, self.targets)
        return [{"filename": n, "fold": int(k), "target": int(t)} for n, k, t in clips]

    def __len__(self) -> int:
        return len(self.meta)

    def __getitem__(self, i: int) -> Clip:
        row = self.meta.iloc[i]
        return Clip(
            waveform=np.asarray(self.waveforms()[i]),
            target=int(row.target),
            category=str(row.category),
            fold=int(row.fold),
            filename=str(row.filename),
        )

    @property
    def targets(self) -> np.ndarray:
        """``(n_clips,)`` int64 class indices."""
        return self.meta["target"].to_numpy(np.int64)

    @property
    def folds(self) -> np.ndarray:
        """``(n_clips,)`` int64 official fold numbers, 1-based."""
        return self.meta["fold"].to_numpy(np.int64)

    @property
    def filenames(self) -> list[str]:
        """File names as listed in the metadata."""
        return self.meta["filename"].tolist()

    @property
    def classes(self) -> list[str]:
        """Category names indexed by target."""
        return self.meta.drop_duplicates("target").sort_values("target")["category"].tolist()

    def waveforms(self) -> np.ndarray:
        """All clips as a read-only ``(n_clips, samples)`` float32 array (decoded once, cached)."""
        if self._waveforms is None:
            self._waveforms, self._info = wavecache.load_or_build(
                self.cache_name,
                list(self.meta["path"]),
                meta_file=self.root / self.meta_file,
                sr=self.sr,
                duration=self.duration,
                cache_dir=self.cache_dir,
                align=self.align,
                workers=self.workers,
                progress=self.progress,
            )
        return self._waveforms

    def native_info(self) -> list[AudioInfo]:
        """Rate, channels and frames of each source file, as decoded."""
        self.waveforms()
        assert self._info is not None
        return self._info

    def split(self, fold: int) -> tuple[ClipSubset, ClipSubset]:
        """The official protocol: ``(train, test)`` = (the other folds, fold ``fold``)."""
        n = self.expected.n_folds
        if not isinstance(fold, (int, np.integer)) or not 1 <= fold <= n:
            raise ParameterError(f"fold must be an integer in 1-{n}, got {fold!r}")
        test = self.folds == fold
        return ClipSubset(self, np.flatnonzero(~test)), ClipSubset(self, np.flatnonzero(test))


class ClipSubset:
    """A view of some clips of a :class:`ClipDataset` (e.g. one side of a fold split)."""

    def __init__(self, dataset: ClipDataset, indices: np.ndarray):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> Clip:
        return self.dataset[int(self.indices[i])]

    @property
    def targets(self) -> np.ndarray:
        return self.dataset.targets[self.indices]

    @property
    def folds(self) -> np.ndarray:
        return self.dataset.folds[self.indices]

    @property
    def filenames(self) -> list[str]:
        names = self.dataset.filenames
        return [names[i] for i in self.indices]
