"""UrbanSound8K (J. Salamon, C. Jacoby and J. P. Bello, ACM MM 2014): 8,732 urban sound excerpts
of at most 4 s, 10 classes, 10 official folds (slices of one recording share a fold).

Official layout (the release archive, about 6 GB, unpacked): ``<root>/metadata/UrbanSound8K.csv``
(``slice_file_name, fsID, start, end, salience, fold, classID, class``) and
``<root>/audio/fold<k>/<slice_file_name>``. The release keeps each excerpt as Freesound had it:
8-, 16-, 24- and 32-bit integer and float WAVs, mono and stereo, 8 kHz to 192 kHz, many shorter
than 4 s; every clip is decoded, averaged to mono, resampled (soxr) and zero-padded to 4 s.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from benchmarks.datasets._registry import register_dataset
from benchmarks.datasets.base import ClipDataset, Expected

OFFICIAL_COLUMNS = ("slice_file_name", "fsID", "fold", "classID", "class")


@register_dataset
class UrbanSound8K(ClipDataset):
    name = "urbansound8k"
    meta_file = "metadata/UrbanSound8K.csv"
    expected = Expected(
        n_clips=8732,
        n_classes=10,
        n_folds=10,
        # air_conditioner, car_horn, children_playing, dog_bark, drilling, engine_idling, gun_shot, jackhammer,
        # siren, street_music
        clips_per_class=(1000, 429, 1000, 1000, 1000, 1000, 374, 1000, 929, 1000),
        clips_per_fold=(873, 888, 925, 990, 936, 823, 838, 806, 816, 837),
        sample_rate=None,  # the release mixes rates
        duration=(0.0, 4.01),
    )
    download_url = "https://zenodo.org/records/1203745/files/UrbanSound8K.tar.gz"
    default_duration = 4.0

    @classmethod
    def read_meta(cls, root: Path) -> pd.DataFrame:
        """The official CSV as ``filename`` (``fold<k>/<slice>``), ``fold``, ``target``, ``category``,
        ``src_file`` (the Freesound id) and ``path``.

        Raises:
            DataError: missing or unreadable CSV, missing columns, bad values, missing audio.
        """
        csv = Path(root) / cls.meta_file
        raw = cls.read_csv(csv, OFFICIAL_COLUMNS)
        folds = pd.to_numeric(raw["fold"], errors="coerce")
        meta = pd.DataFrame(
            {
                "filename": [f"fold{int(k)}/{n}" if k == k else str(n) for k, n in zip(folds, raw["slice_file_name"])],
                "fold": raw["fold"],
                "target": raw["classID"],
                "category": raw["class"].astype(str),
                "src_file": raw["fsID"],
            }
        )
        cls._validate_values(csv, meta)
        meta = meta.astype({"fold": int, "target": int}).reset_index(drop=True)
        meta["path"] = cls._find_audio(Path(root), meta)
        return meta
