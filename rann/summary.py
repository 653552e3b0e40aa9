"""Parameter counts, output feature-map sizes and multiply-adds of the RANN family, beside the
paper's Table XII (AudioSet, 527 classes); then every other registered model (the CPU RANNs, the
simple CNN, the SED models) at the quick profile's input.

    python -m rann.summary [--frames 1024] [--bins 128]
"""

from __future__ import annotations

import argparse
import sys

import torch
from torch import nn

from rann import create_model, list_models

#: The paper's Table XII (parameters, multiply-adds x 1e9); RANN-4x4-6 is evaluated on 4-s crops.
PAPER_TABLE_XII = {
    "RANN-4x4-6": (54_919_313, 23.569),
    "RANN-8x1-6": (54_435_473, 101.231),
    "RANN-8x2-6": (54_532_241, 61.745),
    "RANN-8x4-6": (54_919_313, 47.137),
    "RANN-8x8-6": (56_467_601, 42.399),
    "RANN-8x4-5": (38_198_545, 32.743),
    "RANN-8x4-4": (24_504_849, 20.964),
}


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def multiply_adds(model: nn.Module, x: torch.Tensor) -> tuple[int, tuple[int, ...]]:
    """Multiply-adds of the convolutions and linear layers for one input ``x`` (batch 1), and
    the shape ``(F', T')`` of the last feature map."""
    total, fmap = 0, ()

    def count(m, inp, out):
        nonlocal total
        per_output = (
            m.in_features
            if isinstance(m, nn.Linear)
            else (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        )
        total += out.numel() * per_output

    def keep_shape(m, inp, out):
        nonlocal fmap
        fmap = tuple(out.shape[2:])

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    if hasattr(model, "blocks"):
        hooks.append(model.blocks.register_forward_hook(keep_shape))
    model.eval()
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return total, fmap


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rann.summary", description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=1024, help="input frames for 8-s crops (4-s crops get half)")
    ap.add_argument("--bins", type=int, default=128)
    ap.add_argument("--classes", type=int, default=527)
    args = ap.parse_args(argv)
    from tabulate import tabulate

    rows = []
    for name, (p_params, p_macs) in PAPER_TABLE_XII.items():
        model = create_model(name, num_classes=args.classes)
        t_c = int(name.split("-")[1].split("x")[0])
        frames = args.frames * t_c // 8
        macs, fmap = multiply_adds(model, torch.zeros(1, 1, args.bins, frames))
        n = count_parameters(model)
        rows.append(
            [
                name,
                frames,
                f"{fmap[0]} x {fmap[1]}",
                f"{n:,}",
                f"{p_params:,}",
                "yes" if n == p_params else "NO",
                f"{macs / 1e9:.3f}",
                f"{p_macs:.3f}",
            ]
        )
    print(
        tabulate(
            rows,
            headers=["system", "frames", "F x T", "parameters", "paper", "equal", "multiply-adds (1e9)", "paper (1e9)"],
            tablefmt="github",
            disable_numparse=True,
        )
    )
    print(
        "\nOther registered models at the quick input (1 x 64 bins x 216 frames, 50 classes); multiply-adds of the "
        "convolutions and linear layers (a GRU's are not counted):\n"
    )
    print(
        tabulate(
            other_models(),
            headers=["model", "parameters", "multiply-adds (1e9)"],
            tablefmt="github",
            disable_numparse=True,
        )
    )
    return 0


def other_models(bins: int = 64, frames: int = 216, classes: int = 50) -> list[list[str]]:
    """``[name, parameters, multiply-adds]`` of every registered model outside the paper's
    ``rann_<t_m>_<W>`` grid, for one ``(1, bins, frames)`` input."""
    rows = []
    for name in list_models():
        if name.startswith("rann_") and name[5].isdigit():
            continue
        model = create_model(name, num_classes=classes, n_bins=bins)
        macs, _ = multiply_adds(model, torch.zeros(1, 1, bins, frames))
        rows.append([name, f"{count_parameters(model):,}", f"{macs / 1e9:.3f}"])
    return rows


if __name__ == "__main__":
    sys.exit(main())
