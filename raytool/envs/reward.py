"""The verifiable reward: an F1 of call precision and task completeness, minus documented penalties.

A trajectory is the list of calls an agent made. Each call is classified:

  malformed   unknown tool, or arguments that fail the tool's schema (not executed)
  repeated    the same tool with the same arguments as an earlier call (not executed again)
  invalid     executed, but the tool returned an error (not found, quota, timeout, ...)
  valid       executed successfully (or, without execution, well-formed)

Valid calls are matched to gold calls in order: a call matches the first unmatched gold call with the same
tool, the same arguments (result references compared through the matching: a reference to trajectory call t
equals a gold reference to gold call g when t was matched to g; gold `arguments: null` matches any arguments)
and whose dependencies are all matched already.

    precision     P = matched / valid                 (0 when no valid call)
    completeness  C = 1 if successful calls produced the task's answer (executable tasks; a list answer needs
                      each of its elements), else
                      matched required gold calls / required gold calls
    reward        R = F1(P, C) - malformed_penalty * n_malformed - invalid_penalty * n_invalid
                      - repeated_penalty * n_repeated - call_cost * n_calls - empty_penalty * [no call at all]

Malformed, repeated and invalid calls do not enter P, so each costs exactly its penalty; the gold trajectory
scores 1 - call_cost * len(gold), the maximum. `step_rewards` spreads R over the steps as differences of the
running score, so an episode's return equals R.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from raytool.tools.call import REF_KEY, is_result_ref
from raytool.tools.task import Task

VALID, INVALID, MALFORMED, REPEATED = "valid", "invalid", "malformed", "repeated"


@dataclass(frozen=True)
class RewardConfig:
    """Penalty weights of the reward (module docstring); all non-negative."""

    malformed_penalty: float = 0.2  # per call to an unknown tool or with schema-violating arguments
    invalid_penalty: float = 0.1  # per executed call that returned an error
    repeated_penalty: float = 0.1  # per exact repeat of an earlier call
    empty_penalty: float = 0.2  # once, when the episode ends without any call
    call_cost: float = 0.0  # per call of any kind (set > 0 to prefer fewer calls)

    def __post_init__(self) -> None:
        for key, value in self.__dict__.items():
            if value < 0:
                raise ValueError(f"RewardConfig.{key} must be >= 0, got {value}")


@dataclass(frozen=True)
class MadeCall:
    """One call of a trajectory: tool name, arguments (references to earlier trajectory calls), status."""

    name: str
    arguments: dict[str, Any]
    status: str
    output: Any = None


@dataclass
class RewardBreakdown:
    """Every term of the reward, for logging and tests."""

    reward: float
    precision: float
    completeness: float
    f1: float
    matched: int
    counts: dict[str, int] = field(default_factory=dict)
    answer_found: bool = False
    gold_to_trajectory: dict[int, int] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        """All required gold calls matched (or the answer produced) with no malformed or invalid call."""
        return self.completeness >= 1.0 and self.counts.get(MALFORMED, 0) == 0 and self.counts.get(INVALID, 0) == 0


def score_trajectory(
    task: Task, calls: Sequence[MadeCall], config: RewardConfig, terminal: bool = True
) -> RewardBreakdown:
    """The reward of `calls` on `task` (module docstring); `terminal=False` leaves out the empty penalty."""
    counts = {VALID: 0, INVALID: 0, MALFORMED: 0, REPEATED: 0}
    for call in calls:
        counts[call.status] += 1
    matching = match_calls(task, calls)
    required = [i for i, g in enumerate(task.calls) if not g.optional]
    matched_required = sum(1 for i in required if i in matching)
    answer_found = answer_produced(task.answer, calls)
    precision = len(matching) / counts[VALID] if counts[VALID] else 0.0
    if answer_found:
        completeness = 1.0
    else:
        completeness = matched_required / len(required) if required else float(not calls)
    f1 = 2 * precision * completeness / (precision + completeness) if precision + completeness > 0 else 0.0
    penalty = (
        config.malformed_penalty * counts[MALFORMED]
        + config.invalid_penalty * counts[INVALID]
        + config.repeated_penalty * counts[REPEATED]
        + config.call_cost * len(calls)
        + (config.empty_penalty if terminal and not calls else 0.0)
    )
    return RewardBreakdown(f1 - penalty, precision, completeness, f1, len(matching), counts, answer_found, matching)


def step_rewards(task: Task, calls: Sequence[MadeCall], config: RewardConfig) -> list[float]:
    """Per-step rewards r_t = score(calls[:t+1]) - score(calls[:t]), the last step terminal; sum = final reward.

    An episode of n calls has n + 1 steps (the last is STOP), so the list has len(calls) + 1 entries.
    """
    scores = [0.0] + [score_trajectory(task, calls[: t + 1], config, terminal=False).reward for t in range(len(calls))]
    final = score_trajectory(task, calls, config, terminal=True).reward
    return [scores[t + 1] - scores[t] for t in range(len(calls))] + [final - scores[-1]]


def answer_produced(answer: Any, calls: Sequence[MadeCall]) -> bool:
    """Whether successful calls produced the task's answer: a list answer needs every element produced."""
    if answer is None:
        return False
    outputs = [c.output for c in calls if c.status == VALID]
    wanted = answer if isinstance(answer, list) else [answer]
    return all(any(out == item for out in outputs) for item in wanted)


def match_calls(task: Task, calls: Sequence[MadeCall]) -> dict[int, int]:
    """gold index -> trajectory index of the valid call matched to it (rules in the module docstring)."""
    gold_to_traj: dict[int, int] = {}
    traj_to_gold: dict[int, int] = {}
    for t, call in enumerate(calls):
        if call.status != VALID:
            continue
        for g, gold in enumerate(task.calls):
            if g in gold_to_traj or gold.name != call.name:
                continue
            if any(d not in gold_to_traj for d in gold.depends_on):
                continue
            if gold.arguments is None or _same(call.arguments, gold.arguments, traj_to_gold):
                gold_to_traj[g] = t
                traj_to_gold[t] = g
                break
    return gold_to_traj


def _same(made: Any, gold: Any, traj_to_gold: dict[int, int]) -> bool:
    if is_result_ref(made) or is_result_ref(gold):
        if not (is_result_ref(made) and is_result_ref(gold)):
            return False
        return traj_to_gold.get(made[REF_KEY]) == gold[REF_KEY] and made.get("path", "") == gold.get("path", "")
    if isinstance(made, dict) and isinstance(gold, dict):
        return made.keys() == gold.keys() and all(_same(made[k], gold[k], traj_to_gold) for k in made)
    if isinstance(made, list) and isinstance(gold, list):
        return len(made) == len(gold) and all(_same(a, b, traj_to_gold) for a, b in zip(made, gold, strict=True))
    return type(made) is type(gold) and made == gold or (_number(made) and _number(gold) and made == gold)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
