"""The build pipeline: every generated task replays to its answer, levels scale, integration finds the overlaps."""

from __future__ import annotations

import importlib

import pytest

from raytool.envs.build import BuildConfig, build_tasks, verify_tasks
from raytool.envs.integration import find_overlaps
from raytool.envs.levels import LEVELS
from raytool.envs.sandbox import InlineExecutor, ProcessSandbox
from raytool.envs.suites import SUITE_NAMES, get_suite


def _build(suite: str, level: int, seed: int, n: int = 6):
    return build_tasks(BuildConfig((suite,), level, n, seed, integration_walks=0), log=lambda _: None)


@pytest.mark.parametrize("level", sorted(LEVELS))
@pytest.mark.parametrize("suite", SUITE_NAMES)
def test_gold_replay_reproduces_every_answer(suite: str, level: int) -> None:
    spec = LEVELS[level]
    with InlineExecutor() as executor:
        for seed in (0, 1, 2):
            data = _build(suite, level, seed)
            verified, failures = verify_tasks(data.tasks, executor)
            assert failures == [] and verified == len(data.tasks)
            for task in data.tasks:
                assert spec.min_calls <= len(task.calls) <= spec.max_calls
                assert len(task.env["suites"]) == spec.domains and task.env["suites"][0] == suite
                assert len(task.answer) == spec.domains
                assert set(task.tool_names) <= set(task.tools)
                assert sum(not c.depends_on for c in task.calls) == spec.domains  # linked chains


def test_replay_in_the_sandbox_process_too() -> None:
    data = _build("cpn", 3, seed=5)
    with ProcessSandbox() as sandbox:
        assert verify_tasks(data.tasks, sandbox) == (len(data.tasks), [])


def test_build_is_deterministic_and_levels_scale() -> None:
    assert _build("travel", 2, 7).tasks == _build("travel", 2, 7).tasks
    assert _build("travel", 2, 7).tasks != _build("travel", 2, 8).tasks
    low, high = _build("finance", 1, 0, n=10), _build("finance", 4, 0, n=10)
    assert max(len(t.calls) for t in low.tasks) == 1 and min(len(t.calls) for t in high.tasks) >= 4
    assert min(len(t.tools) for t in high.tasks) > max(len(t.tools) for t in low.tasks)  # distractors


@pytest.mark.parametrize("suite", SUITE_NAMES)
def test_integration_merges_exactly_the_planted_overlaps(suite: str) -> None:
    planted = importlib.import_module(f"raytool.envs.suites.{suite}").PLANTED_OVERLAPS
    merges = find_overlaps(get_suite(suite), seed=0)
    assert sorted((m.kept, m.merged) for m in merges) == sorted(planted)


def test_bad_build_configs() -> None:
    with pytest.raises(ValueError, match="unknown suite 'nope'"):
        BuildConfig(("nope",), 1, 5)
    with pytest.raises(ValueError, match="unknown level 9"):
        BuildConfig(("cpn",), 9, 5)
    with pytest.raises(ValueError, match="num_tasks must be >= 1"):
        BuildConfig(("cpn",), 1, 0)
