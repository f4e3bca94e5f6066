"""Teacher fixtures: the real embedded model, on transformers and on a vLLM engine in a Ray actor."""

from __future__ import annotations

import pytest


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
