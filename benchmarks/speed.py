"""Time each feature's CPU reference (librosa / spafe / pywavelets, one clip at a time) and its
torch path (one batch) on the same real ESC-50 clips.

    python -m benchmarks.speed [--device cpu|cuda] [--batch 32] [--features mel,mfcc,...]

Writes ``results/speed/<device>.md`` and ``.csv``: ms per clip for each path, the speed-up,
the machine and the command. On ``cuda`` the torch time includes synchronisation but not the
host-to-device copy of the batch.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

import features
from benchmarks.core.io import write_atomic
from benchmarks.core.provenance import (
    command_line,
    describe_machine,
    provenance_markdown,
)
from benchmarks.datasets import create_dataset
from fusion.report import rows_to_csv


def _time(fn, repeats: int) -> float:
    """Best of ``repeats`` timed calls of ``fn`` after one warm-up call, in seconds (the minimum
    is the least disturbed by other load on a shared machine)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def time_feature(name: str, clips: np.ndarray, *, device: str, ref_clips: int, repeats: int) -> dict:
    """ms per clip of the reference (first ``ref_clips`` clips) and of the torch path (all clips)."""
    feat = features.create(name).to(device).eval()
    x = torch.from_numpy(np.ascontiguousarray(clips)).to(device)

    def torch_path():
        with torch.inference_mode():
            feat(x)
        if device == "cuda":
            torch.cuda.synchronize()

    row = {"feature": name, "batch": len(clips)}
    row["torch_ms_per_clip"] = 1e3 * _time(torch_path, repeats) / len(clips)
    try:
        ref = lambda: [feat.reference(c) for c in clips[:ref_clips]]
        row["reference_ms_per_clip"] = 1e3 * _time(ref, repeats) / ref_clips
        row["speedup"] = row["reference_ms_per_clip"] / row["torch_ms_per_clip"]
    except NotImplementedError:
        row["reference_ms_per_clip"] = float("nan")
        row["speedup"] = float("nan")
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--batch", type=int, default=32, help="clips per torch batch")
    ap.add_argument("--ref-clips", type=int, default=8, help="clips timed on the reference path")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per path; the best is reported")
    ap.add_argument("--features", default=",".join(features.list_features()))
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--out", default="results/speed")
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda but CUDA is not available", file=sys.stderr)
        return 1
    ds = create_dataset("esc50", data_root=args.data_root)
    clips = np.asarray(ds.waveforms()[:: len(ds) // args.batch][: args.batch], dtype=np.float32)
    rows = []
    for name in args.features.split(","):
        row = time_feature(name, clips, device=args.device, ref_clips=min(args.ref_clips, args.batch), repeats=args.repeats)
        rows.append(row)
        print(f"{name:10s} reference {row['reference_ms_per_clip']:8.2f} ms/clip   torch {row['torch_ms_per_clip']:7.2f} ms/clip   speed-up {row['speedup']:6.1f}x", flush=True)
    machine = describe_machine(("torch", "librosa", "spafe", "PyWavelets"))
    machine["torch threads"] = str(torch.get_num_threads())
    if args.device == "cuda":
        machine["gpu"] = torch.cuda.get_device_name()
    command = command_line()
    from tabulate import tabulate

    table = tabulate(
        [[r["feature"], r["batch"], f"{r['reference_ms_per_clip']:.2f}", f"{r['torch_ms_per_clip']:.2f}", f"{r['speedup']:.1f}x"] for r in rows],
        headers=["feature", "batch", "reference (ms/clip)", "torch (ms/clip)", "speed-up"], tablefmt="github", disable_numparse=True,
    )
    note = "5-s ESC-50 clips at 44.1 kHz; reference = librosa/spafe/pywavelets one clip at a time; torch = one batch; best of the timed runs."
    out = Path(args.out)
    write_atomic(out / f"{args.device}.md", f"# Feature speed on {args.device}\n\n{provenance_markdown(command, machine)}\n\n{note}\n\n{table}\n")
    write_atomic(out / f"{args.device}.csv", rows_to_csv([{**r, "device": args.device, "command": command, **{f"machine_{k}": v for k, v in machine.items()}} for r in rows]))
    print(f"wrote {out / (args.device + '.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
