"""ESC-50 (K. J. Piczak, ACM MM 2015): 2,000 five-second environmental clips, 50 classes,
5 official folds (clips cut from the same Freesound recording share a fold).

Official layout: ``<root>/meta/esc50.csv`` and ``<root>/audio/<fold>-<src>-<take>-<target>.wav``;
the same stem as ``.flac`` or ``.ogg`` is accepted too.
"""

from benchmarks.datasets._registry import register_dataset
from benchmarks.datasets.base import ClipDataset, Expected


@register_dataset
class ESC50(ClipDataset):
    name = "esc50"
    meta_file = "meta/esc50.csv"
    required_columns = ("filename", "fold", "target", "category", "src_file")
    expected = Expected(
        n_clips=2000,
        n_classes=50,
        n_folds=5,
        clips_per_class=40,
        clips_per_fold=400,
        sample_rate=44_100,
        duration=5.0,
    )
    download_url = "https://github.com/karolpiczak/ESC-50/archive/master.zip"
