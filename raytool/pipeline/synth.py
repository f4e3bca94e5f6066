"""Stage 3: the teacher's tool choices and rationales for Seal-Tools dev tasks (`distill synth`; `synth:` section)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from raytool.pipeline.log import say
from raytool.tools.dataset import ToolDataset


def synth_stage(out: Path, dataset: ToolDataset, config, make_teacher: Callable[[], Any]) -> Path:
    """`out/synth` (skipped when its `summary.json` exists); prints the teacher's parse and accuracy table."""
    from raytool.distill.synth import summary_table, synthesize

    folder = out / "synth"
    if (folder / "summary.json").exists():
        say(3, f"{folder} exists, skipping")
        summary = json.loads((folder / "summary.json").read_text())
    else:
        say(3, f"teacher tool choices and rationales for {config.limit} Seal-Tools tasks into {folder}")
        teacher = make_teacher()
        try:
            summary = synthesize(dataset, folder, teacher, config)
        finally:
            teacher.close()
    print(summary_table(summary))
    return folder
