"""The arithmetic of a run's forward pass, and what this CPU can do with it.

``precision="bf16"`` runs the forward pass under ``torch.autocast`` in bfloat16 (oneDNN on the
CPU, cuDNN on CUDA); the loss, the optimiser state, the EMA and the saved weights stay fp32.
On a CPU with AMX tile units (Intel Xeon, Sapphire Rapids and later: ``amx_bf16`` among the
flags) a training step is 1.6-2.4x faster than in fp32. Without AMX it depends on the CPU: on an
Intel CPU with oneDNN capped by ``ONEDNN_MAX_CPU_ISA`` bf16 was 1.3x slower with AVX-512 bf16
instructions and 9.5x slower with AVX2 only, while an AMD EPYC with native AVX-512 bf16 ran it
1.7-2.2x faster (``results/speed/steps-*.md``, ``python -m benchmarks.step_speed``). bf16 is
trained by default only on AMX CPUs, where its speed and accuracy were checked; elsewhere a bf16
run is refused unless forced (:func:`check_precision`), never used silently.
"""

from __future__ import annotations

import contextlib
import functools
import platform
from dataclasses import dataclass
from pathlib import Path

import torch

from benchmarks.core.errors import ParameterError

PRECISIONS = ("fp32", "bf16")


@dataclass(frozen=True)
class CpuInfo:
    """This CPU: its model name and whether it multiplies bfloat16 matrices in AMX tiles or with
    AVX-512 bf16 instructions."""

    model: str
    amx: bool
    avx512_bf16: bool

    @property
    def bf16(self) -> str:
        """``"amx"``, ``"avx512_bf16"`` or ``"none"``: how this CPU computes bf16 matrices."""
        return "amx" if self.amx else "avx512_bf16" if self.avx512_bf16 else "none"


def parse_cpuinfo(text: str) -> CpuInfo:
    """The :class:`CpuInfo` of a ``/proc/cpuinfo`` text (its first processor)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    flags = set(fields.get("flags", "").split())
    return CpuInfo(
        model=fields.get("model name", platform.processor() or "unknown"),
        amx="amx_bf16" in flags and "amx_tile" in flags,
        avx512_bf16="avx512_bf16" in flags,
    )


@functools.cache
def cpu_info() -> CpuInfo:
    """This machine's CPU, from ``/proc/cpuinfo`` (elsewhere: torch's view of its vector unit)."""
    try:
        return parse_cpuinfo(Path("/proc/cpuinfo").read_text())
    except OSError:
        amx = bool(getattr(torch.backends.cpu, "get_cpu_capability", lambda: "")() == "AVX512_AMX")
        return CpuInfo(model=platform.processor() or "unknown", amx=amx, avx512_bf16=amx)


def check_precision(precision: str, device: str = "cpu", *, force: bool = False, cpu: CpuInfo | None = None) -> None:
    """Refuse, before training, a precision this machine cannot run fast: bf16 on a CPU without
    AMX (``force``: run it anyway, e.g. to check numbers), or an unknown name.

    Raises:
        ParameterError: one line naming the CPU and what to do instead.
    """
    if precision not in PRECISIONS:
        raise ParameterError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "bf16" or device != "cpu" or force:
        return
    cpu = cpu or cpu_info()
    if not cpu.amx:
        unit = "AVX-512 bf16 instructions only" if cpu.avx512_bf16 else "no bf16 instructions: up to 9.5x slower"
        raise ParameterError(
            f"precision=bf16 on a CPU without AMX ({cpu.model}, {unit}): bf16 runs train by default only on AMX "
            f"CPUs; use --recipe precision=fp32, run it on a CPU with AMX (amx_bf16 in lscpu's flags), or "
            f"--force-precision to run it here (python -m benchmarks.step_speed times fp32 and bf16 on this CPU)"
        )


def autocast(precision: str, device: str | torch.device = "cpu"):
    """The context of a forward pass in ``precision``: bf16 autocast, or nothing for fp32."""
    if precision == "bf16":
        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
    return contextlib.nullcontext()
