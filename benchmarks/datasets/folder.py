"""Your own labelled audio, in one of two layouts, with folds made for it when it has none.

- **class folders**: ``<root>/<label>/<file>`` (files may sit deeper, ``<root>/<label>/a/b.wav``);
- **a label CSV**: ``<root>/labels.csv`` with columns ``filename`` (relative to the root) and
  ``label``, optionally ``fold`` (1-k: your own split, used as it is) and ``group`` (the speaker,
  recording or site: clips of one group are never split across folds).

Files of any format the data layer decodes (WAV of every encoding, FLAC, Ogg Vorbis; mono or
stereo, any rate) are served at the profile's rate, at one length: ``duration`` seconds, or by
default the 95th percentile of the native durations rounded up to half a second, padded or cut
at the ``align`` end (``"start"``: the beginning kept; ``"center"``: the middle).

Classes are numbered in sorted label order. Without a ``fold`` column the clips are split into
``n_folds`` stratified folds (``StratifiedGroupKFold`` when there are groups), seeded with
``fold_seed``. :attr:`FolderDataset.data_key` hashes the clip list, labels, folds, length and
alignment: it is part of every run's fingerprint, so two splits (or two folders) never share a run.
The folder is only read, never written.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import soundfile as sf

from benchmarks.core.errors import DataError, ParameterError
from benchmarks.datasets._registry import register_dataset
from benchmarks.datasets.base import ClipDataset, Expected

LABELS_CSV = "labels.csv"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".mp3")


def audio_files_under(folder: Path) -> list[Path]:
    """Every audio file (:data:`AUDIO_SUFFIXES`) under ``folder``, at any depth, sorted; hidden files skipped."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith(".")
    )


def one_or_many(header: str, problems: list[str]) -> DataError:
    """One problem as one line; several as ``header`` and a line each."""
    return DataError(problems[0]) if len(problems) == 1 else DataError(header, problems)


def read_layout(root: Path) -> pd.DataFrame:
    """The clips of ``root``: ``filename`` (relative to ``root``), ``label``, ``path`` and, when the
    CSV gives them, ``fold`` and ``group``.

    Raises:
        DataError: no labels.csv and no class folders with audio; a CSV without ``filename`` or
            ``label``, with empty labels, repeated or missing files.
    """
    csv = root / LABELS_CSV
    if csv.is_file():
        meta = ClipDataset.read_csv(csv, ("filename", "label"))
        if meta.empty:
            raise DataError(f"{csv}: lists no clips")
        meta = meta[[c for c in ("filename", "label", "fold", "group") if c in meta.columns]].copy()
        empty = meta["label"].isna() | (meta["label"].astype(str).str.strip() == "")
        if empty.any():
            raise DataError(f"{csv}: {meta.loc[empty, 'filename'].iloc[0]}: empty label ({int(empty.sum())} rows)")
        meta["filename"] = meta["filename"].astype(str)
        meta["label"] = meta["label"].astype(str)
        dup = meta["filename"][meta["filename"].duplicated()]
        if len(dup):
            raise DataError(f"{csv}: {dup.iloc[0]}: listed more than once ({len(dup)} repeated rows)")
        meta["path"] = [root / f for f in meta["filename"]]
        missing = [f"{p}: listed in {csv.name}, but there is no such file" for p in meta["path"] if not p.is_file()]
        if missing:
            raise one_or_many(f"{csv}: {len(missing)} listed files are missing:", missing)
        return meta.reset_index(drop=True)
    rows = [
        {"filename": p.relative_to(root).as_posix(), "label": d.name, "path": p}
        for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        for p in audio_files_under(d)
    ]
    if not rows:
        raise DataError(
            f"{root}: no {LABELS_CSV} and no class folders with audio ({', '.join(AUDIO_SUFFIXES)}); lay the data "
            f"out as <root>/<label>/<file> or list it in <root>/{LABELS_CSV} (columns filename,label[,fold,group])"
        )
    return pd.DataFrame(rows)


def native_durations(paths: list[Path]) -> np.ndarray:
    """``(n_files,)`` native durations, s, from the files' headers.

    Raises:
        DataError: listing every file whose header cannot be read.
    """
    out, bad = np.zeros(len(paths)), []
    for i, p in enumerate(paths):
        try:
            info = sf.info(str(p))
            out[i] = info.frames / info.samplerate
        except Exception as exc:  # libsndfile raises several types; all mean "cannot decode"
            bad.append(f"{p}: cannot decode audio ({type(exc).__name__}: {str(exc).strip()})")
        else:
            if info.frames <= 0:
                bad.append(f"{p}: audio file holds no samples")
    if bad:
        raise one_or_many(f"{len(bad)} of {len(paths)} audio files cannot be decoded:", bad)
    return out


def stratified_folds(labels: np.ndarray, groups: np.ndarray | None, n_folds: int, seed: int) -> np.ndarray:
    """``(n_clips,)`` folds 1-``n_folds``: stratified by ``labels``, groups kept whole, seeded.

    Raises:
        DataError: a class with fewer clips (or groups) than folds, or a fold left empty.
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    per_class = pd.Series(labels).value_counts()
    few = per_class[per_class < n_folds]
    if len(few):
        raise DataError(
            f"label {few.index[0]!r}: {few.iloc[0]} clips, fewer than the {n_folds} folds (give fewer folds with "
            "--n-folds, or more clips of it)"
        )
    if groups is not None and len(set(groups)) < n_folds:
        raise DataError(f"{len(set(groups))} groups, fewer than the {n_folds} folds: give fewer folds with --n-folds")
    folds = np.zeros(len(labels), dtype=np.int64)
    if groups is None:
        splits = StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(labels, labels)
    else:
        splits = StratifiedGroupKFold(n_folds, shuffle=True, random_state=seed).split(labels, labels, groups)
    for k, (_, test) in enumerate(splits, 1):
        folds[test] = k
    empty = sorted(set(range(1, n_folds + 1)) - set(folds.tolist()))
    if empty:
        raise DataError(f"fold {empty[0]}: no test clips after grouping; give fewer folds with --n-folds")
    return folds


@register_dataset
class FolderDataset(ClipDataset):
    """A folder of your own labelled audio (see the module's docstring for the layouts).

    Args:
        data_root: the folder (required).
        sr: served rate, Hz. duration: served length, s (default: from the data).
        align: ``"start"`` or ``"center"``. n_folds: folds made when the CSV gives none.
        fold_seed: seed of those folds. cache_dir, workers, progress: as :class:`ClipDataset`.
    """

    name = "folder"
    meta_file = LABELS_CSV  # hashed into the cache keys when it is there
    other_layouts = (".",)  # class folders: any folder is a candidate (read_layout says what is wrong)
    default_sr = 22_050
    #: built from the data, not from an official release: runs are keyed by :attr:`data_key`
    KEYED_BY_CONTENT: ClassVar[bool] = True
    PROTOCOLS: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        data_root: str | os.PathLike | None = None,
        *,
        sr: int | None = None,
        duration: float | None = None,
        align: str = "start",
        n_folds: int = 5,
        fold_seed: int = 0,
        cache_dir: str | os.PathLike | None = None,
        workers: int | None = None,
        progress: bool = True,
        protocol: str | None = None,
    ):
        if data_root is None:
            raise DataError("the folder dataset needs its folder: --data-root DIR")
        root = Path(data_root).expanduser()
        if not root.is_dir():
            raise DataError(f"{root}: no such folder")
        if align not in ("start", "center"):
            raise ParameterError(f"align must be 'start' or 'center', got {align!r}")
        if n_folds < 2:
            raise ParameterError(f"n_folds must be at least 2, got {n_folds}")
        self.align, self.n_folds_asked, self.fold_seed = align, int(n_folds), int(fold_seed)
        super().__init__(
            root, sr=sr, duration=duration, cache_dir=cache_dir, workers=workers, progress=progress, protocol=protocol
        )
        if duration is None:  # read with the clips (read_meta): the 95th percentile, up to half a second
            self.duration = max(0.5, math.ceil(np.percentile(self.durations, 95) * 2) / 2)

    @property
    def cache_name(self) -> str:
        """One waveform cache per folder (whatever its folds)."""
        return "folder-" + hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:12]

    def read_meta(self, root: Path) -> pd.DataFrame:  # type: ignore[override]
        """The clips with ``target`` (sorted label order), ``category`` and ``fold``; sets
        :attr:`expected` from them.

        Raises:
            DataError: as :func:`read_layout`, a single class, undecodable files, folds that are not
                1-k or leave one empty, a group in two folds, a class with fewer clips than folds.
        """
        meta = read_layout(root)
        where = root / LABELS_CSV if "fold" in meta or "group" in meta else root
        classes = sorted(meta["label"].unique())
        if len(classes) < 2:
            raise DataError(f"{where}: one class only ({classes[0]!r}); a classifier needs at least two")
        self.durations = native_durations(list(meta["path"]))
        groups = meta["group"].astype(str).to_numpy() if "group" in meta else None
        if "fold" in meta:
            meta["fold"] = self._given_folds(where, meta, groups)
        else:
            meta["fold"] = stratified_folds(meta["label"].to_numpy(), groups, self.n_folds_asked, self.fold_seed)
        meta["target"] = meta["label"].map({c: i for i, c in enumerate(classes)}).astype(np.int64)
        meta["category"] = meta["label"]
        counts = meta.groupby("target").size().to_numpy()
        per_fold = meta.groupby("fold").size().to_numpy()
        self.expected = Expected(
            n_clips=len(meta),
            n_classes=len(classes),
            n_folds=int(meta["fold"].max()),
            clips_per_class=tuple(int(c) for c in counts),
            clips_per_fold=tuple(int(c) for c in per_fold),
            sample_rate=None,
            duration=(float(self.durations.min()), float(self.durations.max())),
        )
        return meta.reset_index(drop=True)

    @staticmethod
    def _given_folds(where: Path, meta: pd.DataFrame, groups: np.ndarray | None) -> np.ndarray:
        """The CSV's ``fold`` column, checked: integers 1-k, each with clips, a group in one fold."""
        folds = pd.to_numeric(meta["fold"], errors="coerce")
        bad = folds.isna() | (folds != folds.round()) | (folds < 1)
        if bad.any():
            row = meta.loc[bad].iloc[0]
            raise DataError(f"{where}: {row.filename}: fold {row.fold!r} is not an integer 1-k")
        folds = folds.astype(np.int64).to_numpy()
        empty = sorted(set(range(1, folds.max() + 1)) - set(folds.tolist()))
        if empty:
            raise DataError(f"{where}: fold {empty[0]} has no clips (folds must be 1-{folds.max()}, each used)")
        if groups is not None:
            spread = pd.Series(folds).groupby(groups).nunique()
            if (spread > 1).any():
                g = spread[spread > 1].index[0]
                raise DataError(f"{where}: group {g!r} has clips in folds {sorted(set(folds[groups == g]))}")
        return folds

    @property
    def data_key(self) -> str:
        """12 hex digits: the clips' names, labels and folds, the served length and alignment."""
        table = self.meta[["filename", "label", "fold"]].astype(str).values.tolist()
        blob = json.dumps({"clips": table, "duration": self.duration, "align": self.align})
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def fold_table(self) -> list[dict]:
        """One row per clip: ``filename``, ``label``, ``fold`` (and ``group``), to repeat the split."""
        cols = [c for c in ("filename", "label", "fold", "group") if c in self.meta]
        return self.meta[cols].to_dict("records")

    def extra_checks(self) -> list[tuple[str, str, str, bool]]:
        """The classes, and clips per class in every fold (each class in every fold's test set)."""
        table = self.meta.groupby(["label", "fold"]).size().unstack(fill_value=0)
        names = ", ".join(table.index[:8]) + (f", ... ({len(table) - 8} more)" if len(table) > 8 else "")
        rows = [("classes", ">= 2", f"{len(table)}: {names}", len(table) >= 2)]
        for label, counts in table.iterrows():
            rows.append((f"clips of {label!r} per fold", "> 0", " / ".join(map(str, counts)), bool((counts > 0).all())))
        if "group" in self.meta:
            n = self.meta["group"].nunique()
            rows.append(("groups (each in one fold)", "-", str(n), True))
        return rows
