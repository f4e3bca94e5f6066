"""Stage 5: the decider's verified train / test tasks, each with the trained proposer's candidates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raytool.pipeline.log import say
from raytool.pipeline.settings import DeciderStages


def build_decider_tasks(out: Path, proposer_dir: Path, stages: DeciderStages) -> dict[str, Path]:
    """Stage 5: the decider's train/test task sets with the proposer's candidates."""
    from raytool.decider.candidates import CANDIDATES_FILE, write_candidates
    from raytool.envs.build import BuildConfig, build_verified
    from raytool.envs.suites import SUITE_NAMES
    from raytool.proposer.proposer import ToolProposer
    from raytool.tools.dataset import ToolDataset

    paths = {}
    proposer = None
    for split, count, seed in (("train", stages.train_tasks, 10), ("test", stages.test_tasks, 11)):
        path = out / "envs" / f"decider_{split}"
        paths[split] = path
        if (path / CANDIDATES_FILE).exists():
            say(5, f"{path} exists, skipping")
            continue
        say(5, f"build {count} verified level-{stages.level} tasks over {', '.join(SUITE_NAMES)} into {path}")
        dataset = build_verified(BuildConfig(tuple(SUITE_NAMES), level=stages.level, num_tasks=count, seed=seed))
        dataset.save(path)
        proposer = proposer or ToolProposer.load(proposer_dir)
        write_candidates(proposer, ToolDataset.load(path), path / CANDIDATES_FILE)
    return paths


def env_config(tasks: Path, stages: DeciderStages, filler: str) -> dict[str, Any]:
    """The decider env of `tasks`: the proposer's candidates, and argument values read by the filler checkpoint
    `filler` (`stages.filler(out)`), or "" for the tasks' gold calls (an ORACLE)."""
    from raytool.decider.candidates import decider_env_config
    from raytool.envs.decider_env import argument_settings

    env = decider_env_config(tasks, stages.top_p, stages.max_steps) | argument_settings(filler)
    return env | {"encoder": stages.encoder}
