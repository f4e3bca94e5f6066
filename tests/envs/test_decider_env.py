"""`ToolDeciderEnv`: gymnasium contract, rewards that add up, the oracle, cached features, dataset tasks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import raytool.envs.features as features
from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.envs.reward import score_trajectory
from raytool.envs.sandbox import derive_seed
from raytool.envs.suites import get_suite
from raytool.tools.importers import import_dataset


@pytest.fixture(scope="module")
def cpn_tasks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cpn") / "l2"
    build_tasks(BuildConfig(("cpn",), 2, 24, seed=11, integration_walks=0), log=lambda _: None).save(out)
    return out


def _env(tasks: Path, tmp_path: Path, **overrides) -> ToolDeciderEnv:
    return ToolDeciderEnv({"tasks": str(tasks), "feature_cache": str(tmp_path / "features")} | overrides)


def _run(env: ToolDeciderEnv, policy, task_index: int) -> tuple[float, dict]:
    obs, _ = env.reset(options={"task_index": task_index})
    total, done, truncated, info = 0.0, False, False, {}
    while not (done or truncated):
        action = policy(env, obs)
        assert obs["action_mask"][action] == 1.0
        obs, reward, done, truncated, info = env.step(action)
        total += reward
    return total, info


def _oracle(env, obs):
    return env.oracle_action()


def test_passes_the_gymnasium_checker(cpn_tasks: Path, tmp_path: Path) -> None:
    env = _env(cpn_tasks, tmp_path)
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs["observations"].shape == env.observation_space["observations"].shape
    assert obs["action_mask"][-1] == 1.0  # STOP is always allowed


def test_oracle_solves_every_task_when_candidates_hold_the_gold(cpn_tasks: Path, tmp_path: Path) -> None:
    env = _env(cpn_tasks, tmp_path, top_p=80, max_steps=6)  # the whole pool is offered
    for i in range(len(env.tasks)):
        total, info = _run(env, _oracle, i)
        assert info["success"], env.task.id
        assert total == pytest.approx(1.0) == pytest.approx(info["episode_reward"])


def test_episode_return_equals_the_trajectory_reward(cpn_tasks: Path, tmp_path: Path) -> None:
    env = _env(cpn_tasks, tmp_path, top_p=5, max_steps=4)
    rng = np.random.default_rng(0)
    for i in range(len(env.tasks)):
        total, info = _run(env, lambda e, o: int(rng.choice(np.flatnonzero(o["action_mask"]))), i)
        assert total == pytest.approx(score_trajectory(env.task, env.made, env.reward_config).reward)
        assert total == pytest.approx(info["episode_reward"])


def test_repeats_and_failures_are_classified(cpn_tasks: Path, tmp_path: Path) -> None:
    env = _env(cpn_tasks, tmp_path, top_p=80, max_steps=6)
    env.reset(options={"task_index": 0})
    site = env.dataset.tools["get_site"]
    env.slots = {"site_id": "no-such-site"}
    env._call(site)
    assert env.made[-1].status == "invalid"  # executed, the tool answered not_found
    world = get_suite("cpn").make_world(derive_seed(env.task.env["world_seed"], "cpn"))
    env.slots = {"site_id": world.values("site_id")[0]}
    env._call(site)
    env._call(site)  # bound to the first call's output: the same resolved arguments
    assert [m.status for m in env.made] == ["invalid", "valid", "repeated"]
    env._call(env.dataset.tools["reserve_capacity"])  # no plan id anywhere: a required argument is missing
    assert env.made[-1].status == "malformed"


def test_features_are_computed_once(cpn_tasks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _env(cpn_tasks, tmp_path)
    assert len(list((tmp_path / "features").glob("*.npz"))) == 1

    def fail(*args, **kwargs):
        raise AssertionError("features recomputed")

    monkeypatch.setattr(features, "build_features", fail)
    env = _env(cpn_tasks, tmp_path)
    env.reset(seed=1)
    env.step(0)


def test_sandboxed_executor_serves_episodes(cpn_tasks: Path, tmp_path: Path) -> None:
    env = _env(cpn_tasks, tmp_path, top_p=80, executor="process")
    try:
        for i in range(3):
            assert _run(env, _oracle, i)[1]["success"]
    finally:
        env.close()


def test_dataset_tasks_without_execution(shared_data: Path, tmp_path: Path) -> None:
    data = import_dataset("seal_tools", shared_data / "seal_tools" / "dev.jsonl")
    multi = [t for t in data.tasks if len(t.calls) > 1][:20]
    data.tasks = multi
    data.save(tmp_path / "seal")
    env = _env(tmp_path / "seal", tmp_path, top_p=10, max_steps=8)
    solved = 0
    for i in range(len(multi)):
        total, info = _run(env, _oracle, i)
        assert total == pytest.approx(info["episode_reward"])
        gold_offered = info["calls"] == len(env.task.calls)
        solved += info["success"]
        if gold_offered:
            assert info["precision"] == 1.0
    assert solved >= 10  # 11 of 20 here: the oracle is bounded by BM25's top-10 recall on these multi-call tasks


def test_unknown_config_key_is_an_error(cpn_tasks: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="^<ToolDeciderEnv config>: env: unknown key 'topp'"):
        _env(cpn_tasks, tmp_path, topp=3)


def test_env_survives_misbehaving_tools_in_the_sandbox(tmp_path: Path) -> None:
    """Hang, crash, 100 MB output, file write, socket: each becomes an invalid call; the next episode works."""
    from raytool.tools import Task, ToolCall, ToolDataset
    from tests.envs import sandbox_suite

    suite = "tests.envs.sandbox_suite:SUITE"
    specs = {t.name: t.spec for t in sandbox_suite.SUITE.tools.values()}
    target = tmp_path / "victim.txt"
    hostile = [
        ("spin", {"seconds": 30.0}), ("boom", {}), ("big_output", {"mb": 100}),
        ("write_file", {"path": str(target)}), ("open_socket", {"mode": "connect"}),
    ]  # fmt: skip
    tasks = [
        Task(id=f"bad-{name}", query=f"run {name}", calls=(ToolCall(name, args),), tools=(name,),
             env={"suites": [suite], "world_seed": 1})
        for name, args in hostile
    ] + [Task(id="good", query="echo 3", calls=(ToolCall("echo", {"x": 3}),), tools=("echo",),
              answer=[3], env={"suites": [suite], "world_seed": 1})]  # fmt: skip
    ToolDataset(specs, tasks).save(tmp_path / "hostile")
    env = ToolDeciderEnv(
        {"tasks": str(tmp_path / "hostile"), "top_p": 1, "max_steps": 1, "executor": "process",
         "feature_cache": str(tmp_path / "f")}
    )  # fmt: skip
    env.executor.timeout_s = 1.0
    try:
        for i in range(len(hostile)):
            env.reset(options={"task_index": i})
            _, reward, _, truncated, info = env.step(0)
            assert env.made[-1].status == "invalid", hostile[i][0]
            assert truncated and not info["success"]
        assert _run(env, _oracle, len(hostile))[1]["success"]
        assert env.made[-1].status == "valid" and env.made[-1].output == 3
    finally:
        env.close()
    assert not target.exists()


def test_the_observation_size_formula_and_its_inverse_agree() -> None:
    from raytool.envs.decider_env import observation_dim, observation_size

    for dim in (1, 8, 256, 384):
        for top_p in (1, 5, 80):
            assert observation_dim(observation_size(dim, top_p), top_p) == dim
    assert observation_size(256, 5) == 2 * 256 + 4 + 5 * (256 + 5)
    assert observation_dim(observation_size(8, 5) + 1, 5) is None and observation_dim(3, 1) is None


def _ranking(task, parts: int = 0) -> dict:
    names = list(task.tools)[:6]
    record = {"task_id": task.id, "names": names, "scores": [0.9 - 0.1 * i for i in range(len(names))]}
    return {**record, "parts": parts} if parts else record


def test_stop_waits_for_one_call_per_planned_sub_task(cpn_tasks: Path, tmp_path: Path) -> None:
    """A proxy's job of n planned sub-tasks (its ranking's `parts`) may not STOP before n calls, failed ones
    included; a job without parts may stop at once."""
    from raytool.tools.dataset import ToolDataset

    dataset = ToolDataset.load(cpn_tasks)
    job, free = dataset.tasks[:2]
    rankings = {job.id: _ranking(job, parts=3), free.id: _ranking(free)}
    env = ToolDeciderEnv({"tasks": "", "candidate_source": "memory", "max_steps": 6}, dataset=ToolDataset(
        dataset.tools, [job, free]), rankings=rankings)  # fmt: skip
    obs, _ = env.reset(options={"task_index": 0})
    stops = [obs["action_mask"][-1]]
    for _ in range(3):
        obs, *_ = env.step(0)
        stops.append(obs["action_mask"][-1])
    assert stops == [0.0, 0.0, 0.0, 1.0]
    assert obs["action_mask"][:-1].sum() >= 1  # candidates stay offered beside STOP
    obs, _ = env.reset(options={"task_index": 1})
    assert obs["action_mask"][-1] == 1.0


def test_parts_survive_the_feature_cache_and_bad_ones_name_the_line(cpn_tasks: Path, tmp_path: Path) -> None:
    from raytool.tools.dataset import ToolDataset

    tasks = ToolDataset.load(cpn_tasks).tasks
    good, bad = tmp_path / "ranked.jsonl", tmp_path / "bad.jsonl"
    lines = [json.dumps(_ranking(t, parts=2 if i == 1 else 0)) for i, t in enumerate(tasks)]
    good.write_text("\n".join(lines) + "\n")
    for _ in range(2):  # built, then loaded from the cache
        env = _env(cpn_tasks, tmp_path, candidate_source=f"file:{good}")
        assert list(env.features.parts[:3]) == [0, 2, 0]
    bad.write_text("\n".join([lines[0], json.dumps({**_ranking(tasks[1]), "parts": "two"})]) + "\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:2: field 'parts': expected a count"):
        _env(cpn_tasks, tmp_path, candidate_source=f"file:{bad}")


def test_candidates_follow_the_part_the_job_is_at(cpn_tasks: Path, tmp_path: Path) -> None:
    """With each part's own ranking, part i's candidates lead while i calls have been made (failed ones count),
    then the merged ranking; `part_focus=False` keeps the merged ranking at every step."""
    from raytool.tools.dataset import ToolDataset

    dataset = ToolDataset.load(cpn_tasks)
    job = dataset.tasks[0]
    names = list(job.tools)[:6]
    parts = [[names[0], names[1]], [names[5], names[2]], [names[4]]]
    record = {**_ranking(job, parts=3), "part_names": parts, "part_scores": [[0.8, 0.2], [0.7, 0.3], [0.6]]}

    def firsts(focus: bool) -> list[tuple[str, float]]:
        env = ToolDeciderEnv({"tasks": "", "candidate_source": "memory", "max_steps": 6, "part_focus": focus},
                             dataset=ToolDataset(dataset.tools, [job]), rankings={job.id: record})  # fmt: skip
        env.reset(options={"task_index": 0})
        seen = []
        for _ in range(4):
            seen.append((env.candidate_names()[0], round(env.candidate_scores[0], 3)))
            env.step_tool("no_such_tool")  # a failed call: nothing is done, the job moves on to its next part
        return seen

    assert firsts(True) == [(names[0], 0.8), (names[5], 0.7), (names[4], 0.6), (names[0], 0.9)]
    assert firsts(False) == [(names[0], 0.9)] * 4
    env = ToolDeciderEnv({"tasks": "", "candidate_source": "memory"}, dataset=ToolDataset(dataset.tools, [job]),
                         rankings={job.id: record})  # fmt: skip
    env.reset(options={"task_index": 0})
    env.step_tool(names[0])
    assert len(env.candidate_names()) == len(set(env.candidate_names())) == 5  # a tool is offered once


def test_part_rankings_survive_the_feature_cache_and_bad_ones_name_the_line(cpn_tasks: Path, tmp_path: Path) -> None:
    from raytool.tools.dataset import ToolDataset

    tasks = ToolDataset.load(cpn_tasks).tasks
    tools = list(tasks[1].tools)
    split = {"part_names": [tools[:2], tools[2:3]], "part_scores": [[0.9, 0.1], [0.8]]}
    good, bad = tmp_path / "ranked.jsonl", tmp_path / "bad.jsonl"
    lines = [json.dumps({**_ranking(t, parts=2), **split} if i == 1 else _ranking(t)) for i, t in enumerate(tasks)]
    good.write_text("\n".join(lines) + "\n")
    for _ in range(2):  # built, then loaded from the cache
        env = _env(cpn_tasks, tmp_path, candidate_source=f"file:{good}")
        index = env.tool_index
        ranked, scores = env.features.part_ranking(1, 1)
        assert [env.specs[c].name for c in ranked if c >= 0] == [tools[2]] and scores[0] == pytest.approx(0.8)
        assert env.features.part_ranking(1, 2) is None and env.features.part_ranking(0, 0) is None
        assert index[tools[0]] == env.features.part_ranking(1, 0)[0][0]
    bad.write_text("\n".join([lines[0], json.dumps({**_ranking(tasks[1], parts=2), "part_names": [tools[:2]],
                                                     "part_scores": [[0.9, 0.1]]})]) + "\n")  # fmt: skip
    with pytest.raises(ValueError, match=r"bad.jsonl:2: field 'part_names': expected 2 part rankings"):
        _env(cpn_tasks, tmp_path, candidate_source=f"file:{bad}")


def test_the_proposer_policy_makes_one_call_per_planned_sub_task(
    cpn_tasks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`proposer_action` (the no-decider ablation): the first non-repeating candidate until the job has made one call
    per planned part (at least one), then STOP."""
    from raytool.decider.act import proposer_action
    from raytool.tools.dataset import ToolDataset

    # the count, not the skip, is tested
    monkeypatch.setattr(ToolDeciderEnv, "_could_call", lambda self, spec, arguments: True)

    dataset = ToolDataset.load(cpn_tasks)
    job, free = dataset.tasks[:2]
    rankings = {job.id: _ranking(job, parts=3), free.id: _ranking(free)}
    env = ToolDeciderEnv({"tasks": "", "candidate_source": "memory", "max_steps": 6}, dataset=ToolDataset(
        dataset.tools, [job, free]), rankings=rankings)  # fmt: skip
    for index, calls in ((0, 3), (1, 1)):
        obs, _ = env.reset(options={"task_index": index})
        actions, done = [], False
        while not done:
            actions.append(proposer_action(env, obs))
            obs, _, terminated, truncated, _ = env.step(actions[-1])
            done = terminated or truncated
        assert env.planned_calls == (3 if index == 0 else 0)
        assert len(env.made) == calls and actions[-1] == env.stop_action and len(actions) == calls + 1
        assert all(action != env.stop_action for action in actions[:-1])


class _NeverStops:
    """A stand-in decider module whose logits always put the first allowed candidate above STOP."""

    def forward_inference(self, batch):
        import torch

        mask = batch["obs"]["action_mask"]
        logits = torch.arange(mask.shape[-1], 0, -1, dtype=torch.float32)[None].clone()
        logits[..., -1] = -5.0  # STOP last
        return {"action_dist_inputs": logits.masked_fill(mask <= 0, -1e9)}


def test_the_plan_bounded_decider_stops_after_one_call_per_planned_part(
    cpn_tasks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`planned_greedy_action` (the plan-bounded ablation): a decider that would go on calling is stopped once the job
    has made one call per planned part; a task without parts is left to the decider (here: it runs to max_steps)."""
    from raytool.decider.act import greedy_action, planned_greedy_action
    from raytool.tools.dataset import ToolDataset

    # the count, not the skip, is tested
    monkeypatch.setattr(ToolDeciderEnv, "_could_call", lambda self, spec, arguments: True)

    dataset = ToolDataset.load(cpn_tasks)
    job, free = dataset.tasks[:2]
    rankings = {job.id: _ranking(job, parts=2), free.id: _ranking(free)}
    env = ToolDeciderEnv({"tasks": "", "candidate_source": "memory", "max_steps": 5}, dataset=ToolDataset(
        dataset.tools, [job, free]), rankings=rankings)  # fmt: skip
    module = _NeverStops()
    for policy, index, calls in ((planned_greedy_action, 0, 2), (greedy_action, 0, 5), (planned_greedy_action, 1, 5)):
        obs, _ = env.reset(options={"task_index": index})
        done = False
        while not done:
            obs, _, terminated, truncated, _ = env.step(policy(module, env, obs))
            done = terminated or truncated
        assert len(env.made) == calls, (policy.__name__, index, len(env.made))


@pytest.mark.parametrize(("demand_id", "skipped"), [("cancel", True), ("dmd-0003", False)])
def test_a_call_that_could_not_be_made_is_skipped_until_an_earlier_output_gives_its_value(demand_id, skipped) -> None:
    """`skip_mask`: a candidate whose required value nobody gives (`cancel_reservation`: no stated reservation, no
    earlier output of that kind) is skipped like a repeat, and so is one whose stated value is written unlike its
    kind's documented example ("cancel" as a demand id, "dmd-0001"); the decider then takes the next candidate. Once
    an earlier output holds a demand id, `cancel_demand` binds it by reference and is offered either way."""
    from raytool.decider.act import greedy_action
    from raytool.tools.call import ToolCall
    from raytool.tools.dataset import ToolDataset
    from raytool.tools.task import Task

    tools = {name: tool.spec for name, tool in get_suite("cpn").tools.items()}
    demand = {"tenant_id": "vega-robotics", "cpu_cores": 28, "memory_gb": 117, "gpu_count": 0, "hours": 170}
    job = Task(id="job", query="cancel it", calls=(ToolCall("get_demand", {"demand_id": demand_id}),
               ToolCall("submit_demand", demand)), tools=tuple(tools), env={"suites": ["cpn"], "world_seed": 1880392076,
               "level": 0})  # fmt: skip
    names = ["cancel_reservation", "get_demand", "cancel_demand", "list_regions", "submit_demand"]
    record = {"task_id": job.id, "names": names, "scores": [0.9, 0.8, 0.7, 0.6, 0.5]}
    env = ToolDeciderEnv({"tasks": "", "candidate_source": "memory", "max_steps": 4},
                         dataset=ToolDataset(tools, [job]), rankings={job.id: record})  # fmt: skip
    obs, _ = env.reset(options={"task_index": 0})
    assert env.candidate_names() == names
    # cancel_demand reads the same stated demand id as get_demand; STOP is never skipped
    assert list(env.skip_mask()) == [True, skipped, skipped, False, False, False]
    assert list(env.repeat_mask()) == [False] * 6  # none of them would repeat: the skip is about the call
    assert greedy_action(_NeverStops(), env, obs) == (3 if skipped else 1)
    env.step(names.index("submit_demand"))
    assert env.made[-1].status == "valid"
    assert not env.skip_mask()[env.candidate_names().index("cancel_demand")]  # bound to the new demand by reference


def test_a_job_without_candidates_skips_nothing_and_stops(cpn_tasks: Path) -> None:
    """No candidate at all (a client catalogue none of whose tools the proposer ranks): the skip mask is all False
    and the decider's only action is STOP (regression: an empty list of skips once failed to combine with the mask)."""
    from raytool.decider.act import greedy_action
    from raytool.tools.dataset import ToolDataset

    dataset = ToolDataset.load(cpn_tasks)
    job = dataset.tasks[0]
    env = ToolDeciderEnv({"tasks": "", "candidate_source": "memory"}, dataset=ToolDataset(dataset.tools, [job]),
                         rankings={job.id: {"task_id": job.id, "names": [], "scores": []}})  # fmt: skip
    obs, _ = env.reset(options={"task_index": 0})
    assert env.candidate_names() == [] and not env.skip_mask().any()
    assert greedy_action(_NeverStops(), env, obs) == env.stop_action


def test_a_stated_value_taken_as_one_kind_is_not_offered_as_another() -> None:
    """`skip_mask`: once a successful call took "USD" as a `currency`, a call that would pass the same "USD" as a
    `nationality` (`get_visa_requirements`: its example "Brazil" does not rule a code out) is skipped; before that
    call it is offered. Regression: "what is the exchange rate from USD to EUR?" got a second, invalid visa call."""
    from raytool.tools.call import ToolCall
    from raytool.tools.dataset import ToolDataset
    from raytool.tools.task import Task

    tools = {name: tool.spec for name, tool in get_suite("travel").tools.items()}
    job = Task(id="job", query="what is the exchange rate from USD to EUR?", calls=(
        ToolCall("get_exchange_rate", {"from_currency": "USD", "to_currency": "EUR"}),
        ToolCall("get_visa_requirements", {"nationality": "USD", "destination_country": "EUR"})), tools=tuple(tools),
        env={"suites": ["travel"], "world_seed": 7, "level": 0})  # fmt: skip
    names = ["get_exchange_rate", "get_visa_requirements"]
    record = {"task_id": job.id, "names": names, "scores": [0.9, 0.8]}
    env = ToolDeciderEnv({"tasks": "", "candidate_source": "memory", "max_steps": 3},
                         dataset=ToolDataset(tools, [job]), rankings={job.id: record})  # fmt: skip
    env.reset(options={"task_index": 0})
    assert not env.skip_mask().any()
    env.step(0)
    assert env.made[-1].status == "valid"
    assert env.candidate_names() == ["get_visa_requirements"]
    assert list(env.skip_mask()[[0, env.stop_action]]) == [True, False]
