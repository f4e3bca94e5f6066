"""Stage 8: the RLlib decider (`--resume` continues it), argument values from the stage-4 filler."""

from __future__ import annotations

import json
from pathlib import Path

from raytool.pipeline.decider_tasks import env_config
from raytool.pipeline.log import say
from raytool.pipeline.settings import DeciderStages


def train_decider_stage(out: Path, tasks: Path, fp_dir: Path, stages: DeciderStages, resume: bool) -> Path:
    """Stage 8: the RLlib decider."""
    from raytool.decider.train import SUMMARY, DeciderRunConfig, train_decider

    run_dir = out / "decider"
    if (run_dir / SUMMARY).exists():
        say(8, f"decider {run_dir} exists, skipping training")
        return run_dir
    run = DeciderRunConfig.from_dict(stages.decider or {})
    say(8, f"train the decider ({run.iterations} iterations, {run.num_env_runners} env runners) into {run_dir}")
    summary = train_decider(env_config(tasks, stages, stages.filler(out)), fp_dir, run, run_dir, resume=resume)
    print(
        f"[train] decider trained in {summary['train_seconds']:.0f} s; last iteration: {json.dumps(summary['final'])}"
    )
    return run_dir
