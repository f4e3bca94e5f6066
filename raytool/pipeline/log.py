"""The main job's progress lines: `[train] stage k/11: ...`."""

from __future__ import annotations

STAGE_COUNT = 11


def say(stage: int, text: str) -> None:
    print(f"[train] stage {stage}/{STAGE_COUNT}: {text}", flush=True)
