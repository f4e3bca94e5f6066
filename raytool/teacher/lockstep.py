"""Drive many tasks' episodes against one teacher in lockstep, so every teacher call is batched.

Each method (ReAct, CoT, DFS, the planner) is written per task as a generator that yields a teacher request
and receives its answer:

    def episode(...):
        logprobs = yield ScoreRequest(messages, suffix, continuations)    # summed log-likelihoods
        text = yield GenerateRequest(messages, sampling, prefill)        # the completion
        return outcome

`drive` advances every generator to its next request, sends all pending score requests to the teacher in one
`score` call and all generate requests in one `generate` call (per sampling setting, or all of them at once to a
teacher with `generate_each`, a setting per prompt: vLLM), hands the answers back, and
repeats until every generator has returned. Order is fixed (task order), so a run is deterministic for a
deterministic teacher. Per task it keeps a `Ledger`: teacher calls (one per request = one prompt), tokens
(prompt + continuations or completion, counted with the teacher's tokenizer) and wall time: the task's own
compute plus an equal share of each teacher batch it took part in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from raytool.teacher.backend import Sampling, TeacherBackend


@dataclass(frozen=True)
class ScoreRequest:
    """Score `continuations` after the templated `messages` + `suffix`; the answer is their summed log-probs."""

    messages: tuple[dict[str, str], ...]
    suffix: str
    continuations: tuple[str, ...]


@dataclass(frozen=True)
class GenerateRequest:
    """Generate after the templated `messages` + `prefill`; the answer is `prefill` + the completion.

    `free_prefill`: when `sampling` asks for a JSON Schema and the teacher cannot constrain its output (no
    `structured_outputs` attribute set true: the transformers backend), the schema is dropped and this prefill
    (the answer's JSON begun) is used instead.
    """

    messages: tuple[dict[str, str], ...]
    sampling: Sampling
    prefill: str = ""
    free_prefill: str = ""


@dataclass
class Ledger:
    """What one task cost: teacher calls (prompts sent), tokens, wall seconds; `events` for traces."""

    teacher_calls: int = 0
    teacher_tokens: int = 0
    wall_s: float = 0.0
    events: list[dict[str, Any]] = field(default_factory=list)


Episode = Generator[Any, Any, Any]


def token_counter(teacher: TeacherBackend) -> Callable[[str], int]:
    """Tokens of a text under the teacher's tokenizer (backends with a local tokenizer), else words x 1.3."""
    tokenizer = getattr(teacher, "tokenizer", None)
    if tokenizer is not None:
        return lambda text: len(tokenizer(text, add_special_tokens=False)["input_ids"])
    return lambda text: int(round(1.3 * len(text.split())))


def drive(episodes: Sequence[Episode], teacher: TeacherBackend | None, log: Callable = print) -> tuple[list, list]:
    """Run every episode to its end (module docstring); returns (their return values, their ledgers)."""
    count = token_counter(teacher) if teacher is not None else (lambda text: 0)
    ledgers = [Ledger() for _ in episodes]
    results: list[Any] = [None] * len(episodes)
    pending: dict[int, Any] = {}

    def advance(i: int, answer: Any, first: bool = False) -> None:
        start = time.perf_counter()
        try:
            request = next(episodes[i]) if first else episodes[i].send(answer)
            pending[i] = request
        except StopIteration as stop:
            results[i] = stop.value
            pending.pop(i, None)
        ledgers[i].wall_s += time.perf_counter() - start

    for i in range(len(episodes)):
        advance(i, None, first=True)
    rounds = 0
    while pending:
        if teacher is None:
            raise RuntimeError("an episode asked the teacher, but no teacher was given")
        answers: dict[int, Any] = {}
        scores = [(i, r) for i, r in sorted(pending.items()) if isinstance(r, ScoreRequest)]
        if scores:
            answers.update(_score(teacher, scores, ledgers, count))
        by_sampling: dict[tuple, list] = {}
        mixed = hasattr(teacher, "generate_each")  # a setting per prompt in one batch: all in one group
        for i, r in sorted(pending.items()):
            if isinstance(r, GenerateRequest):
                r = constrainable(r, teacher)
                by_sampling.setdefault(() if mixed else (r.sampling, r.prefill != ""), []).append((i, r))
            elif not isinstance(r, ScoreRequest):
                raise TypeError(f"episode {i} yielded {type(r).__name__}, not a ScoreRequest or GenerateRequest")
        for group in by_sampling.values():
            answers.update(_generate(teacher, group, ledgers, count))
        for i in sorted(answers):
            advance(i, answers[i])
        rounds += 1
        if rounds % 10 == 0:
            log(f"[agent] {rounds} teacher rounds, {len(pending)} of {len(episodes)} episodes still running")
    return results, ledgers


def constrainable(request: GenerateRequest, teacher) -> GenerateRequest:
    """`request` as `teacher` can run it: without its JSON Schema (and with its free prefill) when the teacher cannot
    constrain generation."""
    if not request.sampling.json_schema or getattr(teacher, "structured_outputs", False):
        return request
    return replace(request, sampling=replace(request.sampling, json_schema=""), prefill=request.free_prefill)


def _score(teacher, batch, ledgers, count) -> dict[int, list[float]]:
    prompts = [p + r.suffix for p, (_, r) in zip(teacher.chat([r.messages for _, r in batch]), batch, strict=True)]
    start, began = time.perf_counter(), time.time()
    scores = teacher.score(prompts, [list(r.continuations) for _, r in batch])
    share = (time.perf_counter() - start) / len(batch)
    event = {"kind": "llm", "what": "score", "start": began, "end": time.time(), "batch": len(batch)}
    out = {}
    for row, ((i, _), prompt) in enumerate(zip(batch, prompts, strict=True)):
        ledgers[i].teacher_calls += 1
        tokens = count(prompt) + sum(scores.tokens[row])
        ledgers[i].teacher_tokens += tokens
        ledgers[i].wall_s += share
        ledgers[i].events.append(dict(event, tokens=tokens))
        out[i] = list(scores.summed[row])
    return out


def _generate(teacher, batch, ledgers, count) -> dict[int, str]:
    prompts = [p + r.prefill for p, (_, r) in zip(teacher.chat([r.messages for _, r in batch]), batch, strict=True)]
    start, began = time.perf_counter(), time.time()
    samplings = [r.sampling for _, r in batch]
    if hasattr(teacher, "generate_each"):
        texts = teacher.generate_each(prompts, samplings)
    else:  # one setting per batch (`drive` groups them)
        texts = teacher.generate(prompts, samplings[0])
    share = (time.perf_counter() - start) / len(batch)
    event = {"kind": "llm", "what": "generate", "start": began, "end": time.time(), "batch": len(batch)}
    out = {}
    for (i, r), prompt, text in zip(batch, prompts, texts, strict=True):
        ledgers[i].teacher_calls += 1
        tokens = count(prompt) + count(text)
        ledgers[i].teacher_tokens += tokens
        ledgers[i].wall_s += share
        ledgers[i].events.append(dict(event, tokens=tokens))
        out[i] = r.prefill + text
    return out
