"""The served planner: the teacher LLM in a Serve deployment, batching concurrent requests' decomposition calls.

    args: {"teacher": {"backend": "vllm", ...}}            # in the serve config: the app gets a `Planner`
    teacher = ServedTeacher(handle, deadline)              # in the router: a `TeacherBackend` over the handle
    plans, ledgers = drive(episodes, teacher)              # the agent's planner episodes, unchanged

`PlannerDeployment` holds one engine in its replica (`VLLMEngine` for `backend: vllm` — no extra actor —, else the
configured backend). `generate` takes one prompt; an engine loop sends every prompt waiting when the engine is free
to it as one batch (grouped by sampling settings): under load, the requests that arrived during an engine call share
the next. (`@serve.batch` forms its batches as requests arrive, before the engine is free: with a busy engine they
stay near one prompt each.) `ServedTeacher` is the router's side: the
`TeacherBackend` protocol over the deployment handle, bounded by the request's deadline (a 504 when the teacher
does not answer in time).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from ray import serve

from raytool.serving.http import ApiError
from raytool.teacher.backend import Sampling, TeacherConfig, make_teacher


@serve.deployment(name="Planner", ray_actor_options={"num_cpus": 1.0}, max_ongoing_requests=64)
class PlannerDeployment:
    """One teacher engine (module docstring); `teacher` is a `TeacherConfig` record (the YAML `teacher:` keys)."""

    def __init__(self, teacher: dict[str, Any], max_batch: int = 64, wait_s: float = 0.005) -> None:
        config = TeacherConfig.from_dict(teacher)
        if config.backend == "vllm":
            from raytool.teacher.vllm_backend import VLLMEngine

            self.engine = VLLMEngine(config)
        else:
            import torch

            torch.set_num_threads(max(1, int(config.num_cpus)))
            self.engine = make_teacher(config)
        self.model = config.model or "embedded SmolLM2-135M-Instruct"
        self.calls = 0  # engine calls so far
        self.batches: deque[int] = deque(maxlen=1000)  # the last calls' sizes (tests and the benchmark read them)
        self.pending: list[tuple[tuple[str, Sampling], asyncio.Future]] = []
        self.max_batch, self.wait_s = max_batch, wait_s
        self._worker = self._wake = None

    def chat(self, conversations: list[list[dict[str, str]]]) -> list[str]:
        return self.engine.chat(conversations)

    async def generate(self, item: tuple[str, Sampling]) -> str:
        """One prompt; prompts that arrive while the engine is busy wait and go to it together in its next call."""
        if self._worker is None:  # the replica's event loop runs this
            self._wake = asyncio.Event()
            self._worker = asyncio.get_running_loop().create_task(self._engine_loop())
        future = asyncio.get_running_loop().create_future()
        self.pending.append((item, future))
        self._wake.set()
        return await future

    async def _engine_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self.wait_s)  # prompts sent together by concurrent requests join this batch
            batch, self.pending = self.pending[: self.max_batch], self.pending[self.max_batch :]
            if self.pending:
                self._wake.set()
            groups: dict[Sampling, list[tuple[str, asyncio.Future]]] = {}
            for (prompt, sampling), future in batch:
                groups.setdefault(sampling, []).append((prompt, future))
            for sampling, rows in groups.items():
                self.calls += 1
                self.batches.append(len(rows))
                try:
                    texts = await asyncio.to_thread(self.engine.generate, [p for p, _ in rows], sampling)
                except Exception as err:  # every caller of the batch gets the error
                    for _, future in rows:
                        future.done() or future.set_exception(err)
                    continue
                for (_, future), text in zip(rows, texts, strict=True):
                    future.done() or future.set_result(text)

    def info(self) -> dict[str, Any]:
        return {"model": self.model, "calls": self.calls, "batches": list(self.batches)}

    def check_health(self) -> None:
        if self.engine is None:
            raise RuntimeError("planner: no engine")


class ServedTeacher:
    """The `TeacherBackend` protocol over a `PlannerDeployment` handle, bounded by `deadline` (time.monotonic)."""

    structured_outputs = True  # the app sets PlannerConfig.structured false for a backend that cannot

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
