"""What a sound-event-detection model sees: a few test clips' log-mel with, under each, the
framewise probabilities of the model's top classes.

    python -m benchmarks.sed_figure results/runs/esc50/quick/mel/fold1-seed0-sed_resnest_cpu-<id> \\
        [--clips 4] [--out out/esc50/quick/sed_example.png]

Needs the run's trained weights (``ema.pt``, never committed: train the run on this machine,
e.g. ``python -m benchmarks.esc50 --features mel --baselines sed_resnest_cpu``). The clips are
drawn from the run's test fold (seeded), one per class.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from benchmarks.core.errors import RannBenchError
from benchmarks.core.io import save_figure
from benchmarks.datasets import create_dataset
from rann.build import load_weights
from rann.runs import read_config
from rann.training import RunInputs, build_model


def pick_clips(targets: np.ndarray, test_idx: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` test clips of ``n`` different classes, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    chosen, classes = [], set()
    for i in rng.permutation(test_idx):
        if targets[i] not in classes:
            chosen.append(i)
            classes.add(targets[i])
        if len(chosen) == n:
            break
    return np.asarray(chosen)


def plot(
    mel: np.ndarray,
    frame_probs: np.ndarray,
    clip_probs: np.ndarray,
    names: list[str],
    truths: list[str],
    classes: list[str],
    hop_seconds: float,
    path: Path,
    top: int = 3,
) -> None:
    """``mel`` ``(clips, n_mels, frames)`` dB; ``frame_probs`` ``(clips, frames, n_classes)``;
    ``clip_probs`` ``(clips, n_classes)``: one column per clip, log-mel above, the ``top`` classes'
    framewise probabilities below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(mel)
    fig, axes = plt.subplots(
        2, n, figsize=(4.2 * n, 5.2), sharex="col", gridspec_kw={"height_ratios": [1.2, 1]}, constrained_layout=True
    )
    axes = np.asarray(axes).reshape(2, n)
    t = np.arange(mel.shape[-1]) * hop_seconds
    for k in range(n):
        top_k = np.argsort(clip_probs[k])[::-1][:top]
        ax = axes[0, k]
        ax.imshow(mel[k], origin="lower", aspect="auto", cmap="magma", extent=(0, t[-1] + hop_seconds, 0, mel.shape[1]))
        ax.set_title(f"{names[k]}\ntrue: {truths[k]}, predicted: {classes[top_k[0]]}", fontsize=8)
        ax.set_ylabel("mel bin" if k == 0 else "")
        ax = axes[1, k]
        for c in top_k:
            ax.plot(t, frame_probs[k, :, c], label=f"{classes[c]} (clip {clip_probs[k, c]:.2f})")
        ax.set_ylim(0, 1)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("framewise probability" if k == 0 else "")
        ax.legend(fontsize=7, loc="upper right")
    save_figure(fig, path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.sed_figure", description=__doc__.split("\n\n")[0])
    ap.add_argument("run", help="a completed run folder of an SED model (with its ema.pt)")
    ap.add_argument("--clips", type=int, default=4)
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--out", default=None, help="default out/<dataset>/<profile>/sed_example.png")
    args = ap.parse_args(argv)
    folder = Path(args.run)
    weights = folder / "ema.pt"
    if not weights.is_file():
        print(
            f"error: {weights} is missing: the trained weights are never committed; train the run on this machine "
            "first",
            file=sys.stderr,
        )
        return 1
    try:
        cfg = read_config(folder)
        dataset = create_dataset(cfg.dataset, data_root=args.data_root, sr=cfg.sr, cache_dir=args.cache_dir)
        inputs = RunInputs(cfg, dataset, progress=False)
        model = build_model(cfg, inputs)
        if not hasattr(model, "framewise"):
            print(f"error: {cfg.model} gives no framewise outputs (not a sound-event-detection model)", file=sys.stderr)
            return 1
        model = load_weights(model, cfg, folder)
    except RannBenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    idx = pick_clips(inputs.targets, inputs.test_idx, args.clips)
    x = inputs.batch(idx)
    with torch.no_grad():
        clip_probs = torch.softmax(model(x), dim=1).numpy()
    frame_probs = model.framewise(x, activation="sigmoid" if cfg.recipe.mix_clips > 1 else "softmax").numpy()
    mel = (x * inputs.std + inputs.mean)[:, 0].numpy()  # the cached dB values, un-normalised
    out = Path(args.out or f"out/{cfg.dataset}/{cfg.profile}/sed_example.png")
    names = [dataset.filenames[i] for i in idx]
    truths = [dataset.classes[inputs.targets[i]] for i in idx]
    plot(mel, frame_probs, clip_probs, names, truths, dataset.classes, inputs.hop / cfg.sr, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
