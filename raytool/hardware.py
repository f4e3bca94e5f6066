"""What this machine's CPU can compute natively, read once from /proc/cpuinfo (Linux; elsewhere: nothing)."""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def cpu_has_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether this CPU computes in bf16 natively (AVX512-BF16 or AMX flags); False when it cannot be told."""
    try:
        flags = next((line for line in Path(cpuinfo).read_text().splitlines() if line.startswith("flags")), "")
    except OSError:
        return False
    return bool({"avx512_bf16", "amx_bf16"} & set(flags.split()))
