"""A small deterministic test double of `TeacherBackend` for fast distillation tests (the real model is tested
in tests/teacher and in the `ray`-marked synth test)."""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Sequence

from raytool.distill.call_arguments import ARGUMENTS_PREFIX
from raytool.distill.synth import RATIONALE_PREFIX, TOOLS_PREFIX
from raytool.teacher.backend import CandidateScores, Sampling


class FakeTeacher:
    model_name = "fake-teacher"

    def __init__(self, delay_s: float = 0.0, fail_after: int | None = None) -> None:
        self.delay_s, self.fail_after, self.calls = delay_s, fail_after, 0

    def chat(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[str]:
        return ["\n".join(f"<{m['role']}>{m['content']}" for m in conv) + "\n<assistant>" for conv in conversations]

    def generate(self, prompts: Sequence[str], sampling: Sampling) -> list[str]:
        self._tick()
        out = []
        for prompt in prompts:
            if prompt.endswith(TOOLS_PREFIX):  # name the first candidate listed after the last "Tools" header
                names = re.findall(r"^- ([A-Za-z0-9_ .-]+?):", prompt.split("<user>")[-1], flags=re.MULTILINE)
                out.append(f'{names[0]}"' if names else "")
            elif prompt.endswith(ARGUMENTS_PREFIX):  # the first parameter gets the request's first word (stated),
                user = prompt.split("<user>")[-1]  # and a parameter the tool lacks gets a value (dropped)
                params = re.findall(r"^- ([A-Za-z0-9_.-]+) \(", user, flags=re.MULTILINE)
                word = user.split("Request: ", 1)[1].split()[0].strip(".,?!\"'")
                out.append((f'{params[0]}": "{word}", "' if params else "") + 'zz_not_a_parameter": 1}')
            elif "Rewrite: " in prompt:  # the request without its step words: a rewrite that keeps every value
                request = prompt.rsplit("Rewrite: ", 1)[1].split("\n")[0]
                out.append("Please: " + re.sub(r"\b(?:First|Then|Finally), | from step \d+", "", request))
            elif prompt.endswith(RATIONALE_PREFIX):
                out.append("it fits the request")
            else:
                out.append('{"ranking": []}')
        return out

    def score(self, prompts: Sequence[str], candidates: Sequence[Sequence[str]]) -> CandidateScores:
        self._tick()
        summed = [
            [-(zlib.crc32((p + c).encode()) % 1000) / 100 for c in cs]
            for p, cs in zip(prompts, candidates, strict=True)
        ]
        tokens = [[1] * len(cs) for cs in candidates]
        return CandidateScores(summed, summed, tokens)

    def close(self) -> None:
        pass

    def _tick(self) -> None:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("teacher died")
        time.sleep(self.delay_s)
