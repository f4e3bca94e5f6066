"""The vLLM teacher's KV-cache block size: 32 on CPU unless set (prefix-cache hits reuse whole blocks only)."""

from __future__ import annotations

import pytest

from raytool.teacher.backend import TeacherConfig
from raytool.teacher.vllm_backend import CPU_BLOCK_SIZE, FEW_CPUS, resolve_block_size, resolve_reserved_cpus


def test_the_cpu_default_is_32_and_gpus_keep_the_engines_own() -> None:
    assert TeacherConfig().block_size == 0
    assert resolve_block_size(0, 0.0) == CPU_BLOCK_SIZE == 32
    assert resolve_block_size(0, 1.0) is None  # vLLM picks for its GPU attention backend
    assert resolve_block_size(128, 0.0) == 128 and resolve_block_size(64, 1.0) == 64  # a size given is kept


def test_a_negative_block_size_is_refused_naming_the_key() -> None:
    with pytest.raises(ValueError, match="teacher.block_size"):
        TeacherConfig(block_size=-32)
    assert TeacherConfig.from_dict({"block_size": 128}).block_size == 128


def test_reserved_cpus_default_to_every_core_on_a_small_machine_and_a_bad_count_is_refused() -> None:
    assert TeacherConfig().reserved_cpus is None  # auto
    assert resolve_reserved_cpus(None, 0.0, 2) == 0 and resolve_reserved_cpus(None, 0.0, FEW_CPUS) == 0
    assert resolve_reserved_cpus(None, 0.0, FEW_CPUS + 1) is None  # vLLM keeps its scheduler's core on larger machines
    assert resolve_reserved_cpus(-1, 0.0, 2) is None  # vLLM's own, asked for
    assert resolve_reserved_cpus(1, 0.0, 64) == 1 and resolve_reserved_cpus(0, 0.0, 64) == 0  # a count given is kept
    assert resolve_reserved_cpus(None, 1.0, 2) is None and resolve_reserved_cpus(0, 1.0, 2) is None  # not on GPUs
    assert TeacherConfig.from_dict({"reserved_cpus": 0}).reserved_cpus == 0
    assert TeacherConfig.from_dict({"reserved_cpus": None}).reserved_cpus is None
    with pytest.raises(ValueError, match="teacher.reserved_cpus"):
        TeacherConfig(reserved_cpus=-2)
