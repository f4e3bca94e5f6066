"""The served planner: the teacher LLM in a Serve deployment, batching concurrent requests' decomposition calls.

    args: {"teacher": {"backend": "vllm", ...}}            # in the serve config: the app gets a `Planner`
    teacher = ServedTeacher(handle, deadline)              # in the router: a `TeacherBackend` over the handle
    plans, ledgers = drive(episodes, teacher)              # the agent's planner episodes, unchanged

`PlannerDeployment` holds one engine in its replica (`VLLMEngine` for `backend: vllm` — no extra actor —, else the
configured backend). `generate` is a `@serve.batch` method: the decomposition prompts of requests arriving together
go to the engine as one batch (grouped by sampling settings). `ServedTeacher` is the router's side: the
`TeacherBackend` protocol over the deployment handle, bounded by the request's deadline (a 504 when the teacher
does not answer in time).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from ray import serve

from raytool.serving.http import ApiError
from raytool.teacher.backend import Sampling, TeacherConfig, make_teacher


@serve.deployment(name="Planner", ray_actor_options={"num_cpus": 1.0}, max_ongoing_requests=64)
class PlannerDeployment:
    """One teacher engine (module docstring); `teacher` is a `TeacherConfig` record (the YAML `teacher:` keys)."""

    def __init__(self, teacher: dict[str, Any]) -> None:
        config = TeacherConfig.from_dict(teacher)
        if config.backend == "vllm":
            from raytool.teacher.vllm_backend import VLLMEngine

            self.engine = VLLMEngine(config)
        else:
            import torch

            torch.set_num_threads(max(1, int(config.num_cpus)))
            self.engine = make_teacher(config)
        self.model = config.model or "embedded SmolLM2-135M-Instruct"
        self.batches: list[int] = []  # sizes of the engine calls (tests and /v1/info read them)

    def chat(self, conversations: list[list[dict[str, str]]]) -> list[str]:
        return self.engine.chat(conversations)

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.01)
    async def generate(self, items: list[tuple[str, Sampling]]) -> list[str]:
        """One prompt per call; the calls that arrive together are answered by one engine call per sampling."""
        groups: dict[Sampling, list[int]] = {}
        for i, (_, sampling) in enumerate(items):
            groups.setdefault(sampling, []).append(i)
        texts: list[str] = [""] * len(items)
        for sampling, rows in groups.items():
            prompts = [items[i][0] for i in rows]
            self.batches.append(len(prompts))
            for i, text in zip(rows, await asyncio.to_thread(self.engine.generate, prompts, sampling), strict=True):
                texts[i] = text
        return texts

    def info(self) -> dict[str, Any]:
        return {"model": self.model, "batches": list(self.batches[-100:])}

    def check_health(self) -> None:
        if self.engine is None:
            raise RuntimeError("planner: no engine")


class ServedTeacher:
    """The `TeacherBackend` protocol over a `PlannerDeployment` handle, bounded by `deadline` (time.monotonic)."""

    def __init__(self, handle, deadline: float) -> None:
        self.handle, self.deadline = handle, deadline

    def _wait(self, response):
        try:
            return response.result(timeout_s=max(self.deadline - time.monotonic(), 0.01))
        except TimeoutError:
            response.cancel()
            raise ApiError(504, "timeout", "the planner did not answer within the request's budget") from None

    def chat(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str]:
        return self._wait(self.handle.chat.remote([list(c) for c in conversations]))

    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[str]:
        responses = [self.handle.generate.remote((prompt, sampling)) for prompt in prompts]
        return [self._wait(response) for response in responses]

    def score(self, prompts, candidates):
        raise NotImplementedError("the served planner only generates (decompositions)")

    def close(self) -> None:
        pass
