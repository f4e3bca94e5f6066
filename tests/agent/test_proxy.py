"""`ProxyModel`: it acts with the same function as the evaluation's decider row (`raytool.decider.act`), on an env
built from memory that matches the one built from files, and writes nothing per request."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from raytool.agent.agent import task_domains
from raytool.agent.proxy import ProxyConfig, ProxyModel
from raytool.agent.train import load_parts
from raytool.decider.candidates import decider_env_config, rank_candidates
from raytool.decider.train import load_module
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.evaluation import decider as evaluation
from raytool.tools.dataset import ToolDataset
from raytool.tools.task import Task


def _files(root: Path) -> set[Path]:
    return {Path(d) / name for d, _, names in os.walk(root) for name in names}


@pytest.mark.slow
@pytest.mark.ray
def test_the_proxy_and_the_decider_row_take_the_same_actions_and_the_proxy_writes_nothing(
    agent_kit, tmp_path, monkeypatch
) -> None:
    subtasks = ToolDataset.load(agent_kit["subtasks"])
    pools = task_domains(subtasks.tasks, subtasks.tools)
    domain = subtasks.tasks[0].domain
    indices = [i for i, t in enumerate(subtasks.tasks) if t.domain == domain][:3]
    module = load_module(agent_kit["decider"])
    acted: list[str] = []
    real = evaluation.greedy_action

    def spy(module_, env, obs):  # records every action the evaluation's decider policy takes
        action = real(module_, env, obs)
        names = env.candidate_names()
        acted.append(names[action] if action < len(names) else "STOP")
        return action

    monkeypatch.setattr(evaluation, "greedy_action", spy)
    file_env = ToolDeciderEnv(decider_env_config(agent_kit["subtasks"], 4, 4))
    made = []
    for index in indices:
        evaluation.rollout(file_env, evaluation.module_policy(module), [index])
        made.append([(m.name, m.arguments) for m in file_env.made])
    file_env.close()

    monkeypatch.setenv("RAYTOOL_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    # the decider alone (no proposer prior), as the evaluation's decider row acts
    config = ProxyConfig(proposer=str(agent_kit["proposer"]), decider=str(agent_kit["decider"]), prior_weight=0.0)
    proxy = ProxyModel(domain, config)
    jobs = []
    parts = load_parts(agent_kit["subtasks"])
    for i in indices:  # the pool and parts `job_payload` gave the sub-task when its candidates were written
        allowed = set(subtasks.tasks[i].tools) or set(subtasks.tools)
        jobs.append({"task": subtasks.tasks[i].to_dict(), "pool": [s.name for s in pools[domain] if s.name in allowed],
                     "parts": parts[subtasks.tasks[i].id]})  # fmt: skip
    assert any(len(job["parts"]) > 1 for job in jobs)  # a job of several planned sub-tasks: merged rankings
    catalogue = [spec.to_dict() for spec in subtasks.tools.values()]
    results = proxy.solve(jobs, catalogue)
    written = _files(tmp_path)  # the proposer's tool vectors, cached once per catalogue, and nothing else
    assert written and all("proposer_index" in path.parts for path in written), written
    again = proxy.solve(jobs, catalogue)
    assert _files(tmp_path) == written  # no dataset, candidates file or feature cache per request
    assert [r["calls"] for r in again] == [r["calls"] for r in results]
    chosen = [event["chosen"] for result in results for event in result["events"]]
    assert chosen == acted and len(chosen) >= len(indices)
    assert [[(c["name"], c["arguments"]) for c in r["calls"]] for r in results] == made


@pytest.mark.slow
@pytest.mark.ray
def test_the_relevance_gate_calls_only_candidates_that_reach_theta_and_nothing_when_none_does(agent_kit) -> None:
    subtasks = ToolDataset.load(agent_kit["subtasks"])
    domain = subtasks.tasks[0].domain
    jobs = [{"task": t.to_dict(), "pool": [n for n, s in subtasks.tools.items() if s.domain == domain]}
            for t in subtasks.tasks if t.domain == domain][:3]  # fmt: skip
    catalogue = [spec.to_dict() for spec in subtasks.tools.values()]
    open_ = ProxyModel(domain, ProxyConfig(str(agent_kit["proposer"]), str(agent_kit["decider"]), theta=0.0))
    opened = open_.solve(jobs, catalogue)
    assert any(r["calls"] for r in opened)  # off: the decider calls
    shut = ProxyModel(domain, ProxyConfig(str(agent_kit["proposer"]), str(agent_kit["decider"]), theta=1.0))
    results = shut.solve(jobs, catalogue)  # no calibrated probability reaches 1
    assert all(not r["calls"] and r["decisions"] == 0 for r in results)
    assert all(r["events"][0]["gate"] and r["events"][0]["chosen"] == "STOP" for r in results)
    with pytest.raises(ValueError, match="theta"):
        ProxyConfig("p", "d", theta=1.5)
    # between the two: a tool is called only where its candidate's calibrated probability reaches theta
    ranked = rank_candidates(open_.proposer, ToolDataset(subtasks.tools, [Task.from_dict(j["task"]) for j in jobs]),
                             k=16, pools=[j["pool"] for j in jobs])  # fmt: skip
    scores = [dict(zip(r["names"], r["scores"], strict=True)) for r in ranked]
    called = sorted({s[c["name"]] for s, r in zip(scores, opened, strict=True) for c in r["calls"]})
    assert len(called) > 1  # the ungated decider called tools the proposer scores differently
    theta = called[-1]  # some of the ungated run's calls are below it
    mid = ProxyModel(domain, ProxyConfig(str(agent_kit["proposer"]), str(agent_kit["decider"]), theta=theta))
    results = mid.solve(jobs, catalogue)
    assert all(s[c["name"]] >= theta for s, r in zip(scores, results, strict=True) for c in r["calls"])


@pytest.mark.slow
@pytest.mark.ray
def test_the_relevance_gate_leaves_a_planned_job_its_planned_calls(agent_kit) -> None:
    """A job of several planned sub-tasks (`parts`) passes the job-level gate when its best candidate reaches theta;
    while its parts lack their calls the env masks STOP, so the gate must not mask there: a part whose own best tool
    scores below theta would end the job with no call for it (the every-step gate once cost freely written requests
    0.905 -> 0.667 success). With theta at the job's best score, the calls up to the plan's count are the ungated
    run's."""
    subtasks = ToolDataset.load(agent_kit["subtasks"])
    pools = task_domains(subtasks.tasks, subtasks.tools)
    parts = load_parts(agent_kit["subtasks"])
    catalogue = [spec.to_dict() for spec in subtasks.tools.values()]
    domain = next(t.domain for t in subtasks.tasks if len(parts[t.id]) > 1)
    planned = [t for t in subtasks.tasks if t.domain == domain and len(parts[t.id]) > 1][:4]
    jobs = [{"task": t.to_dict(), "pool": [s.name for s in pools[domain] if s.name in (set(t.tools) or subtasks.tools)],
             "parts": parts[t.id]} for t in planned]  # fmt: skip
    config = ProxyConfig(str(agent_kit["proposer"]), str(agent_kit["decider"]), prior_weight=0.0)
    ungated = ProxyModel(domain, config)
    opened = ungated.solve(jobs, catalogue)
    dataset = ToolDataset(subtasks.tools, [Task.from_dict(j["task"]) for j in jobs])
    ranked = rank_candidates(ungated.proposer, dataset, k=16, pools=[j["pool"] for j in jobs],
                             parts=[j["parts"] for j in jobs])  # fmt: skip
    lower = 0  # jobs with a part whose own best tool is below theta
    for job, record, open_result in zip(jobs, ranked, opened, strict=True):
        theta = max(record["scores"])  # the job-level gate passes; a part whose own best is lower is below it
        lower += min(max(scores) for scores in record["part_scores"]) < theta
        config_at = ProxyConfig(str(agent_kit["proposer"]), str(agent_kit["decider"]), prior_weight=0.0, theta=theta)
        gated = ProxyModel(domain, config_at).solve([job], catalogue)[0]
        n = min(len(job["parts"]), len(open_result["calls"]))
        assert n > 0 and [c["name"] for c in gated["calls"][:n]] == [c["name"] for c in open_result["calls"][:n]]
    assert lower > 0
