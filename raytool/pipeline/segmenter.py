"""Stage 10 (second part): the planner's distilled segmenter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from raytool.pipeline.log import say
from raytool.pipeline.settings import NO_FILE


def train_segmenter_stage(out: Path, section: dict[str, Any] | None = None, where: str = NO_FILE) -> Path:
    """Stage 10: the planner's distilled segmenter (`raytool planner train-segmenter`; the `segmenter:` section holds
    `SegmenterTrainConfig` fields), skipped when present."""
    from raytool.config import settings_from
    from raytool.planner.segmenter import META
    from raytool.planner.segmenter_train import SegmenterTrainConfig, train_segmenter

    config = settings_from(SegmenterTrainConfig, section, where, "segmenter")
    path = out / "segmenter"
    if (path / META).exists():
        say(10, f"segmenter {path} exists, skipping")
        return path
    say(10, f"train the planner's segmenter on builder requests (template and varied phrasing) into {path}")
    meta = train_segmenter(path, config, log=lambda line: say(10, line))
    say(10, "segmenter held out: " + ", ".join(f"{k} {v:.3f}" for k, v in meta["metrics"].items()))
    return path
