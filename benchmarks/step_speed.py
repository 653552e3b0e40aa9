"""Time one training step (forward, backward, AdamW) of the RANN models in fp32 and bf16, in NCHW
and channels-last order, on this machine's CPU: what bf16 buys here, before a run uses it.

    python -m benchmarks.step_speed                      # results/speed/steps-<cpu>.md and .csv
    python -m benchmarks.step_speed --models rann_cpu_16 --repeats 3 --out out/speed

Random inputs of the standard profile's training shape (32 crops of 64 bins x 160 frames) for the
CPU models, the paper's RANN (``rann_2_2``) on 128 x 256; ms per step, the median of
``--repeats`` after one warm-up. The CPU's model and how it multiplies bf16 (AMX, AVX-512 bf16 or
neither) head the table: what bf16 buys differs from CPU to CPU (:mod:`rann.precision`), so run
this on each CPU you get and compare.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
from pathlib import Path

import torch

from benchmarks.core.io import write_atomic
from benchmarks.core.provenance import command_line, describe_machine, provenance_markdown
from fusion.report import markdown_table, rows_to_csv
from rann import create_model
from rann.precision import cpu_info
from rann.timing import step_times

#: model -> (bins, frames) of its training input: the CPU models at the standard profile's size, the
#: paper's RANN at its 128 bins (a shorter crop than its 4 s, so that it times in minutes on 2 cores)
MODELS = {"rann_cpu_16": (64, 160), "rann_cpu_32": (64, 160), "rann_2_2": (128, 256)}
#: (precision, channels-last) in the table's column order
VARIANTS = (("fp32", False), ("fp32", True), ("bf16", False), ("bf16", True))


def step_ms(model_name: str, shape: tuple[int, int], precision: str, channels_last: bool, batch: int, repeats: int):
    """Median ms of ``repeats`` training steps (after one warm-up) of ``model_name`` on ``batch``
    random inputs ``(batch, 1, *shape)`` with 50 classes."""
    torch.manual_seed(0)
    model = create_model(model_name, 50, in_chans=1, n_bins=shape[0])
    x, y = torch.randn(batch, 1, *shape), torch.randint(0, 50, (batch,))
    times = step_times(model, x, y, precision=precision, channels_last=channels_last, steps=repeats + 1)
    return 1000 * statistics.median(times[1:])  # the first step warms up


def column(precision: str, channels_last: bool) -> str:
    """The CSV column of one variant, e.g. ``bf16_channels_last_ms``."""
    return f"{precision}_{'channels_last' if channels_last else 'nchw'}_ms"


def slug(text: str) -> str:
    """A file-name part of a CPU model: ``Intel(R) Xeon(R) Platinum 8481C`` -> ``intel-xeon-platinum-8481c``."""
    return re.sub(r"[^a-z0-9]+", "-", re.sub(r"\((r|tm)\)|cpu @.*", "", text.lower())).strip("-") or "cpu"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.step_speed", description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(MODELS), help=f"comma list of {', '.join(MODELS)}")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5, help="timed steps per cell (their median)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: every usable core)")
    ap.add_argument("--out", default="results/speed", help="folder of steps-<cpu>.md / .csv")
    args = ap.parse_args(argv)
    models = args.models.split(",")
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        ap.error(f"unknown model {unknown[0]!r}; choices: {', '.join(MODELS)}")
    torch.set_num_threads(args.threads or len(os.sched_getaffinity(0)))
    cpu = cpu_info()
    print(f"{cpu.model}: bf16 via {cpu.bf16}; {torch.get_num_threads()} threads, batch {args.batch}", flush=True)
    rows = []
    for name in models:
        shape = MODELS[name]
        row = {"model": name, "input": f"{shape[0]} x {shape[1]}", "batch": args.batch}
        for precision, cl in VARIANTS:
            ms = step_ms(name, shape, precision, cl, args.batch, args.repeats)
            row[column(precision, cl)] = round(ms, 1)
            print(f"  {name:12s} {precision} {'channels-last' if cl else 'NCHW':13s} {ms:9.1f} ms/step", flush=True)
        row["bf16_speedup"] = round(row["fp32_channels_last_ms"] / row["bf16_channels_last_ms"], 2)
        rows.append(row)
    write(rows, cpu, Path(args.out), args)
    return 0


def write(rows: list[dict], cpu, out: Path, args) -> Path:
    """``steps-<cpu>.md`` and ``.csv`` in ``out``; the markdown's path."""
    machine = describe_machine(("torch",))
    machine["bf16 matrix unit"] = cpu.bf16
    machine["torch threads"] = str(torch.get_num_threads())
    machine["load average at the end (1 min)"] = f"{os.getloadavg()[0]:.1f}"  # other work makes timings noisy
    table = markdown_table(
        [
            [
                r["model"],
                r["input"],
                *(f"{r[column(p, cl)]:,.0f}" for p, cl in VARIANTS),
                f"{r['bf16_speedup']:.2f}x",
            ]
            for r in rows
        ],
        ["model", "input", "fp32 NCHW", "fp32 channels-last", "bf16 NCHW", "bf16 channels-last", "bf16 speed-up (CL)"],
    )
    note = (
        f"ms per training step of {args.batch} clips (forward, backward, AdamW), the median of {args.repeats} after "
        "one warm-up; random inputs, 50 classes. bf16 = `torch.autocast('cpu', torch.bfloat16)` over the forward "
        "pass, loss and optimiser in fp32. The speed-up compares channels-last in both precisions."
    )
    path = out / f"steps-{slug(cpu.model)}.md"
    write_atomic(
        path,
        f"# Training step speed: {cpu.model} (bf16 via {cpu.bf16})\n\n"
        f"{provenance_markdown(command_line(), machine)}\n\n{note}\n\n{table}\n",
    )
    write_atomic(path.with_suffix(".csv"), rows_to_csv([{**r, "cpu": cpu.model, "bf16_unit": cpu.bf16} for r in rows]))
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    sys.exit(main())
