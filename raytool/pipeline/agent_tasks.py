"""Stage 10 (first part): verified multi-domain requests for the agent."""

from __future__ import annotations

from pathlib import Path

from raytool.pipeline.log import say
from raytool.pipeline.settings import AgentStages


def build_agent_tasks(out: Path, stages: AgentStages) -> dict[str, Path]:
    """Stage 10, first half: verified multi-domain requests for the agent (train seed 20, test seed 21)."""
    from raytool.envs.build import BuildConfig, build_verified
    from raytool.envs.suites import SUITE_NAMES

    paths = {}
    for split, count, seed in (("train", stages.train_tasks, 20), ("test", stages.test_tasks, 21)):
        path = out / "envs" / f"agent_{split}"
        paths[split] = path
        if (path / "tasks.jsonl").exists():
            say(10, f"{path} exists, skipping")
            continue
        say(10, f"build {count} verified level-{stages.level} requests over {', '.join(SUITE_NAMES)} into {path}")
        phrasing = stages.phrasing if split == "train" else 0.0
        config = BuildConfig(tuple(SUITE_NAMES), level=stages.level, num_tasks=count, seed=seed, phrasing=phrasing)
        build_verified(config).save(path)
    return paths
