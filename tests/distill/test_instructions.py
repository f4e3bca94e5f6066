"""`distill instructions`: skill-mix selection covers more tool combinations; rewrites keep values; all verified."""

from __future__ import annotations

from pathlib import Path

from raytool.distill.instructions import InstructionConfig, literal_values, pairs_of, skill_mix, synthesize_instructions
from raytool.envs.build import BuildConfig, build_tasks
from raytool.tools.dataset import ToolDataset
from tests.distill.fake_teacher import FakeTeacher


def test_skill_mix_covers_at_least_as_many_combinations() -> None:
    pool = build_tasks(BuildConfig(("finance",), 2, 60, seed=1, integration_walks=0), log=lambda _: None).tasks
    chosen = skill_mix(pool, 15)
    covered = set().union(*(pairs_of(t) for t in chosen))
    first = set().union(*(pairs_of(t) for t in pool[:15]))
    assert len(chosen) == 15 and len(covered) >= len(first)


def test_instructions_are_rewritten_and_verified(tmp_path: Path) -> None:
    config = InstructionConfig("travel", level=2, num=8, seed=3, pool_factor=3)
    summary = synthesize_instructions(config, FakeTeacher(), tmp_path / "inst", log=lambda _: None)
    assert summary["tasks"] == summary["verified"] == 8
    assert summary["rewrites_accepted"] == 8  # the fake echoes the request, so every value is kept
    tasks = ToolDataset.load(tmp_path / "inst").tasks
    assert all(t.query.startswith("Please: ") for t in tasks)
    assert all(v in t.query for t in tasks for v in literal_values(t))
