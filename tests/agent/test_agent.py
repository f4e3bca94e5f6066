"""The proxy agent: sub-task training data, parallel proxies on Ray, merging, the trace, and the baselines' episodes."""

from __future__ import annotations

import dataclasses

import pytest

from raytool.agent.agent import AgentConfig, ProxyAgent, _merge, task_domains
from raytool.agent.proxy import ProxyConfig
from raytool.agent.trace import format_trace, parallel_speedup
from raytool.agent.train import restrict_calls
from raytool.planner.plan import Job, Plan, SubTask
from raytool.planner.planner import PlannerConfig
from raytool.tools.call import ToolCall, result_ref
from raytool.tools.dataset import ToolDataset


def test_restrict_calls_renumbers_references_and_refuses_dangling_ones() -> None:
    calls = (ToolCall("a", {"x": 1}), ToolCall("b", {"y": 2}),
             ToolCall("c", {"z": result_ref(1, "id")}, (1,)))  # fmt: skip
    kept = restrict_calls(calls, [1, 2])
    assert [c.name for c in kept] == ["b", "c"] and kept[1].arguments == {"z": result_ref(0, "id")}
    assert kept[1].depends_on == (0,)
    assert restrict_calls(calls, [0, 2]) is None


def test_merge_rebases_each_jobs_references() -> None:
    first = {"calls": [{"name": "a", "arguments": {}, "status": "valid", "output": {"id": 1}}]}
    second = {"calls": [
        {"name": "b", "arguments": {}, "status": "valid", "output": {"k": 2}},
        {"name": "c", "arguments": {"k": result_ref(0, "k")}, "status": "valid", "output": None},
    ]}  # fmt: skip
    merged = _merge([first, second])
    assert [m.name for m in merged] == ["a", "b", "c"] and merged[2].arguments == {"k": result_ref(1, "k")}


def test_parallel_speedup_is_summed_job_time_over_the_wave_span() -> None:
    plan = Plan([SubTask(1, "a", "x"), SubTask(2, "b", "y")], "rule",
                [Job(0, "x", (1,), "a"), Job(1, "y", (2,), "b")])  # fmt: skip
    overlapping = [{"start": 0.0, "end": 1.0}, {"start": 0.0, "end": 1.0}]
    one_after_another = [{"start": 0.0, "end": 1.0}, {"start": 1.0, "end": 2.0}]
    assert parallel_speedup(plan, overlapping) == {0: 2.0}
    assert parallel_speedup(plan, one_after_another) == {0: 1.0}


@pytest.mark.slow
def test_training_subtasks_stay_inside_one_domain(agent_kit) -> None:
    requests = ToolDataset.load(agent_kit["requests"])
    subtasks = ToolDataset.load(agent_kit["subtasks"])
    assert len(subtasks.tasks) >= len(requests.tasks)  # two chains per level-4 request, a few may be left out
    for task in subtasks.tasks:
        assert task.env["suites"] == [task.domain]
        assert {requests.tools[c.name].domain for c in task.calls} == {task.domain}
    lines = (agent_kit["subtasks"] / "candidates.jsonl").read_text().splitlines()
    assert len(lines) == len(subtasks.tasks)


@pytest.mark.slow
@pytest.mark.ray
def test_parallel_and_sequential_agents_make_the_same_calls(agent_kit) -> None:
    requests = ToolDataset.load(agent_kit["requests"])
    tasks = requests.tasks[:3]
    proxy = ProxyConfig(proposer=str(agent_kit["proposer"]), decider=str(agent_kit["decider"]))
    config = AgentConfig(proxy=proxy, planner=PlannerConfig(mode="never"))
    pools = task_domains(requests.tasks, requests.tools)
    results = {}
    for parallel in (True, False):
        agent = ProxyAgent(dataclasses.replace(config, parallel=parallel), requests.tools, None,
                           agent_kit["root"] / f"work-{parallel}", pools, log=lambda _: None)  # fmt: skip
        try:
            agent.start()
            results[parallel] = agent.run_tasks(tasks)
        finally:
            agent.close()
    for fast, slow in zip(results[True], results[False], strict=True):
        assert fast.outcome.calls == slow.outcome.calls and fast.outcome.reward == slow.outcome.reward
        assert fast.plan.source == "rule" and len(fast.plan.jobs) == 2 and {j.wave for j in fast.plan.jobs} == {0}
        assert fast.ledger.teacher_calls == 0
        assert len({j["pid"] for j in fast.jobs}) == 2  # each domain's jobs ran in its own actor process
        assert len({j["pid"] for j in slow.jobs}) == 1
    text = format_trace(results[True][0])
    for needle in ("plan (rule", "job 0 ->", "job 1 ->", "proxy jobs from", "decision", "parallel speed-up",
                   "verified against the task's gold"):  # fmt: skip
        assert needle in text, needle
