"""Stage 2: verified tasks on each executable suite (`suites:` section: level, tasks per suite, seed)."""

from __future__ import annotations

from pathlib import Path

from raytool.pipeline.log import say
from raytool.pipeline.settings import SuiteStage


def build_suite_tasks(out: Path, stage: SuiteStage) -> dict[str, Path]:
    """`out/envs/<suite>_l<level>` per suite (always rebuilt: seconds, and deterministic in the seed)."""
    from raytool.envs.build import BuildConfig, build_verified
    from raytool.envs.suites import SUITE_NAMES
    from raytool.tools.stats import stats_table

    say(2, f"build verifiable level-{stage.level} tasks on the executable suites into {out / 'envs'}")
    built, paths = {}, {}
    for suite in SUITE_NAMES:
        name = f"{suite}_l{stage.level}"
        built[name] = build_verified(
            BuildConfig((suite,), level=stage.level, num_tasks=stage.num_tasks, seed=stage.seed)
        )
        paths[name] = built[name].save(out / "envs" / name)
    print(stats_table(built))
    return paths
