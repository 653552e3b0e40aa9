"""Plot every registered feature of one ESC-50 clip.

    python -m benchmarks.feature_figure [--clip 1-100038-A-14.wav] [--out out/features/esc50_example.png]

Time in seconds on x; on y each feature's own unit (Hz, note, pitch class, BPM, coefficient).
The wavegram is shown untrained (random initial weights, seed 0).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

import features
from benchmarks.core.io import save_figure
from benchmarks.datasets import create_dataset
from benchmarks.datasets.audio import load_audio


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.feature_figure", description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", default="1-100038-A-14.wav", help="an ESC-50 file name")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--out", default="out/features/esc50_example.png", help="the committed one: results/features/")
    args = ap.parse_args(argv)
    import librosa.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    meta = create_dataset("esc50", data_root=args.data_root).meta
    row = meta.loc[meta.filename == args.clip]
    if row.empty:
        print(f"error: {args.clip} is not in the ESC-50 metadata", file=sys.stderr)
        return 1
    row = row.iloc[0]
    y, _ = load_audio(row.path, sr=44_100, duration=5.0)
    names = features.list_features()
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 2.3 * len(names)), constrained_layout=True)
    torch.manual_seed(0)
    for ax, name in zip(axes, names):
        feat = features.create(name).eval()
        with torch.no_grad():
            x = feat(torch.from_numpy(y[None]))[0, 0].numpy()
        lo, hi = np.percentile(x, [1, 99])  # robust colour range: c0 of MFCC/GFCC would swamp the rest
        img = librosa.display.specshow(
            x,
            sr=feat.config.sr,
            hop_length=getattr(feat.config, "hop_length", 320),
            x_axis="time",
            ax=ax,
            vmin=lo,
            vmax=hi,
            **feat.display_axis(),
        )
        if name == "cqt":  # label the C of every octave
            midi = librosa.hz_to_midi(feat.bin_values())
            cs = [
                int(np.argmin(np.abs(midi - m))) for m in range(12 * int(np.ceil(midi[0] / 12)), int(midi[-1]) + 1, 12)
            ]
            ax.set_yticks(cs, [librosa.midi_to_note(round(midi[k]), unicode=False) for k in cs])
        if name == "tempogram":
            ax.set_ylim(bottom=float(np.nanmin(feat.bin_values()[1:])))
        ax.set_ylabel(feat.bin_label)
        ax.set_xlabel("time (s)")
        ax.set_title(
            f"{name}  {x.shape[0]} x {x.shape[1]}" + ("  (untrained)" if feat.trainable else ""),
            loc="left",
            fontsize=10,
        )
        fig.colorbar(img, ax=ax, label=feat.unit, pad=0.01)
    fig.suptitle(f"ESC-50 {row.filename} ({row.category}), 5 s at 44.1 kHz, hop 320")
    save_figure(fig, args.out, dpi=90)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
