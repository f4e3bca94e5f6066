"""Stage 7: F_P, the policy reconstruction, trained on the stage-6 labels."""

from __future__ import annotations

from pathlib import Path

from raytool.pipeline.log import say
from raytool.pipeline.settings import DeciderStages


def train_fp(out: Path, rank_dir: Path, stages: DeciderStages) -> Path:
    """Stage 7: F_P on the labels (held-out tasks for its report)."""
    from raytool.decider.fp_train import (
        PolicyTrainConfig,
        load_rank_records,
        metrics_table,
        train_policy_reconstruction,
    )
    from raytool.tools.files import read_json

    fp_dir = out / "fp"
    if (fp_dir / "fp.json").exists():
        say(7, f"F_P {fp_dir} exists, skipping training")
        metrics = read_json(fp_dir / "fp.json").get("metrics", {})
    else:
        records, env = load_rank_records([rank_dir])
        say(7, f"train F_P on {len(records)} teacher-labelled states into {fp_dir}")
        config = PolicyTrainConfig(**(stages.fp or {}))  # checked by DeciderStages.from_sections
        metrics = train_policy_reconstruction(records, config, fp_dir, env=env, log=lambda line: None,
                                              sources=[rank_dir])  # fmt: skip
    if metrics:
        print(metrics_table(metrics))
    return fp_dir
