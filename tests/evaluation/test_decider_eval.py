"""Decider evaluation: rollouts of the baselines on real executable tasks, the proposer-greedy threshold, the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from raytool.decider.fp_model import PolicyReconstruction
from raytool.envs.build import BuildConfig, build_tasks
from raytool.envs.decider_env import ToolDeciderEnv
from raytool.evaluation.decider import (
    THRESHOLDS,
    decider_table,
    fit_threshold,
    oracle_policy,
    proposer_greedy_policy,
    rollout,
    teacher_policy,
)


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> ToolDeciderEnv:
    root = tmp_path_factory.mktemp("eval")
    data = build_tasks(BuildConfig(("travel",), level=2, num_tasks=8, seed=5, integration_walks=0), log=lambda _: None)
    data.save(root / "tasks")
    # rankings as the proposer would write them: the gold tools first (in order), then the rest of the catalogue
    lines = []
    for task in data.tasks:
        gold = [c.name for c in task.calls]
        names = list(dict.fromkeys(gold + sorted(data.tools)))[:16]
        lines.append(
            json.dumps({"task_id": task.id, "names": names, "scores": [0.9] * len(gold) + [0.01] * (16 - len(gold))})
        )
    (root / "candidates.jsonl").write_text("\n".join(lines) + "\n")
    config = {"tasks": str(root / "tasks"), "top_p": 4, "max_steps": 6, "feature_cache": str(root / "f"),
              "candidate_source": f"file:{root / 'candidates.jsonl'}"}  # fmt: skip
    return ToolDeciderEnv(config)


def test_file_candidates_reach_the_env_in_order(env) -> None:
    env.reset(options={"task_index": 0})
    gold = [c.name for c in env.task.calls]
    assert [env.specs[c].name for c in env.candidates][: len(gold)] == gold
    assert env.candidate_scores[0] == pytest.approx(0.9)


def test_oracle_solves_and_greedy_follows_the_ranking(env) -> None:
    oracle = rollout(env, oracle_policy)
    assert oracle["success"] == 1.0
    greedy = rollout(env, proposer_greedy_policy(0.5))  # calls exactly the gold tools, in order, then stops
    assert greedy["success"] == 1.0
    assert greedy["calls"] == pytest.approx(sum(len(t.calls) for t in env.tasks) / len(env.tasks))
    never = rollout(env, proposer_greedy_policy(0.95))
    assert never["calls"] == 0.0 and never["success"] == 0.0


def test_fit_threshold_picks_a_grid_value_that_succeeds(env) -> None:
    theta = fit_threshold(env)
    by_grid = {t: rollout(env, proposer_greedy_policy(t))["success"] for t in THRESHOLDS}
    assert theta in THRESHOLDS and by_grid[theta] == max(by_grid.values()) == 1.0
    assert min(by_grid.values()) < 1.0  # some grid values fail these tasks: the fit has a choice to get right


def test_teacher_policy_acts_within_the_mask_and_table_lists_policies(env) -> None:
    torch.manual_seed(0)
    f_p = PolicyReconstruction(env.features.dim, 4, width=8, heads=2, layers=1).eval()
    result = rollout(env, teacher_policy(f_p))
    assert 0.0 <= result["success"] <= 1.0 and result["calls"] <= 6
    table = decider_table({"teacher-only": result, "oracle": rollout(env, oracle_policy)})
    assert "teacher-only" in table and "oracle" in table and "calls/task" in table


def test_bad_rankings_file_names_line_and_field(tmp_path: Path, env) -> None:
    bad = tmp_path / "c.jsonl"
    bad.write_text(json.dumps({"task_id": env.tasks[0].id, "names": ["no_such_tool"], "scores": [1.0]}) + "\n")
    config = dict(env.config.__dict__, candidate_source=f"file:{bad}", feature_cache=str(tmp_path / "f"))
    with pytest.raises(ValueError, match=r"c\.jsonl:1: field 'names'"):
        ToolDeciderEnv(config)
