"""The vLLM teacher's `dtype: auto`: bf16 only where the hardware computes in bf16, float32 where it is emulated."""

from __future__ import annotations

from pathlib import Path

import pytest

from raytool.teacher.backend import TeacherConfig
from raytool.teacher.vllm_backend import cpu_has_bf16, resolve_dtype

EPYC = "processor : 0\nflags : fpu sse sse2 avx avx2 fma\n"
SAPPHIRE = "processor : 0\nflags : fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n"


@pytest.mark.parametrize(("cpuinfo", "gpus", "expected"), [
    (EPYC, 0, "float32"), (SAPPHIRE, 0, "bfloat16"), (EPYC, 1, "bfloat16"), (None, 0, "float32"),
])  # fmt: skip
def test_auto_picks_bf16_only_on_bf16_hardware(tmp_path: Path, cpuinfo, gpus, expected) -> None:
    path = tmp_path / "cpuinfo"
    if cpuinfo is not None:
        path.write_text(cpuinfo)
    assert resolve_dtype("auto", gpus, str(path)) == expected
    assert resolve_dtype("bfloat16", gpus, str(path)) == "bfloat16"  # an explicit dtype is kept
    assert cpu_has_bf16(str(path)) == (cpuinfo == SAPPHIRE)


def test_the_default_is_auto() -> None:
    assert TeacherConfig().dtype == "auto"
