"""Importers from the benchmarks' original formats into `ToolDataset`.

from raytool.tools.importers import import_dataset
ds = import_dataset("seal_tools", "../shared/data/seal_tools/dev.jsonl")
ds.save("out/seal_dev")
"""

from __future__ import annotations

from pathlib import Path

from raytool.tools.dataset import ToolDataset
from raytool.tools.importers.metatool import import_metatool
from raytool.tools.importers.seal_tools import import_seal_tools
from raytool.tools.importers.toolalpaca import import_toolalpaca
from raytool.tools.importers.toolbench import import_toolbench

IMPORTERS = {
    "seal_tools": import_seal_tools,
    "metatool": import_metatool,
    "toolalpaca": import_toolalpaca,
    "toolbench": import_toolbench,
}
FORMATS = tuple(IMPORTERS)


def import_dataset(fmt: str, src: str | Path, tools: str | Path | None = None, skip_bad: bool = False) -> ToolDataset:
    """Import `src` in format `fmt` (one of `FORMATS`); strict unless `skip_bad`. Checks the result."""
    if fmt not in IMPORTERS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    dataset = IMPORTERS[fmt](src, tools=tools, skip_bad=skip_bad)
    dataset.check()
    if not dataset.tasks:
        raise ValueError(f"{src}: no task could be imported (skipped: {dict(dataset.report.skipped)})")
    return dataset
