"""Macro-actions in `ToolDeciderEnv`: skills offered before their first tool, one decision running several calls,
ignored outside a task's pool, and no change at all without a skills file."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.envs.macros import Macro, load_macros
from raytool.tools.call import is_result_ref
from raytool.tools.dataset import ToolDataset

QUOTE_BOOK = ("quote_flight_fare", "book_flight")
QUOTE_BOOK_BAGS = ("quote_flight_fare", "book_flight", "add_checked_bags")


@pytest.fixture(scope="module")
def travel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight travel tasks (level 2); task 0 is quote_flight_fare -> book_flight -> add_checked_bags."""
    out = tmp_path_factory.mktemp("travel") / "l2"
    build_tasks(BuildConfig(("travel",), 2, 8, seed=2, integration_walks=0), log=lambda _: None).save(out)
    assert tuple(c.name for c in ToolDataset.load(out).tasks[0].calls) == QUOTE_BOOK_BAGS
    return out


def _skills(path: Path, *tool_lists: tuple[str, ...]) -> Path:
    skills = [{"name": "skill:" + ">".join(t), "tools": list(t), "support": 3, "doc": ""} for t in tool_lists]
    path.write_text(json.dumps({"version": 1, "skills": skills, "source": {}}))
    return path


def _env(tasks: Path, tmp_path: Path, **overrides) -> ToolDeciderEnv:
    config = {"tasks": str(tasks), "feature_cache": str(tmp_path / "features"), "top_p": 5} | overrides
    return ToolDeciderEnv(config)


def _macro_oracle(env: ToolDeciderEnv) -> int:
    """The gold oracle, but taking the longest skill whose tools are exactly the next unmatched gold calls."""
    matched = env.breakdown.gold_to_trajectory
    upcoming = tuple(c.name for g, c in enumerate(env.task.calls) if g not in matched)
    fits = [(len(env._macro(c).tools), slot) for slot, c in enumerate(env.candidates)
            if env.is_macro(slot) and upcoming[: len(env._macro(c).tools)] == env._macro(c).tools]  # fmt: skip
    return max(fits)[1] if fits else env.oracle_action()


def _episode(env: ToolDeciderEnv, policy, task_index: int) -> tuple[float, dict]:
    obs, _ = env.reset(options={"task_index": task_index})
    total, done, truncated, info = 0.0, False, False, {}
    while not (done or truncated):
        action = policy(env)
        assert obs["action_mask"][action] == 1.0
        obs, reward, done, truncated, info = env.step(action)
        total += reward
    return total, info


def test_skill_is_offered_right_before_its_first_tool(travel: Path, tmp_path: Path) -> None:
    env = _env(travel, tmp_path, skills=str(_skills(tmp_path / "skills.json", QUOTE_BOOK)))
    plain = _env(travel, tmp_path)
    obs, _ = env.reset(options={"task_index": 0})
    plain.reset(options={"task_index": 0})
    names = env.candidate_names()
    slot = names.index("skill:quote_flight_fare>book_flight")
    assert names[slot + 1] == "quote_flight_fare" and env.is_macro(slot) and not env.is_macro(slot + 1)
    tools = plain.candidate_names()
    assert names == tools[:slot] + [names[slot]] + tools[slot:4]  # the lowest-ranked tool made room
    assert obs["observations"].shape == plain.observation_space["observations"].shape
    assert env.action_space == plain.action_space
    d = env.features.dim
    skill, first = (obs["observations"][2 * d + 4 + k * (d + 5) :][: d + 5] for k in (slot, slot + 1))
    mean = env.features.tool_vecs[[env.tool_index[t] for t in QUOTE_BOOK]].mean(0)
    np.testing.assert_allclose(skill[:d], mean / np.linalg.norm(mean), atol=1e-6)  # its tools' mean, re-normalised
    ranked = dict(zip(env.features.ranked[0].tolist(), env.features.scores[0].tolist(), strict=True))
    lowest = min(ranked[env.tool_index[t]] for t in QUOTE_BOOK)
    assert skill[d] == pytest.approx(lowest)  # score: the lowest of its tools' (all must be needed)
    assert skill[d + 2 :].tolist() == first[d + 2 :].tolist()  # flags and fillable share: its first tool's
    check_env(env, skip_render_check=True)


def test_a_skill_is_one_decision_running_its_tools_with_data_flow(travel: Path, tmp_path: Path) -> None:
    env = _env(travel, tmp_path, skills=str(_skills(tmp_path / "skills.json", QUOTE_BOOK)))
    env.reset(options={"task_index": 0})
    _, reward, done, truncated, _ = env.step(env.candidate_names().index("skill:quote_flight_fare>book_flight"))
    assert env.steps == 1 and not (done or truncated)
    assert [(m.name, m.status) for m in env.made] == [("quote_flight_fare", "valid"), ("book_flight", "valid")]
    assert is_result_ref(env.made[1].arguments["fare_id"])  # the binder passed the quote's fare id on
    assert reward > 0
    assert not any(n.startswith("skill:") or n in QUOTE_BOOK for n in env.candidate_names())  # done: not again


def test_a_skill_stops_at_its_first_failed_call(travel: Path, tmp_path: Path) -> None:
    broken = ("quote_flight_fare", "cancel_flight_booking", "book_flight")  # nothing booked yet to cancel
    env = _env(travel, tmp_path, skills=str(_skills(tmp_path / "skills.json", broken)))
    env.reset(options={"task_index": 0})
    env.step(env.candidate_names().index("skill:" + ">".join(broken)))
    assert [m.name for m in env.made] == list(broken[:2]) and env.made[1].status != "valid"


def test_skills_solve_gold_tasks_in_fewer_decisions(travel: Path, tmp_path: Path) -> None:
    skills = _skills(tmp_path / "skills.json", QUOTE_BOOK, QUOTE_BOOK_BAGS)
    env, plain = _env(travel, tmp_path, skills=str(skills)), _env(travel, tmp_path)
    total, info = _episode(env, _macro_oracle, 0)
    assert info["success"] and total == pytest.approx(1.0) == pytest.approx(info["episode_reward"])
    assert info["calls"] == 3 and info["decisions"] == 2 < info["calls"]  # the 3-tool skill, then STOP
    flights = [i for i, t in enumerate(env.tasks) if t.calls[0].name == "quote_flight_fare"]
    assert len(flights) >= 2
    for i in flights:
        _, with_skills = _episode(env, _macro_oracle, i)
        _, without = _episode(plain, lambda e: e.oracle_action(), i)
        assert with_skills["success"] and without["success"]
        assert with_skills["decisions"] < without["decisions"] == without["calls"] + 1
        assert with_skills["episode_reward"] == pytest.approx(without["episode_reward"])


def test_max_steps_counts_decisions(travel: Path, tmp_path: Path) -> None:
    env = _env(travel, tmp_path, max_steps=1, skills=str(_skills(tmp_path / "skills.json", QUOTE_BOOK_BAGS)))
    env.reset(options={"task_index": 0})
    _, _, _, truncated, info = env.step(env.candidate_names().index("skill:" + ">".join(QUOTE_BOOK_BAGS)))
    assert truncated and info["success"] and info["decisions"] == 1 and info["calls"] == 3


def test_without_skills_the_env_is_unchanged(travel: Path, tmp_path: Path) -> None:
    """No skills file, or skills that never apply: the same observations, rewards and infos for the same actions."""
    idle = _skills(tmp_path / "skills.json", ("quote_flight_fare", "no_such_tool"), ("no_such_tool", "book_flight"))
    plain, with_idle = _env(travel, tmp_path), _env(travel, tmp_path, skills=str(idle))
    for env in (plain, with_idle):
        env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(40):
        a, b = plain._observation(), with_idle._observation()
        np.testing.assert_array_equal(a["observations"], b["observations"])
        np.testing.assert_array_equal(a["action_mask"], b["action_mask"])
        assert plain.candidate_names() == with_idle.candidate_names() == [plain.specs[c].name for c in plain.candidates]
        action = int(rng.choice(np.flatnonzero(a["action_mask"])))
        step_a, step_b = plain.step(action), with_idle.step(action)
        assert step_a[1:] == step_b[1:]
        if step_a[2] or step_a[3]:
            assert step_a[4]["decisions"] == plain.steps
            plain.reset()
            with_idle.reset()


def test_skills_outside_the_pool_are_not_offered(travel: Path, tmp_path: Path) -> None:
    data = ToolDataset.load(travel)
    data.tasks = [replace(t, tools=tuple(t.tool_names)) for t in data.tasks]  # pools of the gold tools only
    data.save(tmp_path / "pooled")
    other = ("quote_flight_fare", "cancel_flight_booking")  # task 0 has no cancel_flight_booking in its pool
    env = _env(tmp_path / "pooled", tmp_path, skills=str(_skills(tmp_path / "skills.json", QUOTE_BOOK, other)))
    env.reset(options={"task_index": 0})
    names = env.candidate_names()
    assert "skill:quote_flight_fare>book_flight" in names
    assert "skill:quote_flight_fare>cancel_flight_booking" not in names


def test_bad_skills_files_are_errors(travel: Path, tmp_path: Path) -> None:
    path = tmp_path / "skills.json"
    good = {"name": "skill:a>b", "tools": ["a", "b"]}
    cases = [
        ([good, {"name": "skill:c", "tools": ["c"]}], r"skills\[1\]\.tools': needs at least 2 tool names"),
        ([good, good], r"skills\[1\]\.name': duplicate"),
        ([{"tools": ["a", "b"]}], r"skills\[0\]\.name'"),
        ([{"name": "s", "tools": ["a", 3]}], r"skills\[0\]\.tools\[1\]'"),
    ]
    for skills, message in cases:
        path.write_text(json.dumps({"version": 1, "skills": skills}))
        with pytest.raises(ValueError, match=message) as err:
            _env(travel, tmp_path, skills=str(path))
        assert str(path) in str(err.value)
    path.write_text(json.dumps({"version": 1, "skills": [{"name": "book_flight", "tools": list(QUOTE_BOOK)}]}))
    with pytest.raises(ValueError, match="named like tools"):
        _env(travel, tmp_path, skills=str(path))
    path.write_text(json.dumps({"version": 1, "skills": [good], "source": {}}))
    assert load_macros(path) == [Macro("skill:a>b", ("a", "b"))]
