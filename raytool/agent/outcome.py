"""What a method did on one task, scored the same way for every method.

`Outcome` holds the calls (tool, arguments with result references, status), the decisions taken (teacher or
proxy choices; a skill is one decision for several calls), and the verifiable reward's verdict on the whole
trajectory (`raytool.envs.reward.score_trajectory`, terminal). `history_lines` is what a teacher is shown of
the calls made so far (ReAct's observations).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from raytool.envs.reward import VALID, MadeCall, RewardConfig, score_trajectory
from raytool.tools.task import Task

_OBSERVATION_CHARS = 120


@dataclass
class Outcome:
    task_id: str
    calls: list[dict[str, Any]]
    decisions: int
    success: bool
    reward: float
    precision: float
    completeness: float
    matched: int
    outputs: list[Any] = field(default_factory=list, repr=False)
    info: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The JSON trajectory line (`raytool.skills` mines these): outputs left out."""
        return {
            "task_id": self.task_id,
            "success": self.success,
            "reward": round(self.reward, 6),
            "decisions": self.decisions,
            "calls": self.calls,
            **({"info": self.info} if self.info else {}),
        }


def score_outcome(task: Task, made: Sequence[MadeCall], decisions: int, config: RewardConfig | None = None) -> Outcome:
    """Score the finished trajectory `made` of `task`."""
    verdict = score_trajectory(task, list(made), config or RewardConfig(), terminal=True)
    calls = [{"name": m.name, "arguments": m.arguments, "status": m.status} for m in made]
    return Outcome(
        task.id, calls, decisions, bool(verdict.success), float(verdict.reward), float(verdict.precision),
        float(verdict.completeness), int(verdict.matched), [m.output for m in made],
    )  # fmt: skip


def history_lines(made: Sequence[MadeCall]) -> list[str]:
    """`tool (ok: {...})` / `tool (failed)` per call so far, outputs cut to a few words."""
    lines = []
    for m in made:
        if m.status == VALID:
            text = json.dumps(m.output, default=str, ensure_ascii=False) if m.output is not None else "done"
            if len(text) > _OBSERVATION_CHARS:
                text = text[: _OBSERVATION_CHARS - 3] + "..."
            lines.append(f"{m.name} (ok: {text})")
        else:
            lines.append(f"{m.name} ({m.status})")
    return lines
