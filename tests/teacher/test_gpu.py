"""The teacher's GPU path (`RAYTOOL_STACK=gpu`: vllm + CUDA torch): a vLLM engine on one GPU in a Ray actor, in
bfloat16, ranks and generates like the CPU engine. `gpu`-marked: skipped, with the reason, where CUDA is absent
(`tests/conftest.py`), so CI's CPU machine never depends on it."""

from __future__ import annotations

import pytest

from raytool.teacher.backend import Sampling, TeacherConfig

from .test_real_model import CAPITAL


@pytest.mark.gpu
@pytest.mark.ray
def test_vllm_engine_on_one_gpu(ray_local) -> None:
    from raytool.teacher.vllm_backend import VLLMTeacher

    teacher = VLLMTeacher(TeacherConfig(num_actors=1, num_cpus=1, num_gpus=1, gpu_memory_utilization=0.3))
    try:
        paris, london, banana = teacher.score([CAPITAL[0]], [CAPITAL[1]]).summed[0]
        assert paris > london > banana
        assert paris == pytest.approx(-0.26, abs=0.15)  # bfloat16 on the GPU vs float32 on the CPU
        prompts = teacher.chat([[{"role": "user", "content": "Name one planet."}]] * 8)
        texts = teacher.generate(prompts, Sampling(max_tokens=12))
        assert len(texts) == 8 and all(t.strip() for t in texts)
    finally:
        teacher.close()
