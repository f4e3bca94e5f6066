"""The lockstep driver batches every pending request, hands answers back in order and keeps per-task ledgers."""

from __future__ import annotations

import pytest

from raytool.teacher.backend import CandidateScores, Sampling
from raytool.teacher.lockstep import GenerateRequest, ScoreRequest, drive


class CountingTeacher:
    """A test double: scores = minus the candidate's length; generation answers "done"."""

    model_name = "double"

    def __init__(self) -> None:
        self.score_batches: list[int] = []
        self.generate_batches: list[int] = []

    def chat(self, conversations):
        return [" ".join(m["content"] for m in c) for c in conversations]

    def score(self, prompts, candidates):
        self.score_batches.append(len(prompts))
        summed = [[-float(len(c)) for c in cands] for cands in candidates]
        return CandidateScores(summed, summed, [[1] * len(c) for c in candidates])

    def generate(self, prompts, sampling):
        self.generate_batches.append(len(prompts))
        return ["done" for _ in prompts]

    def close(self):
        pass


def _episode(rounds: int, tag: str):
    picks = []
    for _ in range(rounds):
        scores = yield ScoreRequest(({"role": "user", "content": tag},), "", ("aaa", "b", "cc"))
        picks.append(scores.index(max(scores)))
    text = yield GenerateRequest(({"role": "user", "content": f"say {tag}"},), Sampling(max_tokens=4), "> ")
    return picks, text


def test_requests_of_all_episodes_go_out_in_one_batch_per_round() -> None:
    teacher = CountingTeacher()
    results, ledgers = drive([_episode(2, "x"), _episode(1, "y"), _episode(0, "z")], teacher, log=lambda m: None)
    assert results == [([1, 1], "> done"), ([1], "> done"), ([], "> done")]
    assert teacher.score_batches == [2, 1]  # round 1: x and y; round 2: x only
    assert teacher.generate_batches == [1, 1, 1]  # z generates in round 1, y in round 2, x in round 3
    same = CountingTeacher()
    drive([_episode(1, "a"), _episode(1, "b"), _episode(1, "c")], same)
    assert same.score_batches == [3] and same.generate_batches == [3]
    assert [g.teacher_calls for g in ledgers] == [3, 2, 1]
    assert all(g.teacher_tokens > 0 and g.wall_s >= 0 for g in ledgers)
    assert all(e["end"] >= e["start"] for g in ledgers for e in g.events)


def test_episodes_without_teacher_calls_need_no_teacher() -> None:
    def quiet():
        return 7
        yield

    results, ledgers = drive([quiet()], None)
    assert results == [7] and ledgers[0].teacher_calls == 0


def test_a_wrong_request_type_is_named() -> None:
    def bad():
        yield "not a request"

    with pytest.raises(TypeError, match="episode 0 yielded str"):
        drive([bad()], CountingTeacher())


class SchemaTeacher(CountingTeacher):
    """Records what each generate call was given."""

    def __init__(self, structured: bool) -> None:
        super().__init__()
        self.structured_outputs = structured
        self.seen: list[tuple[str, str]] = []

    def generate(self, prompts, sampling):
        self.seen += [(p, sampling.json_schema) for p in prompts]
        return ["{}" for _ in prompts]


def _json_episode():
    text = yield GenerateRequest(({"role": "user", "content": "plan"},), Sampling(max_tokens=8, json_schema='{"a": 1}'),
                                 free_prefill='{"subtasks": [')  # fmt: skip
    return text


@pytest.mark.parametrize("structured", [True, False])
def test_a_json_schema_reaches_a_teacher_that_can_constrain_else_the_free_prefill_is_used(structured: bool) -> None:
    teacher = SchemaTeacher(structured)
    (answer,), _ = drive([_json_episode()], teacher)
    ((prompt, schema),) = teacher.seen
    if structured:
        assert schema == '{"a": 1}' and prompt == "plan" and answer == "{}"
    else:
        assert schema == "" and prompt == 'plan{"subtasks": [' and answer == '{"subtasks": [{}'


def test_a_teacher_with_a_setting_per_prompt_gets_every_generate_request_in_one_call() -> None:
    """Requests with different settings (each its own JSON Schema) go out together to `generate_each`; a teacher
    without it gets one `generate` call per setting."""

    class EachTeacher(CountingTeacher):
        def __init__(self) -> None:
            super().__init__()
            self.settings: list[list[Sampling]] = []

        def generate_each(self, prompts, samplings):
            self.settings.append(list(samplings))
            return [f"<{s.max_tokens}>" for s in samplings]

    def asks(tokens: int):
        text = yield GenerateRequest(({"role": "user", "content": "x"},), Sampling(max_tokens=tokens), "> ")
        return text

    each = EachTeacher()
    results, _ = drive([asks(3), asks(5), asks(3)], each, log=lambda m: None)
    assert results == ["> <3>", "> <5>", "> <3>"]  # each answer its own request's, prefill first
    assert [[s.max_tokens for s in batch] for batch in each.settings] == [[3, 5, 3]] and not each.generate_batches
    plain = CountingTeacher()
    drive([asks(3), asks(5), asks(3)], plain, log=lambda m: None)
    assert sorted(plain.generate_batches) == [1, 2]  # one call per setting
