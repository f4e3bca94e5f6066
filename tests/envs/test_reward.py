"""Analytic tests of the verifiable reward: gold is maximal, each error kind costs exactly its penalty."""

from __future__ import annotations

import pytest

from raytool.envs.reward import (
    INVALID,
    MALFORMED,
    REPEATED,
    VALID,
    MadeCall,
    RewardConfig,
    score_trajectory,
    step_rewards,
)
from raytool.tools import Task, ToolCall, result_ref

TASK = Task(
    id="t",
    query="find a node in eu and reserve it",
    calls=(
        ToolCall("find_node", {"region": "eu"}),
        ToolCall.with_inferred_deps("reserve", {"node_id": result_ref(0, "node_id"), "hours": 2}),
    ),
)
GOLD = [
    MadeCall("find_node", {"region": "eu"}, VALID, {"node_id": "n1"}),
    MadeCall("reserve", {"node_id": result_ref(0, "node_id"), "hours": 2}, VALID, {"rsv": "r1"}),
]
CFG = RewardConfig(malformed_penalty=0.3, invalid_penalty=0.15, repeated_penalty=0.05, empty_penalty=0.25)


def test_gold_gets_the_maximum() -> None:
    score = score_trajectory(TASK, GOLD, CFG)
    assert score.reward == pytest.approx(1.0)
    assert score.success and score.matched == 2
    with_cost = score_trajectory(TASK, GOLD, RewardConfig(call_cost=0.01))
    assert with_cost.reward == pytest.approx(1.0 - 0.02)


@pytest.mark.parametrize(
    ("extra", "penalty"),
    [
        (MadeCall("no_such_tool", {}, MALFORMED), CFG.malformed_penalty),
        (MadeCall("reserve", {"hours": 2}, MALFORMED), CFG.malformed_penalty),
        (MadeCall("find_node", {"region": "mars"}, INVALID), CFG.invalid_penalty),
        (MadeCall("find_node", {"region": "eu"}, REPEATED), CFG.repeated_penalty),
    ],
)
def test_each_error_kind_costs_exactly_its_penalty(extra: MadeCall, penalty: float) -> None:
    for position in (0, 1, 2):
        calls = GOLD[:position] + [extra] + GOLD[position:]
        if position < 2:  # references shift by one when a call is inserted before the referenced one
            calls = _shift_refs(calls, position)
        assert score_trajectory(TASK, calls, CFG).reward == pytest.approx(1.0 - penalty)


def _shift_refs(calls: list[MadeCall], inserted_at: int) -> list[MadeCall]:
    out = []
    for call in calls:
        args = {
            k: (result_ref(v["$ref"] + 1, v["path"]) if isinstance(v, dict) and v["$ref"] >= inserted_at else v)
            for k, v in call.arguments.items()
        }
        out.append(MadeCall(call.name, args, call.status, call.output))
    return out


def test_wrong_valid_call_lowers_precision() -> None:
    calls = [*GOLD, MadeCall("weather", {"city": "Paris"}, VALID, {"t": 3})]
    score = score_trajectory(TASK, calls, CFG)
    assert score.precision == pytest.approx(2 / 3) and score.completeness == 1.0
    assert score.reward == pytest.approx(2 * (2 / 3) / (2 / 3 + 1))


def test_dependencies_and_reference_targets_must_match() -> None:
    skip_first = [MadeCall("reserve", {"node_id": "n1", "hours": 2}, VALID)]
    assert score_trajectory(TASK, skip_first, CFG).matched == 0
    wrong_hours = [GOLD[0], MadeCall("reserve", {"node_id": result_ref(0, "node_id"), "hours": 3}, VALID)]
    score = score_trajectory(TASK, wrong_hours, CFG)
    assert score.matched == 1 and score.precision == 0.5 and score.completeness == 0.5


def test_empty_trajectory_and_answer() -> None:
    assert score_trajectory(TASK, [], CFG).reward == pytest.approx(-CFG.empty_penalty)
    answered = Task(id="a", query="q", calls=TASK.calls, answer=[{"rsv": "r1"}])
    shortcut = [MadeCall("reserve_fast", {"region": "eu"}, VALID, {"rsv": "r1"})]
    score = score_trajectory(answered, shortcut, CFG)
    assert score.answer_found and score.completeness == 1.0 and score.precision == 0.0


def test_step_rewards_sum_to_the_final_reward() -> None:
    calls = [GOLD[0], MadeCall("x", {}, MALFORMED), GOLD[1]]
    calls = _shift_refs(calls, 1)
    rewards = step_rewards(TASK, calls, CFG)
    assert len(rewards) == len(calls) + 1
    assert sum(rewards) == pytest.approx(score_trajectory(TASK, calls, CFG).reward)
    assert step_rewards(TASK, [], CFG) == [pytest.approx(-CFG.empty_penalty)]


def test_negative_penalty_is_rejected() -> None:
    with pytest.raises(ValueError, match="invalid_penalty must be >= 0"):
        RewardConfig(invalid_penalty=-1)
