"""Published numbers of the RANN paper (seed 003's slides), copied as facts, labelled as the paper's.

ESC-50: 5-fold cross-validation, networks trained from scratch. RAVDESS: the paper's split is
not stated; its table has log-mel alone and three fused systems.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Our feature names -> the paper's row labels.
PAPER_NAMES = {
    "mel": "Mel Spectrogram",
    "mfcc": "MFCC",
    "cqt": "CQT",
    "gfcc": "GFCC",
    "wavegram": "Wavegram",
    "chroma": "Chromagram",
    "tempogram": "Tempogram",
}


def display_name(features) -> str:
    """A feature set as the paper names it, e.g. ``"Mel Spectrogram + MFCC + CQT"``."""
    return " + ".join(PAPER_NAMES.get(f, f) for f in features)


#: The paper's ESC-50 per-feature table: feature -> (accuracy, mAP, F1).
ESC50_PER_FEATURE = {
    "mel": (0.878, 0.945, 0.876),
    "mfcc": (0.853, 0.916, 0.850),
    "cqt": (0.823, 0.889, 0.819),
    "gfcc": (0.813, 0.896, 0.809),
    "wavegram": (0.813, 0.889, 0.806),
    "chroma": (0.708, 0.720, 0.707),
    "tempogram": (0.455, 0.467, 0.453),
}

_M, _F, _C, _G, _W = "mel", "mfcc", "cqt", "gfcc", "wavegram"

#: The paper's ESC-50 combination table, in its row order: features -> accuracy by method.
ESC50_COMBINATIONS: list[tuple[tuple[str, ...], dict[str, float]]] = [
    (feats, {"wa": wa, "ds": ds, "ids": ids})
    for feats, wa, ds, ids in [
        ((_M, _F), 0.896, 0.890, 0.887),
        ((_M, _C), 0.886, 0.882, 0.883),
        ((_M, _G), 0.892, 0.881, 0.882),
        ((_M, _W), 0.892, 0.882, 0.886),
        ((_F, _C), 0.881, 0.879, 0.880),
        ((_F, _G), 0.875, 0.873, 0.874),
        ((_F, _W), 0.872, 0.870, 0.870),
        ((_C, _G), 0.863, 0.866, 0.860),
        ((_C, _W), 0.856, 0.869, 0.856),
        ((_G, _W), 0.851, 0.849, 0.850),
        ((_M, _F, _C), 0.904, 0.897, 0.897),
        ((_M, _F, _G), 0.901, 0.894, 0.895),
        ((_M, _F, _W), 0.904, 0.897, 0.899),
        ((_M, _C, _G), 0.897, 0.890, 0.886),
        ((_M, _C, _W), 0.900, 0.893, 0.895),
        ((_M, _G, _W), 0.898, 0.886, 0.883),
        ((_F, _C, _G), 0.891, 0.885, 0.885),
        ((_F, _C, _W), 0.891, 0.889, 0.887),
        ((_F, _G, _W), 0.887, 0.883, 0.884),
        ((_C, _G, _W), 0.876, 0.877, 0.869),
        ((_M, _F, _C, _G), 0.900, 0.897, 0.898),
        ((_M, _C, _G, _W), 0.898, 0.893, 0.891),
        ((_M, _F, _G, _W), 0.901, 0.895, 0.895),
        ((_M, _F, _C, _W), 0.910, 0.904, 0.904),
        ((_F, _C, _G, _W), 0.891, 0.891, 0.890),
        ((_M, _F, _C, _G, _W), 0.910, 0.901, 0.898),
    ]
]


@dataclass(frozen=True)
class PaperTable:
    """One dataset's published numbers: per-feature accuracy and fused systems' accuracy by method."""

    dataset: str
    per_feature: dict[str, float]
    combinations: list[tuple[tuple[str, ...], dict[str, float]]]

    def combination(self, features) -> dict[str, float] | None:
        """The paper's accuracies for this feature set (any order), or ``None`` if it has no such row."""
        key = frozenset(features)
        return next((accs for feats, accs in self.combinations if frozenset(feats) == key), None)


ESC50 = PaperTable("ESC-50", {f: v[0] for f, v in ESC50_PER_FEATURE.items()}, ESC50_COMBINATIONS)

#: The paper's RAVDESS table (speech emotion, 8 classes); the previous best it cites is 0.721.
RAVDESS = PaperTable(
    "RAVDESS", {"mel": 0.739}, [((_M, _F, _C), {"wa": 0.772, "ds": 0.768}), ((_M, _F, _C, _G, _W), {"wa": 0.774})]
)

#: Dataset name -> the paper's table.
TABLES = {"esc50": ESC50, "ravdess": RAVDESS}


def esc50_combination(features) -> dict[str, float] | None:
    """The paper's ESC-50 accuracies for this feature set (any order), or ``None``."""
    return ESC50.combination(features)
