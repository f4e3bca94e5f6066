"""Single-LLM baselines that write their own call arguments: the teacher's values reach the calls as written (a
wrong one makes a malformed call, never a value from elsewhere), each call asks once, after the calls before it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from raytool.agent.cot import cot_episode
from raytool.agent.dfs import dfs_episode
from raytool.agent.own_arguments import arguments_request, read_arguments
from raytool.agent.react import react_episode
from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.envs.reward import MALFORMED, VALID, MadeCall
from raytool.teacher.lockstep import GenerateRequest, ScoreRequest
from raytool.tools.call import is_result_ref
from raytool.tools.spec import ToolSpec

SPEC = ToolSpec(
    "book_room", "Book a hotel room.",
    {"type": "object", "required": ["city", "nights"],
     "properties": {"city": {"type": "string", "description": "a city"}, "nights": {"type": "integer"},
                    "breakfast": {"type": "boolean"}, "notes": {"type": "string", "maxLength": 500}}},
)  # fmt: skip


@pytest.fixture(scope="module")
def cpn_tasks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("own") / "cpn"
    build_tasks(BuildConfig(("cpn",), 2, 6, seed=11, integration_walks=0), log=lambda _: None).save(out)
    return out


def _env(tasks: Path, tmp_path: Path) -> ToolDeciderEnv:
    return ToolDeciderEnv({"tasks": str(tasks), "feature_cache": str(tmp_path / "features"), "top_p": 80,
                           "max_steps": 4})  # fmt: skip


def _literal(env: ToolDeciderEnv, task_index: int) -> tuple[str, dict]:
    """The task's first gold call whose values are all literal: (tool, arguments)."""
    for call in env.tasks[task_index].calls:
        if call.arguments and not any(is_result_ref(v) for v in call.arguments.values()):
            return call.name, dict(call.arguments)
    raise AssertionError("no literal gold call")


def _pick(request: ScoreRequest, name: str | None) -> list[float]:
    """Scores that make the teacher choose `name` (None: finish, the last option)."""
    want = len(request.continuations) - 1 if name is None else request.continuations.index(f" {name}\n")
    return [0.0 if i == want else -5.0 for i in range(len(request.continuations))]


def test_read_arguments_keeps_the_tools_parameters_and_reads_typed_strings() -> None:
    got = read_arguments('{"city": "Oslo", "nights": "3", "breakfast": "true", "pool": 1, "notes": null}', SPEC)
    assert got == {"city": "Oslo", "nights": 3, "breakfast": True}  # unknown "pool" and null "notes" dropped
    assert read_arguments('{"city": "Oslo", "nights": "many"}', SPEC) == {"city": "Oslo", "nights": "many"}
    assert read_arguments("I would book it", SPEC) == {}
    assert read_arguments('{"city": "Rome", "nights": 2', SPEC) == {"city": "Rome", "nights": 2}  # cut off: repaired


def test_the_arguments_request_constrains_to_the_tools_schema_and_shows_earlier_outputs() -> None:
    made = [MadeCall("find_city", {"q": "x"}, VALID, {"city": "Oslo"}), MadeCall("other", {}, MALFORMED)]
    request = arguments_request("Book two nights there", made, SPEC)
    schema = json.loads(request.sampling.json_schema)
    assert set(schema["properties"]) == {"city", "nights", "breakfast", "notes"}
    assert schema["required"] == ["city", "nights"] and schema["additionalProperties"] is False
    assert schema["properties"]["notes"]["maxLength"] == 60  # bounded: a small model cannot run away
    assert request.prefill == "" and request.free_prefill == '{"'  # JSON begun when the teacher cannot constrain
    assert request.sampling.max_tokens == 32 + 48 * 4  # room for every value at its bound: an answer is not cut off
    user = request.messages[-1]["content"]
    assert 'find_city (ok: {"city": "Oslo"})' in user and "other (malformed)" in user
    assert "Request: Book two nights there" in user


def test_react_makes_the_call_with_the_teachers_values(cpn_tasks: Path, tmp_path: Path) -> None:
    env = _env(cpn_tasks, tmp_path)
    name, gold = _literal(env, 0)
    episode = react_episode(env, 0, own_arguments=True)
    request = next(episode)
    asked = episode.send(_pick(request, name))
    assert isinstance(asked, GenerateRequest) and f"Tool: {name}:" in asked.messages[-1]["content"]
    assert not env.made  # nothing called before the values are written
    episode.send(json.dumps(gold))
    assert env.made[-1].name == name and env.made[-1].arguments == gold and env.made[-1].status == VALID

    wrong = react_episode(env, 0, own_arguments=True)  # the same call with a value of the wrong type
    episode = wrong
    request = next(episode)
    episode.send(_pick(request, name))
    bad = {k: [v] if not isinstance(v, list) else "x" for k, v in gold.items()}
    request = episode.send(json.dumps(bad))
    assert env.made[-1].status == MALFORMED and env.made[-1].arguments == bad
    with pytest.raises(StopIteration) as stop:
        episode.send(_pick(request, None))
    assert stop.value.value.calls[0]["arguments"] == bad


def test_react_without_own_arguments_asks_no_values(cpn_tasks: Path, tmp_path: Path) -> None:
    env = _env(cpn_tasks, tmp_path)
    name, gold = _literal(env, 0)
    episode = react_episode(env, 0)
    request = next(episode)
    after = episode.send(_pick(request, name))
    assert isinstance(after, ScoreRequest)  # straight to the next choice: the binder filled the call
    assert env.made[-1].name == name and env.made[-1].arguments == gold  # the gold binder (an oracle env)


def test_cot_asks_each_calls_values_after_the_calls_before_it_ran(cpn_tasks: Path, tmp_path: Path) -> None:
    env = _env(cpn_tasks, tmp_path)
    task = env.tasks[1]
    names = [c.name for c in task.calls]
    episode = cot_episode(env, 1, plan_tools=80, own_arguments=True)
    next(episode)
    plan = json.dumps({"rationale": "x", "tools": names})
    request = episode.send(plan[len('{"rationale": "') :])
    for k, call in enumerate(task.calls):
        assert isinstance(request, GenerateRequest) and f"Tool: {call.name}:" in request.messages[-1]["content"]
        assert len(env.made) == k  # the calls before it have run
        values = {a: v for a, v in call.arguments.items() if not is_result_ref(v)}
        try:
            request = episode.send(json.dumps(values))
        except StopIteration:
            break
    assert [m.name for m in env.made] == names


def test_dfs_writes_a_nodes_values_once_and_replays_them(cpn_tasks: Path, tmp_path: Path) -> None:
    env = _env(cpn_tasks, tmp_path)
    name, gold = _literal(env, 0)
    episode = dfs_episode(env, 0, branching=1, budget=2, own_arguments=True)
    request = next(episode)  # the root's expansion
    asked = episode.send(_pick(request, name))
    assert isinstance(asked, GenerateRequest) and f"Tool: {name}:" in asked.messages[-1]["content"]
    request = episode.send(json.dumps(gold))  # the child's call made with them, then its expansion
    assert isinstance(request, ScoreRequest) and env.made[-1].arguments == gold
    with pytest.raises(StopIteration) as stop:
        episode.send(_pick(request, None))  # finish: the answer is the child's path, replayed with its values
    assert stop.value.value.calls == [{"name": name, "arguments": gold, "status": VALID}]
