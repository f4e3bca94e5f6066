"""Stage 6: the teacher's pi_LLM labels for sampled decider states (`distill rank`)."""

from __future__ import annotations

from pathlib import Path

from raytool.paths import cache_dir
from raytool.pipeline.log import say
from raytool.pipeline.settings import DeciderStages


def label_states(out: Path, tasks: Path, stages: DeciderStages, make_teacher) -> Path:
    """Stage 6: teacher pi_LLM labels for sampled decider states."""
    from raytool.decider.candidates import candidate_source
    from raytool.distill.rank import RankConfig, rank_states, sample_states
    from raytool.tools.dataset import ToolDataset

    rank_dir = out / "rank"
    if (rank_dir / "summary.json").exists():
        say(6, f"{rank_dir} exists, skipping")
        return rank_dir
    config = RankConfig(
        num_states=stages.rank_states, top_p=stages.top_p, max_steps=stages.max_steps,
        candidate_source=candidate_source(tasks), encoder=stages.encoder, shard_size=50,
    )  # fmt: skip
    states = sample_states(tasks, config, cache_dir() / "features")
    say(6, f"teacher pi_LLM for {len(states)} decider states (candidates + STOP) into {rank_dir}")
    teacher = make_teacher()
    try:
        rank_states(states, ToolDataset.load(tasks).tools, rank_dir, teacher, config)
    finally:
        teacher.close()
    return rank_dir
