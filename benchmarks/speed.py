"""Time each feature's CPU reference (librosa / spafe / pywavelets, one clip at a time) and its
torch path (one batch) on the same real ESC-50 clips; and the log-mel of every library at the
same settings (the seed's comparison: librosa on the CPU against torchlibrosa on a GPU).

    python -m benchmarks.speed [--device cpu|cuda] [--batch 32] [--features mel,mfcc,...]

Writes ``results/speed/<device>.md`` and ``.csv`` (per feature) and ``logmel_<device>.csv``
(per library): ms per clip, the speed-up, the machine and the command. On ``cuda`` the torch
times include synchronisation but not the host-to-device copy of the batch; librosa always runs
on the CPU. A learned feature (the wavegram) has no reference: its row says so.
"""

from __future__ import annotations

import argparse
import os
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

        def ref():
            return [feat.reference(c) for c in clips[:ref_clips]]

        row["reference_ms_per_clip"] = 1e3 * _time(ref, repeats) / ref_clips
        row["speedup"] = row["reference_ms_per_clip"] / row["torch_ms_per_clip"]
    except NotImplementedError:  # a learned feature: nothing to compare with
        row["reference_ms_per_clip"] = None
        row["speedup"] = None
    return row


def logmel_paths(device: str) -> dict:
    """The log-mel of each library at our ``mel`` defaults (44.1 kHz, n_fft 1024, hop 320, 128 bands,
    50 Hz-14 kHz, power 2, dB with a per-call floor): name -> a function of a ``(batch, samples)`` tensor."""
    import torchaudio
    from torchlibrosa.stft import LogmelFilterBank, Spectrogram

    c = features.create("mel").config
    ours = features.create("mel").to(device).eval()
    ta = torch.nn.Sequential(
        torchaudio.transforms.MelSpectrogram(
            sample_rate=c.sr,
            n_fft=c.n_fft,
            hop_length=c.hop_length,
            f_min=c.fmin,
            f_max=c.fmax,
            n_mels=c.n_mels,
            power=c.power,
            norm="slaney",
            mel_scale="slaney",
        ),
        torchaudio.transforms.AmplitudeToDB(stype="power", top_db=c.top_db),
    ).to(device)
    tl = torch.nn.Sequential(
        Spectrogram(n_fft=c.n_fft, hop_length=c.hop_length, power=c.power, freeze_parameters=True),
        LogmelFilterBank(
            sr=c.sr, n_fft=c.n_fft, n_mels=c.n_mels, fmin=c.fmin, fmax=c.fmax, top_db=c.top_db, freeze_parameters=True
        ),
    ).to(device)
    return {
        "ours (torch.fft)": ours,
        "torchaudio MelSpectrogram + AmplitudeToDB": ta,
        "torchlibrosa Spectrogram + LogmelFilterBank": tl,
    }


def time_logmel(clips: np.ndarray, *, device: str, ref_clips: int, repeats: int) -> list[dict]:
    """ms per clip of librosa (CPU, one clip at a time) and of each torch library (one batch)."""
    ref = features.create("mel")
    rows = [
        {
            "library": "librosa melspectrogram + power_to_db (CPU, per clip)",
            "device": "cpu",
            "ms_per_clip": 1e3 * _time(lambda: [ref.reference(c) for c in clips[:ref_clips]], repeats) / ref_clips,
        }
    ]
    x = torch.from_numpy(np.ascontiguousarray(clips)).to(device)
    for name, module in logmel_paths(device).items():

        def run(module=module):
            with torch.inference_mode():
                module(x)
            if device == "cuda":
                torch.cuda.synchronize()

        rows.append({"library": name, "device": device, "ms_per_clip": 1e3 * _time(run, repeats) / len(clips)})
    for r in rows:
        r["speedup_over_librosa"] = rows[0]["ms_per_clip"] / r["ms_per_clip"]
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--batch", type=int, default=32, help="clips per torch batch")
    ap.add_argument("--ref-clips", type=int, default=8, help="clips timed on the reference path")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per path; the best is reported")
    ap.add_argument("--features", default=",".join(features.list_features()))
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--out", default="out/speed", help="the committed tables: results/speed")
    args = ap.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda but CUDA is not available", file=sys.stderr)
        return 1
    ds = create_dataset("esc50", data_root=args.data_root)
    clips = np.asarray(ds.waveforms()[:: len(ds) // args.batch][: args.batch], dtype=np.float32)
    rows = []
    for name in args.features.split(","):
        row = time_feature(
            name, clips, device=args.device, ref_clips=min(args.ref_clips, args.batch), repeats=args.repeats
        )
        rows.append(row)
        ref = (
            "no reference (learned)"
            if row["reference_ms_per_clip"] is None
            else f"reference {row['reference_ms_per_clip']:8.2f} ms/clip"
        )
        print(
            f"{name:10s} {ref}   torch {row['torch_ms_per_clip']:7.2f} ms/clip"
            + ("" if row["speedup"] is None else f"   speed-up {row['speedup']:6.1f}x"),
            flush=True,
        )
    logmel = time_logmel(clips, device=args.device, ref_clips=min(args.ref_clips, args.batch), repeats=args.repeats)
    for r in logmel:
        print(
            f"log-mel  {r['library']:48s} {r['ms_per_clip']:7.2f} ms/clip  {r['speedup_over_librosa']:6.1f}x librosa",
            flush=True,
        )
    write_report(rows, logmel, args.device, Path(args.out))
    return 0


def write_report(rows: list[dict], logmel: list[dict], device: str, out: Path) -> None:
    """``<device>.md`` and ``.csv`` (per feature) and ``logmel_<device>.csv`` into ``out``."""
    machine = describe_machine(("torch", "librosa", "spafe", "PyWavelets"))
    machine["torch threads"] = str(torch.get_num_threads())
    machine["load average at the end (1 min)"] = (
        f"{os.getloadavg()[0]:.1f}"  # other work on the cores makes timings noisy
    )
    if device == "cuda":
        machine["gpu"] = torch.cuda.get_device_name()
    command = command_line()
    from tabulate import tabulate

    table = tabulate(
        [
            [
                r["feature"],
                r["batch"],
                "— (learned, no reference)"
                if r["reference_ms_per_clip"] is None
                else f"{r['reference_ms_per_clip']:.2f}",
                f"{r['torch_ms_per_clip']:.2f}",
                "—" if r["speedup"] is None else f"{r['speedup']:.1f}x",
            ]
            for r in rows
        ],
        headers=["feature", "batch", "reference (ms/clip)", "torch (ms/clip)", "speed-up"],
        tablefmt="github",
        disable_numparse=True,
    )
    libs = tabulate(
        [[r["library"], r["device"], f"{r['ms_per_clip']:.2f}", f"{r['speedup_over_librosa']:.1f}x"] for r in logmel],
        headers=["log-mel", "device", "ms/clip", "speed-up over librosa"],
        tablefmt="github",
        disable_numparse=True,
    )
    note = (
        "5-s ESC-50 clips at 44.1 kHz; reference = librosa/spafe/pywavelets one clip at a time; "
        "torch = one batch; best of the timed runs."
    )
    write_atomic(
        out / f"{device}.md",
        f"# Feature speed on {device}\n\n{provenance_markdown(command, machine)}\n\n{note}\n\n{table}\n\n"
        "## Log-mel across libraries\n\nThe same settings everywhere (44.1 kHz, n_fft 1024, hop 320, 128 bands, 50 "
        f"Hz-14 kHz, dB).\n\n{libs}\n",
    )
    write_atomic(out / f"logmel_{device}.csv", rows_to_csv([{**r, "command": command} for r in logmel]))
    write_atomic(
        out / f"{device}.csv",
        rows_to_csv(
            [
                {**r, "device": device, "command": command, **{f"machine_{k}": v for k, v in machine.items()}}
                for r in rows
            ]
        ),
    )
    print(f"wrote {out / (device + '.md')}")


if __name__ == "__main__":
    sys.exit(main())
