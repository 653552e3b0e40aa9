"""RAVDESS speech, audio only (S. R. Livingstone and F. A. Russo, PLoS ONE 2018): 24 actors x 60
recordings of two sentences spoken with 8 emotions, 1,440 clips of 2.9-5.3 s at 48 kHz.

Two layouts are read:

- ours (``../shared/data/ravdess``): ``meta/ravdess.csv`` (``filename`` = ``Actor_XX/<stem>.ogg``,
  ``actor``, ``emotion``, ``target``, ...) and ``audio/Actor_XX/<stem>.{wav,flac,ogg}``;
- the official archive (``Audio_Speech_Actors_01-24.zip`` unpacked): ``Actor_XX/<stem>.wav``
  and no CSV; every label is parsed from the official file name.

The official name ``MM-VV-EE-II-SS-RR-AA`` holds modality (03 audio-only), vocal channel (01
speech), emotion (01-08), intensity (01-02), statement (01-02), repetition (01-02) and actor
(01-24; odd actors are male).

**Protocol** (the paper does not state its split): actor-independent folds, 6 folds of 4
consecutive actors (actors 1-4 are fold 1, ..., 21-24 fold 6; each fold 2 male and 2 female),
so no speaker is in both the training and the test folds. Clips are served at one length,
4.5 s (the 95th percentile of the durations, 4.31 s, rounded up to half a second: 97.4 % of
the clips fit whole), padded or cut **at both ends equally** (``align = "center"``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from benchmarks.core.errors import DataError
from benchmarks.datasets._registry import register_dataset
from benchmarks.datasets.base import ClipDataset, Expected

EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
NAME = re.compile(r"^03-01-(0[1-8])-(0[12])-(0[12])-(0[12])-(\d\d)$")
ACTORS_PER_FOLD = 4


def parse_name(stem: str) -> dict:
    """The labels in an official RAVDESS speech file name (``03-01-05-01-02-01-12``).

    Raises:
        DataError: the name is not an audio-only speech name with valid fields.
    """
    m = NAME.match(stem)
    actor = int(m.group(5)) if m else 0
    if not m or not 1 <= actor <= 24 or (m.group(1) == "01" and m.group(2) == "02"):
        raise DataError(
            f"{stem}: not an official RAVDESS speech name 03-01-EE-II-SS-RR-AA (emotion 01-08, intensity 01-02, "
            "statement 01-02, repetition 01-02, actor 01-24; neutral has intensity 01 only)"
        )
    emotion = int(m.group(1))
    return {
        "actor": actor,
        "gender": "male" if actor % 2 else "female",
        "emotion": EMOTIONS[emotion - 1],
        "target": emotion - 1,
        "intensity": int(m.group(2)),
        "statement": int(m.group(3)),
        "repetition": int(m.group(4)),
    }


def actor_fold(actor: int) -> int:
    """The actor-independent fold of ``actor`` (1-24): 4 consecutive actors per fold, 1-6."""
    return (int(actor) - 1) // ACTORS_PER_FOLD + 1


@register_dataset
class RAVDESS(ClipDataset):
    name = "ravdess"
    meta_file = "meta/ravdess.csv"
    other_layouts = ("Actor_01",)  # the official archive, unpacked
    required_columns = ("filename", "actor", "emotion", "target")
    expected = Expected(
        n_clips=1440,
        n_classes=8,
        n_folds=6,
        clips_per_class=(96, 192, 192, 192, 192, 192, 192, 192),
        clips_per_fold=240,
        sample_rate=48_000,
        duration=(2.9, 5.3),
    )
    default_sr = 48_000
    default_duration = 4.5
    align = "center"

    @classmethod
    def read_meta(cls, root: Path) -> pd.DataFrame:
        """Our CSV when it is there, else the labels parsed from the official ``Actor_XX/`` names;
        adds ``fold`` (actor-independent), ``category`` (the emotion) and ``path``.

        Raises:
            DataError: unreadable CSV, missing columns, a name that is not an official one, an
                actor that disagrees with its folder, missing audio.
        """
        root = Path(root)
        if (root / cls.meta_file).is_file():
            meta = cls.read_csv(root / cls.meta_file, cls.required_columns)
            meta = meta.assign(fold=meta["actor"].map(actor_fold), category=meta["emotion"].astype(str))
            meta = meta.astype({"fold": int, "target": int, "filename": str}).reset_index(drop=True)
            cls._validate_values(root / cls.meta_file, meta)
            meta["path"] = cls._find_audio(root, meta)
            return meta
        return cls._read_official(root)

    @classmethod
    def _read_official(cls, root: Path) -> pd.DataFrame:
        files = sorted(p for p in root.glob("Actor_*/*") if p.suffix in cls.audio_exts)
        if not files:
            raise DataError(f"{root}: no audio in Actor_XX/ folders (and no {cls.meta_file})")
        rows, problems = [], []
        for p in files:
            try:
                row = parse_name(p.stem)
            except DataError as exc:
                problems.append(f"{p}: {str(exc).split(': ', 1)[1]}")
                continue
            if p.parent.name != f"Actor_{row['actor']:02d}":
                problems.append(f"{p}: actor {row['actor']:02d} in the name, but the file is in {p.parent.name}")
            rows.append(
                {
                    "filename": f"{p.parent.name}/{p.name}",
                    **row,
                    "fold": actor_fold(row["actor"]),
                    "category": row["emotion"],
                    "path": p,
                }
            )
        if problems:
            raise DataError(f"{root}: {len(problems)} files do not follow the official RAVDESS naming:", problems)
        meta = pd.DataFrame(rows)
        dup = meta["filename"].map(lambda f: Path(f).stem).duplicated()
        if dup.any():
            raise DataError(
                f"{root}: the same recording is there twice (several extensions?):", list(meta.loc[dup, "filename"])
            )
        return meta

    def extra_checks(self) -> list[tuple[str, str, str, bool]]:
        """Clips per actor; in every fold 4 actors, 2 male and 2 female; no actor in two folds."""
        per_actor = self.meta.groupby("actor").size()
        genders = (
            self.meta.drop_duplicates("actor")
            .groupby("fold")["gender"]
            .agg(lambda g: f"{(g == 'male').sum()}m/{(g == 'female').sum()}f")
        )
        actors_in_folds = self.meta.groupby("actor")["fold"].nunique()
        return [
            (
                "clips per actor",
                "24 x 60",
                f"{len(per_actor)} x {per_actor.min()}-{per_actor.max()}",
                len(per_actor) == 24 and (per_actor == 60).all(),
            ),
            (
                "actors per fold (male/female)",
                "6 x 2m/2f",
                ", ".join(genders),
                (genders == "2m/2f").all() and len(genders) == 6,
            ),
            (
                "actors in one fold only",
                "24",
                str(int((actors_in_folds == 1).sum())),
                bool((actors_in_folds == 1).all()),
            ),
        ]
