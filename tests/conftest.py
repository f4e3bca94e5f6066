"""Shared fixtures: the real benchmark data, a local Ray cluster, and the real embedded teacher on transformers
and on a vLLM engine in a Ray actor."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared benchmark folder; CI always has it, so its absence fails loudly instead of skipping."""
    from raytool.paths import shared_data_dir

    try:
        return shared_data_dir()
    except FileNotFoundError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray cluster of its own for the `ray`-marked tests (never attaches to a running one)."""
    import ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def transformers_teacher():
    import torch

    from raytool.teacher.transformers_backend import TransformersTeacher

    torch.set_num_threads(1)
    teacher = TransformersTeacher()
    yield teacher
    teacher.close()


@pytest.fixture(scope="session")
def vllm_teacher(ray_local):
    from raytool.teacher.backend import TeacherConfig
    from raytool.teacher.vllm_backend import VLLMTeacher

    teacher = VLLMTeacher(TeacherConfig(num_actors=1, num_cpus=1, batch_size=16))
    yield teacher
    teacher.close()
